# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's vocabulary: what is stored in Vault and the values it allows.

Private to this collection: no compatibility is promised to code outside it.

Statuses, certificate kinds, names and record ids, Vault paths, time stamps, the typed shapes of a
certificate record, a claim and a name entry, and the one public summary of a record. The layout
and the record are described in docs/vault.md ("Layout" and "The certificate record"). Nothing here
does I/O, and nothing here imports more than the standard library.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, TypedDict

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError

# ---- statuses (docs/vault.md "The certificate record") ----------------------------------------------------------

REQUESTED = "Requested"
APPLIED = "Applied"
ISSUED = "Issued"
TIMEOUT_STATE_SAVED = "TimeoutStateSaved"
ERROR_CODE = "ErrorCode"
RENEWED = "Renewed"
REVOKED = "Revoked"
CANCELLED = "Cancelled"

STATUSES = (REQUESTED, APPLIED, ISSUED, TIMEOUT_STATE_SAVED, ERROR_CODE, RENEWED, REVOKED, CANCELLED)
# Statuses whose order exists in SCM but whose certificate has not been collected yet.
PENDING_STATUSES = (APPLIED, TIMEOUT_STATE_SAVED, ERROR_CODE)
# Statuses that end a record's life: ``state: present`` enrolls anew under the name, a sweep only reports them.
ENDED_STATUSES = (REVOKED, CANCELLED)

# ---- kinds of certificate ----------------------------------------------------------------------------

SSL_CERT = "ssl_cert"
CLIENT_CERT = "client_cert"
CERTIFICATE_TYPES = (SSL_CERT, CLIENT_CERT)

# ---- values SCM accepts (docs/scm-protocol.md) -------------------------------------------------------

