"""What an administrator does in SCM's web UI, for tests (docs/scm-simulator.md "Test controls").

Orders placed here carry another ``requester`` and ``requestedVia`` than the API account's, and no
``vault_pki:`` marker in their comments unless a test gives one: they are the certificates a team already
has when it adopts the collection. Revoke, replace and renew act on any order, as the web UI would.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scm_simulator import profiles
from scm_simulator.profiles import SMIME, SSL
from scm_simulator.store import Order

if TYPE_CHECKING:
    from scm_simulator.simulator import Simulator

WEB_ADMIN = "web.admin@example.com"
MAX_SEED = 20000
_SEED_STATUSES = ("Issued", "Applied", "Requested", "Revoked", "Expired")


def _csr(common_name: str) -> tuple[x509.CertificateSigningRequest, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])).sign(key, hashes.SHA256())
    return csr, csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _int(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}")
    return value


class WebUi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    # ---- seeding an estate

    def seed(self, body: Any) -> list[Order]:
        """``count`` orders of ``kind`` (``ssl`` or ``smime``) named from a ``{n}`` template, brought to ``status``; one transaction."""
        if not isinstance(body, dict):
            raise ValueError('the body must be a JSON object, e.g. {"kind": "ssl", "count": 450}')
        kind = body.get("kind", SSL)
        if kind not in (SSL, SMIME):
            raise ValueError("kind must be ssl or smime")
        count = _int(body, "count", 1, 1, MAX_SEED)
        status = body.get("status", "Issued")
        if status not in _SEED_STATUSES:
            raise ValueError(f"status must be one of {', '.join(_SEED_STATUSES)}")
        profile_id = _int(body, "cert_type", 101 if kind == SSL else 201, 1, 10**9)
        profile = profiles.profile(kind, profile_id)
        if profile is None:
            raise ValueError(f"no {kind} profile {profile_id}")
        term = _int(body, "term", profile["terms"][0], 1, 10**5)
        org_id = _int(body, "org_id", 1001, 1, 10**9)
        start = _int(body, "start", 1, 0, 10**9)
        template = str(body.get("common_name") or ("host-{n}.example.com" if kind == SSL else "user{n}@example.com"))
        _csr_obj, csr_pem = _csr("seed.example.com")  # one key for the whole batch: issuing thousands stays fast
        fields = {"profile_id": profile_id, "term": term, "org_id": org_id, "csr": csr_pem, "comments": str(body.get("comments") or ""),
                  "requester": str(body.get("requester") or WEB_ADMIN), "requested_via": str(body.get("requested_via") or "Client Admin")}
        store, lifecycle = self.sim.store, self.sim.api.lifecycle
        orders = []
        with store.lock, store.batch():
            for number in range(start, start + count):
                name = template.replace("{n}", str(number))
                if kind == SSL:
                    order = store.add(SSL, common_name=name, sans=[name], **fields)
                else:
                    person = store.person(name, firstName="Seed", lastName=f"User {number}")
                    order = store.add(SMIME, common_name=f"Seed User {number}", sans=[name], email=name, person_id=person["personId"],
                                      first_name="Seed", last_name=f"User {number}", **fields)
                lifecycle.settle(order, status)
                orders.append(order)
        return orders

    # ---- acting on one order

    def revoke(self, order: Order, body: dict[str, Any]) -> Order:
        code = _int(body, "reason_code", 0, 0, 10)
        self.sim.api.lifecycle.revoke(order, str(body.get("reason") or "revoked in the web UI"), code)
        return order

    def replace(self, order: Order, body: dict[str, Any]) -> Order:
        if order.kind != SSL:
            raise ValueError("only SSL orders are replaced; a client certificate is renewed or enrolled again")
        common_name = str(body.get("common_name") or order.common_name)
        csr, csr_pem = _csr(common_name)
        self.sim.api.lifecycle.replace_ssl(order, csr, csr_pem, str(body.get("reason") or "replaced in the web UI"), common_name, None)
        return order

    def renew(self, order: Order, body: dict[str, Any]) -> Order:
        lifecycle = self.sim.api.lifecycle
        new = lifecycle.renew_ssl(order, None, None) if order.kind == SSL else lifecycle.renew_smime(order)
        new.requester, new.requested_via = WEB_ADMIN, "Client Admin"
        self.sim.store.save(new)
        return new
