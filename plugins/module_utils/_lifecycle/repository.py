# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault repository of one config's certificates: records, name entries, claims and listings.

Private to this collection: no compatibility is promised to code outside it.

``names/<config>/<name>`` points a name at its current record ``certs/<config>/<cert_unique_id>``.
A run that is about to place an SCM order first writes a *claim* with check-and-set: on the name
entry for a new certificate, on the record (``pending``) for a renewal or replacement. Only one run
can win a check-and-set, so only one run orders (docs/vault.md "Check-and-set", docs/lifecycle.md
"Claims"). Every write here is a check-and-set on the version read.
"""
from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict

if TYPE_CHECKING:  # imported where an order is placed: reading records never needs the SCM side
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError

# A live owner refreshes its claim this often while it orders (docs/lifecycle.md "Claims").
HEARTBEAT_SECONDS = 5.0
# A claim not refreshed for this long has lost its owner: it is looked up in SCM, then taken over.
CLAIM_STALE_SECONDS = 20
# How long a run waits for another run's fresh claim before it gives up (never taking a fresh claim over),
# and how often it looks again.
CLAIM_WAIT_SECONDS = 300
CLAIM_POLL_SECONDS = 1.0
# Claims on a record that keep other runs from renewing or replacing the same certificate.
RECORD_CLAIM_KINDS = ("renew", "replace")


class KvStore(Protocol):
    """``_vault_store.VaultStore`` as the services use it; the unit tests' in-memory store satisfies it too."""

    base_path: str

    def read(self, path: str) -> tuple[dict[str, Any] | None, int]: ...
    def write(self, path: str, data: dict[str, Any], cas: int) -> int: ...
    def list(self, path: str) -> list[str]: ...
    def delete(self, path: str) -> None: ...


class CertRecords:
    """Reads and check-and-set writes of one config's records and names."""

    def __init__(self, store: KvStore, config_name: str, clock: Callable[[], datetime] = rec.utc_now) -> None:
        self.store = store
        self.config_name = config_name
        self.clock = clock

    def full_path(self, uid: str) -> str:
        """The record's path inside the KV mount, as a task returns it (``vault_path``)."""
        return f"{self.store.base_path}/{rec.cert_path(self.config_name, uid)}"

    # ---- records -------------------------------------------------------------------------------------

    def read(self, uid: str | None) -> tuple[rec.CertRecord | None, int]:
        if not uid:
            return None, 0
        return self.store.read(rec.cert_path(self.config_name, uid))  # type: ignore[return-value]

    def write(self, record: rec.CertRecord, version: int) -> int:
        """Write ``record`` on the ``version`` read (0 creates); stamps ``updated_at``."""
        record["updated_at"] = rec.iso(self.clock())
        return self.store.write(rec.cert_path(self.config_name, record["cert_unique_id"]), dict(record), cas=version)

    def create_or_overwrite(self, record: rec.CertRecord) -> int:
        """Write a record whose order was just placed, on whatever version of it is stored."""
        existing, version = self.read(record["cert_unique_id"])
        return self.write(record, version if existing else 0)

    def delete(self, uid: str) -> None:
        self.store.delete(rec.cert_path(self.config_name, uid))

    def ids(self) -> set[str]:
        return {k for k in self.store.list(rec.certs_dir(self.config_name)) if not k.endswith("/")}

    def follow_renewals(self, record: rec.CertRecord, version: int) -> tuple[rec.CertRecord, int]:
        """The newest record of a chain of renewals that starts at ``record``."""
        seen = set()
        # A renewed record may have been revoked since: it still leads to its renewal.
        while record.get("status") in (rec.RENEWED, rec.REVOKED) and record.get("renewed_to") and record["renewed_to"] not in seen:
            seen.add(record["renewed_to"])
            nxt, nver = self.read(record["renewed_to"])
            if nxt is None:
                break
            record, version = nxt, nver
        return record, version

    # ---- names ---------------------------------------------------------------------------------------

    def read_name(self, name: str | None) -> tuple[rec.NameEntry | None, int]:
        if not name:
            return None, 0
        return self.store.read(rec.name_path(self.config_name, name))  # type: ignore[return-value]

    def write_name(self, name: str, entry: rec.NameEntry, version: int) -> int:
        return self.store.write(rec.name_path(self.config_name, name), dict(entry), cas=version)

    def point_name(self, name: str, uid: str, version: int) -> int:
        """Point ``name`` at record ``uid`` (dropping any claim on the entry)."""
        return self.write_name(name, {"name": name, "config_name": self.config_name, "cert_unique_id": uid}, version)

    def delete_name(self, name: str) -> None:
        self.store.delete(rec.name_path(self.config_name, name))

    def names(self) -> list[str]:
        return sorted(k for k in self.store.list(rec.names_dir(self.config_name)) if not k.endswith("/"))

    def resolve(self, name: str | None, uid: str | None) -> tuple[rec.CertRecord | None, int]:
        """The record a name points at, else the record ``uid``."""
        if name:
            entry, _version = self.read_name(name)
            uid = (entry or {}).get("cert_unique_id")
        return self.read(uid)

    # ---- claims --------------------------------------------------------------------------------------

    def new_claim(self, kind: str, request_id: str, **fields: Any) -> dict[str, Any]:
        """A claim of this process: who holds it (host and pid) and when it was last refreshed."""
        claim = {"kind": kind, "request_id": request_id, "claimed_at": rec.iso(self.clock()), "owner": owner()}
        claim.update(fields)
        return claim

    def claim_age(self, claim: dict[str, Any]) -> float:
        return (self.clock() - rec.parse_iso(claim["claimed_at"])).total_seconds()

    def stale(self, claim: dict[str, Any]) -> bool:
        """A claim whose owner is gone: its answer was lost, its owner's process on this host has exited,
        or it was not refreshed for CLAIM_STALE_SECONDS (an owner on another host that died)."""
        if claim.get("outcome") == "unknown" or owner_is_dead(claim.get("owner")):
            return True
        return self.claim_age(claim) >= CLAIM_STALE_SECONDS

    def keep(self, write: Callable[[dict[str, Any], int], int], document: dict[str, Any], claim: dict[str, Any], version: int,
             interval: float | None = HEARTBEAT_SECONDS) -> "ClaimKeeper":
        """Refresh ``claim`` (part of ``document``) while the caller orders; see ClaimKeeper."""
        return ClaimKeeper(write, document, claim, version, self.clock, interval)

    def drop_name_claim(self, name: str, entry: rec.NameEntry, version: int) -> None:
        """Give up a claim on a name: keep the entry if it points at a record, else delete it."""
        if entry.get("cert_unique_id"):
            kept = dict(entry)
            kept.pop("claim", None)
            self.write_name(name, kept, version)  # type: ignore[arg-type]
        else:
            self.delete_name(name)

    def claim_record(self, record: rec.CertRecord, version: int, pending: rec.RecordClaim) -> int | None:
        """Claim a renewal or replacement on the record itself; None when another run holds it."""
        if held_claim(record) and not self.stale(record["pending"]):  # type: ignore[arg-type]
            return None
        record["pending"] = pending
        try:
            return self.write(record, version)
        except VaultCasConflict:
            return None


