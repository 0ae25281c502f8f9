"""JSON shapes of orders: SSL details and list items, S/MIME details and list items.

docs/scm-protocol.md: "Details", "Lists and counts", "S/MIME certificates".

Fields that do not apply yet are absent, as SCM leaves them out (e.g. no serialNumber before issuance).
"""
from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from scm_simulator import errors, profiles
from scm_simulator.ca import general_names, key_type
from scm_simulator.profiles import SMIME, SSL
from scm_simulator.store import Order

# dateFormat (docs/scm-protocol.md "Dates"): named styles, or a Java-style pattern such as dd.MM.yyyy.
_NAMED_DATE_FORMATS = {"ISO": "yyyy-MM-dd", "US": "MM/dd/yyyy", "EU": "dd.MM.yyyy", "UK": "dd/MM/yyyy", "JP": "yyyy/MM/dd"}
_PATTERN_TOKENS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_TOKEN = re.compile("|".join(sorted(_PATTERN_TOKENS, key=len, reverse=True)))
US_DATES = "%m/%d/%Y"
ISO_DATES = "%Y-%m-%d"
# Statuses with a certificate to show: before issuance SCM shows no serial number or certificate details (docs/scm-protocol.md "Details").
_WITH_CERTIFICATE = ("Issued", "Revoked", "Expired")
# S/MIME speaks lower-case states (docs/scm-protocol.md "S/MIME certificates"); the SSL words of the internal status map onto them.
_SMIME_STATES = {"Init": "blank", "Requested": "requested", "SAApproved": "requested", "Approved": "requested", "Applied": "requested",
                 "Issued": "issued", "Revoked": "revoked", "Expired": "expired", "Declined": "rejected", "Rejected": "rejected",
                 "Invalid": "rejected"}
_EKU_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
              ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection"}
_NAME_ABBREVIATIONS = {NameOID.EMAIL_ADDRESS: "E"}
# Spelled as SCM's details show them, e.g. SHA256WITHRSA (docs/scm-protocol.md "Details").
_SIGNATURE_NAMES = {SignatureAlgorithmOID.RSA_WITH_SHA256: "SHA256WITHRSA", SignatureAlgorithmOID.RSA_WITH_SHA384: "SHA384WITHRSA",
                    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "SHA256WITHECDSA", SignatureAlgorithmOID.ECDSA_WITH_SHA384: "SHA384WITHECDSA"}
_KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement")


def date_format(value: str | None, default: str) -> str:
    """A strftime pattern for the ``dateFormat`` query parameter (case-insensitive names, ``_HMS`` adds the time)."""
    if not value:
        return default
    name = value.strip().upper()
    with_time = name.endswith("_HMS")
    base = name[:-4] if with_time else name
    if base in _NAMED_DATE_FORMATS:
        pattern = _NAMED_DATE_FORMATS[base] + (" HH:mm:ss" if with_time else "")
    elif _TOKEN.search(value):
        pattern = value
    else:
        raise errors.invalid_field("dateFormat")
    return _TOKEN.sub(lambda m: _PATTERN_TOKENS[m.group(0)], pattern.replace("%", "%%"))


def _date(timestamp: float | None, fmt: str) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime(fmt)


def smime_state(order: Order) -> str:
    if order.status == "Revoked" and not order.certificate:
        return "pre_revoked"  # withdrawn before issuance (§5.4)
    return _SMIME_STATES.get(order.status, order.status.lower())


def status_of(order: Order) -> str:
    return order.status if order.kind == SSL else smime_state(order)


def has_certificate(order: Order) -> bool:
    return bool(order.certificate) and order.status in _WITH_CERTIFICATE


def _certificate(order: Order) -> x509.Certificate | None:
    return x509.load_pem_x509_certificate(order.certificate.encode("ascii")) if has_certificate(order) and order.certificate else None


def _san_text(sans: list[str]) -> str:
    names = {x509.DNSName: "dNSName", x509.RFC822Name: "rfc822Name", x509.IPAddress: "iPAddress"}
    return ", ".join(f"{names.get(type(name), 'otherName')}={value}" for name, value in zip(general_names(sans), sans))


def certificate_details(order: Order) -> dict[str, Any] | None:
    """``certificateDetails`` of docs/scm-protocol.md "Details": issuer, subject, SANs as one string, hashes of the DER certificate."""
    cert = _certificate(order)
    if cert is None:
        return None
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"issuer": cert.issuer.rfc4514_string(), "subject": cert.subject.rfc4514_string(_NAME_ABBREVIATIONS), "subjectAltNames": _san_text(order.sans),
            "md5Hash": hashlib.md5(der, usedforsecurity=False).hexdigest().upper(), "sha1Hash": hashlib.sha1(der).hexdigest().upper()}


def key_algorithm(order: Order) -> str:
    return key_type(x509.load_pem_x509_csr(order.csr.encode("ascii")).public_key())[0]


