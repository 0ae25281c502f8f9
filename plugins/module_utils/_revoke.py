# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revocation: revoke in SCM, keep the record in Vault with status ``Revoked`` (docs/lifecycle.md "Revocation").

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._records import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_kinds import CertKind, kind_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_records import CertRecords, KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import reason_code, serial_number, text, whole_number
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import CAS_ATTEMPTS, VaultCasConflict

IDENTITIES = ("name", "cert_unique_id", "ssl_id", "order_number", "serial_number")


def _plain_serial(value: str | None) -> str:
    return (value or "").replace(":", "").upper().lstrip("0")


class RevokeService:
    """Revoke one certificate, found by name, record id, SCM id or serial number."""

    def __init__(self, store: KvStore, config: dict[str, Any], scm_factory: Callable[[], Any], *, check_mode: bool = False,
                 clock: Callable[[], Any] = rec.utc_now) -> None:
        self.config = config
        self.kind: CertKind = kind_for(config, scm_factory)
        self.check_mode = check_mode
        self.clock = clock
        self.records = CertRecords(store, config["name"], clock)

    def validate(self, reason: Any, code: Any, given: dict[str, Any]) -> tuple[str, int]:
        """Every option checked before Vault or SCM is asked anything."""
        reason = text(reason, "reason", rec.REASON_MAX, self.kind.reason_min)
        number = reason_code(code)
        named = [k for k in IDENTITIES if given.get(k) is not None]
        if len(named) != 1:
            raise InputError("name", f"give exactly one of {', '.join(IDENTITIES)}")
        field = named[0]
        if field == self.kind.other_id_option:
            raise InputError(field, f"{field} does not fit config '{self.config['name']}' of type {self.kind.name}; use {self.kind.id_option}")
        value = given[field]
        if field == "name":
            rec.validate_name(value, "name")
        elif field == "cert_unique_id":
            rec.validate_unique_id(value)
        elif field == "serial_number":
            serial_number(value)
        else:
            whole_number(value, field, 1)
        return reason, number

    def _find(self, given: dict[str, Any]) -> tuple[rec.CertRecord | None, int]:
        if given.get("name"):
            entry, _version = self.records.read_name(given["name"])
            if not (entry or {}).get("cert_unique_id"):
                raise InputError("name", f"no certificate named '{given['name']}' in config '{self.config['name']}'")
            return self.records.read(entry["cert_unique_id"])  # type: ignore[index]
        if given.get(self.kind.id_option) is not None:
            return self.records.read(rec.cert_unique_id(given[self.kind.id_option], self.kind.customer_uri))
        if given.get("cert_unique_id"):
            return self.records.read(given["cert_unique_id"])
        wanted = _plain_serial(given.get("serial_number"))
        for uid in self.records.ids():
            record, version = self.records.read(uid)
            if record and _plain_serial(record.get("serial_number")) == wanted:
                return record, version
        return None, 0

    def revoke(self, *, reason: Any, reason_code: Any = 0, **given: Any) -> CertResult:  # pylint: disable=redefined-outer-name
        reason, code = self.validate(reason, reason_code, given)
        record, version = self._find(given)
        if record is None and (given.get("name") or given.get("cert_unique_id")):
            field = "name" if given.get("name") else "cert_unique_id"
            raise InputError(field, f"no certificate '{given[field]}' in config '{self.config['name']}'")
        before = rec.summary(record)
        if record is not None and record.get("status") == rec.REVOKED:
            return CertResult(False, "none", record, before=before, after=before)
        if record is not None and record.get("status") != rec.ISSUED:
            field = next(k for k in IDENTITIES if given.get(k) is not None)
            raise InputError(field, f"certificate '{record['cert_unique_id']}' is {record.get('status')}; only issued certificates can be revoked")
        if self.check_mode:
            return CertResult(True, "revoked", record, before=before, after=dict(before, status=rec.REVOKED))
        oid = self.kind.order_id(record) if record is not None else given.get(self.kind.id_option)
        changed = self.kind.revoke(oid, given.get("serial_number"), reason, code)
        if record is None:
            return CertResult(changed, "revoked" if changed else "none", None)
        record = self._mark_revoked(record, version, reason, code)
        return CertResult(True, "revoked", record, before=before, after=rec.summary(record))

    def _mark_revoked(self, record: rec.CertRecord, version: int, reason: str, code: int) -> rec.CertRecord:
        """Record what SCM just did; a record another run changed meanwhile is read again, never overwritten blind."""
        serial = record.get("serial_number")
        for attempt in range(CAS_ATTEMPTS):
            record["revoked"] = {"reason": reason, "reason_code": code, "time_stamp": rec.iso(self.clock())}
            rec.set_status(record, rec.REVOKED, self.clock())
            try:
                self.records.write(record, version)
                return record
            except VaultCasConflict:
                current, version = self.records.read(record["cert_unique_id"])
                if current is None or current.get("serial_number") != serial or attempt == CAS_ATTEMPTS - 1:
                    raise
                if current.get("status") == rec.REVOKED:
                    return current
                record = current
        return record