# Formats of SCM's collect endpoint; the record's ``ssl_format`` is one of them.
FORMAT_TYPES = ("x509", "x509CO", "x509IO", "base64", "bin", "x509IOR", "x509R", "pem", "pemco", "pemia")
# Revocation reasons SCM takes (the Mozilla policy subset: 2 and 6 are refused).
REASON_CODES = {"unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5}
REASON_MAX = 512              # revoke, replace, approve and decline messages
COMMENTS_MAX = 1024           # order comments, the collection's marker included
EXTERNAL_REQUESTER_MAX = 512  # one e-mail or a comma-separated list
EMAIL_MAX = 128               # a client certificate's e-mail
PERSON_NAME_MAX = 64          # first, middle and last name joined by spaces
COMMON_NAME_MAX = 64          # X.520 upper bound
# Keys SCM accepts: RSA of these sizes, EC on the three NIST curves (ECDSA is another name of EC).
KEY_ALGOS = ("RSA", "EC", "ECDSA")
RSA_SIZES = (2048, 3072, 4096)
EC_SIZES = (256, 384, 521)
CURVE_NAMES = {256: "P-256", 384: "P-384", 521: "P-521"}
# Subject attributes a task may set beside the common name (each has its own option and record field).
SUBJECT_FIELDS = ("country", "province", "locality", "organization", "organizational_unit", "email_address")

# ---- names, record ids and paths (docs/vault.md "Layout") -------------------------------------------

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")
# ``<ssl_id>_<customer_uri>`` or ``<order_number>_<customer_uri>``, as the Vault plugin names records.
UNIQUE_ID_PATTERN = r"[0-9]+_[A-Za-z0-9._-]+"
_UNIQUE_ID_RE = re.compile(rf"^{UNIQUE_ID_PATTERN}$")


def is_valid_name(value: object) -> bool:
    return isinstance(value, str) and bool(_NAME_RE.match(value))


def is_unique_id(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 256 and bool(_UNIQUE_ID_RE.match(value))


def validate_name(value: object, field: str) -> str:
    """Return ``value`` if it is a valid config, certificate or profile name, else raise InputError."""
    if not is_valid_name(value):
        raise InputError(field, f"{field} must match {NAME_PATTERN} (letters, digits, '.', '_', '-'; at most 128 characters, "
                                f"starting with a letter or digit); got {value!r}")
    return value  # type: ignore[return-value]


def validate_unique_id(value: object, field: str = "cert_unique_id") -> str:
    if not is_unique_id(value):
        raise InputError(field, f"{field} must be <ssl_id>_<customer_uri> or <order_number>_<customer_uri> "
                                f"(matching {UNIQUE_ID_PATTERN}); got {value!r}")
    return value  # type: ignore[return-value]


def cert_unique_id(order_id: int | str, customer_uri: str) -> str:
    return f"{order_id}_{customer_uri}"


def config_path(config: str) -> str:
    return f"configs/{config}"


def cert_path(config: str, unique_id: str) -> str:
    return f"certs/{config}/{unique_id}"


def certs_dir(config: str) -> str:
    return f"certs/{config}"


def name_path(config: str, name: str) -> str:
    return f"names/{config}/{name}"


def names_dir(config: str) -> str:
    return f"names/{config}"


def profile_path(config: str, profile_id: int | str) -> str:
    return f"profiles/{config}/{profile_id}"


def profiles_dir(config: str) -> str:
    return f"profiles/{config}"


def custom_fields_path(config: str) -> str:
    """SCM's custom-field list of a config's kind, kept for the checks before an order."""
    return f"custom_fields/{config}"


# ---- time --------------------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """``2026-11-23T07:40:00Z`` (UTC, whole seconds); a naive datetime counts as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str | datetime) -> datetime:
    """A timezone-aware UTC datetime from ISO-8601 (``Z`` or an offset; no offset means UTC)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 date and time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def days_remaining(not_after_iso: str | datetime, now: datetime) -> int:
    """Whole days from ``now`` until ``not_after_iso`` (rounded down; negative once expired)."""
    delta = parse_iso(not_after_iso) - parse_iso(now)
    return math.floor(delta.total_seconds() / 86400)


# ---- typed shapes of what Vault holds (docs/vault.md "The certificate record") -----------------------


class StateEntry(TypedDict, total=False):
    status: str
    time_stamp: str
    reason: str


class RecordClaim(TypedDict, total=False):
    """``pending`` on a record: a renewal or replacement in flight (docs/lifecycle.md "Claims")."""

    kind: str               # renew | replace
    request_id: str
    claimed_at: str         # refreshed by a live owner while it works
    owner: Dict[str, Any]   # {host, pid} of the run that holds it
    outcome: str            # "unknown": the order's answer was lost
    stage: str              # "ordered": SCM accepted the replacement
    csr: Optional[str]
    private_key: Optional[str]
    requested_sans: List[str]
    reason: str
    previous_serial: Optional[str]


class CertRecord(TypedDict, total=False):
    """``certs/<config>/<cert_unique_id>``: one certificate, its key, its order and its history."""

    cert_unique_id: str
    name: str
    config_name: str
    certificate_type: str
    request_id: str
    ssl_id: int
    renew_id: Optional[str]
    order_number: int
    backend_cert_id: str
    ssl_format: str
    domain: Optional[str]
    subject: Dict[str, str]
    subject_alt_names: List[str]
    requested_sans: List[str]
    email: Optional[str]
    first_name: Optional[str]
    middle_name: Optional[str]
    last_name: Optional[str]
    csr: str
    private_key: Optional[str]
    key_algo: str
    key_size: int
    public_key_sha256: str
    certificate: str
    chain: List[str]
    serial_number: str
    not_before: str
    not_after: str
    fingerprint_sha256: str
    issuer: str
    profile_id: Optional[int]
    term: Optional[int]
    org_id: Optional[int]
    external_requester: str
    comments: str
    custom_fields: List[Dict[str, str]]
    status: str
    state: List[StateEntry]
    error: Dict[str, Any]
    created_at: str
    updated_at: str
    imported: bool
    renewed_to: str
    renewed_from: str
    replaced_to: str
    replaced_from: str
    previous: str
    revoked: Dict[str, Any]
    cancelled: Dict[str, Any]
    pending: RecordClaim


class NameClaim(TypedDict, total=False):
    """``claim`` on a name entry: a first enrollment in flight, with the record it will store."""

    kind: str               # enroll
    request_id: str
    claimed_at: str
    owner: Dict[str, Any]
    outcome: str
    record: CertRecord


class NameEntry(TypedDict, total=False):
    """``names/<config>/<name>``: the stable name a playbook uses -> the current record."""

    name: str
    config_name: str
    cert_unique_id: Optional[str]
    claim: NameClaim


# ---- records -----------------------------------------------------------------------------------------

# Fields that hold secrets: never in results (unless asked for), diffs or logs.
SECRET_FIELDS = ("private_key",)
# The public facts of a record: what a diff, a listing and a summary table show.
SUMMARY_FIELDS = ("name", "cert_unique_id", "certificate_type", "status", "domain", "email", "subject_alt_names",
                  "serial_number", "not_after", "key_algo", "key_size", "profile_id", "term")


def set_status(record: CertRecord, status: str, now: datetime, **extra: Any) -> CertRecord:
    """Set ``status`` and append it to the ``state`` history (oldest first); returns ``record``."""
    record["status"] = status
    entry: dict[str, Any] = {"status": status, "time_stamp": iso(now)}
    entry.update({k: v for k, v in extra.items() if v is not None})
    record.setdefault("state", []).append(entry)  # type: ignore[arg-type]
    return record


def public_view(record: CertRecord | None, include_private_key: bool = False) -> dict[str, Any]:
    """The record as a task may return it: without the private key unless asked for, without claims."""
    if not record:
        return {}
    view: dict[str, Any] = copy.deepcopy(dict(record))
    view.pop("pending", None)
    if not include_private_key:
        for secret in SECRET_FIELDS:
            view.pop(secret, None)
    return view


def summary(record: CertRecord | None, now: datetime | None = None) -> dict[str, Any]:
    """The public facts of a record, with ``days_remaining`` when ``now`` is given (never a key)."""
    if not record:
        return {}
    out = {k: record.get(k) for k in SUMMARY_FIELDS if record.get(k) not in (None, "", [])}
    if now is not None and record.get("not_after"):
        out["days_remaining"] = days_remaining(record["not_after"], now)
    return out


@dataclass
class CertResult:
    """What one certificate task did: ``action`` is one of docs/lifecycle.md "Actions"."""

    changed: bool
    action: str
    record: CertRecord | None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def unchanged(record: CertRecord | None, before: dict[str, Any] | None = None) -> CertResult:
    """The result of a task that found nothing to do."""
    return CertResult(False, "none", record, before=summary(record) if before is None else before, after=summary(record))
