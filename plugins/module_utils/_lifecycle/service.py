# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate lifecycle: the decisions of ``sectigo_cert`` and the lookup, with no Ansible in here.

Private to this collection: no compatibility is promised to code outside it.

``CertificateService.ensure`` decides what a request needs (docs/lifecycle.md, "state: present,
decided from Vault alone") and composes the steps: ``Lifecycle`` (``_lifecycle/steps``: what every step shares),
``Enrollment`` (first orders, imports, claims left on names) and ``Renewal`` (renewals and replacements of existing
records, claims left on records). Every step that places an SCM order follows "persist first,
reconcile after" (docs/lifecycle.md, same heading): claim in Vault with check-and-set, POST once, persist the order
id before the first poll, and look an order up in SCM by the marker in its comments instead of
ordering again when an answer was lost. What differs by kind of certificate is asked of the kind
object (``_lifecycle/kinds``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import schedule
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import Claims, held_claim
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult, unchanged
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords, KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, drift, parse_expiry_window, validate_request
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.steps import Lifecycle
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.enrollment import Enrollment
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.renewal import Renewal

# An idempotent re-run decides from Vault alone. Enrollment and renewals are imported when a task first needs them:
# a module process compiles every module_utils file it imports from its zip (and the controller's collection loader
# keeps no bytecode either), so a no-op pays only for what it runs (docs/bench.md).


class CertificateService:
    """Ensure one certificate's state: the decisions. Collaborators are injected so tests can drive every branch."""

    def __init__(self, store: KvStore, config: dict[str, Any], scm_factory: Callable[[], Any], **kwargs: Any) -> None:
        self.life = Lifecycle(store, config, scm_factory, **kwargs)
        self._enrollment: Enrollment | None = None
        self._renewal: Renewal | None = None

    @property
    def enrollment(self) -> "Enrollment":
        if self._enrollment is None:
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.enrollment import Enrollment

            self._enrollment = Enrollment(self.life)
        return self._enrollment

    @property
    def renewal(self) -> "Renewal":
        if self._renewal is None:
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.renewal import Renewal

            self._renewal = Renewal(self.life)
        return self._renewal

    @classmethod
    def for_config(cls, store: KvStore, config_name: str, *, scm_factory: Callable[[], Any] | None = None,
                   **kwargs: Any) -> "CertificateService":
        """The service for one config: the config entry is read once from Vault; SCM is reached only when needed.

        ``scm_factory`` replaces the config's SCM client (tests give a fake);
        ``kwargs`` go to :class:`Lifecycle` (``check_mode``, ``sleep``, ...).
        """
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService, scm_client_for

        config = ConfigService(store).require(config_name)
        return cls(store, config, scm_factory or (lambda: scm_client_for(config)), **kwargs)

    @property
    def warnings(self) -> list[str]:
        return self.life.warnings

    @property
    def records(self) -> CertRecords:
        return self.life.records

    @property
    def claims(self) -> Claims:
        return self.life.claims

    def task_result(self, result: CertResult, *, include_private_key: bool, brief: bool = False) -> dict[str, Any]:
        """``changed``, ``action``, ``cert``, ``vault_path`` and ``days_remaining`` of a task.

        ``brief`` (sectigo_certs' brief results): the record's ``status`` and ``not_after`` in place of ``cert``."""
        out: dict[str, Any] = {"changed": result.changed, "action": result.action}
        record = result.record
        if record:
            if brief:
                out["status"] = record.get("status")
                if record.get("not_after"):
                    out["not_after"] = record["not_after"]
            else:
                out["cert"] = rec.public_view(record, include_private_key=include_private_key)
            out["vault_path"] = self.records.full_path(record["cert_unique_id"]) if record.get("cert_unique_id") else None
            if record.get("not_after"):
                out["days_remaining"] = rec.days_remaining(record["not_after"], self.life.clock())
        return out

    # ---- entry point ---------------------------------------------------------------------------------

    def ensure(self, req: CertRequest, *, allow_enroll: bool = True) -> CertResult:
        """Bring one certificate to ``req.state``; ``allow_enroll=False`` (the lookup) only reads and maintains."""
        life = self.life
        validate_request(req, life.config, life.kind)
        if req.state == "absent":
            return self._absent(req)
        # Another run enrolling this name (or dead while doing so) is settled first, by the enrollment (imported only then).
        entry, entry_version = life.records.read_name(req.name)
        if entry and entry.get("claim"):
            settled = self.enrollment.settle_claim(req, entry, entry_version)
            if isinstance(settled, CertResult):
                return settled
            entry, entry_version = settled
        uid = (entry or {}).get("cert_unique_id") or req.cert_unique_id
        import_id = getattr(req, life.kind.id_option)
        if import_id is not None:
            wanted_uid = rec.cert_unique_id(import_id, life.kind.customer_uri)
            if uid != wanted_uid:
                existing, version = life.records.read(wanted_uid)
                if existing is None:
                    return self.enrollment.import_order(req, wanted_uid, entry_version if entry else 0)
                if req.name and not life.check_mode:
                    life.records.point_name(req.name, wanted_uid, entry_version if entry else 0)
                    return CertResult(True, "imported", existing, before={}, after=rec.summary(existing))
                return self._ensure_existing(req, existing, version, entry_version)
        record, version = life.records.read(uid)
        if record is None:
            if not allow_enroll:
                raise InputError("name", f"no certificate '{req.name or req.cert_unique_id}' in config '{life.config_name}'")
            if uid and not req.name:
                raise InputError("cert_unique_id", f"no certificate '{uid}' in config '{life.config_name}'")
            if req.state != "present":
                raise InputError("state", f"state={req.state} needs an existing certificate; '{req.name}' has none in config "
                                          f"'{life.config_name}' (use state=present to enroll)")
            return self.enrollment.enroll(req, previous=None, entry_version=entry_version if entry else 0)
        if req.state == "present" and life.option(req, "read_renewed_cert") and not req.name:
            record, version = life.records.follow_renewals(record, version)
        return self._ensure_existing(req, record, version, entry_version, allow_enroll=allow_enroll)

    def _absent(self, req: CertRequest) -> CertResult:
        """Forget a certificate: its record and the name that points at it, whichever of the two the task names."""
        records = self.life.records
        entry, _version = records.read_name(req.name)
        uid = (entry or {}).get("cert_unique_id") or req.cert_unique_id
        record, _version = records.read(uid)
        name = req.name
        if name is None and record is not None and record.get("name"):
            # Addressed by id: drop the record's name too when it still points at this record.
            named, _version = records.read_name(record["name"])
            if named is not None and named.get("cert_unique_id") == uid and not named.get("claim"):
                entry, name = named, record["name"]
        if entry is None and record is None:
            return CertResult(False, "none", None)
        if not self.life.check_mode:
            if record is not None:
                records.delete(uid)  # type: ignore[arg-type]
            if entry is not None:
                records.delete_name(name)  # type: ignore[arg-type]
        return CertResult(True, "deleted", None, before=rec.summary(record), after={})

    # ---- decisions on an existing record -------------------------------------------------------------

    def _ensure_existing(self, req: CertRequest, record: rec.CertRecord, version: int, entry_version: int, *,
                         allow_enroll: bool = True) -> CertResult:
        life = self.life
        if held_claim(record):
            # A renewal or replacement of another run is in flight (or its owner died): settle it before deciding.
            settled = self.renewal.settle(req, record, version)
            if isinstance(settled, CertResult):
                return settled
            record, version = settled
        status = record.get("status")
        claim_kind = (record.get("pending") or {}).get("kind")
        if req.state == "renewed":
            if status in rec.PENDING_STATUSES:
                return life.collect(req, record, version, action="collected")
            return self.renewal.renew(req, record, version)
        if req.state == "replaced":
            if status in rec.PENDING_STATUSES and claim_kind != "replace":
                return life.collect(req, record, version, action="collected")
            return self._replace(req, record, version, entry_version)
        # state=present
        if status in rec.PENDING_STATUSES:
            return life.collect(req, record, version, action="collected")
        if status == rec.RENEWED:
            return unchanged(record)
        if status == rec.REVOKED and (record.get("revoked") or {}).get("source") == "scm":
            # Revoked in SCM outside the collection (seen by sectigo_inventory's sync): never handed out, never
            # replaced silently (docs/inventory.md "A certificate revoked outside").
            if not req.replace_revoked_outside or not req.name:
                raise OperationError(
                    f"Failed to ensure certificate '{req.name or record['cert_unique_id']}': certificate '{record['cert_unique_id']}' "
                    f"(serial {record.get('serial_number')}) was revoked in SCM outside the collection "
                    f"(seen by sectigo_inventory sync at {(record.get('revoked') or {}).get('seen_at')}); "
                    "set replace_revoked_outside=true to enroll a new one under this name", result={"cert": rec.summary(record)})
            return self.enrollment.enroll(req, previous=record, entry_version=entry_version)
        if status in rec.ENDED_STATUSES or life.expired(record):
            what = str(status).lower() if status in rec.ENDED_STATUSES else "expired"
            if not allow_enroll:
                # A read (the lookup) reports what is there; enrolling anew is a task's decision.
                life.warnings.append(f"certificate '{record['cert_unique_id']}' is {what}; "
                                     "the lookup does not enroll a new one (run sectigo_cert with state=present)")
                return unchanged(record)
            if not req.name:
                raise InputError("name", f"certificate '{record['cert_unique_id']}' is {what}; give name to enroll a new one")
            return self.enrollment.enroll(req, previous=record, entry_version=entry_version)
        drifted = drift(req, record, life.kind)
        if drifted:
            life.warnings.append(f"{', '.join(drifted)} changed: replacing the certificate")
            return self._replace(req, record, version, entry_version, reason=req.reason or f"Changed {', '.join(drifted)}")
        if life.option(req, "auto_renew") and self._inside_window(req, record):
            return self.renewal.renew(req, record, version)
        return unchanged(record)

    def _replace(self, req: CertRequest, record: rec.CertRecord, version: int, entry_version: int, reason: str | None = None) -> CertResult:
        if not self.life.kind.replace_in_place:
            return self.enrollment.enroll(req, previous=record, entry_version=entry_version, action="replaced")
        return self.renewal.replace(req, record, version, reason or req.reason or "")

    def _inside_window(self, req: CertRequest, record: rec.CertRecord) -> bool:
        if not (record.get("not_after") and record.get("not_before")):
            return False
        not_before, not_after = rec.parse_iso(record["not_before"]), rec.parse_iso(record["not_after"])
        lifetime_days = (not_after - not_before).total_seconds() / 86400
        window_days, warning = parse_expiry_window(self.life.option(req, "expiry_window"), lifetime_days)
        if warning:
            self.life.warnings.append(warning)
        # The renewal time inside the window (docs/reporting.md "Renewal spread"); spread 0 is the window's start.
        ident = schedule.identity(self.life.config_name, record)
        return schedule.is_due(self.life.clock(), not_after, window_days, self.life.option(req, "renewal_spread"), ident)
