# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renewals and replacements of an existing record.

Private to this collection: no compatibility is promised to code outside it.

Both are claimed on the record itself (``pending``) with check-and-set before the POST. A renewal
creates a new record (the old one becomes ``Renewed`` and points to it); a replacement re-issues the
same SCM order with a new CSR, and its new key takes over once the collected certificate carries it
(docs/lifecycle.md, the table of "state: present").
"""
from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult, unchanged
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import ClaimedOrder, held_claim, record_claim
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, apply_csr, desired_subject, key_and_csr
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.steps import Lifecycle

# What a renewal's new record takes over from the old one.
_RENEWAL_KEEPS = ("name", "config_name", "certificate_type", "profile_id", "term", "ssl_format", "org_id", "email", "first_name",
                  "middle_name", "last_name", "external_requester", "comments", "custom_fields", "subject", "requested_sans",
                  "domain", "subject_alt_names", "key_algo", "key_size", "public_key_sha256", "csr", "private_key")


class Renewal:
    """Renew or replace one issued certificate, claimed on its record."""

    def __init__(self, life: "Lifecycle") -> None:
        self.life = life

    # ---- renew ---------------------------------------------------------------------------------------

    def renew(self, req: CertRequest, record: rec.CertRecord, version: int) -> CertResult:
        life = self.life
        before = rec.summary(record)
        if record.get("status") != rec.ISSUED:
            raise InputError("state", f"certificate '{record['cert_unique_id']}' is {record.get('status')}; only issued certificates renew")
        rotate = bool(life.option(req, "rotate_key_on_renew")) and life.kind.renew_takes_csr
        new_key = life.kind.renew_takes_csr and (rotate or req.csr is not None or req.private_key is not None)
        desired = desired_subject(req, record)
        if new_key:
            life.verify_profile(req, record.get("profile_id"), record.get("term"), desired["spec"])
        if life.check_mode:
            return CertResult(True, "renewed", record, before=before, after=dict(before, status=rec.ISSUED, serial_number="(new)"))
        csr = key = None
        if new_key:
            key, csr = key_and_csr(req, desired, life.kind, rotate=rotate, record=record)
        pending = life.claims.new("renew", uuid.uuid4().hex, csr=csr, private_key=key)
        ordered = self._claim_and_order(req, record, version, pending, lambda: life.kind.renew(record, csr), lambda: self._find_renewal(record))
        if isinstance(ordered, CertResult):
            return ordered
        error = ordered.failure
        if error is not None:
            if not error.may_have_reached:
                raise error
            raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': the answer was lost ({error}) and SCM shows no "
                                 "renewal yet; the next run looks again before renewing", result={"cert": rec.public_view(record)})
        return self._persist(req, record, ordered.version, ordered.answer, key, csr, desired, before)

    def _claim_and_order(self, req: CertRequest, record: rec.CertRecord, version: int, pending: dict[str, Any],
                         post: Callable[[], Any], look_up: Callable[[], Any]) -> CertResult | ClaimedOrder:
        """Claim the record and order once (``Claims.order_on_record``). A claim another run holds, or takes over
        meanwhile, is followed instead (its result returned), ordering nothing; a failed order is the caller's to raise."""
        ordered = self.life.claims.order_on_record(record, version, pending, self.life.timed(post), look_up)  # type: ignore[arg-type]
        if ordered is None:
            return self._after_lost_claim(req, record)
        return ordered

    def _find_renewal(self, record: rec.CertRecord) -> dict[str, Any] | None:
        """Reconcile a renewal whose answer was lost (see CertKind.find_renewal)."""
        return self.life.kind.find_renewal(record, self.life.records.ids())

    def _persist(self, req: CertRequest, old: rec.CertRecord, old_version: int, order: dict[str, Any], key: str | None,
                 csr: str | None, desired: dict[str, Any], before: dict[str, Any]) -> CertResult:
        """The new record (Applied, with its order id) first, then the old one Renewed, then the name."""
        life = self.life
        now = life.clock()
        uid = life.kind.uid(order)
        new: rec.CertRecord = {k: copy.deepcopy(old[k]) for k in _RENEWAL_KEEPS if k in old}  # type: ignore[misc]
        new.update(order)  # type: ignore[typeddict-item]
        new.update({"cert_unique_id": uid, "renewed_from": old["cert_unique_id"], "created_at": rec.iso(now),
                    "request_id": old["pending"]["request_id"]})
        if csr is not None:
            apply_csr(new, key, csr, desired)
        rec.set_status(new, rec.REQUESTED, now)
        rec.set_status(new, rec.APPLIED, now)
        new_version = life.records.create_or_overwrite(new)
        old.pop("pending", None)
        old["renewed_to"] = uid
        rec.set_status(old, rec.RENEWED, now)
        life.records.write(old, old_version)
        if old.get("name"):
            _entry, entry_version = life.records.read_name(old["name"])
            life.records.point_name(old["name"], uid, entry_version)
        result = life.collect(req, new, new_version, action="renewed", before=before)
        result.changed = True
        return result

    def _after_lost_claim(self, req: CertRequest, record: rec.CertRecord) -> CertResult:
        """Another run claimed this certificate first: wait for its order and follow it, order nothing."""
        current, version = self.life.records.read(record["cert_unique_id"])
        if current is None:
            raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': its record was deleted while it was claimed")
        settled = self.settle(req, current, version, before=rec.summary(record))
        if isinstance(settled, CertResult):
            return settled
        # The other run gave its claim up without ordering (SCM refused it): nothing is outstanding.
        raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': another run claimed it and gave up without an "
                             "order; run again")

    # ---- claims of other (or dead) runs ----------------------------------------------------------------

    def settle(self, req: CertRequest, record: rec.CertRecord, version: int,
               before: dict[str, Any] | None = None) -> CertResult | tuple[rec.CertRecord, int]:
        """A record with a renewal or replacement claim: wait while its owner keeps it fresh, follow the order it placed,
        or reconcile a claim whose owner died. Returns a result, or the record to decide on when no order is outstanding."""
        life = self.life
        before = rec.summary(record) if before is None else before
        uid = record["cert_unique_id"]
        record, version, stale = life.claims.wait(record, version, record_claim, lambda: self._read_claimed(uid),
                                                  f"renew certificate '{uid}'", lambda v: life.records.written_at(uid, version=v))
        if stale:
            return self._reconcile(req, record, version, before)
        if held_claim(record):  # check mode does not wait
            return record, version
        if record.get("renewed_to"):
            newest, newest_version = life.records.follow_renewals(record, version)
            if newest.get("status") in rec.PENDING_STATUSES:
                return life.collect(req, newest, newest_version, action="collected", before=before)
            return unchanged(newest, before=before)
        if record.get("status") in rec.PENDING_STATUSES and (record.get("pending") or {}).get("stage") == "ordered":
            return life.collect(req, record, version, action="collected", before=before)
        return record, version

    def _read_claimed(self, uid: str) -> tuple[rec.CertRecord, int]:
        current, version = self.life.records.read(uid)
        if current is None:
            raise OperationError(f"Failed to renew certificate '{uid}': its record was deleted while it was claimed")
        return current, version

    def _reconcile(self, req: CertRequest, record: rec.CertRecord, version: int, before: dict[str, Any]) -> CertResult | tuple[rec.CertRecord, int]:
        """A claim whose owner is gone: adopt the order SCM shows for it, else drop the claim (nothing is outstanding)."""
        life = self.life
        held = record["pending"]
        if life.check_mode:
            return record, version
        if held.get("kind") == "renew":
            order = self._find_renewal(record)
            if order is not None:
                return self._persist(req, record, version, order, held.get("private_key"), held.get("csr"),
                                     desired_subject(req, record), before)
        elif life.kind.replace_landed(record):
            return self._mark_ordered(req, record, version, crypto.csr_info(held["csr"]), before)  # type: ignore[arg-type]
        record.pop("pending", None)
        try:
            version = life.records.write(record, version)
        except VaultCasConflict:
            current, version = life.records.read(record["cert_unique_id"])
            if current is None:
                raise
            return self.settle(req, current, version, before)
        return record, version

    # ---- replace -------------------------------------------------------------------------------------

    def replace(self, req: CertRequest, record: rec.CertRecord, version: int, reason: str) -> CertResult:
        life = self.life
        before = rec.summary(record)
        desired = desired_subject(req, record)
        life.verify_profile(req, record.get("profile_id"), record.get("term"), desired["spec"])
        if life.check_mode:
            return CertResult(True, "replaced", record, before=before,
                              after=dict(before, domain=desired["common_name"], subject_alt_names=desired["sans"],
                                         key_algo=desired["spec"].algo, key_size=desired["spec"].size, serial_number="(new)"))
        key, csr = key_and_csr(req, desired, life.kind, rotate=True, record=record)
        info = crypto.csr_info(csr)
        pending = life.claims.new("replace", uuid.uuid4().hex, csr=csr, private_key=key, requested_sans=desired["sans"],
                                  reason=reason, previous_serial=record.get("serial_number"))
        ordered = self._claim_and_order(
            req, record, version, pending,
            lambda: life.kind.replace(record, csr=csr, reason=reason, common_name=info["common_name"], sans=desired["sans"]),
            lambda: life.kind.replace_landed(record))
        if isinstance(ordered, CertResult):
            return ordered
        if ordered.failure is not None:
            raise ordered.failure
        return self._mark_ordered(req, record, ordered.version, info, before)

    def _mark_ordered(self, req: CertRequest, record: rec.CertRecord, version: int, info: dict[str, Any],
                      before: dict[str, Any]) -> CertResult:
        life = self.life
        record["pending"]["stage"] = "ordered"
        record["pending"].pop("outcome", None)
        record["domain"] = info["common_name"]
        rec.set_status(record, rec.APPLIED, life.clock())
        version = life.records.write(record, version)
        result = life.collect(req, record, version, action="replaced", before=before)
        result.changed = True
        return result
