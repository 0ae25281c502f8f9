"""The order life cycle (docs/scm-protocol.md "Status values"): Requested -> (approve) -> Applied -> Issued -> Revoked / Expired.

Issuance is asynchronous: an Applied order becomes Issued once ``issue_delay`` seconds (runtime
setting, read when the order is looked at) have passed since it was applied. The certificate is
signed lazily, by the first request that looks at the order after that moment.
"""
from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from scm_simulator import errors, profiles
from scm_simulator.ca import CertificateAuthority, colon_hex, pem
from scm_simulator.config import RuntimeConfig
from scm_simulator.profiles import SMIME, SSL
from scm_simulator.store import Order, Store
from scm_simulator.validation import EnrollRequest, check_key, csr_common_name, csr_sans

# Every status a test may force, by lower-case name; S/MIME words map onto them (docs/scm-protocol.md "Status values").
STATUSES = {s.lower(): s for s in ("Init", "Requested", "SAApproved", "Approved", "Applied", "Issued", "Declined", "Rejected", "Invalid",
                                   "Revoked", "Expired", "Replaced")}
STATUSES.update({"sa approved": "SAApproved", "created": "Requested", "blank": "Init", "pre_revoked": "Revoked"})
APPROVABLE = ("Requested", "SAApproved")
# Client orders not issued yet, which a revocation withdraws.
WITHDRAWABLE_SMIME = ("Init", "Requested", "SAApproved", "Approved", "Applied")


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value.lower() not in seen:
            seen.add(value.lower())
            out.append(value)
    return out


