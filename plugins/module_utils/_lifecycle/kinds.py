# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between SSL/TLS and client (S/MIME) certificates, in one object per kind.

Private to this collection: no compatibility is promised to code outside it.

Every SCM call, identifier, record field and rule that depends on the kind lives in ``SslKind`` or
``SmimeKind``; the lifecycle, collection, revocation and profile code ask the kind and never test
``config_type`` themselves. A third kind is a third class here (docs/architecture.md "Kinds").
The endpoints are described in docs/scm-protocol.md.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Protocol

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError

MARKER_PREFIX = "vault_pki:"
# Length of the marker the collection appends to order comments (prefix + 32 hex digits + a space).
MARKER_LENGTH = len(MARKER_PREFIX) + 32 + 1
# SCM answers -102 (or -159) to a revocation when the certificate is not, or no longer, issued.
NOT_ISSUED_CODES = {-102, -159}


class ScmApi(Protocol):
    """The part of ``_scm_client.ScmClient`` that the kinds use; the unit-test fake satisfies it too."""

    def verify_credentials(self, kind: str = "ssl") -> None: ...
    def list_ssl_types(self, org_id: int | None = None) -> list[dict[str, Any]]: ...
    def list_smime_types(self, org_id: int | None = None) -> list[dict[str, Any]]: ...
    def enroll_ssl(self, **kwargs: Any) -> dict[str, Any]: ...
    def enroll_smime(self, **kwargs: Any) -> dict[str, Any]: ...
    def collect_ssl(self, ssl_id: int | str, fmt: str = "x509CO") -> bytes: ...
    def collect_smime(self, backend_cert_id: int | str, fmt: str = "x509CO") -> bytes: ...
    def get_ssl(self, ssl_id: int | str) -> dict[str, Any]: ...
    def iter_ssl(self, **filters: Any) -> Iterator[dict[str, Any]]: ...
    def iter_smime(self, **filters: Any) -> Iterator[dict[str, Any]]: ...
    def renew_ssl(self, ssl_id: int | str, csr: str | None = None) -> int: ...
    def renew_smime_by_order(self, backend_cert_id: int | str) -> dict[str, Any]: ...
    def replace_ssl(self, ssl_id: int | str, **kwargs: Any) -> None: ...
    def revoke_ssl(self, ssl_id: int | str, **kwargs: Any) -> None: ...
    def revoke_ssl_by_serial(self, serial: str, **kwargs: Any) -> None: ...
    def revoke_smime_by_order(self, backend_cert_id: int | str, **kwargs: Any) -> None: ...
    def revoke_smime_by_serial(self, serial: str, **kwargs: Any) -> None: ...
    def decline_ssl(self, ssl_id: int | str, message: str) -> None: ...
    def list_ssl_custom_fields(self) -> list[dict[str, Any]]: ...
    def list_smime_custom_fields(self) -> list[dict[str, Any]]: ...


def marker(request_id: str) -> str:
    return f"{MARKER_PREFIX}{request_id}"


def with_marker(comments: str | None, request_id: str) -> str:
    """Order comments that let a lost order be found again (docs/lifecycle.md "Persist first, reconcile after")."""
    return f"{comments} {marker(request_id)}" if comments else marker(request_id)


