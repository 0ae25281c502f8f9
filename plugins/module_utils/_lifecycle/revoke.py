# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revocation: revoke in SCM, keep the record in Vault with status ``Revoked`` (docs/lifecycle.md "Revocation").

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import CertKind, kind_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords, KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import reason_code, serial_number, text, whole_number
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import CAS_ATTEMPTS, VaultCasConflict

IDENTITIES = ("name", "cert_unique_id", "ssl_id", "order_number", "serial_number")
# SCM statuses of an order that was withdrawn before issuance (SSL details, or a client order's lower-case state).
WITHDRAWN_SCM_STATUSES = ("declined", "rejected", "revoked", "pre_revoked")


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

    def revoke(self, *, reason: Any, reason_code: Any = 0, cancel_pending: bool = False,  # pylint: disable=redefined-outer-name
               **given: Any) -> CertResult:
        """Revoke a certificate SCM still holds valid, whatever its status in Vault (``Issued``, ``Renewed``, replaced);
        with ``cancel_pending``, withdraw an order that is not issued yet (docs/lifecycle.md "Revocation")."""
        reason, code = self.validate(reason, reason_code, given)
        record, version = self._find(given)
        if record is None and (given.get("name") or given.get("cert_unique_id")):
            field = "name" if given.get("name") else "cert_unique_id"
            raise InputError(field, f"no certificate '{given[field]}' in config '{self.config['name']}'")
        before = rec.summary(record)
        status = record.get("status") if record is not None else None
        if status in rec.ENDED_STATUSES:
            return CertResult(False, "none", record, before=before, after=before)
        if record is not None and (status in rec.PENDING_STATUSES or status == rec.REQUESTED or not record.get("certificate")):
            return self._cancel(record, version, reason, cancel_pending, given)
        if record is not None and record.get("not_after") and rec.parse_iso(record["not_after"]) <= self.clock():
            raise InputError(self._field(given), f"certificate '{record['cert_unique_id']}' expired on {record['not_after']}; "
                                                 "SCM revokes only certificates that are still valid")
        if self.check_mode:
            return CertResult(True, "revoked", record, before=before, after=dict(before, status=rec.REVOKED))
        oid = self.kind.order_id(record) if record is not None else given.get(self.kind.id_option)
        changed = self.kind.revoke(oid, given.get("serial_number"), reason, code)
        if record is None:
            return CertResult(changed, "revoked" if changed else "none", None)
        record = self._mark(record, version, rec.REVOKED, "revoked", {"reason": reason, "reason_code": code})
        return CertResult(True, "revoked", record, before=before, after=rec.summary(record))

    @staticmethod
    def _field(given: dict[str, Any]) -> str:
        return next(k for k in IDENTITIES if given.get(k) is not None)

    def _cancel(self, record: rec.CertRecord, version: int, reason: str, cancel_pending: bool, given: dict[str, Any]) -> CertResult:
        """Withdraw an order SCM has not issued: SSL orders are declined, client orders revoked before issuance."""
        uid, status = record["cert_unique_id"], record.get("status")
        oid = self.kind.order_id(record)
        if oid is None:
            raise InputError(self._field(given), f"certificate '{uid}' has no SCM order yet (status {status}); nothing to revoke or cancel")
        if not cancel_pending:
            raise InputError("cancel_pending", f"certificate '{uid}' is an order SCM has not issued yet (status {status}); "
                                               "set cancel_pending: true to cancel the order instead of revoking a certificate")
        before = rec.summary(record)
        if self.check_mode:
            return CertResult(True, "cancelled", record, before=before, after=dict(before, status=rec.CANCELLED))
        # An ErrorCode record may be an order SCM ended itself (declined or rejected, seen by the last collect): ask
        # first rather than send a withdrawal SCM refuses. Any other pending order is withdrawn straight away.
        if not (status == rec.ERROR_CODE and self._withdrawn(oid)):
            try:
                self.kind.cancel(oid, reason or "Cancelled")
            except ScmRequestError:
                # A second run, or an administrator, may have withdrawn it already.
                if not self._withdrawn(oid):
                    raise
        record = self._mark(record, version, rec.CANCELLED, "cancelled", {"reason": reason})
        return CertResult(True, "cancelled", record, before=before, after=rec.summary(record))

    def _withdrawn(self, oid: Any) -> bool:
        """SCM shows the order declined, rejected or revoked: there is nothing left to withdraw."""
        return str(self.kind.status(oid)).lower() in WITHDRAWN_SCM_STATUSES

    def _mark(self, record: rec.CertRecord, version: int, status: str, field: str, details: dict[str, Any]) -> rec.CertRecord:
        """Record what SCM just did; a record another run changed meanwhile is read again, never overwritten blind."""
        serial = record.get("serial_number")
        for attempt in range(CAS_ATTEMPTS):
            record[field] = dict(details, time_stamp=rec.iso(self.clock()))  # type: ignore[literal-required]
            rec.set_status(record, status, self.clock())
            try:
                self.records.write(record, version)
                return record
            except VaultCasConflict:
                current, version = self.records.read(record["cert_unique_id"])
                if current is None or current.get("serial_number") != serial or attempt == CAS_ATTEMPTS - 1:
                    raise
                if current.get("status") == status:
                    return current
                record = current
        return record
