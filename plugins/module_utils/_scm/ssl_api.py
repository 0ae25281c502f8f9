# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM's SSL/TLS certificate endpoints, ``/ssl/v1/...``: one method per endpoint (docs/scm-protocol.md names each).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any, Iterator

from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.endpoints import (
    PAGE_SIZE, Endpoints, field_list, names_list, revoke_body, segment,
)

# snake_case keyword -> SCM query name ("Lists and counts" in docs/scm-protocol.md).
SSL_LIST_FILTERS = {
    "date_format": "dateFormat",
    "common_name": "commonName", "subject_alternative_name": "subjectAlternativeName", "status": "status",
    "ssl_type_id": "sslTypeId", "discovery_status": "discoveryStatus", "vendor": "vendor", "org_id": "orgId",
    "install_status": "installStatus", "renewal_status": "renewalStatus", "issuer": "issuer", "serial_number": "serialNumber",
    "requester": "requester", "external_requester": "externalRequester", "signature_algorithm": "signatureAlgorithm",
    "key_algorithm": "keyAlgorithm", "key_size": "keySize", "key_param": "keyParam", "sha1_hash": "sha1Hash",
    "md5_hash": "md5Hash", "sha256_hash": "sha256Hash", "key_usage": "keyUsage", "extended_key_usage": "extendedKeyUsage",
    "requested_via": "requestedVia",
}


class SslEndpoints(Endpoints):
    """``/ssl/v1``: profiles, enroll, collect, details, lists, renew, replace, revoke, approve and decline."""

    def list_ssl_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        """GET /ssl/v1/types [Profiles and custom fields]."""
        return self._json("GET", "/ssl/v1/types", params=None if org_id is None else {"organizationId": int(org_id)}) or []

    def list_ssl_custom_fields(self) -> list[dict[str, Any]]:
        """GET /ssl/v1/customFields [Profiles and custom fields]."""
        return self._json("GET", "/ssl/v1/customFields") or []

    def enroll_ssl(self, *, org_id: int, csr: str, cert_type: int, term: int, subj_alt_names: Any = None, comments: str | None = None,
                   external_requester: Any = None, custom_fields: Any = None,
                   num_servers: int | None = None, server_type: int | None = None) -> dict[str, Any]:
        """POST /ssl/v1/enroll [Enroll] -> ``{"sslId": int, "renewId": str}``. Sent once."""
        body: dict[str, Any] = {"orgId": int(org_id), "csr": csr, "certType": int(cert_type), "term": int(term)}
        if subj_alt_names:
            # A comma-separated string here, an array in replace ("Enroll" and "Replace" in docs/scm-protocol.md).
            body["subjAltNames"] = ",".join(names_list(subj_alt_names))
        if comments:
            body["comments"] = comments
        if external_requester:
            body["externalRequester"] = ",".join(names_list(external_requester))
        if custom_fields:
            body["customFields"] = field_list(custom_fields)
        if num_servers is not None:
            body["numberServers"] = int(num_servers)
        if server_type is not None:
            body["serverType"] = int(server_type)
        return self._answer("POST", "/ssl/v1/enroll", self._json("POST", "/ssl/v1/enroll", body=body), "sslId")

    def collect_ssl(self, ssl_id: int | str, fmt: str = "x509CO") -> bytes:
        """GET /ssl/v1/collect/{id}?format= [Collect]; raises ``ScmPending`` while not issued."""
        return self._collect(f"/ssl/v1/collect/{segment(ssl_id)}", fmt)

    def get_ssl(self, ssl_id: int | str) -> dict[str, Any]:
        """GET /ssl/v1/{id} [Details]."""
        return self._json("GET", f"/ssl/v1/{segment(ssl_id)}") or {}

    def list_ssl(self, size: int = PAGE_SIZE, position: int = 0, **filters: Any) -> tuple[list[dict[str, Any]], int | None]:
        """GET /ssl/v1 [Lists and counts] -> ``(items, X-Total-Count or None)``."""
        return self._list("/ssl/v1", SSL_LIST_FILTERS, size, position, filters, "list_ssl")

    def iter_ssl(self, *, page_size: int = PAGE_SIZE, **filters: Any) -> Iterator[dict[str, Any]]:
        """All items of GET /ssl/v1, page by page until a short page."""
        return self._iter("/ssl/v1", SSL_LIST_FILTERS, filters, "iter_ssl", page_size)

    def count_ssl(self, **filters: Any) -> int:
        """HEAD /ssl/v1 [Lists and counts] -> X-Total-Count."""
        return self._count("/ssl/v1", SSL_LIST_FILTERS, filters, "count_ssl")

    def renew_ssl(self, ssl_id: int | str, csr: str | None = None) -> int:
        """POST /ssl/v1/renewById/{id} [Renew] -> the new sslId. Sent once."""
        path = f"/ssl/v1/renewById/{segment(ssl_id)}"
        answer = self._answer("POST", path, self._json("POST", path, body={"csr": csr} if csr else {}), "sslId")
        return int(answer["sslId"])

    def replace_ssl(self, ssl_id: int | str, *, csr: str, reason: str, common_name: str | None = None,
                    subject_alt_names: Any = None) -> None:
        """POST /ssl/v1/replace/{id} [Replace]; the certificate keeps its sslId. Sent once."""
        body: dict[str, Any] = {"csr": csr, "reason": reason}
        if common_name:
            body["commonName"] = common_name
        if subject_alt_names:
            body["subjectAlternativeNames"] = names_list(subject_alt_names)
        self._request("POST", f"/ssl/v1/replace/{segment(ssl_id)}", body=body)

    def revoke_ssl(self, ssl_id: int | str, *, reason: str, reason_code: int = 0) -> None:
        """POST /ssl/v1/revoke/{id} [Revoke]; already revoked answers -102 (``ScmRequestError``)."""
        self._request("POST", f"/ssl/v1/revoke/{segment(ssl_id)}", body=revoke_body(reason, reason_code))

    def revoke_ssl_by_serial(self, serial: str, *, reason: str, reason_code: int = 0) -> None:
        """POST /ssl/v1/revoke/serial/{serial} [Revoke]."""
        self._request("POST", f"/ssl/v1/revoke/serial/{segment(serial)}", body=revoke_body(reason, reason_code))

    def approve_ssl(self, ssl_id: int | str, message: str) -> None:
        """POST /ssl/v1/approve/{id} [Approve and decline]."""
        self._request("POST", f"/ssl/v1/approve/{segment(ssl_id)}", body={"message": message})

    def decline_ssl(self, ssl_id: int | str, message: str) -> None:
        """POST /ssl/v1/decline/{id} [Approve and decline]."""
        self._request("POST", f"/ssl/v1/decline/{segment(ssl_id)}", body={"message": message})