class Lifecycle:
    """State changes of orders, under the store's lock; every change is saved."""

    def __init__(self, store: Store, ca: CertificateAuthority, config: RuntimeConfig) -> None:
        self.store = store
        self.ca = ca
        self.config = config

    # ---- placing orders

    def enroll(self, kind: str, request: EnrollRequest) -> Order:
        """A new order: Applied when the profile is auto-approved, Requested when it needs approval (docs/scm-protocol.md "Status values")."""
        if kind == SSL:
            common_name = csr_common_name(request.csr)
            # The CN comes from the CSR; SANs from the CSR plus the comma list of the enroll body (docs/scm-protocol.md "Enroll").
            sans = _dedupe(([common_name] if common_name else []) + csr_sans(request.csr) + request.subj_alt_names)
            order = self.store.add(SSL, profile_id=request.profile["id"], term=request.term, org_id=request.org_id, csr=request.csr_pem,
                                   common_name=common_name, sans=sans, comments=request.comments,
                                   external_requester=request.external_requester, custom_fields=request.custom_fields)
        else:
            email = request.email or ""
            person = self.store.person(email, firstName=request.first_name, middleName=request.middle_name,
                                       lastName=request.last_name)
            sans = _dedupe([email] + request.secondary_emails)
            order = self.store.add(SMIME, profile_id=request.profile["id"], term=request.term, org_id=request.org_id, csr=request.csr_pem,
                                   common_name=request.common_name or email, sans=sans, email=email,
                                   person_id=person["personId"], first_name=request.first_name, middle_name=request.middle_name,
                                   last_name=request.last_name, comments=request.comments, custom_fields=request.custom_fields)
        self._submit(order)
        return order

    def _submit(self, order: Order) -> None:
        if order.profile_id in profiles.NEEDS_APPROVAL and order.kind == SSL:
            order.status = "Requested"
        else:
            self._apply(order)
        self.store.save(order)

    def _apply(self, order: Order) -> None:
        order.status = "Applied"
        order.applied_at = self.store.clock()

    # ---- issuing, lazily

    def refresh(self, order: Order) -> Order:
        """Issue an Applied order whose time has come; mark an Issued one Expired after its end."""
        now = self.store.clock()
        if order.status == "Applied" and now >= (order.applied_at or 0.0) + float(self.config["issue_delay"]):
            self._issue(order)
            self.store.save(order)
        elif order.status == "Issued" and order.not_after is not None and now >= order.not_after:
            order.status = "Expired"
            self.store.save(order)
        return order

    def refresh_all(self) -> None:
        """What ``refresh`` would do to every order, looking only at the pending ones and those whose end has come."""
        index = self.store.index
        due = list(index.applied) + index.due_to_expire(self.store.clock())
        with self.store.batch():
            for oid in due:
                order = self.store.orders.get(oid)
                if order is not None:
                    self.refresh(order)

    def _issue(self, order: Order) -> None:
        csr = x509.load_pem_x509_csr(order.csr.encode("ascii"))
        if order.kind == SMIME:
            # Sectigo builds S/MIME subjects from the person, not from the CSR (docs/scm-protocol.md "S/MIME certificates").
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, order.common_name),
                                 x509.NameAttribute(NameOID.EMAIL_ADDRESS, order.email or "")])
        else:
            subject = _with_common_name(csr.subject, order.common_name)
        cert = self.ca.sign(public_key=csr.public_key(), subject=subject, sans=order.sans, term_days=order.term, smime=order.kind == SMIME,
                            backdate_days=float(self.config["backdate_days"]))
        if order.serial_number:
            order.previous_serials.append(order.serial_number)
        order.status = "Issued"
        order.issued_at = self.store.clock()
        order.certificate = pem(cert)
        order.serial_number = colon_hex(cert.serial_number)
        order.not_before = cert.not_valid_before_utc.timestamp()
        order.not_after = cert.not_valid_after_utc.timestamp()

    def settle(self, order: Order, status: str) -> None:
        """A freshly placed order brought straight to ``status`` (seeding): Issued signs now, Revoked and Expired after that."""
        if status in ("Issued", "Revoked", "Expired"):
            order.applied_at = order.approved_at = self.store.clock()
            self._issue(order)
            if status == "Revoked":
                order.revoked_at, order.reason, order.reason_code = self.store.clock(), "revoked in the web UI", 0
            if status == "Expired":
                order.not_after = self.store.clock() - 1
        elif status == "Applied":
            self._apply(order)
        order.status = status
        self.store.save(order)

    # ---- administrator actions

    def approve(self, order: Order, message: str) -> None:
        if order.status not in APPROVABLE:
            raise errors.bad_request(errors.NOT_APPROVABLE, f"Certificate can't be approved cause it has state = {order.status}")
        order.approved_at = self.store.clock()
        order.message = message
        self._apply(order)
        self.store.save(order)

    def decline(self, order: Order, message: str) -> None:
        if order.status not in APPROVABLE:
            raise errors.bad_request(errors.NOT_APPROVABLE, f"Certificate can't be declined cause it has state = {order.status}")
        order.status = "Declined"
        order.declined_at = self.store.clock()
        order.message = message
        self.store.save(order)

    def force_status(self, order: Order, status: Any) -> None:
        """Test hook (docs/scm-simulator.md, "Test controls"): put an order in any status; Applied restarts the issue delay."""
        canonical = STATUSES.get(str(status).strip().lower())
        if canonical is None:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(sorted(set(STATUSES.values())))}")
        if canonical == "Issued" and not order.certificate:
            self._issue(order)
        elif canonical == "Applied":
            self._apply(order)
        order.status = canonical
        if canonical == "Revoked" and order.revoked_at is None:
            order.revoked_at = self.store.clock()
        self.store.save(order)

    # ---- certificate holder actions

    def revoke(self, order: Order, reason: str, reason_code: int) -> None:
        if order.kind == SMIME and order.status in WITHDRAWABLE_SMIME:
            # A client order revoked before issuance is withdrawn (SCM shows it as pre_revoked): nothing is issued.
            order.status = "Revoked"
            order.revoked_at = self.store.clock()
            order.reason, order.reason_code = reason, reason_code
            self.store.save(order)
            return
        if order.status != "Issued":
            # Also the answer to a second revoke: hm-edu treats -102 as "already revoked" (docs/scm-protocol.md "Errors").
            raise errors.error(errors.ONLY_ISSUED_REVOCABLE)
        order.status = "Revoked"
        order.revoked_at = self.store.clock()
        order.reason = reason
        order.reason_code = reason_code
        self.store.save(order)

    def renew_ssl(self, old: Order, csr: x509.CertificateSigningRequest | None, csr_pem: str | None) -> Order:
        """renewById (docs/scm-protocol.md "Renew"): a new order from the old one's parameters, with a new CSR when given."""
        if old.status != "Issued":
            raise errors.bad_request(errors.NOT_ISSUED_FOR_RENEW, f"SSL state is not 'ISSUED': {old.status}")
        if csr is not None:
            check_key(profiles.profile(SSL, old.profile_id) or {}, csr)
            common_name = csr_common_name(csr) or old.common_name
            extra = [s for s in old.sans if s.lower() != old.common_name.lower()]
            sans = _dedupe([common_name] + csr_sans(csr) + extra)
        else:
            common_name, sans, csr_pem = old.common_name, list(old.sans), old.csr
        new = self.store.add(SSL, profile_id=old.profile_id, term=old.term, org_id=old.org_id, csr=csr_pem or old.csr, common_name=common_name,
                             sans=sans, comments=old.comments, external_requester=old.external_requester,
                             custom_fields=list(old.custom_fields), renewed_from=old.id)
        self._mark_renewed(old, new)
        self._submit(new)
        return new

    def renew_smime(self, old: Order) -> Order:
        """S/MIME renew (docs/scm-protocol.md "S/MIME certificates"): a new order for the same person and key; answers the new order number."""
        if old.status != "Issued":
            raise errors.bad_request(errors.SMIME_RENEW_FAILED, f"Error was occurred while renewing cert. Status = {old.status.lower()}")
        new = self.store.add(SMIME, profile_id=old.profile_id, term=old.term, org_id=old.org_id, csr=old.csr, common_name=old.common_name,
                             sans=list(old.sans), email=old.email, person_id=old.person_id, first_name=old.first_name,
                             middle_name=old.middle_name, last_name=old.last_name, comments=old.comments,
                             custom_fields=list(old.custom_fields), renewed_from=old.id)
        self._mark_renewed(old, new)
        self._submit(new)
        return new

    def _mark_renewed(self, old: Order, new: Order) -> None:
        old.renewed = True
        old.renewed_to = new.id
        old.renewed_at = self.store.clock()
        self.store.save(old)

    def replace_ssl(self, order: Order, csr: x509.CertificateSigningRequest, csr_pem: str, reason: str, common_name: str | None,
                    sans: list[str] | None) -> None:
        """Replace (docs/scm-protocol.md "Replace"): the same sslId goes back to Applied and gets a new certificate (new serial) when issued."""
        if order.status != "Issued":
            raise errors.bad_request(errors.NOT_ISSUED_FOR_RENEW, f"SSL state is not 'ISSUED': {order.status}")
        check_key(profiles.profile(SSL, order.profile_id) or {}, csr)
        name = common_name or csr_common_name(csr) or order.common_name
        order.csr = csr_pem
        order.common_name = name
        order.sans = _dedupe([name] + (sans if sans is not None else csr_sans(csr)))
        order.reason = reason
        order.replaced_at = self.store.clock()
        order.certificate = None
        # The old serial stays findable for revoke-by-serial until the new certificate is issued.
        self._apply(order)
        self.store.save(order)


def _with_common_name(subject: x509.Name, common_name: str) -> x509.Name:
    """The CSR's subject, with its CN replaced when a replace named another one (docs/scm-protocol.md "Replace")."""
    current = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not common_name or (current and current[0].value == common_name):
        return subject
    attributes = [a for a in subject if a.oid != NameOID.COMMON_NAME]
    return x509.Name(attributes + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
