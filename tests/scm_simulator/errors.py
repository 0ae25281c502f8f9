"""SCM error answers: an HTTP status plus the ``{"code", "description"}`` body of docs/scm-protocol.md "Errors".

The codes and their texts are SCM's own (docs/scm-protocol.md "Errors"); ``{0}`` placeholders are filled in here.
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised anywhere below the HTTP layer; the server turns it into the JSON error answer."""

    def __init__(self, status: int, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code} {description}")
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description}


def bad_request(code: int, description: str) -> ApiError:
    return ApiError(400, code, description)


# Authentication (docs/scm-protocol.md "Authentication"): checked before anything else, with the text recorded from real traffic.
def unauthorized() -> ApiError:
    return ApiError(401, -16, "Invalid auth data")


def invalid_token() -> ApiError:
    # The Admin API's 401 names the token endpoint in WWW-Authenticate (docs/scm-protocol.md, "OAuth2 client credentials").
    return ApiError(401, -16, "Invalid auth data", {"WWW-Authenticate": 'Bearer realm="apiclients", error="invalid_token"'})


def missing(field: str) -> ApiError:
    return bad_request(-7, f"{field} is required but missing.")


def invalid_field(field: str) -> ApiError:
    return bad_request(-1601, f"Field '{field}' has invalid value.")


def not_found(oid: Any) -> ApiError:
    # The Admin spec answers 404 with a code for unknown ids (docs/scm-protocol.md "Requests and answers", "Errors"); -5101 is its generic text.
    return ApiError(404, -5101, f"Certificate not found. {oid}")


def unknown_endpoint(method: str, path: str) -> ApiError:
    return ApiError(404, -1, f"Unknown error. No endpoint {method} {path}.")


def method_not_allowed(method: str, path: str, allowed: list[str]) -> ApiError:
    return ApiError(405, -1, f"Unknown error. {method} is not supported on {path}.", {"Allow": ", ".join(allowed)})


# Enroll validation (docs/scm-protocol.md "Enroll", "S/MIME certificates").
INVALID_BASE64 = (-9, "The CSR is not valid Base-64 data!")
CSR_DECODE = (-10, "Error while decoding CSR.")
CSR_ALGORITHM = (-11, "The CSR uses an unsupported algorithm!")
CSR_KEY_SIZE = (-13, "The CSR uses an unsupported key size!")
INVALID_TERM = (-36, "The validity period (term) is invalid for this certificate profile.")
INVALID_PROFILE = (-39, "The certificate profile id is invalid!")
INVALID_CLIENT_PROFILE = (-172, "The Client Certificate Profile is invalid!")
MISSING_CUSTOM_FIELD = (-62, "Missing mandatory custom field!")
INVALID_CSR = (-138, "Invalid CSR.")
INVALID_ORG = (-639, "Supplied orgid invalid..")
PERSON_NAME_EMPTY = (-500, "Person name cannot be empty")

# Life cycle (docs/scm-protocol.md "Collect", "Revoke", "S/MIME certificates").
ONLY_ISSUED_REVOCABLE = (-102, "Only issued certificates could be revoked.")
REVOKED_NOT_DOWNLOADABLE = (-110, "Certificate has been revoked and cannot be downloaded.")
NO_MATCHING_CERTIFICATE = (-166, "Entered data doesn't match the certificate or no valid certificate found")
RENEW_ID_UNKNOWN = (-123, "SSL Certificate to renew is invalid (null)")
UNSUPPORTED_FORMAT = -1450  # "Unsupported certificate format specified: {0}"
NOT_APPROVABLE = -1112  # "Certificate can't be approved cause it has state = {0}"
NOT_ISSUED_FOR_RENEW = -130  # "SSL state is not 'ISSUED': {0}"
SMIME_RENEW_FAILED = -105  # "Error was occurred while renewing cert. Status = {0}"

# Collect before issuance (docs/scm-protocol.md "Errors", "Status values"): which code is configurable; these are the known texts.
PENDING_DESCRIPTIONS = {
    0: "Being processed by Sectigo",
    -183: "Certificate is not collectable.",
    -1400: "The request is being processed by Sectigo.",
    -109: "Certificate is not available now, please try again later.",
}


def error(pair: tuple[int, str]) -> ApiError:
    """A 400 answer from one of the (code, description) pairs above."""
    return bad_request(*pair)


def pending(code: int) -> ApiError:
    return bad_request(code, PENDING_DESCRIPTIONS.get(code, PENDING_DESCRIPTIONS[-109]))