def _key_fields(order: Order) -> dict[str, Any]:
    csr = x509.load_pem_x509_csr(order.csr.encode("ascii"))
    algorithm, param = key_type(csr.public_key())
    size = int(param) if param.isdigit() else int(param[2:]) if param.startswith("P-") else None
    out: dict[str, Any] = {"keyAlgorithm": algorithm, "keySize": size, "keyType": f"{algorithm} - {param}"}
    cert = _certificate(order)
    if cert is not None:
        out["signatureAlg"] = _SIGNATURE_NAMES.get(cert.signature_algorithm_oid, cert.signature_algorithm_oid.dotted_string)
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        out["keyUsages"] = [_camel(name) for name in _KEY_USAGES if getattr(usage, name)]
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        out["extendedKeyUsages"] = [_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku]
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _dates(order: Order, fmt: str) -> dict[str, Any]:
    shown = has_certificate(order)
    return {
        "requested": _date(order.requested_at, fmt), "approved": _date(order.approved_at, fmt), "declined": _date(order.declined_at, fmt),
        "issued": _date(order.issued_at, fmt) if shown else None, "expires": _date(order.not_after, fmt) if shown else None,
        "replaced": _date(order.replaced_at, fmt), "revoked": _date(order.revoked_at, fmt) if order.status == "Revoked" else None,
        "renewedDate": _date(order.renewed_at, fmt),
    }


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def ssl_details(order: Order, login: str, fmt: str = US_DATES) -> dict[str, Any]:
    """``GET /ssl/v1/{sslId}`` (docs/scm-protocol.md "Details")."""
    shown = has_certificate(order)
    out: dict[str, Any] = {
        "commonName": order.common_name, "sslId": order.id, "id": order.id, "orgId": order.org_id, "status": order.status,
        "orderNumber": order.order_number, "backendCertId": order.backend_cert_id, "vendor": "Sectigo Limited",
        "certType": profiles.profile(SSL, order.profile_id), "validationType": profiles.VALIDATION_TYPES.get(order.profile_id),
        "term": order.term, "requester": order.requester or login,
        "requestedVia": order.requested_via or "REST API", "externalRequester": order.external_requester,
        "comments": order.comments, "renewed": order.renewed, "renewId": order.renew_id,
        "reasonCode": order.reason_code if order.status == "Revoked" else None,
        "serialNumber": order.serial_number if shown else None, "subjectAlternativeNames": list(order.sans),
        "customFields": list(order.custom_fields), "certificateDetails": certificate_details(order),
        "autoInstallDetails": {"state": "Not configured"}, "autoRenewDetails": {"state": "Not scheduled"}, "suspendNotifications": False,
    }
    if order.approved_at is not None:
        out["owner"] = login
    out.update(_dates(order, fmt))
    out.update(_key_fields(order))
    return _without_none(out)


def smime_details(order: Order, fmt: str = US_DATES) -> dict[str, Any]:
    """``GET /smime/v1/{id}`` (docs/scm-protocol.md "S/MIME certificates"): the internal record id, lower-case status."""
    shown = has_certificate(order)
    out: dict[str, Any] = {
        "commonName": order.common_name, "id": order.id, "orgId": order.org_id, "status": smime_state(order),
        "backendCertId": order.backend_cert_id, "orderNumber": order.order_number, "certType": profiles.profile(SMIME, order.profile_id),
        "term": order.term, "requestedVia": "REST Enroll API", "email": order.email, "personId": order.person_id,
        "reasonCode": order.reason_code if order.status == "Revoked" else None, "serialNumber": order.serial_number if shown else None,
        "subjectAlternativeNames": list(order.sans), "customFields": list(order.custom_fields),
        "certificateDetails": certificate_details(order), "suspendNotifications": False, "comments": order.comments,
        "renewed": order.renewed,
    }
    out.update({k: v for k, v in _dates(order, fmt).items() if k in ("requested", "issued", "expires", "revoked")})
    out.update(_key_fields(order))
    return _without_none(out)


def ssl_list_item(order: Order) -> dict[str, Any]:
    """A row of ``GET /ssl/v1``: only these four fields; clients fetch details per id (docs/scm-protocol.md "Lists and counts")."""
    return _without_none({"sslId": order.id, "commonName": order.common_name, "subjectAlternativeNames": list(order.sans),
                          "serialNumber": order.serial_number if has_certificate(order) else None})


def smime_list_item(order: Order, fmt: str = ISO_DATES) -> dict[str, Any]:
    """A row of ``GET /smime/v2`` (docs/scm-protocol.md "S/MIME certificates"); ``expires`` is ISO ``yyyy-MM-dd``. SCM documents ``serialNumber`` and
    ``expires`` as strings: before issuance they are left out, never null."""
    details = certificate_details(order) or {}
    row = {"id": order.id, "state": smime_state(order), "certificateDetails": details, "orderNumber": order.order_number,
           "backendCertId": order.backend_cert_id, "comments": order.comments}
    if has_certificate(order):
        row.update(serialNumber=order.serial_number, expires=_date(order.not_after, fmt))
    return row
