# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""First orders of a name: enroll, re-enroll, import, and the claims that first orders leave on names.

Private to this collection: no compatibility is promised to code outside it.

A new order is claimed on ``names/<config>/<name>`` with check-and-set before the POST; the loser of
the check-and-set follows the winner's order (docs/lifecycle.md "Claims").
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult, unchanged
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import details_or_empty, with_marker
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import name_claim
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import (
    ISSUANCE_OPTIONS, CertRequest, apply_csr, desired_subject, key_and_csr,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.steps import Lifecycle

# Record fields whose name differs from the option that sets them.
_RECORD_FIELD = {"cert_type": "profile_id", "format_type": "ssl_format"}


class Enrollment:
    """Place, persist and reconcile the first order of a name (or a new one after revocation, expiry or replacement)."""

    def __init__(self, life: "Lifecycle") -> None:
        self.life = life

    def issuance(self, req: CertRequest, record: rec.CertRecord | None = None) -> dict[str, Any]:
        """What the order asks SCM for: task, config default, built-in default, else what ``record`` had."""
        base: dict[str, Any] = dict(record or {})
        out = {}
        for key in ISSUANCE_OPTIONS:
            value = self.life.option(req, key)
            out[key] = value if value is not None else base.get(_RECORD_FIELD.get(key, key))
        out["comments"] = self.life.option(req, "comments")
        return out

    def check_order(self, req: CertRequest, issuance: dict[str, Any], desired: dict[str, Any], identity: dict[str, Any]) -> None:
        """Everything an enrollment needs, checked before the claim: profile, term, identity and the profile's rules."""
        if issuance["cert_type"] is None:
            raise InputError("cert_type", "cert_type (the SCM profile id) is required to enroll; set it on the task or as a config default")
        if issuance["term"] is None:
            raise InputError("term", "term (days) is required to enroll; set it on the task or as a config default")
        self.life.kind.check_identity(dict(identity, common_name=desired["common_name"], csr=req.csr))
        self.life.verify_profile(req, issuance["cert_type"], issuance["term"], desired["spec"])
        self.life.check_custom_fields(req, issuance.get("custom_fields"))

    # ---- enroll --------------------------------------------------------------------------------------

    def enroll(self, req: CertRequest, previous: rec.CertRecord | None, entry_version: int, action: str = "enrolled") -> CertResult:
        life = self.life
        if not req.name:
            raise InputError("name", "name is required to enroll a new certificate")
        source = previous if previous is not None and req.common_name is None else None
        desired = desired_subject(req, source)
        issuance = self.issuance(req, previous)
        identity = life.kind.identity_fields(req, previous)
        self.check_order(req, issuance, desired, identity)
        before = rec.summary(previous)
        if life.check_mode:
            predicted = {"domain": desired["common_name"], "subject_alt_names": desired["sans"], "status": rec.ISSUED,
                         "key_algo": desired["spec"].algo, "key_size": desired["spec"].size}
            return CertResult(True, action, None, before=before, after=predicted)

        key, csr = key_and_csr(req, desired, life.kind, rotate=True, record=None)
        request_id = uuid.uuid4().hex
        now = life.clock()
        record: rec.CertRecord = {
            "name": req.name, "config_name": life.config_name, "certificate_type": life.kind.name,
            "request_id": request_id, "profile_id": issuance["cert_type"], "term": issuance["term"],
            "ssl_format": issuance["format_type"], "org_id": req.org_id or life.config.get("org_id"), "created_at": rec.iso(now),
        }
        record.update(identity)  # type: ignore[typeddict-item]
        for key_name in ("external_requester", "comments", "custom_fields"):
            if issuance.get(key_name) is not None:
                record[key_name] = issuance[key_name]  # type: ignore[literal-required]
        apply_csr(record, key, csr, desired)
        rec.set_status(record, rec.REQUESTED, now)
        if previous is not None:
            superseded = previous.get("status") != rec.REVOKED and not life.expired(previous)
            record["replaced_from" if superseded else "previous"] = previous["cert_unique_id"]  # type: ignore[literal-required]
        claim: rec.NameClaim = life.claims.new("enroll", request_id, record=record)  # type: ignore[assignment]
        entry: rec.NameEntry = {"name": req.name, "config_name": life.config_name,
                                "cert_unique_id": previous["cert_unique_id"] if previous else None, "claim": claim}
        claimed_version = life.claims.take_name(req.name, entry, entry_version)
        if claimed_version is None:
            return self.follow_winner(req)
        return self.place(req, entry, claimed_version, issuance, previous, action)

    def place(self, req: CertRequest, entry: rec.NameEntry, entry_version: int, issuance: dict[str, Any],
              previous: rec.CertRecord | None, action: str = "enrolled") -> CertResult:
        """POST the order once; a lost answer is looked up by its marker, never re-sent."""
        life = self.life
        claim = entry["claim"]
        record = claim["record"]

        def post() -> dict[str, Any]:
            org_id = int(record.get("org_id") or life.config["org_id"])
            return life.kind.place(record, issuance, org_id, with_marker(issuance.get("comments"), claim["request_id"]))

        ordered = life.claims.order_on_name(req.name, entry, entry_version, life.timed(post),  # type: ignore[arg-type]
                                            lambda: life.kind.find(record, claim["request_id"]))
        if ordered is None:
            # Another run judged this claim abandoned and took it over; it finds this order by its marker.
            return self.follow_winner(req)
        error = ordered.failure
        if error is not None:
            if not error.may_have_reached:
                raise error  # the claim was given up: nothing is outstanding
            raise OperationError(f"Failed to enroll certificate '{req.name}': the answer to the order was lost ({error}) and no order "
                                 "carrying this request is visible in SCM yet; the next run looks again before ordering",
                                 result={"request_id": claim["request_id"]})
        return self.persist(req, entry, ordered.version, ordered.answer, previous, action=action)

    def persist(self, req: CertRequest, entry: rec.NameEntry, entry_version: int, order: dict[str, Any],
                previous: rec.CertRecord | None, action: str) -> CertResult:
        """Save the order id (status Applied) before the first poll, then collect."""
        life = self.life
        record = entry["claim"]["record"]
        record.update(order)  # type: ignore[typeddict-item]
        uid = life.kind.uid(order)
        record["cert_unique_id"] = uid
        rec.set_status(record, rec.APPLIED, life.clock())
        version = life.records.create_or_overwrite(record)
        life.records.point_name(req.name, uid, entry_version)  # type: ignore[arg-type]
        if previous is not None and previous.get("status") == rec.ISSUED and "replaced_from" in record:
            self._mark_superseded(previous, uid, revoke=not life.kind.replace_in_place and life.option(req, "revoke_on_replace"))
        result = life.collect(req, record, version, action=action, before=rec.summary(previous))
        result.changed = True
        return result

    def _mark_superseded(self, previous: rec.CertRecord, new_uid: str, revoke: bool) -> None:
        life = self.life
        old, old_version = life.records.read(previous["cert_unique_id"])
        if old is None:
            return
        old["replaced_to"] = new_uid
        if revoke:
            try:
                life.kind.revoke(life.kind.order_id(old), None, "Replaced", rec.REASON_CODES["superseded"])
                old["revoked"] = {"reason": "Replaced", "reason_code": rec.REASON_CODES["superseded"], "time_stamp": rec.iso(life.clock())}
                rec.set_status(old, rec.REVOKED, life.clock())
            except ScmError as exc:
                life.warnings.append(f"could not revoke the replaced certificate {old['cert_unique_id']}: {exc}")
        life.records.write(old, old_version)

    # ---- claims left by other (or dead) runs ---------------------------------------------------------

    def settle_claim(self, req: CertRequest, entry: rec.NameEntry, version: int) -> CertResult | tuple[rec.NameEntry | None, int]:
        """A name with a claim: wait while its owner keeps it fresh (``Claims.wait``), reconcile it once it is stale or
        its answer was lost: adopt the order SCM shows for it, else take the claim over and order now, once."""
        life = self.life
        settled, version, stale = life.claims.wait(entry, version, name_claim, lambda: life.records.read_name(req.name),
                                                   f"enroll certificate '{req.name}'",
                                                   lambda v: life.records.written_at(name=req.name, version=v))
        if settled is None:
            return None, 0
        entry = settled
        if not stale or life.check_mode:
            return entry, version
        claim = entry["claim"]
        record = claim["record"]
        found = life.kind.find(record, claim["request_id"])
        if found is not None:
            return self.persist(req, entry, version, found, None, action="enrolled")
        # The order was never placed: take the claim over and order now, once.
        claim.update(life.claims.new("enroll", claim["request_id"]))
        claim.pop("outcome", None)
        version = life.records.write_name(req.name, entry, version)  # type: ignore[arg-type]
        issuance = {"cert_type": record.get("profile_id"), "term": record.get("term"), "comments": record.get("comments"),
                    "external_requester": record.get("external_requester"), "custom_fields": record.get("custom_fields"),
                    "num_servers": life.option(req, "num_servers"), "server_type": life.option(req, "server_type")}
        return self.place(req, entry, version, issuance, None)

    def follow_winner(self, req: CertRequest) -> CertResult:
        """Another run claimed this name first: follow its order instead of placing a second one."""
        entry, version = self.life.records.read_name(req.name)
        if entry and entry.get("claim"):
            settled = self.settle_claim(req, entry, version)
            if isinstance(settled, CertResult):
                return settled
            entry = settled[0]
        uid = (entry or {}).get("cert_unique_id")
        record, version = self.life.records.read(uid)
        if record is None:
            raise OperationError(f"Failed to enroll certificate '{req.name}': another run holds its claim and has not placed an order yet")
        if record.get("status") in rec.PENDING_STATUSES:
            return self.life.collect(req, record, version, action="collected")
        return unchanged(record)

    # ---- import --------------------------------------------------------------------------------------

    def import_order(self, req: CertRequest, uid: str, entry_version: int) -> CertResult:
        """Adopt an SCM order that Vault does not hold yet (``ssl_id`` / ``order_number``) and collect it."""
        life = self.life
        if not req.name:
            raise InputError("name", "name is required to import an existing SCM order")
        if life.check_mode:
            return CertResult(True, "imported", None, before={}, after={"cert_unique_id": uid})
        oid = getattr(req, life.kind.id_option)
        details = details_or_empty(life.kind, oid)
        if not details:
            raise InputError(life.kind.id_option, f"SCM has no certificate {oid} for customer '{life.kind.customer_uri}'")
        now = life.clock()
        record: rec.CertRecord = {"name": req.name, "config_name": life.config_name, "certificate_type": life.kind.name,
                                  "cert_unique_id": uid, "created_at": rec.iso(now), "imported": True,
                                  "ssl_format": life.option(req, "format_type")}
        record.update(life.kind.import_fields(int(oid), details, req))  # type: ignore[typeddict-item]
        if req.private_key is not None:
            info = crypto.private_key_info(req.private_key)
            record.update({"private_key": req.private_key, "public_key_sha256": info["public_key_sha256"]})
        else:
            record["private_key_held"] = False  # SCM never had the key: Vault has none for this certificate
        rec.set_status(record, rec.APPLIED, now)
        version = life.records.write(record, 0)
        life.records.point_name(req.name, uid, entry_version)
        result = life.collect(req, record, version, action="imported")
        result.changed = True
        return result
