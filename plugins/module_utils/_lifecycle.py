"""The certificate lifecycle (SPEC §3, §4 sectigo_cert, §5): no Ansible in here.

Every step that places an SCM order follows "persist first, reconcile after" (docs/architecture.md):
claim in Vault with check-and-set, POST once, persist the order id before the first poll, and look
an order up in SCM (by the ``vault_pki:<request_id>`` marker in its comments) instead of ordering
again when an answer was lost.
"""
from __future__ import annotations

import copy
import random
import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _crypto as crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_path, cert_unique_id, name_path, validate_name
from ansible_collections.sectigo.vault_pki.plugins.module_utils._orders import TerminalStatus, order_desk, with_marker
from ansible_collections.sectigo.vault_pki.plugins.module_utils._polling import PollSchedule, PollTimeout, parse_expiry_window, poll
from ansible_collections.sectigo.vault_pki.plugins.module_utils._profiles import ProfileStore, check_against_profile
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm_errors import ScmError, ScmNotFoundError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import VaultCasConflict

STATES = ("present", "renewed", "replaced", "absent")
FORMAT_TYPES = ("x509", "x509CO", "x509IO", "base64", "bin", "x509IOR", "pem", "pemco", "pemia")
# A claim older than this whose owner never recorded an order is looked up in SCM, then taken over.
CLAIM_STALE_SECONDS = 120

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
SUBJECT_FIELDS = ("country", "province", "locality", "organization", "organizational_unit", "email_address")


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