class CertKind:
    """Base of the kinds: SCM is reached through ``scm_factory`` on first use only."""

    name = ""
    scm_area = ""                      # what ``verify_credentials`` checks: ssl | smime
    id_option = ""                     # the task option that imports an existing order
    other_id_option = ""               # the id option of the other kind (refused with a clear message)
    order_fields: tuple[str, ...] = ()
    identity_options: tuple[str, ...] = ()  # what enrolling needs besides a profile and a term
    reason_min = 1                     # shortest revocation reason SCM takes
    renew_takes_csr = True             # False: SCM renews with the same key
    foreign_options: tuple[str, ...] = ()  # task options that belong to another kind
    replace_in_place = True            # False: SCM cannot replace; a replacement is a new enrollment

    def __init__(self, scm_factory: Callable[[], ScmApi], customer_uri: str) -> None:
        self._scm_factory = scm_factory
        self._scm: ScmApi | None = None
        self.customer_uri = customer_uri

    @property
    def scm(self) -> ScmApi:
        """The SCM client, built on first use so that runs with nothing to do never open a session."""
        if self._scm is None:
            self._scm = self._scm_factory()
        return self._scm

    # ---- identifiers ---------------------------------------------------------------------------------

    def uid(self, order: dict[str, Any]) -> str:
        return rec.cert_unique_id(order[self.order_fields[0]], self.customer_uri)

    def order_id(self, record: rec.CertRecord) -> Any:
        raise NotImplementedError

    # ---- what a record of this kind holds ------------------------------------------------------------

    def check_identity(self, values: dict[str, Any]) -> None:
        """Refuse an enrollment that lacks what this kind needs, naming the option."""
        raise NotImplementedError

    def csr_common_name(self, common_name: str | None, email: str | None) -> str | None:
        return common_name

    def check_common_name(self, common_name: str) -> None:
        """Refuse a common name this kind of certificate cannot carry, naming the option."""

    def drift(self, req: Any, record: rec.CertRecord) -> list[str]:
        """Options specific to this kind whose task value differs from the record."""
        return []

    def identity_fields(self, req: Any, previous: rec.CertRecord | None) -> dict[str, Any]:
        """Fields of a new record that identify its subject beyond the CSR."""
        return {}

    def from_certificate(self, info: dict[str, Any]) -> dict[str, Any]:
        """Fields a collected certificate sets on the record beyond the common ones."""
        return {}

    # ---- SCM orders ----------------------------------------------------------------------------------

    def fetch(self, oid: Any, fmt: str) -> bytes:
        raise NotImplementedError

    def status(self, oid: Any) -> str:
        raise NotImplementedError

    def details(self, oid: Any) -> dict[str, Any]:
        raise NotImplementedError

    def place(self, record: rec.CertRecord, issuance: dict[str, Any], org_id: int, comments: str) -> dict[str, Any]:
        raise NotImplementedError

    def find(self, record: rec.CertRecord, request_id: str) -> dict[str, Any] | None:
        """The order carrying ``request_id`` in its comments, if SCM has one."""
        raise NotImplementedError

    def renew(self, record: rec.CertRecord, csr: str | None) -> dict[str, Any]:
        raise NotImplementedError

    def renewal_candidates(self, record: rec.CertRecord) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def find_renewal(self, record: rec.CertRecord, known: set[str]) -> dict[str, Any] | None:
        """An order for the same subject, newer than the record, that Vault does not know."""
        newer = [order for order in self.renewal_candidates(record)
                 if int(order[self.order_fields[0]]) > int(record[self.order_fields[0]]) and self.uid(order) not in known]  # type: ignore[literal-required]
        if len(newer) > 1:
            raise OperationError(f"Failed to renew certificate '{record['cert_unique_id']}': the answer was lost and SCM shows several "
                                 f"candidate renewals {newer}; adopt the right one with {self.id_option}")
        return newer[0] if newer else None

    def import_fields(self, oid: int, details: dict[str, Any], req: Any) -> dict[str, Any]:
        raise NotImplementedError

    def replace(self, record: rec.CertRecord, *, csr: str, reason: str, common_name: str, sans: list[str]) -> None:
        raise NotImplementedError

    def replace_landed(self, record: rec.CertRecord) -> bool:
        raise NotImplementedError

    # ---- revocation ----------------------------------------------------------------------------------

    def _revoke_order(self, oid: Any, reason: str, code: int) -> None:
        raise NotImplementedError

    def _revoke_serial(self, serial: str, reason: str, code: int) -> None:
        raise NotImplementedError

    def revoked_in_scm(self, oid: Any) -> bool:
        raise NotImplementedError

    def revoke(self, oid: Any, serial: str | None, reason: str, code: int) -> bool:
        """Revoke by order id, else by serial. True when SCM revoked it now, False when it already was."""
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError

        try:
            if oid is not None:
                self._revoke_order(oid, reason, code)
            else:
                self._revoke_serial(serial or "", reason, code)
        except ScmRequestError as exc:
            if exc.scm_code in NOT_ISSUED_CODES and oid is not None and self.revoked_in_scm(oid):
                return False
            raise
        return True

    def cancel(self, oid: Any, reason: str) -> None:
        """Withdraw an order SCM has not issued yet (docs/lifecycle.md "Cancelling a pending order")."""
        raise NotImplementedError

    # ---- profiles and custom fields ------------------------------------------------------------------

    def list_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def list_custom_fields(self) -> list[dict[str, Any]]:
        """SCM's custom fields for this kind: ``[{id, name, mandatory}]``."""
        raise NotImplementedError


