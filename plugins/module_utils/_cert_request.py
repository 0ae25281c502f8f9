"""What a ``sectigo_cert`` task asks for, and the pure decisions made on it (SPEC §4 sectigo_cert).

Nothing here reads Vault or calls SCM: option resolution, input validation, the subject a new CSR
gets and the drift between a task and a stored record are plain functions of their arguments.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _crypto as crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import validate_name

STATES = ("present", "renewed", "replaced", "absent")
FORMAT_TYPES = ("x509", "x509CO", "x509IO", "base64", "bin", "x509IOR", "pem", "pemco", "pemia")

BUILTIN_DEFAULTS: dict[str, Any] = {
    "format_type": "x509",
    "wait": True,
    "max_timeout": 600,
    "loop_period": 30,
    "expiry_window": 7,
    "auto_renew": True,
    "read_renewed_cert": True,
    "verify_profile": True,
    "revoke_on_replace": False,
    "rotate_key_on_renew": True,
}
# Options that config defaults may hold as strings (templated values) but that are whole numbers.
INT_OPTIONS = ("cert_type", "term", "max_timeout", "loop_period", "num_servers", "server_type")
# Options that describe the order rather than the certificate; never drift (docs/lifecycle.md).
ISSUANCE_OPTIONS = ("cert_type", "term", "format_type", "external_requester", "num_servers", "server_type", "custom_fields")


@dataclass
class CertRequest:
    """What a task asks for. ``None`` means "not given": keep what the record has or use the default."""

    config: str
    name: str | None = None
    cert_unique_id: str | None = None
    state: str = "present"
    ssl_id: int | None = None
    order_number: int | None = None
    common_name: str | None = None
    country: str | None = None
    province: str | None = None
    locality: str | None = None
    organization: str | None = None
    organizational_unit: str | None = None
    email_address: str | None = None
    subject_alt_names: list[str] | str | None = None
    key_algo: str | None = None
    key_size: int | None = None
    key_curve: str | None = None
    csr: str | None = None
    private_key: str | None = None
    rotate_key_on_renew: bool | None = None
    cert_type: int | None = None
    term: int | None = None
    format_type: str | None = None
    external_requester: str | None = None
    comments: str | None = None
    num_servers: int | None = None
    server_type: int | None = None
    custom_fields: list[dict[str, str]] | None = None
    email: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    revoke_on_replace: bool | None = None
    wait: bool | None = None
    max_timeout: int | None = None
    loop_period: int | None = None
    expiry_window: str | int | None = None
    auto_renew: bool | None = None
    read_renewed_cert: bool | None = None
    verify_profile: bool | None = None
    reason: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "CertRequest":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in names})

    @property
    def gives_key_spec(self) -> bool:
        return self.key_algo is not None or self.key_size is not None or self.key_curve is not None


@dataclass
class CertResult:
    changed: bool
    action: str
    record: dict[str, Any] | None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def unchanged(record: dict[str, Any] | None, before: dict[str, Any] | None = None) -> CertResult:
    """The result of a task that found nothing to do."""
    return CertResult(False, "none", record, before=rec.summary(record) if before is None else before, after=rec.summary(record))


def resolve_option(req: CertRequest, config: dict[str, Any], key: str) -> Any:
    """Task value, else the config's default, else the built-in default."""
    value = getattr(req, key, None)
    if value is None:
        value = (config.get("defaults") or {}).get(key)
    if value is None:
        value = BUILTIN_DEFAULTS.get(key)
    if key in INT_OPTIONS and isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value


def validate_request(req: CertRequest, config: dict[str, Any]) -> None:
    """Refuse bad input before any Vault write or SCM call, naming the field and what it allows."""
    if req.state not in STATES:
        raise InputError("state", f"state must be one of {', '.join(STATES)}; got {req.state!r}")
    if req.name is not None:
        validate_name(req.name, "name")
    if req.name is None and req.cert_unique_id is None:
        raise InputError("name", "one of name or cert_unique_id is required")
    if req.state == "replaced" and not req.reason:
        raise InputError("reason", "reason is required with state=replaced (1 to 512 characters)")
    if req.reason is not None and not 1 <= len(req.reason) <= 512:
        raise InputError("reason", "reason must be 1 to 512 characters long")
    fmt = resolve_option(req, config, "format_type")
    if fmt not in FORMAT_TYPES:
        raise InputError("format_type", f"format_type must be one of {', '.join(FORMAT_TYPES)}; got {fmt!r}")
    for key in ("max_timeout", "loop_period"):
        value = resolve_option(req, config, key)
        if not isinstance(value, int) or value < 0:
            raise InputError(key, f"{key} must be a whole number of seconds, 0 or more; got {value!r}")
    if req.gives_key_spec:
        crypto.normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
    if req.csr is not None:
        crypto.csr_info(req.csr)
    if req.private_key is not None:
        crypto.private_key_info(req.private_key)
        if req.csr is not None:
            crypto.check_key_matches_csr(req.private_key, req.csr)
    names = " ".join(x for x in (req.first_name, req.middle_name, req.last_name) if x)
    if len(names) > 64:
        raise InputError("first_name", "first_name, middle_name and last_name together must be at most 64 characters")
    if req.custom_fields is not None:
        for item in req.custom_fields:
            if not isinstance(item, dict) or set(item) != {"name", "value"}:
                raise InputError("custom_fields", "custom_fields must be a list of {name, value} dictionaries")


