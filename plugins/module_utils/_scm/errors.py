# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the SCM REST client, mapped from HTTP status and SCM's ``{code, description}`` body.

docs/scm-protocol.md, "Errors": every error response should carry ``{"code": <int>, "description": <str>}``, but
empty and non-JSON bodies occur (proxies, gateways), so the factory tolerates any body. Messages,
attributes and reprs hold the method, the endpoint path and SCM's own words, never a header, the
password, a CSR or a key.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import redact

# Collect answers meaning "not issued yet, ask again later" (docs/scm-protocol.md, "Collect" and "Errors").
PENDING_CODES = frozenset({0, -183, -1400, -109})
# "This id does not exist" as SCM words it on the legacy API (docs/scm-protocol.md, "Errors").
NOT_FOUND_CODES = frozenset({-124, -5101, -1104})
# "Unknown user" / "Incorrect login credentials" ("Authentication", "Errors"), whatever the HTTP status.
AUTH_CODES = frozenset({-16, -970})
# Statuses a GET may be retried on (docs/scm-protocol.md, "Retries").
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

_TAGS = re.compile(r"<[^>]*>")
_SNIPPET_CHARS = 160


class ScmError(Exception):
    """Any failure talking to SCM.

    ``status`` is the HTTP status (None when no answer came), ``scm_code`` and ``description`` are
    SCM's error body, ``method`` and ``url`` name the request (``url`` without query string).
    ``may_have_reached`` is True when a POST failed in a way that leaves open whether SCM acted on
    it: the caller must look the order up instead of sending it again.
    """

    def __init__(self, message: str, *, status: int | None = None, scm_code: int | None = None, description: str | None = None,
                 method: str | None = None, url: str | None = None, may_have_reached: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.scm_code = scm_code
        self.description = description
        self.method = method
        self.url = url
        self.may_have_reached = may_have_reached

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.message!r}, status={self.status!r}, scm_code={self.scm_code!r}, "
                f"method={self.method!r}, url={self.url!r}, may_have_reached={self.may_have_reached!r})")

    def to_dict(self) -> dict[str, Any]:
        """Public facts for a task result or a Vault record."""
        return {"status": self.status, "scm_code": self.scm_code, "description": self.description or self.message}


class ScmAuthError(ScmError):
    """SCM refused the credentials (HTTP 401, code -16)."""


class ScmNotFoundError(ScmError):
    """The certificate, order or object does not exist (HTTP 404, or code -124, -5101, -1104)."""


class ScmPending(ScmError):
    """A collect found the certificate not issued yet (HTTP 400 with a code in PENDING_CODES, or an empty 200).

    Raised by the collect methods only; ``scm_code`` says which pending answer SCM gave.
    """


class ScmRequestError(ScmError):
    """SCM refused the request (any other 4xx), e.g. -36 term not allowed for the profile."""


class ScmServerError(ScmError):
    """SCM failed (5xx) or throttled (429), after the retries a GET is allowed."""


class ScmConnectionError(ScmError):
    """No HTTP answer: DNS, connect, TLS, timeout or a connection dropped mid-request."""


def parse_error_body(body: bytes | str | None) -> tuple[int | None, str | None, str | None]:
    """``(code, description, snippet)`` of an error body; ``snippet`` is set only for non-JSON bodies."""
    if body is None:
        return None, None, None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text.strip():
        return None, None, None
    try:
        data = json.loads(text)
    except ValueError:
        snippet = " ".join(_TAGS.sub(" ", text).split())
        return None, None, (snippet[:_SNIPPET_CHARS] + "...") if len(snippet) > _SNIPPET_CHARS else snippet or None
    if not isinstance(data, dict):
        return None, None, None
    code = data.get("code")
    try:
        code = int(code) if code is not None and not isinstance(code, bool) else None
    except (TypeError, ValueError):
        code = None
    description = data.get("description")
    description = str(description) if description not in (None, "") else None
    # The Admin API's error body may add ``details`` (string) and ``items`` (strings): "Errors" in docs/scm-protocol.md.
    extra = [str(data["details"])] if data.get("details") else []
    if isinstance(data.get("items"), list):
        extra.extend(str(item) for item in data["items"])
    if extra:
        description = "; ".join(([description] if description else []) + extra)
    return code, description, None


def error_from_response(status: int, body: bytes | str | None, *, method: str, url: str, path: str | None = None,
                        collect: bool = False, may_have_reached: bool = False, attempts: int = 1,
                        secrets: tuple[str, ...] = ()) -> ScmError:
    """The one place that turns an SCM error answer into an exception.

    ``path`` is the endpoint as shown in messages (``/ssl/v1/enroll``); ``collect`` allows
    ``ScmPending``; ``attempts`` > 1 is mentioned so a user sees the retries were spent.
    """
    code, description, snippet = parse_error_body(body)
    if description is not None:
        description = redact(description, secrets)
    if snippet is not None:
        snippet = redact(snippet, secrets)
    shown = path or url
    if code is not None and description:
        reason = f"{code} {description}"
    elif code is not None:
        reason = f"code {code}"
    else:
        reason = description or snippet or "no error details in the answer"
    tail = f"HTTP {status}" + (f", {attempts} attempts" if attempts > 1 else "")
    kwargs: dict[str, Any] = dict(status=status, scm_code=code, description=description, method=method, url=url)

    if collect and status == 400 and code in PENDING_CODES:
        return ScmPending(f"SCM has not issued the certificate yet ({method} {shown}): {reason} ({tail})", **kwargs)
    if status == 401 or code in AUTH_CODES:
        return ScmAuthError(f"SCM refused the credentials ({method} {shown}): {reason} ({tail}); check login, password "
                            "(or client certificate), customer_uri, or client_id and client_secret", **kwargs)
    if status == 404 or code in NOT_FOUND_CODES:
        return ScmNotFoundError(f"SCM found no such object ({method} {shown}): {reason} ({tail})", **kwargs)
    if status == 429 or status >= 500:
        verb = "throttled" if status == 429 else "failed"
        return ScmServerError(f"SCM {verb} {method} {shown}: {reason} ({tail})", may_have_reached=may_have_reached and status != 429,
                              **kwargs)
    if 400 <= status < 500:
        return ScmRequestError(f"SCM refused {method} {shown}: {reason} ({tail})", **kwargs)
    return ScmError(f"SCM answered {method} {shown} unexpectedly: {reason} ({tail})", may_have_reached=may_have_reached, **kwargs)
