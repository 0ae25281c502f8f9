# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Claims: how one run, and only one, places an SCM order (docs/lifecycle.md "Claims").

Private to this collection: no compatibility is promised to code outside it.

A run that is about to place an order first writes a *claim* with check-and-set: on the name entry
(``names/<config>/<name>``, key ``claim``) for a first order, on the record (key ``pending``) for a
renewal or replacement. Only one run can win a check-and-set, so only one run orders. Everything about
claims is here: taking one, keeping it fresh while the POST is out (``ClaimKeeper``), judging another
run's claim (``claim_is_stale``: the one judgement, given the time to judge by), waiting for it (``Claims.wait``: while it is fresh, until it is
gone or stale), and sending the order once under a kept claim (``Claims.order_on_name``,
``Claims.order_on_record``, both through ``order_under_claim``). What a stale claim leads to (adopt the
order SCM shows for it, else take the claim over or drop it) needs the order's own steps: the enrollment
reconciles names, the renewal records.
"""
from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords
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


# ---- the judgement of a claim ------------------------------------------------------------------------


def claim_is_stale(claim: dict[str, Any], now: datetime, *, refreshed_at: datetime | None = None,
                   stale_after: float = CLAIM_STALE_SECONDS) -> bool:
    """Whether a claim has lost its owner, judged at ``now``: its answer was lost (``outcome: unknown``), its owner's
    process on this host has exited, or it was not refreshed for ``stale_after`` seconds (an owner on another host
    that died). The one place that decides.

    ``refreshed_at`` is when Vault wrote the version that holds the claim's latest refresh, and ``now`` Vault's clock
    then (docs/scale.md "Claims on Vault's clock"): no controller's clock takes part. Without it (a store that does not
    tell Vault's times) the claim's own ``claimed_at`` is judged against the caller's clock."""
    if claim_is_abandoned(claim):
        return True
    refreshed = refreshed_at if refreshed_at is not None else rec.parse_iso(claim["claimed_at"])
    return (now - refreshed).total_seconds() >= stale_after


def claim_is_abandoned(claim: dict[str, Any]) -> bool:
    """Stale whatever the time: the claim's POST answer was lost (``outcome: unknown``), or its owner's process on this
    host has exited."""
    return claim.get("outcome") == "unknown" or owner_is_dead(claim.get("owner"))


def held_claim(record: rec.CertRecord | None) -> bool:
    """The record carries a renewal or replacement claim whose order is not yet known to be placed."""
    pending = (record or {}).get("pending") or {}
    return pending.get("kind") in RECORD_CLAIM_KINDS and pending.get("stage") != "ordered"


def claim_holder(claim: dict[str, Any]) -> str:
    """Who holds a claim, for messages: ``host pid 1234, refreshed at <time>``."""
    holder = claim.get("owner") or {}
    return f"{holder.get('host', 'unknown host')} pid {holder.get('pid', '?')}, refreshed at {claim.get('claimed_at')}"


# The task this process runs now. A module process runs one task; Ansible's worker runs a sectigo_cert task in
# itself (plugins/action/sectigo_cert.py) and a lookup's terms one after another, so each begins a new one here.
_current_task = {"id": uuid.uuid4().hex}


def begin_task() -> None:
    """A new task starts in this process: claims left by this process's earlier tasks are theirs, and dead."""
    _current_task["id"] = uuid.uuid4().hex


def owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "task": _current_task["id"]}


def owner_is_dead(holder: Any) -> bool:
    """True when the claim's owner ran on this host and its process no longer exists, or is this process and its task
    has ended (a process runs its tasks one after another; the threads of one task share its id)."""
    if not isinstance(holder, dict) or holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    if holder["pid"] == os.getpid():
        return holder.get("task") not in (None, _current_task["id"])
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but belongs to someone else
        return False
    return False


# ---- keeping a claim fresh and ordering once ---------------------------------------------------------


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


# ---- the claims of one config ------------------------------------------------------------------------


