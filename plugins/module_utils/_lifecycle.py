"""The certificate lifecycle (SPEC §3, §4 sectigo_cert, §5): the decisions, with no Ansible in here.

Every step that places an SCM order follows "persist first, reconcile after" (docs/architecture.md):
claim in Vault with check-and-set, POST once, persist the order id before the first poll, and look
an order up in SCM (by the ``vault_pki:<request_id>`` marker in its comments) instead of ordering
again when an answer was lost.

Collaborators, each in its own module: ``_cert_request`` (options, validation, drift),
``_cert_records`` (Vault records, names and claims), ``_collector`` (polling SCM for the certificate),
``_orders`` (what differs between SSL and S/MIME orders) and ``_profiles`` (checks before ordering).
"""
from __future__ import annotations

import copy
import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _crypto as crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_records import CLAIM_STALE_SECONDS, CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import (
    ISSUANCE_OPTIONS, CertRequest, CertResult, apply_csr, desired_subject, drift, key_and_csr, resolve_option, unchanged, validate_request,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._collector import Collector, Waiting
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_unique_id
from ansible_collections.sectigo.vault_pki.plugins.module_utils._orders import order_desk, with_marker
from ansible_collections.sectigo.vault_pki.plugins.module_utils._polling import parse_expiry_window
from ansible_collections.sectigo.vault_pki.plugins.module_utils._profiles import Profiles, check_against_profile
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm_errors import ScmError, ScmNotFoundError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import VaultCasConflict


class CertificateService:
    """Ensure one certificate's state. Collaborators are injected so tests can drive every branch."""

    def __init__(self, store: Any, config: dict[str, Any], scm_factory: Callable[[], Any], *, check_mode: bool = False,
                 clock: Callable[[], datetime] = rec.utc_now, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random) -> None:
        self.store = store
        self.config = config
        self._scm_factory = scm_factory
        self._scm: Any = None
        self._desk: Any = None
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.warnings: list[str] = []
        self.records = CertRecords(store, config["name"], clock)
        self.collector = Collector(self.records, self.desk, self.cert_kind, clock=clock, sleep=sleep, monotonic=monotonic, rand=rand)
        self.profiles = Profiles(store, config, self.scm, check_mode=check_mode)

    # ---- collaborators ---------------------------------------------------------------------------

    def scm(self) -> Any:
        """The SCM client, built on first use so that runs with nothing to do never open a session."""
        if self._scm is None:
            self._scm = self._scm_factory()
        return self._scm

    def desk(self) -> Any:
        """SSL or S/MIME order operations (see _orders)."""
        if self._desk is None:
            self._desk = order_desk(self.cert_kind, self.scm(), self.config["customer_uri"])
        return self._desk

    @property
    def cert_kind(self) -> str:
        return self.config.get("config_type") or rec.SSL_CERT

    @property
    def config_name(self) -> str:
        return self.config["name"]

    def option(self, req: CertRequest, key: str) -> Any:
        """Task value, else the config's default, else the built-in default."""
        return resolve_option(req, self.config, key)

    # ---- entry point -----------------------------------------------------------------------------

    def ensure(self, req: CertRequest, *, allow_enroll: bool = True) -> CertResult:
        """Bring one certificate to ``req.state``; ``allow_enroll=False`` (the lookup) only reads and maintains."""
        validate_request(req, self.config)
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
        record, version = self.records.read(uid)
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
            record, version = self.records.follow_renewals(record, version)
        return self._ensure_existing(req, record, version, entry_version, allow_enroll=allow_enroll)

    def _read_settled_name(self, req: CertRequest) -> CertResult | tuple[dict[str, Any] | None, int]:
        """The name entry once no other run's claim is in flight on it (or the result of settling that claim)."""
        entry, version = self.records.read_name(req.name)
        if entry and entry.get("claim"):
            return self._settle_claim(req, entry, version)
        return entry, version

    # ---- state=absent ----------------------------------------------------------------------------

    def _absent(self, req: CertRequest) -> CertResult:
        entry, _version = self.records.read_name(req.name)
        uid = (entry or {}).get("cert_unique_id") or req.cert_unique_id
        record, _version = self.records.read(uid)
        if entry is None and record is None:
            return CertResult(False, "none", None)
        if not self.check_mode:
            if record is not None:
                self.records.delete(uid)
            if entry is not None:
                self.records.delete_name(req.name)
        return CertResult(True, "deleted", None, before=rec.summary(record), after={})

    # ---- decisions on an existing record ---------------------------------------------------------

    def _ensure_existing(self, req: CertRequest, record: dict[str, Any], version: int, entry_version: int, *,
                         allow_enroll: bool = True) -> CertResult:
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
            return unchanged(record)
        if status == rec.REVOKED or self._expired(record):
            if not allow_enroll:
                # A read (the lookup) reports what is there; enrolling anew is a task's decision.
                self.warnings.append(f"certificate '{record['cert_unique_id']}' is {'revoked' if status == rec.REVOKED else 'expired'}; "
                                     "the lookup does not enroll a new one (run sectigo_cert with state=present)")
                return unchanged(record)
            if not req.name:
                raise InputError("name", f"certificate '{record['cert_unique_id']}' is {status.lower() if status == rec.REVOKED else 'expired'}; "
                                         "give name to enroll a new one")
            return self._enroll(req, previous=record, entry_version=entry_version)
        drifted = drift(req, record, self.cert_kind)
        if drifted:
            self.warnings.append(f"{', '.join(drifted)} changed: replacing the certificate")
            return self._replace(req, record, version, entry_version, reason=req.reason or f"Changed {', '.join(drifted)}")
        if self.option(req, "auto_renew") and self._inside_window(req, record):
            return self._renew(req, record, version, entry_version)
        return unchanged(record)

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

    # ---- enroll ----------------------------------------------------------------------------------

    def _issuance(self, req: CertRequest, record: dict[str, Any] | None = None) -> dict[str, Any]:
        base = record or {}
        out = {}
        for key in ISSUANCE_OPTIONS:
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
            profile = self.profiles.for_order(int(issuance["cert_type"]))
            if profile is not None:
                check_against_profile(profile, term=int(issuance["term"]), key_algo=spec.algo, key_param=spec.scm_key_param)
            else:
                self.warnings.append(f"profile {issuance['cert_type']} is not stored in Vault; check mode did not download it")

    def _enroll(self, req: CertRequest, previous: dict[str, Any] | None, entry_version: int, action: str = "enrolled") -> CertResult:
        if not req.name:
            raise InputError("name", "name is required to enroll a new certificate")
        source = previous if previous is not None and req.common_name is None else None
        desired = desired_subject(req, source)
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

        key, csr = key_and_csr(req, desired, self.cert_kind, rotate=True, record=None)
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
        apply_csr(record, key, csr, desired)
        rec.set_status(record, rec.REQUESTED, now)
        if previous is not None:
            record["replaced_from" if previous.get("status") not in (rec.REVOKED,) and not self._expired(previous) else "previous"] = \
                previous["cert_unique_id"]
        claim = {"kind": "enroll", "request_id": request_id, "claimed_at": rec.iso(now), "record": record}
        entry = {"name": req.name, "config_name": self.config_name,
                 "cert_unique_id": previous["cert_unique_id"] if previous else None, "claim": claim}
        try:
            entry_version = self.records.write_name(req.name, entry, entry_version)
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
                    self.records.write_name(req.name, entry, entry_version)
                    raise OperationError(f"Failed to enroll certificate '{req.name}': the answer to the order was lost ({exc}) and no order "
                                         "carrying this request is visible in SCM yet; the next run looks again before ordering",
                                         result={"request_id": claim["request_id"]}) from None
                order = found
            else:
                self.records.drop_name_claim(req.name, entry, entry_version)
                raise
        return self._persist_order(req, entry, entry_version, order, previous, action=action)

    def _persist_order(self, req: CertRequest, entry: dict[str, Any], entry_version: int, order: dict[str, Any],
                       previous: dict[str, Any] | None, action: str) -> CertResult:
        """Save the order id (status Applied) before the first poll, then collect."""
        record = entry["claim"]["record"]
        record.update(order)
        uid = cert_unique_id(order.get("ssl_id") or order.get("order_number"), self.config["customer_uri"])
        record["cert_unique_id"] = uid
        rec.set_status(record, rec.APPLIED, self.clock())
        version = self.records.create_or_overwrite(record)
        self.records.point_name(req.name, uid, entry_version)
        if previous is not None and previous.get("status") == rec.ISSUED and "replaced_from" in record:
            self._mark_superseded(previous, uid, revoke=self.cert_kind == rec.CLIENT_CERT and self.option(req, "revoke_on_replace"))
        result = self._collect(req, record, version, action=action, before=rec.summary(previous))
        result.changed = True
        return result

    def _mark_superseded(self, previous: dict[str, Any], new_uid: str, revoke: bool) -> None:
        old, old_version = self.records.read(previous["cert_unique_id"])
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
        self.records.write(old, old_version)

    # ---- claims left by other (or dead) runs -----------------------------------------------------

    def _settle_claim(self, req: CertRequest, entry: dict[str, Any], version: int) -> CertResult | tuple[dict[str, Any] | None, int]:
        """A name with a claim: wait for its owner, or reconcile a claim that is stale or whose answer was lost."""
        deadline = self.monotonic() + CLAIM_STALE_SECONDS
        while True:
            claim = entry.get("claim")
            if not claim:
                return entry, version
            if self.records.stale(claim) or self.monotonic() >= deadline:
                break
            if self.check_mode:
                return entry, version
            self.sleep(min(2.0, CLAIM_STALE_SECONDS - self.records.claim_age(claim)))
            entry, version = self.records.read_name(req.name)
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
        version = self.records.write_name(req.name, entry, version)
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
        record, rversion = self.records.read(uid)
        if record is None:
            raise OperationError(f"Failed to enroll certificate '{req.name}': another run holds its claim and has not placed an order yet")
        if record.get("status") in rec.PENDING_STATUSES:
            return self._collect(req, record, rversion, action="collected")
        return unchanged(record)

    # ---- import ----------------------------------------------------------------------------------

    def _import(self, req: CertRequest, uid: str, entry_version: int) -> CertResult:
        existing, version = self.records.read(uid)
        if existing is not None:
            if req.name:
                entry, ev = self.records.read_name(req.name)
                if (entry or {}).get("cert_unique_id") != uid and not self.check_mode:
                    self.records.point_name(req.name, uid, ev)
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
        version = self.records.write(record, 0)
        self.records.point_name(req.name, uid, entry_version)
        result = self._collect(req, record, version, action="imported")
        result.changed = True
        return result

    # ---- collect ---------------------------------------------------------------------------------

    def _collect(self, req: CertRequest, record: dict[str, Any], version: int, *, action: str, before: dict[str, Any] | None = None) -> CertResult:
        before = rec.summary(record) if before is None else before
        if self.check_mode:
            return CertResult(True, action, record, before=before, after=dict(rec.summary(record), status=rec.ISSUED))
        waiting = Waiting(bool(self.option(req, "wait")), self.option(req, "max_timeout"), self.option(req, "loop_period"))
        return self.collector.collect(record, version, waiting, action=action, before=before)

    # ---- renew -----------------------------------------------------------------------------------

    def _renew(self, req: CertRequest, record: dict[str, Any], version: int, entry_version: int) -> CertResult:
        before = rec.summary(record)
        if record.get("status") != rec.ISSUED:
            raise InputError("state", f"certificate '{record['cert_unique_id']}' is {record.get('status')}; only issued certificates renew")
        if self.check_mode:
            return CertResult(True, "renewed", record, before=before, after=dict(before, status=rec.ISSUED, serial_number="(new)"))
        rotate = self.option(req, "rotate_key_on_renew") and self.cert_kind == rec.SSL_CERT
        desired = desired_subject(req, record)
        held = record.get("pending")
        if held and held.get("kind") == "renew" and self.records.stale(held):
            # A renewal whose owner died or lost the answer: adopt its order if SCM has one.
            order = self._find_renewal(record)
            if order is not None:
                return self._persist_renewal(req, record, version, order, held.get("private_key"), held.get("csr"), desired, before)
        csr = key = None
        if self.cert_kind == rec.SSL_CERT and (rotate or req.csr or req.private_key):
            key, csr = key_and_csr(req, desired, self.cert_kind, rotate=bool(rotate), record=record)
        request_id = uuid.uuid4().hex
        pending = {"kind": "renew", "request_id": request_id, "claimed_at": rec.iso(self.clock()), "csr": csr, "private_key": key}
        claimed_version = self.records.claim_record(record, version, pending)
        if claimed_version is None:
            return self._after_lost_claim(req, record)
        try:
            order = self.desk().renew(record, csr)
        except ScmError as exc:
            if not getattr(exc, "may_have_reached", False):
                record.pop("pending", None)
                self.records.write(record, claimed_version)
                raise
            order = self._find_renewal(record)
            if order is None:
                record["pending"]["outcome"] = "unknown"
                self.records.write(record, claimed_version)
                raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': the answer was lost ({exc}) and SCM shows no "
                                     "renewal yet; the next run looks again before renewing", result={"cert": rec.public_view(record)}) from None
        return self._persist_renewal(req, record, claimed_version, order, key, csr, desired, before)

    def _find_renewal(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Reconcile a renewal whose answer was lost (see _orders.OrderDesk.find_renewal)."""
        return self.desk().find_renewal(record, self.records.ids())

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
            apply_csr(new, key, csr, desired)
        rec.set_status(new, rec.REQUESTED, now)
        rec.set_status(new, rec.APPLIED, now)
        new_version = self.records.create_or_overwrite(new)
        old.pop("pending", None)
        old["renewed_to"] = uid
        rec.set_status(old, rec.RENEWED, now)
        self.records.write(old, old_version)
        if old.get("name"):
            _entry, entry_version = self.records.read_name(old["name"])
            self.records.point_name(old["name"], uid, entry_version)
        result = self._collect(req, new, new_version, action="renewed", before=before)
        result.changed = True
        return result

    def _after_lost_claim(self, req: CertRequest, record: dict[str, Any]) -> CertResult:
        """Another run renews or replaces this certificate right now: report the newest record, order nothing."""
        current, version = self.records.read(record["cert_unique_id"])
        if current and current.get("renewed_to"):
            current, version = self.records.follow_renewals(current, version)
        if current and current.get("status") in rec.PENDING_STATUSES and not current.get("pending"):
            return self._collect(req, current, version, action="collected")
        return unchanged(current, before=rec.summary(record))

    # ---- replace ---------------------------------------------------------------------------------

    def _replace(self, req: CertRequest, record: dict[str, Any], version: int, entry_version: int, reason: str | None = None) -> CertResult:
        reason = reason or req.reason
        if self.cert_kind == rec.CLIENT_CERT:
            # SCM_API §5.2: S/MIME replace is deprecated ("use enroll instead").
            return self._enroll(req, previous=record, entry_version=entry_version, action="replaced")
        before = rec.summary(record)
        desired = desired_subject(req, record)
        if self.check_mode:
            return CertResult(True, "replaced", record, before=before,
                              after=dict(before, domain=desired["common_name"], subject_alt_names=desired["sans"],
                                         key_algo=desired["spec"].algo, key_size=desired["spec"].size, serial_number="(new)"))
        held = record.get("pending")
        if held and held.get("kind") == "replace" and self.records.stale(held) and self._replace_landed(record):
            # A replacement whose answer was lost but that SCM carried out: collect it, do not replace twice.
            return self._mark_replace_ordered(req, record, version, crypto.csr_info(held["csr"]), before)
        key, csr = key_and_csr(req, desired, self.cert_kind, rotate=True, record=record)
        info = crypto.csr_info(csr)
        pending = {"kind": "replace", "request_id": uuid.uuid4().hex, "claimed_at": rec.iso(self.clock()), "csr": csr,
                   "private_key": key, "requested_sans": desired["sans"], "reason": reason, "previous_serial": record.get("serial_number")}
        claimed_version = self.records.claim_record(record, version, pending)
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
                self.records.write(record, claimed_version)
                raise
        return self._mark_replace_ordered(req, record, claimed_version, info, before)

    def _mark_replace_ordered(self, req: CertRequest, record: dict[str, Any], version: int, info: dict[str, Any],
                              before: dict[str, Any]) -> CertResult:
        record["pending"]["stage"] = "ordered"
        record["pending"].pop("outcome", None)
        record["domain"] = info["common_name"]
        rec.set_status(record, rec.APPLIED, self.clock())
        version = self.records.write(record, version)
        result = self._collect(req, record, version, action="replaced", before=before)
        result.changed = True
        return result

    def _replace_landed(self, record: dict[str, Any]) -> bool:
        details = self.scm().get_ssl(record["ssl_id"])
        return details.get("status") != "Issued" or details.get("serialNumber") != record.get("serial_number")
