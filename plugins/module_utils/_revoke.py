"""Revocation (SPEC §4 sectigo_revoke): revoke in SCM, keep the record in Vault with status Revoked."""
from __future__ import annotations

from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_records import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_unique_id, validate_name
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm_errors import ScmRequestError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import CAS_ATTEMPTS, VaultCasConflict

# SCM_API §3.11: the Mozilla policy subset; 2 and 6 are not allowed.
REASON_CODES = {"unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5}
# SCM answers -102 (or -159) when the certificate is not, or no longer, issued.
NOT_ISSUED_CODES = {-102, -159}


def normalize_reason_code(value: Any) -> int:
    """A reason code given as a name (``keyCompromise``) or a number (``1``); anything else names the field."""
    if isinstance(value, str) and value in REASON_CODES:
        return REASON_CODES[value]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number not in REASON_CODES.values():
        allowed = ", ".join(f"{name} ({code})" for name, code in REASON_CODES.items())
        raise InputError("reason_code", f"reason_code must be one of {allowed}; got {value!r}")
    return number


class RevokeService:
    """Revoke one certificate, found by name, record id, SCM id or serial number."""

    def __init__(self, store: Any, config: dict[str, Any], scm_factory: Callable[[], Any], *, check_mode: bool = False,
                 clock: Callable[[], Any] = rec.utc_now) -> None:
        self.store = store
        self.config = config
        self.scm_factory = scm_factory
        self.check_mode = check_mode
        self.clock = clock
        self.records = CertRecords(store, config["name"], clock)

    @property
    def ssl(self) -> bool:
        return self.config.get("config_type") != rec.CLIENT_CERT

    def _find(self, *, name: str | None, unique_id: str | None, order_id: int | None, serial: str | None) -> tuple[dict[str, Any] | None, int]:
        config = self.config["name"]
        if name:
            entry, _version = self.records.read_name(validate_name(name, "name"))
            unique_id = (entry or {}).get("cert_unique_id")
            if not unique_id:
                raise InputError("name", f"no certificate named '{name}' in config '{config}'")
        if order_id is not None:
            unique_id = cert_unique_id(order_id, self.config["customer_uri"])
        if unique_id:
            return self.records.read(unique_id)
        wanted = (serial or "").replace(":", "").upper().lstrip("0")
        for uid in self.records.ids():
            record, version = self.records.read(uid)
            if record and (record.get("serial_number") or "").replace(":", "").upper().lstrip("0") == wanted:
                return record, version
        return None, 0

    def revoke(self, *, reason: str, reason_code: Any = 0, name: str | None = None, cert_unique_id_: str | None = None,
               ssl_id: int | None = None, order_number: int | None = None, serial_number: str | None = None) -> CertResult:
        if not isinstance(reason, str) or not (0 if not self.ssl else 1) <= len(reason) <= 512:
            raise InputError("reason", "reason must be 1 to 512 characters long" if self.ssl else "reason must be at most 512 characters long")
        code = normalize_reason_code(reason_code)
        given = [k for k, v in (("name", name), ("cert_unique_id", cert_unique_id_), ("ssl_id", ssl_id), ("order_number", order_number),
                                ("serial_number", serial_number)) if v is not None]
        if len(given) != 1:
            raise InputError("name", "give exactly one of name, cert_unique_id, ssl_id, order_number, serial_number")
        if self.ssl and order_number is not None or not self.ssl and ssl_id is not None:
            raise InputError(given[0], f"{given[0]} does not fit config '{self.config['name']}' of type {self.config.get('config_type')}")
        order_id = ssl_id if ssl_id is not None else order_number
        record, version = self._find(name=name, unique_id=cert_unique_id_, order_id=order_id, serial=serial_number)
        if record is None and (name or cert_unique_id_):
            raise InputError(given[0], f"no certificate '{name or cert_unique_id_}' in config '{self.config['name']}'")
        before = rec.summary(record)
        if record is not None and record.get("status") == rec.REVOKED:
            return CertResult(False, "none", record, before=before, after=before)
        if record is not None and record.get("status") != rec.ISSUED:
            raise InputError(given[0], f"certificate '{record['cert_unique_id']}' is {record.get('status')}; only issued certificates can be revoked")
        if self.check_mode:
            return CertResult(True, "revoked", record, before=before, after=dict(before, status=rec.REVOKED))
        changed = self._revoke_in_scm(record, order_id, serial_number, reason, code)
        if record is None:
            return CertResult(changed, "revoked" if changed else "none", None)
        record = self._mark_revoked(record, version, reason, code)
        return CertResult(True, "revoked", record, before=before, after=rec.summary(record))

    def _mark_revoked(self, record: dict[str, Any], version: int, reason: str, code: int) -> dict[str, Any]:
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

    def _revoke_in_scm(self, record: dict[str, Any] | None, order_id: Any, serial: str | None, reason: str, code: int) -> bool:
        """True when SCM revoked it now, False when SCM says it was already revoked."""
        scm = self.scm_factory()
        if record is not None:
            order_id = record.get("ssl_id") if self.ssl else (record.get("backend_cert_id") or record.get("order_number"))
        try:
            if self.ssl:
                if order_id is not None:
                    scm.revoke_ssl(order_id, reason=reason, reason_code=code)
                else:
                    scm.revoke_ssl_by_serial(serial, reason=reason, reason_code=code)
            elif order_id is not None:
                scm.revoke_smime_by_order(str(order_id), reason=reason, reason_code=code)
            else:
                scm.revoke_smime_by_serial(serial, reason=reason, reason_code=code)
        except ScmRequestError as exc:
            if exc.scm_code in NOT_ISSUED_CODES and order_id is not None and self._already_revoked(scm, order_id):
                return False
            raise
        return True

    def _already_revoked(self, scm: Any, order_id: Any) -> bool:
        if self.ssl:
            return str(scm.get_ssl(order_id).get("status", "")).lower() == "revoked"
        return any(str(item.get("state", "")).lower() == "revoked" for item in scm.iter_smime(backend_cert_id=str(order_id)))