def desired_subject(req: CertRequest, record: dict[str, Any] | None) -> dict[str, Any]:
    """The subject, SANs and key spec a new CSR gets: task values over the record's."""
    base = record or {}
    subject = dict(base.get("subject") or {})
    for key in crypto.SUBJECT_FIELDS:
        if getattr(req, key) is not None:
            subject[key] = getattr(req, key)
    common_name = req.common_name if req.common_name is not None else base.get("domain")
    if req.subject_alt_names is not None:
        sans = crypto.normalize_sans(req.subject_alt_names)
    else:
        sans = list(base.get("requested_sans") or [])
    if req.csr is not None:
        info = crypto.csr_info(req.csr)
        spec = crypto.normalize_key_spec(info["key_algo"], info["key_size"])
    elif req.private_key is not None:
        info = crypto.private_key_info(req.private_key)
        spec = crypto.normalize_key_spec(info["key_algo"], info["key_size"])
    elif req.gives_key_spec:
        spec = crypto.normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
    elif base.get("key_algo"):
        spec = crypto.normalize_key_spec(base["key_algo"], base.get("key_size"))
    else:
        spec = crypto.normalize_key_spec()
    return {"common_name": common_name, "subject": subject, "sans": sans, "spec": spec}


def drift(req: CertRequest, record: dict[str, Any], cert_kind: str) -> list[str]:
    """Options the task gives whose value differs from the record (SPEC §4: omitted options never drift)."""
    found = []
    if req.common_name is not None and req.common_name != record.get("domain"):
        found.append("common_name")
    if req.subject_alt_names is not None and set(crypto.normalize_sans(req.subject_alt_names)) != set(record.get("requested_sans") or []):
        found.append("subject_alt_names")
    subject = record.get("subject") or {}
    found.extend(key for key in crypto.SUBJECT_FIELDS if getattr(req, key) is not None and getattr(req, key) != subject.get(key))
    if req.gives_key_spec:
        spec = crypto.normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
        if (spec.algo, spec.size) != (record.get("key_algo"), record.get("key_size")):
            found.append("key spec")
    if req.private_key is not None and record.get("public_key_sha256") and \
            crypto.private_key_info(req.private_key)["public_key_sha256"] != record["public_key_sha256"]:
        found.append("private_key")
    if req.csr is not None and req.csr.strip() != (record.get("csr") or "").strip():
        found.append("csr")
    if cert_kind == rec.CLIENT_CERT and req.email is not None and req.email != record.get("email"):
        found.append("email")
    return found


def key_and_csr(req: CertRequest, desired: dict[str, Any], cert_kind: str, *, rotate: bool,
                record: dict[str, Any] | None) -> tuple[str | None, str]:
    """The private key (None when the user brings only a CSR) and CSR for a new order."""
    if req.csr is not None:
        return req.private_key, req.csr
    if req.private_key is not None:
        key = req.private_key
    elif record is not None and not rotate and record.get("private_key"):
        key = record["private_key"]
    else:
        key = crypto.generate_private_key(desired["spec"])
    common_name = desired["common_name"]
    if cert_kind == rec.CLIENT_CERT and not common_name:
        common_name = req.email or (record or {}).get("email")
    csr = crypto.build_csr(key, common_name=common_name, subject_alt_names=desired["sans"] or None, **desired["subject"])
    return key, csr


def apply_csr(record: dict[str, Any], key: str | None, csr: str, desired: dict[str, Any]) -> None:
    """Put the CSR, its key and the facts read from the CSR into ``record``."""
    info = crypto.csr_info(csr)
    record.update({
        "csr": csr, "private_key": key, "domain": info["common_name"], "subject": {k: v for k, v in info["subject"].items() if v},
        "subject_alt_names": info["subject_alt_names"], "requested_sans": desired["sans"],
        "key_algo": info["key_algo"], "key_size": info["key_size"], "public_key_sha256": info["public_key_sha256"],
    })
