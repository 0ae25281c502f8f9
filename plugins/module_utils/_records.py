"""The certificate record of SPEC §3: status values, history and the public views of a record."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

REQUESTED = "Requested"
APPLIED = "Applied"
ISSUED = "Issued"
TIMEOUT_STATE_SAVED = "TimeoutStateSaved"
ERROR_CODE = "ErrorCode"
RENEWED = "Renewed"
REVOKED = "Revoked"

STATUSES = (REQUESTED, APPLIED, ISSUED, TIMEOUT_STATE_SAVED, ERROR_CODE, RENEWED, REVOKED)
# Statuses whose order exists in SCM but whose certificate has not been collected yet.
PENDING_STATUSES = (APPLIED, TIMEOUT_STATE_SAVED, ERROR_CODE)

SSL_CERT = "ssl_cert"
CLIENT_CERT = "client_cert"
CERTIFICATE_TYPES = (SSL_CERT, CLIENT_CERT)

# Fields that hold secrets: never in results (unless asked for), diffs or logs.
SECRET_FIELDS = ("private_key",)
# What a diff and a summary may show.
SUMMARY_FIELDS = ("cert_unique_id", "domain", "email", "subject_alt_names", "status", "serial_number",
                  "not_after", "key_algo", "key_size", "profile_id", "term")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_status(record: dict[str, Any], status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    """Set ``status`` and append it to the ``state`` history (oldest first); returns ``record``."""
    record["status"] = status
    entry = {"status": status, "time_stamp": iso(now)}
    entry.update({k: v for k, v in extra.items() if v is not None})
    record.setdefault("state", []).append(entry)
    return record


def order_id(record: dict[str, Any]) -> int | str | None:
    """The SCM id the record's order is known by: ``ssl_id`` or ``backend_cert_id``."""
    if record.get("certificate_type") == CLIENT_CERT:
        return record.get("backend_cert_id") or record.get("order_number")
    return record.get("ssl_id")


def public_view(record: dict[str, Any] | None, include_private_key: bool = False) -> dict[str, Any]:
    """The record as a task may return it: without the private key unless asked for, without claims."""
    if not record:
        return {}
    view = copy.deepcopy(record)
    view.pop("pending", None)
    if not include_private_key:
        for field in SECRET_FIELDS:
            view.pop(field, None)
    return view


def summary(record: dict[str, Any] | None) -> dict[str, Any]:
    """The non-secret facts shown in ``--diff`` output."""
    if not record:
        return {}
    return {k: record.get(k) for k in SUMMARY_FIELDS if record.get(k) not in (None, "", [])}
