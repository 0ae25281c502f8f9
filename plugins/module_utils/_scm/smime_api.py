# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM's client (S/MIME) certificate endpoints, ``/smime/...``: one method per endpoint ("S/MIME certificates" in
docs/scm-protocol.md). With OAuth2 (the Admin API) every ``/smime/v1/`` path is sent as ``/smime/v2/`` (``Endpoints._url``).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any, Iterator

from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.endpoints import (
    PAGE_SIZE, Endpoints, field_list, names_list, revoke_body, segment,
)

SMIME_LIST_FILTERS = {
    "date_format": "dateFormat",
    "person_id": "personId", "state": "state", "cert_type_id": "certTypeId", "serial_number": "serialNumber",
    "backend_cert_id": "backendCertId", "email": "email", "key_vault": "keyVault", "signature_algorithm": "signatureAlgorithm",
    "key_algorithm": "keyAlgorithm", "key_param": "keyParam", "key_usage": "keyUsage", "extended_key_usage": "extendedKeyUsage",
}


class SmimeEndpoints(Endpoints):
    """``/smime``: profiles, enroll, collect, lists, renew and revoke of client certificates."""

    def list_smime_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        """GET /smime/v1/types [S/MIME certificates]."""
        return self._json("GET", "/smime/v1/types", params=None if org_id is None else {"organizationId": int(org_id)}) or []

    def list_smime_custom_fields(self) -> list[dict[str, Any]]:
        """GET /smime/v1/customFields [S/MIME certificates]."""
        return self._json("GET", "/smime/v1/customFields") or []

    def enroll_smime(self, *, org_id: int, csr: str, cert_type: int, term: int, email: str, first_name: str, last_name: str,
                     middle_name: str | None = None, common_name: str | None = None, comments: str | None = None,
                     custom_fields: Any = None, phone: str | None = None,
                     secondary_emails: Any = None, eppn: str | None = None, upn: str | None = None) -> dict[str, Any]:
        """POST /smime/v1/enroll [S/MIME certificates] -> ``{"orderNumber": int, "backendCertId": str}``. Sent once."""
        body: dict[str, Any] = {"orgId": int(org_id), "csr": csr, "certType": int(cert_type), "term": int(term), "email": email,
                                "firstName": first_name, "lastName": last_name}
        optional = {"middleName": middle_name, "commonName": common_name, "comments": comments, "phone": phone, "eppn": eppn, "upn": upn}
        body.update({key: value for key, value in optional.items() if value})
        if secondary_emails:
            body["secondaryEmails"] = names_list(secondary_emails)
        if custom_fields:
            body["customFields"] = field_list(custom_fields)
        answer = self._json("POST", "/smime/v1/enroll", body=body)
        if isinstance(answer, dict) and answer.get("backendCertId") in (None, "") and answer.get("orderNumber") is not None:
            # Older servers answer with orderNumber only; for the public CA both carry the same digits ("S/MIME certificates").
            answer["backendCertId"] = str(answer["orderNumber"])
        return self._answer("POST", "/smime/v1/enroll", answer, "orderNumber", "backendCertId")

    def collect_smime(self, backend_cert_id: int | str, fmt: str = "x509CO") -> bytes:
        """GET /smime/v1/collect/{backendCertId}?format= [S/MIME certificates]; raises ``ScmPending`` while not issued."""
        return self._collect(f"/smime/v1/collect/{segment(backend_cert_id)}", fmt)

    def list_smime(self, size: int = PAGE_SIZE, position: int = 0, **filters: Any) -> tuple[list[dict[str, Any]], int | None]:
        """GET /smime/v2 [S/MIME certificates] -> ``(items, X-Total-Count or None)``."""
        return self._list("/smime/v2", SMIME_LIST_FILTERS, size, position, filters, "list_smime")

    def iter_smime(self, *, page_size: int = PAGE_SIZE, **filters: Any) -> Iterator[dict[str, Any]]:
        """All items of GET /smime/v2, page by page until a short page."""
        return self._iter("/smime/v2", SMIME_LIST_FILTERS, filters, "iter_smime", page_size)

    def count_smime(self, **filters: Any) -> int:
        """HEAD /smime/v2 [S/MIME certificates] -> X-Total-Count."""
        return self._count("/smime/v2", SMIME_LIST_FILTERS, filters, "count_smime")

    def renew_smime_by_order(self, backend_cert_id: int | str) -> dict[str, Any]:
        """POST /smime/v2/renew/order/{backendCertId} [S/MIME certificates] -> the new ``{orderNumber, backendCertId}``. Sent once."""
        path = f"/smime/v2/renew/order/{segment(backend_cert_id)}"
        return self._answer("POST", path, self._json("POST", path), "orderNumber")

    def revoke_smime_by_order(self, backend_cert_id: int | str, *, reason: str = "", reason_code: int = 0) -> None:
        """POST /smime/v1/revoke/order/{backendCertId} [S/MIME certificates]; the reason may be empty for S/MIME."""
        self._request("POST", f"/smime/v1/revoke/order/{segment(backend_cert_id)}", body=revoke_body(reason, reason_code))

    def revoke_smime_by_serial(self, serial: str, *, reason: str = "", reason_code: int = 0) -> None:
        """POST /smime/v1/revoke/serial/{serial} [S/MIME certificates]."""
        self._request("POST", f"/smime/v1/revoke/serial/{segment(serial)}", body=revoke_body(reason, reason_code))
