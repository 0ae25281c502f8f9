# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault repository of one config's certificates: records, name entries and listings.

Private to this collection: no compatibility is promised to code outside it.

``names/<config>/<name>`` points a name at its current record ``certs/<config>/<cert_unique_id>``.
Every write here is a check-and-set on the version read (docs/vault.md "Check-and-set"); the claims
written on names and records before an order are ``_lifecycle/claims``'.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Protocol

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import choice, whole_number
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict


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
        """Write a record whose order was just placed, on whatever version of it is stored.

        A new order's id has no record yet, so the write is first sent as a creation (``cas=0``), one request; only when
        Vault holds that id already (an earlier import, a deleted record whose versions KV v2 keeps) is it read and
        written again on the version read.
        """
        try:
            return self.write(record, 0)
        except VaultCasConflict:
            _existing, version = self.read(record["cert_unique_id"])
            return self.write(record, version)

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

    # ---- Vault's clock (docs/scale.md "Claims on Vault's clock") ------------------------------------------

    def written_at(self, uid: str | None = None, *, name: str | None = None, version: int) -> datetime | None:
        """When Vault wrote ``version`` of the record ``uid`` (or of the name entry ``name``), by Vault's clock; None
        from a store that does not tell Vault's times (the unit tests' in-memory stores)."""
        if not hasattr(self.store, "written_at"):
            return None
        path = rec.name_path(self.config_name, name) if name else rec.cert_path(self.config_name, uid or "")
        return self.store.written_at(path, version)  # type: ignore[attr-defined]

    def vault_now(self) -> datetime:
        """Vault's clock now (``VaultStore.vault_now``); only asked of a store that answered ``written_at``."""
        return self.store.vault_now()  # type: ignore[attr-defined]

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
    if query.expiring_within_days is not None:
        whole_number(query.expiring_within_days, "expiring_within_days", 0)
    for status in query.statuses or []:
        choice(status, "status", rec.STATUSES)
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