class Claims:
    """Take, keep, wait for, settle and order under the claims on one config's names and records."""

    def __init__(self, records: "CertRecords", *, clock: Callable[[], datetime] = rec.utc_now,
                 monotonic: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None,
                 heartbeat: float | None = HEARTBEAT_SECONDS, check_mode: bool = False) -> None:
        import time

        self.records = records
        self.clock = clock
        self.monotonic = monotonic or time.monotonic
        self.sleep = sleep or time.sleep
        self.heartbeat = heartbeat
        self.check_mode = check_mode

    def new(self, kind: str, request_id: str, **fields: Any) -> dict[str, Any]:
        """A claim of this process: who holds it (host and pid) and when it was last refreshed."""
        claim = {"kind": kind, "request_id": request_id, "claimed_at": rec.iso(self.clock()), "owner": owner()}
        claim.update(fields)
        return claim

    def stale(self, claim: dict[str, Any], refreshed_at: datetime | None = None) -> bool:
        """``claim_is_stale`` on Vault's clock when ``refreshed_at`` (when Vault wrote the claim's document) is known,
        else on this run's clock."""
        if claim_is_abandoned(claim):
            return True  # no clock needed
        if refreshed_at is None:
            return claim_is_stale(claim, self.clock())
        return claim_is_stale(claim, self.records.vault_now(), refreshed_at=refreshed_at)

    # ---- taking and giving up ----------------------------------------------------------------------

    def take_name(self, name: str, entry: rec.NameEntry, version: int) -> int | None:
        """Write ``entry`` (carrying its ``claim``) on the version read; None when another run wrote first."""
        try:
            return self.records.write_name(name, entry, version)
        except VaultCasConflict:
            return None

    def take_record(self, record: rec.CertRecord, version: int, pending: rec.RecordClaim) -> int | None:
        """Claim a renewal or replacement on the record itself; None when another run holds it."""
        if held_claim(record) and not self.stale(record["pending"],  # type: ignore[arg-type]
                                                 self.records.written_at(record["cert_unique_id"], version=version)):
            return None
        record["pending"] = pending
        try:
            return self.records.write(record, version)
        except VaultCasConflict:
            return None

    def drop_name(self, name: str, entry: rec.NameEntry, version: int) -> None:
        """Give up a claim on a name: keep the entry if it points at a record, else delete it."""
        if entry.get("cert_unique_id"):
            kept = dict(entry)
            kept.pop("claim", None)
            self.records.write_name(name, kept, version)  # type: ignore[arg-type]
        else:
            self.records.delete_name(name)

    def keep(self, write: Callable[[dict[str, Any], int], int], document: dict[str, Any], claim: dict[str, Any],
             version: int) -> ClaimKeeper:
        """Refresh ``claim`` (part of ``document``) while the caller orders; see ClaimKeeper."""
        return ClaimKeeper(write, document, claim, version, self.clock, self.heartbeat)

    # ---- ordering once -----------------------------------------------------------------------------

    def order_on_name(self, name: str, entry: rec.NameEntry, version: int, post: Callable[[], Any],
                      look_up: Callable[[], Any]) -> ClaimedOrder | None:
        """Send a first order once under the name's claim. On failure the claim is given up when nothing reached SCM,
        else kept with ``outcome: unknown`` for the next run to look up; None when another run took the claim over."""
        claim = entry["claim"]  # type: ignore[typeddict-item]
        keeper = self.keep(lambda doc, v: self.records.write_name(name, doc, v), entry, claim, version)  # type: ignore[arg-type]
        ordered = order_under_claim(keeper, post, look_up)
        if ordered is None or ordered.failure is None:
            return ordered
        if not ordered.failure.may_have_reached:
            self.drop_name(name, entry, ordered.version)
        else:
            claim["outcome"] = "unknown"
            ordered.version = self.records.write_name(name, entry, ordered.version)
        return ordered

    def order_on_record(self, record: rec.CertRecord, version: int, pending: rec.RecordClaim, post: Callable[[], Any],
                        look_up: Callable[[], Any]) -> ClaimedOrder | None:
        """Claim the record and send ``post`` once while the claim is kept fresh; None when another run holds the claim
        or takes it over meanwhile (nothing was ordered by this run). On failure the claim is given up when nothing
        reached SCM, else kept with ``outcome: unknown`` for the next run to reconcile."""
        claimed_version = self.take_record(record, version, pending)
        if claimed_version is None:
            return None
        keeper = self.keep(self.records.write, record, record["pending"], claimed_version)  # type: ignore[arg-type]
        ordered = order_under_claim(keeper, post, look_up)
        if ordered is None or ordered.failure is None:
            return ordered
        if ordered.failure.may_have_reached:
            record["pending"]["outcome"] = "unknown"
        else:
            record.pop("pending", None)
        ordered.version = self.records.write(record, ordered.version)
        return ordered

    # ---- another run's claim -----------------------------------------------------------------------

    def wait(self, document: Any, version: int, claim_of: Callable[[Any], dict[str, Any] | None],
             read: Callable[[], tuple[Any, int]], what: str,
             written_at: Callable[[int], datetime | None] = lambda _version: None) -> tuple[Any, int, bool]:
        """Wait while another run keeps its claim on ``document`` fresh, reading it again every CLAIM_POLL_SECONDS.
        ``written_at(version)`` tells when Vault wrote a version of the document (``CertRecords.written_at``): the claim's
        age is judged on Vault's clock.

        Returns ``(document, version, stale)``: the document once it carries no claim (None when it was deleted),
        or with a claim whose owner is gone (``stale``). Check mode does not wait. After CLAIM_WAIT_SECONDS of a
        fresh claim, ``OperationError`` ("Failed to <what>: another run ... is still ordering it"): a fresh claim
        is never taken over."""
        deadline = self.monotonic() + CLAIM_WAIT_SECONDS
        while document is not None:
            claim = claim_of(document)
            if not claim:
                break
            if self.stale(claim, written_at(version)):
                return document, version, True
            if self.check_mode:
                break
            if self.monotonic() >= deadline:
                raise OperationError(f"Failed to {what}: another run ({claim_holder(claim)}) is still ordering it after "
                                     f"{CLAIM_WAIT_SECONDS} s; run again once it has finished")
            self.sleep(CLAIM_POLL_SECONDS)
            document, version = read()
        return document, version, False


def name_claim(entry: rec.NameEntry | None) -> dict[str, Any] | None:
    """The claim on a name entry, if any."""
    return (entry or {}).get("claim")  # type: ignore[return-value]


def record_claim(record: rec.CertRecord | None) -> dict[str, Any] | None:
    """The renewal or replacement claim of a record still in flight (see ``held_claim``), if any."""
    return record["pending"] if held_claim(record) else None  # type: ignore[index,return-value]