@dataclass
class CertResult:
    changed: bool
    action: str
    record: dict[str, Any] | None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class CertificateService:
    """Ensure one certificate's state. Collaborators are injected so tests can drive every branch."""

    def __init__(self, store: Any, config: dict[str, Any], scm_factory: Callable[[], Any], *, check_mode: bool = False,
                 clock: Callable[[], datetime] = rec.utc_now, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random) -> None:
        self.store = store
        self.config = config
        self._scm_factory = scm_factory
        self._scm: Any = None
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.rand = rand
        self.warnings: list[str] = []
        self.profiles = ProfileStore(store, config, self.scm)

    # ---- collaborators ---------------------------------------------------------------------------

    def scm(self) -> Any:
        """The SCM client, built on first use so that runs with nothing to do never open a session."""
        if self._scm is None:
            self._scm = self._scm_factory()
        return self._scm

    def desk(self) -> Any:
        """SSL or S/MIME order operations (see _orders)."""
        return order_desk(self.cert_kind, self.scm(), self.config["customer_uri"])

    @property
    def cert_kind(self) -> str:
        return self.config.get("config_type") or rec.SSL_CERT

    @property
    def config_name(self) -> str:
        return self.config["name"]

    def option(self, req: CertRequest, key: str) -> Any:
        """Task value, else the config's default, else the built-in default."""
        value = getattr(req, key, None)
        if value is None:
            value = (self.config.get("defaults") or {}).get(key)
        if value is None:
            value = BUILTIN_DEFAULTS.get(key)
        if key in INT_OPTIONS and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        return value

    # ---- entry point -----------------------------------------------------------------------------

    def ensure(self, req: CertRequest, *, allow_enroll: bool = True) -> CertResult:
        """Bring one certificate to ``req.state``; ``allow_enroll=False`` (the lookup) only reads and maintains."""
        self._validate(req)
        if req.state == "absent":
            return self._absent(req)
        settled = self._read_settled_name(req)
        if isinstance(settled, CertResult):
            return settled
        entry, entry_version = settled
        uid = (entry or {}).get("cert_unique_id") or req.cert_unique_id
        import_id = req.ssl_id if self.cert_kind == rec.SSL_CERT else req.order_number
        if import_id is not None:
            wanted_uid = cert_unique_id(import_id, self.config["customer_uri"])
            if uid != wanted_uid:
                return self._import(req, wanted_uid, entry_version if entry else 0)
        record, version = self._read_record(uid) if uid else (None, 0)
        if record is None:
            if not allow_enroll:
                raise InputError("name", f"no certificate '{req.name or req.cert_unique_id}' in config '{self.config_name}'")
            if uid and not req.name:
                raise InputError("cert_unique_id", f"no certificate '{uid}' in config '{self.config_name}'")
            if req.state != "present":
                raise InputError("state", f"state={req.state} needs an existing certificate; '{req.name}' has none in config "
                                          f"'{self.config_name}' (use state=present to enroll)")
            return self._enroll(req, previous=None, entry_version=entry_version if entry else 0)
        if req.state == "present" and self.option(req, "read_renewed_cert") and not req.name:
            record, version = self._follow_renewals(record, version)
        return self._ensure_existing(req, record, version, entry_version)

    # ---- validation ------------------------------------------------------------------------------

    def _validate(self, req: CertRequest) -> None:
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
        fmt = self.option(req, "format_type")
        if fmt not in FORMAT_TYPES:
            raise InputError("format_type", f"format_type must be one of {', '.join(FORMAT_TYPES)}; got {fmt!r}")
        for key in ("max_timeout", "loop_period"):
            value = self.option(req, key)
            if not isinstance(value, int) or value < 0:
                raise InputError(key, f"{key} must be a whole number of seconds, 0 or more; got {value!r}")
        if req.key_algo is not None or req.key_size is not None or req.key_curve is not None:
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

    # ---- Vault reads and writes ------------------------------------------------------------------

    def _read_name(self, req: CertRequest) -> tuple[dict[str, Any] | None, int]:
        if not req.name:
            return None, 0
        return self.store.read(name_path(self.config_name, req.name))

    def _read_settled_name(self, req: CertRequest) -> CertResult | tuple[dict[str, Any] | None, int]:
        """The name entry once no other run's claim is in flight on it (or the result of settling that claim)."""
        entry, version = self._read_name(req)
        if entry and entry.get("claim"):
            return self._settle_claim(req, entry, version)
        return entry, version

    def _read_record(self, uid: str) -> tuple[dict[str, Any] | None, int]:
        return self.store.read(cert_path(self.config_name, uid))

    def _write_record(self, record: dict[str, Any], version: int) -> int:
        record["updated_at"] = rec.iso(self.clock())
        return self.store.write(cert_path(self.config_name, record["cert_unique_id"]), record, cas=version)

    def _write_name(self, name: str, entry: dict[str, Any], version: int) -> int:
        return self.store.write(name_path(self.config_name, name), entry, cas=version)

    def _follow_renewals(self, record: dict[str, Any], version: int) -> tuple[dict[str, Any], int]:
        seen = set()
        while record.get("status") == rec.RENEWED and record.get("renewed_to") and record["renewed_to"] not in seen:
            seen.add(record["renewed_to"])
            nxt, nver = self._read_record(record["renewed_to"])
            if nxt is None:
                break
            record, version = nxt, nver
        return record, version

    # ---- state=absent ----------------------------------------------------------------------------

    def _absent(self, req: CertRequest) -> CertResult:
        entry, _version = self._read_name(req)
        uid = (entry or {}).get("cert_unique_id") or req.cert_unique_id
        record, _version = self._read_record(uid) if uid else (None, 0)
        if entry is None and record is None:
            return CertResult(False, "none", None)
        if not self.check_mode:
            if record is not None:
                self.store.delete(cert_path(self.config_name, uid))
            if entry is not None:
                self.store.delete(name_path(self.config_name, req.name))
        return CertResult(True, "deleted", None, before=rec.summary(record), after={})

    # ---- decisions on an existing record ---------------------------------------------------------

    def _ensure_existing(self, req: CertRequest, record: dict[str, Any], version: int, entry_version: int) -> CertResult:
        status = record.get("status")
        if req.state == "renewed":
            if status in rec.PENDING_STATUSES:
                return self._collect(req, record, version, action="collected")
            return self._renew(req, record, version, entry_version)
        if req.state == "replaced":
            if status in rec.PENDING_STATUSES and not (record.get("pending") or {}).get("kind") == "replace":
                return self._collect(req, record, version, action="collected")
            return self._replace(req, record, version, entry_version)
        # state=present
        if status in rec.PENDING_STATUSES:
            return self._collect(req, record, version, action="collected")
        if status == rec.RENEWED:
            return CertResult(False, "none", record, before=rec.summary(record), after=rec.summary(record))
        if status == rec.REVOKED or self._expired(record):
            if not req.name:
                raise InputError("name", f"certificate '{record['cert_unique_id']}' is {status.lower() if status == rec.REVOKED else 'expired'}; "
                                         "give name to enroll a new one")
            return self._enroll(req, previous=record, entry_version=entry_version)
        drift = self._drift(req, record)
        if drift:
            self.warnings.append(f"{', '.join(drift)} changed: replacing the certificate")
            return self._replace(req, record, version, entry_version, reason=req.reason or f"Changed {', '.join(drift)}")
        if self.option(req, "auto_renew") and self._inside_window(req, record):
            return self._renew(req, record, version, entry_version)
        return CertResult(False, "none", record, before=rec.summary(record), after=rec.summary(record))

    def _expired(self, record: dict[str, Any]) -> bool:
        not_after = record.get("not_after")
        return bool(not_after) and crypto.parse_iso(not_after) <= self.clock()

    def _inside_window(self, req: CertRequest, record: dict[str, Any]) -> bool:
        if not (record.get("not_after") and record.get("not_before")):
            return False
        not_before, not_after = crypto.parse_iso(record["not_before"]), crypto.parse_iso(record["not_after"])
        lifetime_days = (not_after - not_before).total_seconds() / 86400
        try:
            window_days, warning = parse_expiry_window(self.option(req, "expiry_window"), lifetime_days)
        except ValueError as exc:
            raise InputError("expiry_window", str(exc)) from None
        if warning:
            self.warnings.append(warning)
        return not_after - timedelta(days=window_days) <= self.clock()

    def _desired_subject(self, req: CertRequest, record: dict[str, Any] | None) -> dict[str, Any]:
        """The subject, SANs and key spec a new CSR gets: task values over the record's."""
        base = record or {}
        subject = dict(base.get("subject") or {})
        for key in SUBJECT_FIELDS:
            if getattr(req, key) is not None:
                subject[key] = getattr(req, key)
        common_name = req.common_name if req.common_name is not None else base.get("domain")
        if req.subject_alt_names is not None:
            sans = crypto.normalize_sans(req.subject_alt_names)
        else:
            sans = list(base.get("requested_sans") or [])
        if req.key_algo is not None or req.key_size is not None or req.key_curve is not None:
            spec = crypto.normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
        elif base.get("key_algo"):
            spec = crypto.normalize_key_spec(base["key_algo"], base.get("key_size"))
        else:
            spec = crypto.normalize_key_spec()
        return {"common_name": common_name, "subject": subject, "sans": sans, "spec": spec}

    def _drift(self, req: CertRequest, record: dict[str, Any]) -> list[str]:
        """Options the task gives whose value differs from the record (SPEC §4: omitted options never drift)."""
        drift = []
        if req.common_name is not None and req.common_name != record.get("domain"):
            drift.append("common_name")
        if req.subject_alt_names is not None and set(crypto.normalize_sans(req.subject_alt_names)) != set(record.get("requested_sans") or []):
            drift.append("subject_alt_names")
        subject = record.get("subject") or {}
        drift.extend(key for key in SUBJECT_FIELDS if getattr(req, key) is not None and getattr(req, key) != subject.get(key))
        if req.key_algo is not None or req.key_size is not None or req.key_curve is not None:
            spec = crypto.normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
            if (spec.algo, spec.size) != (record.get("key_algo"), record.get("key_size")):
                drift.append("key spec")
        if req.private_key is not None and record.get("public_key_sha256") and \
                crypto.private_key_info(req.private_key)["public_key_sha256"] != record["public_key_sha256"]:
            drift.append("private_key")
        if req.csr is not None and req.csr.strip() != (record.get("csr") or "").strip():
            drift.append("csr")
        if self.cert_kind == rec.CLIENT_CERT and req.email is not None and req.email != record.get("email"):
            drift.append("email")
        return drift

    # ---- key and CSR -----------------------------------------------------------------------------

    def _key_and_csr(self, req: CertRequest, desired: dict[str, Any], *, rotate: bool, record: dict[str, Any] | None) -> tuple[str | None, str]:
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
        if self.cert_kind == rec.CLIENT_CERT and not common_name:
            common_name = req.email or (record or {}).get("email")
        csr = crypto.build_csr(key, common_name=common_name, subject_alt_names=desired["sans"] or None, **desired["subject"])
        return key, csr

    def _apply_csr(self, record: dict[str, Any], key: str | None, csr: str, desired: dict[str, Any]) -> None:
        info = crypto.csr_info(csr)
        record.update({
            "csr": csr, "private_key": key, "domain": info["common_name"], "subject": {k: v for k, v in info["subject"].items() if v},
            "subject_alt_names": info["subject_alt_names"], "requested_sans": desired["sans"],
            "key_algo": info["key_algo"], "key_size": info["key_size"], "public_key_sha256": info["public_key_sha256"],
        })

    # ---- enroll ----------------------------------------------------------------------------------

    def _issuance(self, req: CertRequest, record: dict[str, Any] | None = None) -> dict[str, Any]:
        base = record or {}
        out = {}
        for key in ("cert_type", "term", "format_type", "external_requester", "num_servers", "server_type", "custom_fields"):
            value = self.option(req, key)
            out[key] = value if value is not None else base.get({"cert_type": "profile_id", "format_type": "ssl_format"}.get(key, key))
        out["comments"] = self.option(req, "comments")
        return out

    def _check_issuance(self, req: CertRequest, issuance: dict[str, Any], spec: Any) -> None:
        if issuance["cert_type"] is None:
            raise InputError("cert_type", "cert_type (the SCM profile id) is required to enroll; set it on the task or as a config default")
        if issuance["term"] is None:
            raise InputError("term", "term (days) is required to enroll; set it on the task or as a config default")
        if self.cert_kind == rec.CLIENT_CERT:
            for key in ("email", "first_name", "last_name"):
                if not getattr(req, key):
                    raise InputError(key, f"{key} is required to enroll a client certificate")
        elif not (req.common_name or req.csr):
            raise InputError("common_name", "common_name (or csr) is required to enroll an SSL certificate")
        if self.option(req, "verify_profile"):
            profile = self.profiles.get(int(issuance["cert_type"]), download=not self.check_mode, save=not self.check_mode)
            if profile is not None:
                check_against_profile(profile, term=int(issuance["term"]), key_algo=spec.algo, key_param=spec.scm_key_param)
            else:
                self.warnings.append(f"profile {issuance['cert_type']} is not stored in Vault; check mode did not download it")

    def _enroll(self, req: CertRequest, previous: dict[str, Any] | None, entry_version: int, action: str = "enrolled") -> CertResult:
        if not req.name:
            raise InputError("name", "name is required to enroll a new certificate")
        source = previous if previous is not None and req.common_name is None else None
        desired = self._desired_subject(req, source)
        if req.csr is not None:
            info = crypto.csr_info(req.csr)
            desired["spec"] = crypto.normalize_key_spec(info["key_algo"], info["key_size"])
        elif req.private_key is not None:
            info = crypto.private_key_info(req.private_key)
            desired["spec"] = crypto.normalize_key_spec(info["key_algo"], info["key_size"])
        issuance = self._issuance(req, previous)
        if self.cert_kind == rec.SSL_CERT and not desired["common_name"] and req.csr is None:
            raise InputError("common_name", "common_name (or csr) is required to enroll an SSL certificate")
        if previous is None:
            self._check_issuance(req, issuance, desired["spec"])
        before = rec.summary(previous)
        if self.check_mode:
            predicted = {"domain": desired["common_name"], "subject_alt_names": desired["sans"], "status": rec.ISSUED,
                         "key_algo": desired["spec"].algo, "key_size": desired["spec"].size}
            return CertResult(True, action, None, before=before, after=predicted)

        key, csr = self._key_and_csr(req, desired, rotate=True, record=None)
        request_id = uuid.uuid4().hex
        now = self.clock()
        record: dict[str, Any] = {
            "name": req.name, "config_name": self.config_name, "certificate_type": self.cert_kind,
            "request_id": request_id, "profile_id": issuance["cert_type"], "term": issuance["term"],
            "ssl_format": issuance["format_type"], "org_id": self.config.get("org_id"), "created_at": rec.iso(now),
        }
        if self.cert_kind == rec.CLIENT_CERT:
            record.update({k: getattr(req, k) if getattr(req, k) is not None else (previous or {}).get(k)
                           for k in ("email", "first_name", "middle_name", "last_name")})
        for key_name in ("external_requester", "comments", "custom_fields"):
            if issuance.get(key_name) is not None:
                record[key_name] = issuance[key_name]
        self._apply_csr(record, key, csr, desired)
        rec.set_status(record, rec.REQUESTED, now)
        if previous is not None:
            record["replaced_from" if previous.get("status") not in (rec.REVOKED,) and not self._expired(previous) else "previous"] = \
                previous["cert_unique_id"]
        claim = {"kind": "enroll", "request_id": request_id, "claimed_at": rec.iso(now), "record": record}
        entry = {"name": req.name, "config_name": self.config_name,
                 "cert_unique_id": previous["cert_unique_id"] if previous else None, "claim": claim}
        try:
            entry_version = self._write_name(req.name, entry, entry_version)
        except VaultCasConflict:
            return self._follow_winner(req)
        return self._place_enroll(req, entry, entry_version, issuance, previous, action)

    def _place_enroll(self, req: CertRequest, entry: dict[str, Any], entry_version: int, issuance: dict[str, Any],
                      previous: dict[str, Any] | None, action: str = "enrolled") -> CertResult:
        claim = entry["claim"]
        record = claim["record"]
        try:
            order = self.desk().place(record, issuance, int(self.config["org_id"]), with_marker(issuance.get("comments"), claim["request_id"]))
        except ScmError as exc:
            if getattr(exc, "may_have_reached", False):
                found = self.desk().find(record, claim["request_id"])
                if found is None:
                    claim["outcome"] = "unknown"
                    self._write_name(req.name, entry, entry_version)
                    raise OperationError(f"Failed to enroll certificate '{req.name}': the answer to the order was lost ({exc}) and no order "
                                         "carrying this request is visible in SCM yet; the next run looks again before ordering",
                                         result={"request_id": claim["request_id"]}) from None
                order = found
            else:
                self._drop_claim(req.name, entry, entry_version)
                raise
        return self._persist_order(req, entry, entry_version, order, previous, action=action)

    def _drop_claim(self, name: str, entry: dict[str, Any], version: int) -> None:
        if entry.get("cert_unique_id"):
            entry = dict(entry)
            entry.pop("claim", None)
            self._write_name(name, entry, version)
        else:
            self.store.delete(name_path(self.config_name, name))

    def _persist_order(self, req: CertRequest, entry: dict[str, Any], entry_version: int, order: dict[str, Any],
                       previous: dict[str, Any] | None, action: str) -> CertResult:
        """Save the order id (status Applied) before the first poll, then collect."""
        record = entry["claim"]["record"]
        record.update(order)
        uid = cert_unique_id(order.get("ssl_id") or order.get("order_number"), self.config["customer_uri"])
        record["cert_unique_id"] = uid
        rec.set_status(record, rec.APPLIED, self.clock())
        existing, existing_version = self._read_record(uid)
        version = self._write_record(record, existing_version if existing else 0)
        new_entry = {"name": req.name, "config_name": self.config_name, "cert_unique_id": uid}
        self._write_name(req.name, new_entry, entry_version)
        if previous is not None and previous.get("status") == rec.ISSUED and "replaced_from" in record:
            self._mark_superseded(previous, uid, revoke=self.cert_kind == rec.CLIENT_CERT and self.option(req, "revoke_on_replace"))
        result = self._collect(req, record, version, action=action, before=rec.summary(previous))
        result.changed = True
        return result

    def _mark_superseded(self, previous: dict[str, Any], new_uid: str, revoke: bool) -> None:
        old, old_version = self._read_record(previous["cert_unique_id"])
        if old is None:
            return
        old["replaced_to"] = new_uid
        if revoke:
            try:
                self.scm().revoke_smime_by_order(old["backend_cert_id"], reason="Replaced", reason_code=4)
                old["revoked"] = {"reason": "Replaced", "reason_code": 4, "time_stamp": rec.iso(self.clock())}
                rec.set_status(old, rec.REVOKED, self.clock())
            except ScmError as exc:
                self.warnings.append(f"could not revoke the replaced certificate {old['cert_unique_id']}: {exc}")
        self._write_record(old, old_version)

    # ---- claims left by other (or dead) runs -----------------------------------------------------

    def _settle_claim(self, req: CertRequest, entry: dict[str, Any], version: int) -> CertResult | tuple[dict[str, Any] | None, int]:
        """A name with a claim: wait for its owner, or reconcile a claim that is stale or whose answer was lost."""
        deadline = self.monotonic() + CLAIM_STALE_SECONDS
        while True:
            claim = entry.get("claim")
            if not claim:
                return entry, version
            age = (self.clock() - crypto.parse_iso(claim["claimed_at"])).total_seconds()
            if claim.get("outcome") == "unknown" or age >= CLAIM_STALE_SECONDS or self.monotonic() >= deadline:
                break
            if self.check_mode:
                return entry, version
            self.sleep(min(2.0, CLAIM_STALE_SECONDS - age))
            entry, version = self._read_name(req)
            if entry is None:
                return None, 0
        if self.check_mode:
            return entry, version
        record = claim["record"]
        found = self.desk().find(record, claim["request_id"])
        if found is not None:
            return self._persist_order(req, entry, version, found, None, action="enrolled")
        # The order was never placed: take the claim over and order now, once.
        claim["claimed_at"] = rec.iso(self.clock())
        claim.pop("outcome", None)
        version = self._write_name(req.name, entry, version)
        issuance = {"cert_type": record.get("profile_id"), "term": record.get("term"), "comments": record.get("comments"),
                    "external_requester": record.get("external_requester"), "custom_fields": record.get("custom_fields"),
                    "num_servers": self.option(req, "num_servers"), "server_type": self.option(req, "server_type")}
        return self._place_enroll(req, entry, version, issuance, None)

    def _follow_winner(self, req: CertRequest) -> CertResult:
        """Another run claimed this name first: follow its order instead of placing a second one."""
        settled = self._read_settled_name(req)
        if isinstance(settled, CertResult):
            return settled
        uid = (settled[0] or {}).get("cert_unique_id")
        record, rversion = self._read_record(uid) if uid else (None, 0)
        if record is None:
            raise OperationError(f"Failed to enroll certificate '{req.name}': another run holds its claim and has not placed an order yet")
        if record.get("status") in rec.PENDING_STATUSES:
            return self._collect(req, record, rversion, action="collected")
        return CertResult(False, "none", record, before=rec.summary(record), after=rec.summary(record))

    # ---- import ----------------------------------------------------------------------------------

    def _import(self, req: CertRequest, uid: str, entry_version: int) -> CertResult:
        existing, version = self._read_record(uid)
        if existing is not None:
            if req.name:
                entry, ev = self._read_name(req)
                if (entry or {}).get("cert_unique_id") != uid and not self.check_mode:
                    self._write_name(req.name, {"name": req.name, "config_name": self.config_name, "cert_unique_id": uid}, ev)
                    return CertResult(True, "imported", existing, before={}, after=rec.summary(existing))
            return self._ensure_existing(req, existing, version, entry_version)
        if not req.name:
            raise InputError("name", "name is required to import an existing SCM order")
        if self.check_mode:
            return CertResult(True, "imported", None, before={}, after={"cert_unique_id": uid})
        now = self.clock()
        record: dict[str, Any] = {"name": req.name, "config_name": self.config_name, "certificate_type": self.cert_kind,
                                  "cert_unique_id": uid, "created_at": rec.iso(now), "imported": True,
                                  "ssl_format": self.option(req, "format_type")}
        field, oid = ("ssl_id", req.ssl_id) if self.cert_kind == rec.SSL_CERT else ("order_number", req.order_number)
        try:
            details = self.desk().details(oid)
        except ScmNotFoundError:
            details = {}
        if not details:
            raise InputError(field, f"SCM has no certificate {oid} for customer '{self.config['customer_uri']}'")
        if self.cert_kind == rec.SSL_CERT:
            record.update({"ssl_id": int(oid), "renew_id": details.get("renewId"), "domain": details.get("commonName"),
                           "profile_id": (details.get("certType") or {}).get("id"), "term": details.get("term"),
                           "comments": details.get("comments")})
        else:
            record.update({"order_number": int(oid), "backend_cert_id": str(details.get("backendCertId") or oid),
                           "email": req.email, "profile_id": req.cert_type, "term": req.term, "comments": details.get("comments")})
        if req.private_key is not None:
            info = crypto.private_key_info(req.private_key)
            record.update({"private_key": req.private_key, "public_key_sha256": info["public_key_sha256"]})
        rec.set_status(record, rec.APPLIED, now)
        version = self._write_record(record, 0)
        self._write_name(req.name, {"name": req.name, "config_name": self.config_name, "cert_unique_id": uid}, entry_version)
        result = self._collect(req, record, version, action="imported")
        result.changed = True
        return result

    # ---- collect ---------------------------------------------------------------------------------

    def _collect(self, req: CertRequest, record: dict[str, Any], version: int, *, action: str, before: dict[str, Any] | None = None) -> CertResult:
        before = rec.summary(record) if before is None else before
        if self.check_mode:
            after = dict(rec.summary(record), status=rec.ISSUED)
            return CertResult(True, action, record, before=before, after=after)
        wait = self.option(req, "wait")
        if not wait and action != "collected":
            # SPEC §4: wait=false returns right after the order id is saved.
            return CertResult(True, "pending", record, before=before, after=rec.summary(record))
        schedule = PollSchedule(self.option(req, "max_timeout") if wait else 0, self.option(req, "loop_period"),
                                clock=self.monotonic, rand=self.rand)
        try:
            desk = self.desk()
            pems = poll(lambda: desk.collect(record, self._leaf_keys(record)), schedule, sleep=self.sleep)
        except PollTimeout:
            if not wait:
                return CertResult(action != "collected", "pending", record, before=before, after=rec.summary(record))
            return self._fail_pending(record, version, rec.TIMEOUT_STATE_SAVED, None, before,
                                      f"not issued within max_timeout={self.option(req, 'max_timeout')}s; the order id is saved and the next run collects it")
        except TerminalStatus as exc:
            return self._fail_pending(record, version, rec.ERROR_CODE, {"code": exc.code, "description": exc.description}, before,
                                      f"SCM reports {exc.description}")
        except ScmError as exc:
            # Transport errors carry no SCM description; their message (never a secret) stands in for it.
            return self._fail_pending(record, version, rec.ERROR_CODE, {"code": exc.scm_code, "description": exc.description or str(exc)},
                                      before, str(exc))
        self._fill_certificate(record, pems)
        record.pop("error", None)
        rec.set_status(record, rec.ISSUED, self.clock())
        try:
            self._write_record(record, version)
        except VaultCasConflict:
            # Another run collected the same order first; its record is the truth.
            current, _version = self._read_record(record["cert_unique_id"])
            if current and current.get("status") == rec.ISSUED:
                return CertResult(False, "none", current, before=before, after=rec.summary(current))
            raise
        return CertResult(True, action, record, before=before, after=rec.summary(record))

    def _fail_pending(self, record: dict[str, Any], version: int, status: str, error: dict[str, Any] | None,
                      before: dict[str, Any], reason: str) -> CertResult:
        if record.get("status") != status or record.get("error") != error:
            if error is not None:
                record["error"] = error
            rec.set_status(record, status, self.clock())
            self._write_record(record, version)
        oid = rec.order_id(record)
        raise OperationError(f"Failed to collect certificate '{record.get('name') or record['cert_unique_id']}' (order {oid}): {reason}",
                             result={"cert": rec.public_view(record), "status": status, "vault_path": cert_path(self.config_name, record["cert_unique_id"])},
                             scm_code=(error or {}).get("code"))

    @staticmethod
    def _leaf_keys(record: dict[str, Any]) -> list[str]:
        keys = []
        pending = record.get("pending") or {}
        if pending.get("csr"):
            keys.append(crypto.csr_info(pending["csr"])["public_key_sha256"])
        if record.get("public_key_sha256"):
            keys.append(record["public_key_sha256"])
        return keys

    def _fill_certificate(self, record: dict[str, Any], pems: list[str]) -> None:
        leaf, chain = pems[0], pems[1:]
        info = crypto.parse_certificate(leaf)
        pending = record.get("pending") or {}
        if pending.get("kind") == "replace" and pending.get("csr"):
            csr = crypto.csr_info(pending["csr"])
            if info["public_key_sha256"] == csr["public_key_sha256"]:
                record.update({"csr": pending["csr"], "private_key": pending.get("private_key"), "requested_sans": pending.get("requested_sans") or [],
                               "subject": {k: v for k, v in csr["subject"].items() if v}})
                record.pop("pending", None)
        record.update({
            "certificate": leaf, "chain": chain, "serial_number": info["serial_number"], "not_before": info["not_before"],
            "not_after": info["not_after"], "fingerprint_sha256": info["fingerprint_sha256"], "domain": info["common_name"] or record.get("domain"),
            "subject_alt_names": info["subject_alt_names"], "key_algo": info["key_algo"], "key_size": info["key_size"],
            "public_key_sha256": info["public_key_sha256"], "issuer": info["issuer"],
        })
        if self.cert_kind == rec.CLIENT_CERT and info.get("email"):
            record["email"] = info["email"]

    # ---- renew -----------------------------------------------------------------------------------

    def _stale(self, claim: dict[str, Any]) -> bool:
        """A claim whose owner is gone: its answer was lost, or it is older than CLAIM_STALE_SECONDS."""
        age = (self.clock() - crypto.parse_iso(claim["claimed_at"])).total_seconds()
        return claim.get("outcome") == "unknown" or age >= CLAIM_STALE_SECONDS

    def _claim_on_record(self, record: dict[str, Any], version: int, pending: dict[str, Any]) -> int | None:
        """Claim a renewal/replacement on the record itself; None when another run holds it."""
        held = record.get("pending")
        if held and held.get("kind") in ("renew", "replace") and not self._stale(held):
            return None
        record["pending"] = pending
        try:
            return self._write_record(record, version)
        except VaultCasConflict:
            return None

    def _renew(self, req: CertRequest, record: dict[str, Any], version: int, entry_version: int) -> CertResult:
        before = rec.summary(record)
        if record.get("status") != rec.ISSUED:
            raise InputError("state", f"certificate '{record['cert_unique_id']}' is {record.get('status')}; only issued certificates renew")
        if self.check_mode:
            return CertResult(True, "renewed", record, before=before, after=dict(before, status=rec.ISSUED, serial_number="(new)"))
        rotate = self.option(req, "rotate_key_on_renew") and self.cert_kind == rec.SSL_CERT
        desired = self._desired_subject(req, record)
        held = record.get("pending")
        if held and held.get("kind") == "renew" and self._stale(held):
            # A renewal whose owner died or lost the answer: adopt its order if SCM has one.
            order = self._find_renewal(record)
            if order is not None:
                return self._persist_renewal(req, record, version, order, held.get("private_key"), held.get("csr"), desired, before)
        csr = key = None
        if self.cert_kind == rec.SSL_CERT and (rotate or req.csr or req.private_key):
            key, csr = self._key_and_csr(req, desired, rotate=bool(rotate), record=record)
        request_id = uuid.uuid4().hex
        pending = {"kind": "renew", "request_id": request_id, "claimed_at": rec.iso(self.clock()), "csr": csr, "private_key": key}
        claimed_version = self._claim_on_record(record, version, pending)
        if claimed_version is None:
            return self._after_lost_claim(req, record)
        try:
            order = self.desk().renew(record, csr)
        except ScmError as exc:
            if not getattr(exc, "may_have_reached", False):
                record.pop("pending", None)
                self._write_record(record, claimed_version)
                raise
            order = self._find_renewal(record)
            if order is None:
                record["pending"]["outcome"] = "unknown"
                self._write_record(record, claimed_version)
                raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': the answer was lost ({exc}) and SCM shows no "
                                     "renewal yet; the next run looks again before renewing", result={"cert": rec.public_view(record)}) from None
        return self._persist_renewal(req, record, claimed_version, order, key, csr, desired, before)

    def _find_renewal(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Reconcile a renewal whose answer was lost (see _orders.OrderDesk.find_renewal)."""
        return self.desk().find_renewal(record, set(self.store.list(f"certs/{self.config_name}")))

    def _persist_renewal(self, req: CertRequest, old: dict[str, Any], old_version: int, order: dict[str, Any], key: str | None,
                         csr: str | None, desired: dict[str, Any], before: dict[str, Any]) -> CertResult:
        now = self.clock()
        new_id = order.get("ssl_id") or order.get("order_number")
        uid = cert_unique_id(new_id, self.config["customer_uri"])
        keep = ("name", "config_name", "certificate_type", "profile_id", "term", "ssl_format", "org_id", "email", "first_name",
                "middle_name", "last_name", "external_requester", "comments", "custom_fields", "subject", "requested_sans",
                "domain", "subject_alt_names", "key_algo", "key_size", "public_key_sha256", "csr", "private_key")
        new = {k: copy.deepcopy(old[k]) for k in keep if k in old}
        new.update(order)
        new.update({"cert_unique_id": uid, "renewed_from": old["cert_unique_id"], "created_at": rec.iso(now),
                    "request_id": old["pending"]["request_id"]})
        if csr is not None:
            self._apply_csr(new, key, csr, desired)
        rec.set_status(new, rec.REQUESTED, now)
        rec.set_status(new, rec.APPLIED, now)
        existing, existing_version = self._read_record(uid)
        new_version = self._write_record(new, existing_version if existing else 0)
        old.pop("pending", None)
        old["renewed_to"] = uid
        rec.set_status(old, rec.RENEWED, now)
        self._write_record(old, old_version)
        if old.get("name"):
            _entry, ev = self.store.read(name_path(self.config_name, old["name"]))
            self._write_name(old["name"], {"name": old["name"], "config_name": self.config_name, "cert_unique_id": uid}, ev)
        result = self._collect(req, new, new_version, action="renewed", before=before)
        result.changed = True
        return result

    def _after_lost_claim(self, req: CertRequest, record: dict[str, Any]) -> CertResult:
        """Another run renews or replaces this certificate right now: report the newest record, order nothing."""
        current, version = self._read_record(record["cert_unique_id"])
        if current and current.get("renewed_to"):
            current, version = self._follow_renewals(current, version)
        if current and current.get("status") in rec.PENDING_STATUSES and not current.get("pending"):
            return self._collect(req, current, version, action="collected")
        return CertResult(False, "none", current, before=rec.summary(record), after=rec.summary(current))

    # ---- replace ---------------------------------------------------------------------------------

    def _replace(self, req: CertRequest, record: dict[str, Any], version: int, entry_version: int, reason: str | None = None) -> CertResult:
        reason = reason or req.reason
        if self.cert_kind == rec.CLIENT_CERT:
            # SCM_API §5.2: S/MIME replace is deprecated ("use enroll instead").
            return self._enroll(req, previous=record, entry_version=entry_version, action="replaced")
        before = rec.summary(record)
        desired = self._desired_subject(req, record)
        if self.check_mode:
            return CertResult(True, "replaced", record, before=before,
                              after=dict(before, domain=desired["common_name"], subject_alt_names=desired["sans"],
                                         key_algo=desired["spec"].algo, key_size=desired["spec"].size, serial_number="(new)"))
        held = record.get("pending")
        if held and held.get("kind") == "replace" and self._stale(held) and self._replace_landed(record):
            # A replacement whose answer was lost but that SCM carried out: collect it, do not replace twice.
            return self._mark_replace_ordered(req, record, version, crypto.csr_info(held["csr"]), before)
        key, csr = self._key_and_csr(req, desired, rotate=True, record=record)
        info = crypto.csr_info(csr)
        pending = {"kind": "replace", "request_id": uuid.uuid4().hex, "claimed_at": rec.iso(self.clock()), "csr": csr,
                   "private_key": key, "requested_sans": desired["sans"], "reason": reason, "previous_serial": record.get("serial_number")}
        claimed_version = self._claim_on_record(record, version, pending)
        if claimed_version is None:
            return self._after_lost_claim(req, record)
        try:
            self.scm().replace_ssl(record["ssl_id"], csr=csr, reason=reason, common_name=info["common_name"],
                                   subject_alt_names=desired["sans"] or None)
        except ScmError as exc:
            if not getattr(exc, "may_have_reached", False) or not self._replace_landed(record):
                if getattr(exc, "may_have_reached", False):
                    record["pending"]["outcome"] = "unknown"
                else:
                    record.pop("pending", None)
                self._write_record(record, claimed_version)
                raise
        return self._mark_replace_ordered(req, record, claimed_version, info, before)

    def _mark_replace_ordered(self, req: CertRequest, record: dict[str, Any], version: int, info: dict[str, Any],
                              before: dict[str, Any]) -> CertResult:
        record["pending"]["stage"] = "ordered"
        record["pending"].pop("outcome", None)
        record["domain"] = info["common_name"]
        rec.set_status(record, rec.APPLIED, self.clock())
        version = self._write_record(record, version)
        result = self._collect(req, record, version, action="replaced", before=before)
        result.changed = True
        return result

    def _replace_landed(self, record: dict[str, Any]) -> bool:
        details = self.scm().get_ssl(record["ssl_id"])
        return details.get("status") != "Issued" or details.get("serialNumber") != record.get("serial_number")