def held_claim(record: rec.CertRecord | None) -> bool:
    """The record carries a renewal or replacement claim whose order is not yet known to be placed."""
    pending = (record or {}).get("pending") or {}
    return pending.get("kind") in RECORD_CLAIM_KINDS and pending.get("stage") != "ordered"


def claim_holder(claim: dict[str, Any]) -> str:
    """Who holds a claim, for messages: ``host pid 1234, refreshed at <time>``."""
    holder = claim.get("owner") or {}
    return f"{holder.get('host', 'unknown host')} pid {holder.get('pid', '?')}, refreshed at {claim.get('claimed_at')}"


def owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def owner_is_dead(holder: Any) -> bool:
    """True when the claim's owner ran on this host and its process no longer exists."""
    if not isinstance(holder, dict) or holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    if holder["pid"] == os.getpid():
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but belongs to someone else
        return False
    return False


class ClaimKeeper:
    """Refresh a claim's ``claimed_at`` every ``interval`` seconds while its owner works (a POST, a reconciliation).

    A claim that stays fresh tells other runs its owner is alive, however long SCM takes to answer; one that is
    not refreshed for CLAIM_STALE_SECONDS tells them the owner died, so they need not wait minutes. Each refresh
    is a check-and-set on the version the keeper holds; the owner reads ``version`` after the ``with`` block and
    must not change ``document`` inside it. A lost check-and-set means another run took the claim over: the
    keeper stops and sets ``lost``.
    """

    def __init__(self, write: Callable[[dict[str, Any], int], int], document: dict[str, Any], claim: dict[str, Any], version: int,
                 clock: Callable[[], datetime], interval: float | None) -> None:
        self._write = write
        self._document = document
        self._claim = claim
        self.version = version
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.lost = False

    def __enter__(self) -> "ClaimKeeper":
        if self._interval:
            self._thread = threading.Thread(target=self._beat, name="claim-keeper", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                self._claim["claimed_at"] = rec.iso(self._clock())
                try:
                    self.version = self._write(self._document, self.version)
                except VaultCasConflict:
                    self.lost = True
                    return
                except Exception:  # pylint: disable=broad-exception-caught
                    # Vault unreachable for a moment: the next beat tries again; a longer outage lets the claim go stale.
                    continue


@dataclass
class ClaimedOrder:
    """What an order sent under a kept claim came to (``order_under_claim``)."""

    version: int              # the claim's document version once the keeper stopped: the next write goes on it
    answer: Any               # the POST's answer, or what ``look_up`` found after an answer that may have been lost
    error: ScmError | None    # why the POST failed, if it did

    @property
    def failure(self) -> ScmError | None:
        """The POST's error when no order is known (None once one is): its ``may_have_reached`` tells whether SCM may
        still hold one (keep the claim with ``outcome: unknown``) or not (give the claim up)."""
        return None if self.answer else self.error


def order_under_claim(keeper: ClaimKeeper, post: Callable[[], Any], look_up: Callable[[], Any]) -> ClaimedOrder | None:
    """Send ``post`` (one SCM POST) once while ``keeper`` keeps the claim fresh; never send it again.

    When the POST fails in a way that may have reached SCM, ``look_up`` asks SCM what became of it (the order,
    or whether it landed; None or False: nothing seen). None when the claim was lost meanwhile: another run
    took it over and follows this order, so the caller writes nothing more and follows that run instead.
    """
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError

    answer = None
    error: ScmError | None = None
    with keeper:
        try:
            answer = post()
        except ScmError as exc:
            error = exc
            if exc.may_have_reached:
                answer = look_up()
    if keeper.lost:
        return None
    return ClaimedOrder(keeper.version, answer, error)


# ---- read-only queries (sectigo_cert_info): Vault only, no SCM ----------------------------------------


@dataclass
class CertQuery:
    """What ``sectigo_cert_info`` asks: one certificate (by name or id) or a filtered listing."""

    config: str
    name: str | None = None
    cert_unique_id: str | None = None
    statuses: list[str] | None = None
    expiring_within_days: int | None = None
    include_private_key: bool = False
    include_superseded: bool = False


def query_certificates(store: KvStore, query: CertQuery, clock: Callable[[], datetime] = rec.utc_now,
                       annotate: Callable[[dict[str, Any], dict[str, Any], rec.CertRecord], None] | None = None) -> dict[str, Any]:
    """Summaries of a config's certificates; ``annotate(config, summary, record)`` may add facts to each (renewal times)."""
    rec.validate_name(query.config, "config")
    if query.name is not None:
        rec.validate_name(query.name, "name")
    if query.cert_unique_id is not None:
        rec.validate_unique_id(query.cert_unique_id)
    if query.expiring_within_days is not None and query.expiring_within_days < 0:
        raise InputError("expiring_within_days", f"expiring_within_days must be 0 or more; got {query.expiring_within_days}")
    for status in query.statuses or []:
        if status not in rec.STATUSES:
            raise InputError("status", f"status must be one of {', '.join(rec.STATUSES)}; got {status!r}")
    config = store.read(rec.config_path(query.config))[0]
    if config is None:
        raise InputError("config", f"config '{query.config}' does not exist in Vault; create it with sectigo.vault_pki.sectigo_config")
    records = CertRecords(store, query.config, clock)
    now = clock()

    def summary_of(record: rec.CertRecord) -> dict[str, Any]:
        out = rec.summary(record, now)
        if annotate is not None:
            annotate(config, out, record)
        return out
    if query.name or query.cert_unique_id:
        record, _version = records.resolve(query.name, query.cert_unique_id)
        if record is None:
            raise InputError("name" if query.name else "cert_unique_id",
                             f"no certificate '{query.name or query.cert_unique_id}' in config '{query.config}'")
        return {"certificates": [summary_of(record)], "certificate": rec.public_view(record, query.include_private_key)}
    summaries = []
    current = set()
    for name in records.names():
        record, _version = records.resolve(name, None)
        if record is None:
            # A claim whose order is not yet saved: show it as requested.
            summaries.append({"name": name, "status": rec.REQUESTED})
            continue
        current.add(record.get("cert_unique_id"))
        summary = summary_of(record)
        summary["name"] = name
        summaries.append(summary)
    if query.include_superseded:
        # Records no name points at any more: renewed, replaced or forgotten predecessors (current: false).
        for summary in summaries:
            summary["current"] = True
        for uid in sorted(records.ids() - current):
            record, _version = records.read(uid)
            if record is not None:
                summaries.append(dict(summary_of(record), name=record.get("name") or "", current=False))
    if query.statuses:
        summaries = [s for s in summaries if s.get("status") in query.statuses]
    if query.expiring_within_days is not None:
        summaries = [s for s in summaries if "days_remaining" in s and s["days_remaining"] <= query.expiring_within_days]
    return {"certificates": sorted(summaries, key=lambda s: (s["name"], not s.get("current", True), s.get("cert_unique_id") or ""))}
