"""SCM orders for one kind of certificate: what differs between SSL and S/MIME lives here, once.

The lifecycle service asks an order desk to place, collect, renew and find orders; the desk knows
which SCM endpoints and identifiers its kind uses (SCM_API §3 for SSL, §5 for S/MIME).
"""
from __future__ import annotations

from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _crypto as crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_unique_id
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm_errors import ScmPending

MARKER_PREFIX = "vault_pki:"
# SCM statuses after which waiting is pointless (SCM_API §4; S/MIME states are lower-case, §5.4).
TERMINAL_SCM_STATUSES = {"declined", "rejected", "invalid", "revoked"}


class TerminalStatus(Exception):
    """SCM says the order will never be issued."""

    def __init__(self, code: int | None, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def marker(request_id: str) -> str:
    return f"{MARKER_PREFIX}{request_id}"


def with_marker(comments: str | None, request_id: str) -> str:
    """Order comments that let a lost order be found again (docs/lifecycle.md, "Persist first")."""
    return f"{comments} {marker(request_id)}" if comments else marker(request_id)


def certificates_in(data: bytes | str) -> list[str]:
    """Certificates of a collect answer, whatever the format (PEM blocks or PKCS#7, SCM_API §3.7)."""
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN CERTIFICATE-----" in raw:
        return crypto.split_pem(raw.decode("ascii", errors="replace"))
    if not raw.strip():
        return []
    return crypto.pkcs7_to_pem(raw)


def find_leaf(pems: list[str], public_keys: list[str]) -> str | None:
    """The leaf: the certificate of our key, or (imports, no key known) the one that issued none of the others."""
    infos = [(p, crypto.parse_certificate(p)) for p in pems]
    for key in public_keys:
        for pem, info in infos:
            if info["public_key_sha256"] == key:
                return pem
    if public_keys:
        return None
    issuers = {info["issuer"] for _pem, info in infos}
    for pem, info in infos:
        if info["subject"] not in issuers:
            return pem
    return None


class OrderDesk:
    """Base: collection is the same for both kinds once the endpoint is chosen."""

    order_fields: tuple[str, ...] = ()

    def __init__(self, scm: Any, customer_uri: str) -> None:
        self.scm = scm
        self.customer_uri = customer_uri

    def uid(self, order: dict[str, Any]) -> str:
        return cert_unique_id(order[self.order_fields[0]], self.customer_uri)

    def order_id(self, record: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _collect(self, oid: Any, fmt: str) -> bytes:
        raise NotImplementedError

    def status(self, oid: Any) -> str:
        raise NotImplementedError

    def collect(self, record: dict[str, Any], public_keys: list[str]) -> list[str] | None:
        """Leaf first, then the chain (issuer order); None while SCM says pending; TerminalStatus if it never will."""
        oid = self.order_id(record)
        fmt = record.get("ssl_format") or "x509"
        try:
            pems = certificates_in(self._collect(oid, fmt))
        except ScmPending:
            status = self.status(oid)
            if status.lower() in TERMINAL_SCM_STATUSES:
                raise TerminalStatus(None, f"order {oid} is {status}") from None
            return None
        leaf = find_leaf(pems, public_keys)
        if leaf is None or len(pems) == 1:
            # Certificate-only or chain-only formats: fetch what is missing in one more format.
            extra = certificates_in(self._collect(oid, "x509IOR" if leaf is not None else "x509CO"))
            pems = pems + [p for p in extra if p not in pems]
            leaf = find_leaf(pems, public_keys)
        if leaf is None:
            return None
        return [leaf] + crypto.order_chain(leaf, [p for p in pems if p != leaf])

    @staticmethod
    def _single(candidates: list[dict[str, Any]], record: dict[str, Any]) -> dict[str, Any] | None:
        if len(candidates) > 1:
            raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': the answer was lost and SCM shows several "
                                 f"candidate renewals {candidates}; adopt the right one with ssl_id/order_number")
        return candidates[0] if candidates else None


class SslDesk(OrderDesk):
    order_fields = ("ssl_id", "renew_id")

    def order_id(self, record: dict[str, Any]) -> Any:
        return record.get("ssl_id")

    def _collect(self, oid: Any, fmt: str) -> bytes:
        return self.scm.collect_ssl(oid, fmt)

    def status(self, oid: Any) -> str:
        return str(self.scm.get_ssl(oid).get("status") or "")

    def place(self, record: dict[str, Any], issuance: dict[str, Any], org_id: int, comments: str) -> dict[str, Any]:
        answer = self.scm.enroll_ssl(
            org_id=org_id, csr=record["csr"], cert_type=int(issuance["cert_type"]), term=int(issuance["term"]),
            subj_alt_names=record.get("requested_sans") or None, comments=comments,
            external_requester=issuance.get("external_requester"), custom_fields=issuance.get("custom_fields"),
            num_servers=issuance.get("num_servers"), server_type=issuance.get("server_type"))
        return {"ssl_id": int(answer["sslId"]), "renew_id": answer.get("renewId")}

    def find(self, record: dict[str, Any], request_id: str) -> dict[str, Any] | None:
        wanted = marker(request_id)
        for item in self.scm.iter_ssl(common_name=record["domain"]):
            details = self.scm.get_ssl(item["sslId"])
            if wanted in (details.get("comments") or ""):
                return {"ssl_id": int(item["sslId"]), "renew_id": details.get("renewId")}
        return None

    def renew(self, record: dict[str, Any], csr: str | None) -> dict[str, Any]:
        return {"ssl_id": int(self.scm.renew_ssl(record["ssl_id"], csr=csr))}

    def find_renewal(self, record: dict[str, Any], known: set[str]) -> dict[str, Any] | None:
        """An order for the same subject, newer than the record, that Vault does not know."""
        candidates = []
        for item in self.scm.iter_ssl(common_name=record["domain"]):
            sid = int(item["sslId"])
            if sid > int(record["ssl_id"]) and cert_unique_id(sid, self.customer_uri) not in known:
                candidates.append({"ssl_id": sid})
        return self._single(candidates, record)

    def details(self, oid: Any) -> dict[str, Any]:
        return self.scm.get_ssl(oid)


class SmimeDesk(OrderDesk):
    order_fields = ("order_number", "backend_cert_id")

    def order_id(self, record: dict[str, Any]) -> Any:
        return record.get("backend_cert_id") or record.get("order_number")

    def _collect(self, oid: Any, fmt: str) -> bytes:
        return self.scm.collect_smime(oid, fmt)

    def status(self, oid: Any) -> str:
        for item in self.scm.iter_smime(backend_cert_id=str(oid)):
            return str(item.get("state") or item.get("status") or "")
        return ""

    @staticmethod
    def _order(answer: dict[str, Any]) -> dict[str, Any]:
        number = answer.get("orderNumber") or answer.get("backendCertId")
        return {"order_number": int(number), "backend_cert_id": str(answer.get("backendCertId") or number)}

    def place(self, record: dict[str, Any], issuance: dict[str, Any], org_id: int, comments: str) -> dict[str, Any]:
        answer = self.scm.enroll_smime(
            org_id=org_id, csr=record["csr"], cert_type=int(issuance["cert_type"]), term=int(issuance["term"]),
            email=record["email"], first_name=record["first_name"], last_name=record["last_name"],
            middle_name=record.get("middle_name"), comments=comments, custom_fields=issuance.get("custom_fields"))
        return self._order(answer)

    def find(self, record: dict[str, Any], request_id: str) -> dict[str, Any] | None:
        wanted = marker(request_id)
        for item in self.scm.iter_smime(email=record["email"]):
            if wanted in (item.get("comments") or ""):
                return self._order(item)
        return None

    def renew(self, record: dict[str, Any], csr: str | None) -> dict[str, Any]:
        # SCM_API §5.2: S/MIME renew takes no CSR; the new order reuses the key.
        return self._order(self.scm.renew_smime_by_order(record["backend_cert_id"]))

    def find_renewal(self, record: dict[str, Any], known: set[str]) -> dict[str, Any] | None:
        candidates = []
        for item in self.scm.iter_smime(email=record["email"]):
            order = self._order(item)
            if order["order_number"] > int(record["order_number"]) and cert_unique_id(order["order_number"], self.customer_uri) not in known:
                candidates.append(order)
        return self._single(candidates, record)

    def details(self, oid: Any) -> dict[str, Any]:
        for item in self.scm.iter_smime(backend_cert_id=str(oid)):
            return item
        return {}


def order_desk(kind: str, scm: Any, customer_uri: str) -> OrderDesk:
    return SmimeDesk(scm, customer_uri) if kind == "client_cert" else SslDesk(scm, customer_uri)
