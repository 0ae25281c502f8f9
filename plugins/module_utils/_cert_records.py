"""Certificate records and name entries of one config in Vault, and the claims kept on them (SPEC §3).

``names/<config>/<name>`` points a name at its current record ``certs/<config>/<cert_unique_id>``.
A run that is about to place an SCM order first writes a *claim* with check-and-set: on the name
entry for a new certificate, on the record (``pending``) for a renewal or replacement. Only one run
can win a check-and-set, so only one run orders (docs/vault.md "Check-and-set").
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _crypto as crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_path, name_path
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import VaultCasConflict

# A claim older than this whose owner never recorded an order is looked up in SCM, then taken over.
CLAIM_STALE_SECONDS = 120
# Claims on a record that keep other runs from renewing or replacing the same certificate.
RECORD_CLAIM_KINDS = ("renew", "replace")


class CertRecords:
    """Reads and check-and-set writes of one config's records and names."""

    def __init__(self, store: Any, config_name: str, clock: Callable[[], datetime] = rec.utc_now) -> None:
        self.store = store
        self.config_name = config_name
        self.clock = clock

    # ---- records ---------------------------------------------------------------------------------

    def read(self, uid: str | None) -> tuple[dict[str, Any] | None, int]:
        if not uid:
            return None, 0
        return self.store.read(cert_path(self.config_name, uid))

    def write(self, record: dict[str, Any], version: int) -> int:
        """Write ``record`` on the ``version`` read (0 creates); stamps ``updated_at``."""
        record["updated_at"] = rec.iso(self.clock())
        return self.store.write(cert_path(self.config_name, record["cert_unique_id"]), record, cas=version)

    def create_or_overwrite(self, record: dict[str, Any]) -> int:
        """Write a record whose order was just placed, on whatever version of it is stored."""
        existing, version = self.read(record["cert_unique_id"])
        return self.write(record, version if existing else 0)

    def delete(self, uid: str) -> None:
        self.store.delete(cert_path(self.config_name, uid))

    def ids(self) -> set[str]:
        return set(self.store.list(f"certs/{self.config_name}"))

    def follow_renewals(self, record: dict[str, Any], version: int) -> tuple[dict[str, Any], int]:
        """The newest record of a chain of renewals that starts at ``record``."""
        seen = set()
        while record.get("status") == rec.RENEWED and record.get("renewed_to") and record["renewed_to"] not in seen:
            seen.add(record["renewed_to"])
            nxt, nver = self.read(record["renewed_to"])
            if nxt is None:
                break
            record, version = nxt, nver
        return record, version

    # ---- names -----------------------------------------------------------------------------------

    def read_name(self, name: str | None) -> tuple[dict[str, Any] | None, int]:
        if not name:
            return None, 0
        return self.store.read(name_path(self.config_name, name))

    def write_name(self, name: str, entry: dict[str, Any], version: int) -> int:
        return self.store.write(name_path(self.config_name, name), entry, cas=version)

    def point_name(self, name: str, uid: str, version: int) -> int:
        """Point ``name`` at record ``uid`` (dropping any claim on the entry)."""
        return self.write_name(name, {"name": name, "config_name": self.config_name, "cert_unique_id": uid}, version)

    def delete_name(self, name: str) -> None:
        self.store.delete(name_path(self.config_name, name))

    # ---- claims ----------------------------------------------------------------------------------

    def claim_age(self, claim: dict[str, Any]) -> float:
        return (self.clock() - crypto.parse_iso(claim["claimed_at"])).total_seconds()

    def stale(self, claim: dict[str, Any]) -> bool:
        """A claim whose owner is gone: its answer was lost, or it is older than CLAIM_STALE_SECONDS."""
        return claim.get("outcome") == "unknown" or self.claim_age(claim) >= CLAIM_STALE_SECONDS

    def drop_name_claim(self, name: str, entry: dict[str, Any], version: int) -> None:
        """Give up a claim on a name: keep the entry if it points at a record, else delete it."""
        if entry.get("cert_unique_id"):
            entry = dict(entry)
            entry.pop("claim", None)
            self.write_name(name, entry, version)
        else:
            self.delete_name(name)

    def claim_record(self, record: dict[str, Any], version: int, pending: dict[str, Any]) -> int | None:
        """Claim a renewal or replacement on the record itself; None when another run holds it."""
        held = record.get("pending")
        if held and held.get("kind") in RECORD_CLAIM_KINDS and not self.stale(held):
            return None
        record["pending"] = pending
        try:
            return self.write(record, version)
        except VaultCasConflict:
            return None