class SslKind(CertKind):
    name = rec.SSL_CERT
    scm_area = "ssl"
    id_option = "ssl_id"
    other_id_option = "order_number"
    order_fields = ("ssl_id", "renew_id")
    identity_options = ("common_name",)
    foreign_options = ("email", "first_name", "middle_name", "last_name")

    def check_common_name(self, common_name: str) -> None:
        # A server certificate names a host: a DNS name, a wildcard or an IP address (it is also its first SAN).
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.crypto import normalize_sans

        try:
            normalize_sans([common_name])
        except InputError:
            raise InputError("common_name", "common_name of an SSL certificate must be a DNS name, a wildcard such as "
                                            f"*.example.com or an IP address; got {common_name!r}") from None

    def order_id(self, record: rec.CertRecord) -> Any:
        return record.get("ssl_id")

    def check_identity(self, values: dict[str, Any]) -> None:
        if not (values.get("common_name") or values.get("csr")):
            raise InputError("common_name", "common_name (or csr) is required to enroll an SSL certificate")

    def fetch(self, oid: Any, fmt: str) -> bytes:
        return self.scm.collect_ssl(oid, fmt)

    def status(self, oid: Any) -> str:
        return str(self.scm.get_ssl(oid).get("status") or "")

    def details(self, oid: Any) -> dict[str, Any]:
        return self.scm.get_ssl(oid)

    def place(self, record: rec.CertRecord, issuance: dict[str, Any], org_id: int, comments: str) -> dict[str, Any]:
        answer = self.scm.enroll_ssl(
            org_id=org_id, csr=record["csr"], cert_type=int(issuance["cert_type"]), term=int(issuance["term"]),
            subj_alt_names=record.get("requested_sans") or None, comments=comments,
            external_requester=issuance.get("external_requester"), custom_fields=issuance.get("custom_fields"),
            num_servers=issuance.get("num_servers"), server_type=issuance.get("server_type"))
        return {"ssl_id": int(answer["sslId"]), "renew_id": answer.get("renewId")}

    def find(self, record: rec.CertRecord, request_id: str) -> dict[str, Any] | None:
        wanted = marker(request_id)
        for item in self.scm.iter_ssl(common_name=record["domain"]):
            details = self.scm.get_ssl(item["sslId"])
            if wanted in (details.get("comments") or ""):
                return {"ssl_id": int(item["sslId"]), "renew_id": details.get("renewId")}
        return None

    def renew(self, record: rec.CertRecord, csr: str | None) -> dict[str, Any]:
        return {"ssl_id": int(self.scm.renew_ssl(record["ssl_id"], csr=csr))}

    def renewal_candidates(self, record: rec.CertRecord) -> Iterator[dict[str, Any]]:
        for item in self.scm.iter_ssl(common_name=record["domain"]):
            yield {"ssl_id": int(item["sslId"])}

    def import_fields(self, oid: int, details: dict[str, Any], req: Any) -> dict[str, Any]:
        return {"ssl_id": int(oid), "renew_id": details.get("renewId"), "domain": details.get("commonName"),
                "profile_id": (details.get("certType") or {}).get("id"), "term": details.get("term"),
                "comments": details.get("comments")}

    def replace(self, record: rec.CertRecord, *, csr: str, reason: str, common_name: str, sans: list[str]) -> None:
        self.scm.replace_ssl(record["ssl_id"], csr=csr, reason=reason, common_name=common_name, subject_alt_names=sans or None)

    def replace_landed(self, record: rec.CertRecord) -> bool:
        """SCM carried out a replacement: the order is no longer the issued certificate Vault holds."""
        details = self.scm.get_ssl(record["ssl_id"])
        return details.get("status") != "Issued" or details.get("serialNumber") != record.get("serial_number")

    def _revoke_order(self, oid: Any, reason: str, code: int) -> None:
        self.scm.revoke_ssl(oid, reason=reason, reason_code=code)

    def _revoke_serial(self, serial: str, reason: str, code: int) -> None:
        self.scm.revoke_ssl_by_serial(serial, reason=reason, reason_code=code)

    def revoked_in_scm(self, oid: Any) -> bool:
        return str(self.scm.get_ssl(oid).get("status", "")).lower() == "revoked"

    def cancel(self, oid: Any, reason: str) -> None:
        # SCM's decline: possible while the order awaits approval.
        self.scm.decline_ssl(oid, reason)

    def list_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        return self.scm.list_ssl_types(org_id=org_id)

    def list_custom_fields(self) -> list[dict[str, Any]]:
        return self.scm.list_ssl_custom_fields()


