"""Request validation with SCM's error codes (docs/scm-protocol.md "Errors", "Enroll", "Replace", "Revoke", "S/MIME certificates").

Checks run in a fixed order so each mistake maps to one code: required fields (-7), field types
(-1601), organization (-639), profile (-39 / -172), term (-36), CSR (-9 / -10 / -138), key
(-11 / -13), mandatory custom fields (-62).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from scm_simulator import errors, profiles
from scm_simulator.ca import key_type, san_strings
from scm_simulator.profiles import SSL

# docs/scm-protocol.md "Enroll": csr is 1-32767 characters of base-64 and PEM armour (letters, digits, - + = / and white space).
_CSR_CHARS = re.compile(r"[A-Za-z0-9+/=\s-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[#0-9()\-+ x]*")
# Revocation reasons allowed by Mozilla policy; 2 and 6 are not (docs/scm-protocol.md "Revoke").
REASON_CODES = (0, 1, 3, 4, 5)


@dataclasses.dataclass
class EnrollRequest:
    """A validated enroll body, SSL or S/MIME."""

    org_id: int
    profile: dict[str, Any]
    term: int
    csr: x509.CertificateSigningRequest
    csr_pem: str
    comments: str
    custom_fields: list[dict[str, str]]
    external_requester: str | None = None
    subj_alt_names: list[str] = dataclasses.field(default_factory=list)
    email: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    common_name: str | None = None
    secondary_emails: list[str] = dataclasses.field(default_factory=list)


def body_object(body: Any) -> dict[str, Any]:
    """The JSON object of a request; bodies that may be empty (renew, S/MIME revoke) come in as ``{}``."""
    if body is None or body == "":
        return {}
    if not isinstance(body, dict):
        raise errors.bad_request(-1601, "Field 'body' has invalid value: a JSON object is expected.")
    return body


def require(body: dict[str, Any], field: str) -> Any:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise errors.missing(field)
    return value


def as_int(body: dict[str, Any], field: str, *, minimum: int | None = None) -> int:
    """An integer field; SCM takes ``365`` and ``"365"`` alike."""
    value = require(body, field)
    if isinstance(value, bool):
        raise errors.invalid_field(field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.invalid_field(field) from None
    if isinstance(value, float) and value != number:
        raise errors.invalid_field(field)
    if minimum is not None and number < minimum:
        raise errors.invalid_field(field)
    return number


def text(body: dict[str, Any], field: str, *, maximum: int, required: bool = False, minimum: int = 0,
         pattern: re.Pattern[str] | None = None) -> str | None:
    value = require(body, field) if required else body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not minimum <= len(value) <= maximum or (pattern is not None and value and not pattern.fullmatch(value)):
        raise errors.invalid_field(field)
    return value


def parse_csr(value: Any) -> tuple[x509.CertificateSigningRequest, str]:
    """The CSR and its normalised PEM; PEM armour is optional, as SCM allows (docs/scm-protocol.md "Enroll")."""
    if not isinstance(value, str) or not 1 <= len(value) <= 32767 or not _CSR_CHARS.fullmatch(value):
        raise errors.error(errors.INVALID_BASE64)
    armoured = value.strip()
    if "-----BEGIN" not in armoured:
        lines = "".join(armoured.split())
        armoured = "-----BEGIN CERTIFICATE REQUEST-----\n" + "\n".join(lines[i:i + 64] for i in range(0, len(lines), 64)) + \
            "\n-----END CERTIFICATE REQUEST-----"
    try:
        csr = x509.load_pem_x509_csr(armoured.encode("ascii"))
    except ValueError:
        raise errors.error(errors.CSR_DECODE) from None
    try:
        valid = csr.is_signature_valid
    except ValueError:
        valid = False
    if not valid:
        raise errors.error(errors.INVALID_CSR)
    return csr, csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def csr_common_name(csr: x509.CertificateSigningRequest) -> str:
    values = csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


def csr_sans(csr: x509.CertificateSigningRequest) -> list[str]:
    try:
        return san_strings(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (x509.ExtensionNotFound, ValueError):
        return []


def check_key(profile: dict[str, Any], csr: x509.CertificateSigningRequest) -> None:
    algorithm, param = key_type(csr.public_key())
    allowed = profile.get("keyTypes") or {}
    if algorithm not in allowed:
        raise errors.error(errors.CSR_ALGORITHM)
    if param not in allowed[algorithm]:
        raise errors.error(errors.CSR_KEY_SIZE)


def custom_fields(body: dict[str, Any], mandatory: list[str]) -> list[dict[str, str]]:
    value = body.get("customFields")
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in value):
        raise errors.invalid_field("customFields")
    fields = [{"name": f["name"], "value": "" if f.get("value") is None else str(f["value"])} for f in value]
    given = {f["name"] for f in fields if f["value"].strip()}
    if any(name not in given for name in mandatory):
        raise errors.error(errors.MISSING_CUSTOM_FIELD)
    return fields


def enroll(kind: str, body: Any, mandatory_fields: list[str]) -> EnrollRequest:
    """Validate ``POST /ssl/v1/enroll`` (docs/scm-protocol.md "Enroll") or ``POST /smime/v1/enroll`` (docs/scm-protocol.md "S/MIME certificates")."""
    body = body_object(body)
    required = ("orgId", "csr", "certType", "term") if kind == SSL else ("orgId", "csr", "certType", "term", "email", "firstName", "lastName")
    for field in required:
        require(body, field)
    org_id = as_int(body, "orgId", minimum=1)
    profile_id = as_int(body, "certType")
    term = as_int(body, "term", minimum=1)
    comments = text(body, "comments", maximum=1024) or ""
    request_fields: dict[str, Any] = {}
    if kind == SSL:
        request_fields["external_requester"] = text(body, "externalRequester", maximum=512)
        request_fields["subj_alt_names"] = _comma_list(body.get("subjAltNames"), "subjAltNames")
    else:
        request_fields.update(_person(body))
    if org_id not in profiles.org_ids():
        raise errors.error(errors.INVALID_ORG)
    profile = profiles.profile(kind, profile_id)
    if profile is None:
        raise errors.error(errors.INVALID_PROFILE if kind == SSL else errors.INVALID_CLIENT_PROFILE)
    if term not in profile["terms"]:
        raise errors.error(errors.INVALID_TERM)
    csr, csr_pem = parse_csr(body["csr"])
    check_key(profile, csr)
    fields = custom_fields(body, mandatory_fields)
    return EnrollRequest(org_id=org_id, profile=profile, term=term, csr=csr, csr_pem=csr_pem, comments=comments, custom_fields=fields,
                         **request_fields)


def _comma_list(value: Any, field: str) -> list[str]:
    # Enroll takes SANs as one comma-separated string (docs/scm-protocol.md "Enroll"); a list is accepted too.
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise errors.invalid_field(field)
    return [item.strip() for item in items if item.strip()]


def _person(body: dict[str, Any]) -> dict[str, Any]:
    email = text(body, "email", maximum=128, required=True, pattern=_EMAIL)
    first = text(body, "firstName", maximum=64, required=True)
    middle = text(body, "middleName", maximum=64)
    last = text(body, "lastName", maximum=64, required=True)
    # docs/scm-protocol.md "S/MIME certificates": "firstName middleName lastName" together must be 1-64 characters.
    full = " ".join(part for part in (first, middle, last) if part)
    if not 1 <= len(full) <= 64:
        raise errors.invalid_field("firstName, middleName, lastName (64 characters together at most)")
    text(body, "phone", maximum=32, pattern=_PHONE)
    text(body, "eppn", maximum=128)
    text(body, "upn", maximum=256)
    secondary = body.get("secondaryEmails") or []
    if not isinstance(secondary, list) or not all(isinstance(e, str) and _EMAIL.fullmatch(e) for e in secondary):
        raise errors.invalid_field("secondaryEmails")
    return {"email": email, "first_name": first, "middle_name": middle, "last_name": last,
            "common_name": text(body, "commonName", maximum=64) or full, "secondary_emails": secondary}


def revocation(body: Any, *, reason_required: bool) -> tuple[str, int]:
    """``{reason, reasonCode}`` of a revoke (docs/scm-protocol.md "Revoke"): SSL needs a reason of 1-512 characters, S/MIME may leave it empty."""
    body = body_object(body)
    if reason_required:
        reason = text(body, "reason", minimum=1, maximum=512, required=True) or ""
    else:
        reason = text(body, "reason", maximum=512) or ""
    code = body.get("reasonCode", 0)
    # The legacy reference types reasonCode as a number, the Admin spec as a string enum: take both.
    if isinstance(code, bool) or not isinstance(code, (int, str)) or str(code).strip() not in {str(c) for c in REASON_CODES}:
        raise errors.invalid_field("reasonCode")
    return reason, int(str(code).strip())


def message(body: Any) -> str:
    """The ``{"message"}`` of approve and decline (docs/scm-protocol.md "Approve and decline"), 1-512 characters."""
    return text(body_object(body), "message", minimum=1, maximum=512, required=True) or ""


def replacement(body: Any) -> tuple[x509.CertificateSigningRequest, str, str, str | None, list[str] | None]:
    """``POST /ssl/v1/replace/{id}`` (docs/scm-protocol.md "Replace"): csr and reason required; commonName and the SAN array optional."""
    body = body_object(body)
    require(body, "csr")
    reason = text(body, "reason", minimum=1, maximum=512, required=True) or ""
    common_name = text(body, "commonName", minimum=1, maximum=64)
    sans = body.get("subjectAlternativeNames")
    if sans is not None and (not isinstance(sans, list) or not all(isinstance(s, str) for s in sans)):
        raise errors.invalid_field("subjectAlternativeNames")
    csr, csr_pem = parse_csr(body["csr"])
    return csr, csr_pem, reason, common_name, [s.strip() for s in sans if s.strip()] if sans is not None else None