class SmimeKind(CertKind):
    name = rec.CLIENT_CERT
    scm_area = "smime"
    id_option = "order_number"
    other_id_option = "ssl_id"
    order_fields = ("order_number", "backend_cert_id")
    identity_options = ("email", "first_name", "last_name")
    reason_min = 0          # an S/MIME revocation reason may be empty
    renew_takes_csr = False  # S/MIME renew takes no CSR: the new order reuses the key
    replace_in_place = False  # S/MIME replace is deprecated by SCM ("use enroll instead")

    def order_id(self, record: rec.CertRecord) -> Any:
        return record.get("backend_cert_id") or record.get("order_number")

    def check_identity(self, values: dict[str, Any]) -> None:
        for key in self.identity_options:
            if not values.get(key):
                raise InputError(key, f"{key} is required to enroll a client certificate")

    def csr_common_name(self, common_name: str | None, email: str | None) -> str | None:
        return common_name or email

    def drift(self, req: Any, record: rec.CertRecord) -> list[str]:
        return ["email"] if req.email is not None and req.email != record.get("email") else []

    def identity_fields(self, req: Any, previous: rec.CertRecord | None) -> dict[str, Any]:
        return {k: getattr(req, k) if getattr(req, k) is not None else (previous or {}).get(k)
                for k in ("email", "first_name", "middle_name", "last_name")}

    def from_certificate(self, info: dict[str, Any]) -> dict[str, Any]:
        return {"email": info["email"]} if info.get("email") else {}

    @staticmethod
    def _order(answer: dict[str, Any]) -> dict[str, Any]:
        number = answer.get("orderNumber") or answer.get("backendCertId")
        return {"order_number": int(number), "backend_cert_id": str(answer.get("backendCertId") or number)}  # type: ignore[arg-type]

    def fetch(self, oid: Any, fmt: str) -> bytes:
        return self.scm.collect_smime(oid, fmt)

    def details(self, oid: Any) -> dict[str, Any]:
        for item in self.scm.iter_smime(backend_cert_id=str(oid)):
            return item
        return {}

    def status(self, oid: Any) -> str:
        item = self.details(oid)
        return str(item.get("state") or item.get("status") or "")

    def place(self, record: rec.CertRecord, issuance: dict[str, Any], org_id: int, comments: str) -> dict[str, Any]:
        answer = self.scm.enroll_smime(
            org_id=org_id, csr=record["csr"], cert_type=int(issuance["cert_type"]), term=int(issuance["term"]),
            email=record["email"], first_name=record["first_name"], last_name=record["last_name"],
            middle_name=record.get("middle_name"), comments=comments, custom_fields=issuance.get("custom_fields"))
        return self._order(answer)

    def find(self, record: rec.CertRecord, request_id: str) -> dict[str, Any] | None:
        wanted = marker(request_id)
        for item in self.scm.iter_smime(email=record["email"]):
            if wanted in (item.get("comments") or ""):
                return self._order(item)
        return None

    def renew(self, record: rec.CertRecord, csr: str | None) -> dict[str, Any]:
        return self._order(self.scm.renew_smime_by_order(record["backend_cert_id"]))

    def renewal_candidates(self, record: rec.CertRecord) -> Iterator[dict[str, Any]]:
        for item in self.scm.iter_smime(email=record["email"]):
            yield self._order(item)

    def import_fields(self, oid: int, details: dict[str, Any], req: Any) -> dict[str, Any]:
        return {"order_number": int(oid), "backend_cert_id": str(details.get("backendCertId") or oid),
                "email": req.email, "profile_id": req.cert_type, "term": req.term, "comments": details.get("comments")}

    def _revoke_order(self, oid: Any, reason: str, code: int) -> None:
        self.scm.revoke_smime_by_order(str(oid), reason=reason, reason_code=code)

    def _revoke_serial(self, serial: str, reason: str, code: int) -> None:
        self.scm.revoke_smime_by_serial(serial, reason=reason, reason_code=code)

    def revoked_in_scm(self, oid: Any) -> bool:
        return any(str(item.get("state", "")).lower() == "revoked" for item in self.scm.iter_smime(backend_cert_id=str(oid)))

    def cancel(self, oid: Any, reason: str) -> None:
        # SCM has no decline for client orders: revoking the order withdraws it before issuance.
        self.scm.revoke_smime_by_order(str(oid), reason=reason, reason_code=rec.REASON_CODES["cessationOfOperation"])

    def list_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        return self.scm.list_smime_types(org_id=org_id)

    def list_custom_fields(self) -> list[dict[str, Any]]:
        return self.scm.list_smime_custom_fields()


KINDS = {rec.SSL_CERT: SslKind, rec.CLIENT_CERT: SmimeKind}


def kind_for(config: dict[str, Any], scm_factory: Callable[[], ScmApi]) -> CertKind:
    """The kind object of a config entry (``config_type``; SSL when absent, as the Vault plugin does)."""
    return KINDS[config.get("config_type") or rec.SSL_CERT](scm_factory, config.get("customer_uri") or "")


def details_or_empty(kind: CertKind, oid: Any) -> dict[str, Any]:
    """SCM's details of an order, or {} when SCM does not know it."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmNotFoundError

    try:
        return kind.details(oid) or {}
    except ScmNotFoundError:
        return {}
