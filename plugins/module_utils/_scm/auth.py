# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How SCM knows the caller: ``requests`` auth objects for the three logins ("Authentication" in docs/scm-protocol.md).

- ``HeaderAuth``: the ``login``, ``password`` and ``customerUri`` headers of the legacy API; with a client certificate
  (``session.cert`` or the adapter's TLS context) the same without ``password``, on ``/private/api``.
- ``OAuth2ClientCredentials``: a Bearer token from the token endpoint, fetched once and kept, fetched again shortly
  before the expiry it announced and after SCM answers 401 (the request then goes once more, even a POST: a 401 means
  SCM did nothing). The token request places nothing, so it is retried like a GET.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import json
import re
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, redact
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmAuthError, ScmError, ScmServerError

try:
    from requests.auth import AuthBase
    from requests.exceptions import InvalidHeader
except ImportError:  # ansible-test's import sanity test loads module_utils without optional libraries
    AuthBase = object  # type: ignore[assignment,misc]
    InvalidHeader = ValueError  # type: ignore[assignment,misc]

# A token is fetched again this many seconds before the expiry its endpoint announced.
TOKEN_EXPIRY_MARGIN = 30
_BAD_HEADER_CHARACTERS = re.compile(r"[\r\n\x00]")


def private_api_url(base_url: str) -> str:
    """The client-certificate form of a base URL: ``.../api`` becomes ``.../private/api`` (docs/scm-protocol.md, "Base URLs")."""
    base = base_url.rstrip("/")
    if base.endswith("/api") and not base.endswith("/private/api"):
        return f"{base[:-len('/api')]}/private/api"
    return base


class HeaderAuth(AuthBase):  # type: ignore[misc,valid-type]
    """SCM's legacy login headers; ``password`` None for a client-certificate login."""

    def __init__(self, login: str, customer_uri: str, password: str | None = None) -> None:
        self.headers = {name: value for name, value in (("login", login), ("customerUri", customer_uri), ("password", password))
                        if value}
        self.secrets = (password,) if password else ()
        self.tokens_fetched = 0

    def __call__(self, request: Any) -> Any:
        for name, value in self.headers.items():
            if not isinstance(value, str) or _BAD_HEADER_CHARACTERS.search(value):
                # requests checks the headers it is given, not the ones an auth object adds; never quote the value.
                raise InvalidHeader(f"the {name} header holds a character HTTP does not allow")
        request.headers.update(self.headers)
        return request


class _NoAuth(AuthBase):  # type: ignore[misc,valid-type]
    """No login at all: for the token request itself, which must not carry the session's auth."""

    def __call__(self, request: Any) -> Any:
        return request


def _oauth_error(body: bytes | None) -> str:
    """``error: error_description`` of an OAuth2 error answer (RFC 6749 section 5.2), or a short snippet."""
    text = (body or b"").decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("error"):
        described = f": {data['error_description']}" if data.get("error_description") else ""
        return f"{data['error']}{described}"
    snippet = " ".join(re.sub(r"<[^>]*>", " ", text).split())[:160]
    return snippet or "no details in the answer"


class OAuth2ClientCredentials(AuthBase):  # type: ignore[misc,valid-type]
    """OAuth2 client credentials (RFC 6749 section 4.4) for the Admin API; one token shared by every thread of the client."""

    def __init__(self, transport: Any, token_url: str | None, client_id: str | None, client_secret: str | None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not token_url:
            raise InputError("scm_token_url", "scm_token_url is required when scm_auth_method is oauth2")
        self.transport = transport
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.clock = clock
        self.tokens_fetched = 0
        self._token: str | None = None
        self._expires: float | None = None
        self._lock = threading.Lock()
        # The token endpoint hands out tokens and places nothing: its POST may be retried like a GET.
        transport.mount_read_post(token_url)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no message may show: the client secret and the current Bearer token."""
        return tuple(value for value in (self._client_secret, self._token) if value)

    def __repr__(self) -> str:
        return f"OAuth2ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.register_hook("response", self._after)
        return request

    def token(self, stale: str | None = None) -> str:
        """The current token; a new one when there is none, it is about to expire, or it is ``stale`` (refused by SCM)."""
        with self._lock:
            fresh = self._token and (self._expires is None or self.clock() < self._expires)
            if not fresh or (stale is not None and self._token == stale):
                self._fetch()
            return self._token  # type: ignore[return-value]

    def _after(self, response: Any, **kwargs: Any) -> Any:
        """A 401 on a request with a token: one new token, the same request once more (a requests response hook)."""
        request = response.request
        if response.status_code != 401 or getattr(request, "_scm_token_retried", False):
            return response
        used = str(request.headers.get("Authorization", ""))[len("Bearer "):]
        again = request.copy()
        again.headers["Authorization"] = f"Bearer {self.token(stale=used)}"
        again._scm_token_retried = True  # pylint: disable=protected-access
        response.content  # pylint: disable=pointless-statement  # read the refusal so its connection goes back to the pool
        response.close()
        answer = response.connection.send(again, **kwargs)
        answer.history.append(response)
        answer.request = again
        return answer

    def _fetch(self) -> None:
        """POST the client credentials to the token endpoint (form-encoded) and keep the ``access_token``."""
        self._token = self._expires = None
        shown = urlunsplit(urlsplit(self.token_url)[:3] + ("", ""))
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._client_secret}
        response = self.transport.send("POST", self.token_url, data=form, auth=_NoAuth(), reads=True,
                                       doing=f"get an OAuth2 token from {shown}")
        status = response.status_code
        if status in (400, 401, 403):
            raise ScmAuthError(f"The OAuth2 token endpoint {shown} refused the client credentials: "
                               f"{redact(_oauth_error(response.content), self.secrets)} (HTTP {status}); check client_id and client_secret",
                               status=status, method="POST", url=shown)
        if status >= 300:
            error = ScmServerError if status == 429 or status >= 500 else ScmError
            raise error(f"The OAuth2 token endpoint {shown} answered HTTP {status}: {redact(_oauth_error(response.content), self.secrets)}",
                        status=status, method="POST", url=shown)
        token, lifetime = _token_of(response, shown)
        self._token = token
        self._expires = None if lifetime is None else self.clock() + max(0.0, lifetime - TOKEN_EXPIRY_MARGIN)
        self.tokens_fetched += 1


def _token_of(response: Any, shown: str) -> tuple[str, float | None]:
    """``(access_token, expires_in or None)`` of a token answer; ``ScmAuthError`` when it holds no usable Bearer token."""
    status = response.status_code
    try:
        answer = json.loads(response.content.decode("utf-8"))
        token = answer["access_token"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ScmAuthError(f"The OAuth2 token endpoint {shown} answered without an access_token (HTTP {status}); check scm_token_url",
                           status=status, method="POST", url=shown) from None
    if not isinstance(token, str) or not token:
        raise ScmAuthError(f"The OAuth2 token endpoint {shown} answered with an empty access_token", status=status, method="POST", url=shown)
    if str(answer.get("token_type") or "bearer").lower() != "bearer":
        raise ScmAuthError(f"The OAuth2 token endpoint {shown} issued a {answer.get('token_type')!r} token, not a Bearer token",
                           status=status, method="POST", url=shown)
    try:
        return token, float(answer.get("expires_in"))
    except (TypeError, ValueError):
        return token, None


def auth_for(method: str, transport: Any, *, login: str, customer_uri: str, password: str | None, client_id: str | None,
             client_secret: str | None, token_url: str | None, clock: Callable[[], float]) -> Any:
    """The auth object of one ``scm_auth_method`` (the config entry's rules were checked when it was stored)."""
    if method == "password":
        return HeaderAuth(login, customer_uri, password)
    if method == "client_certificate":
        return HeaderAuth(login, customer_uri)
    if method == "oauth2":
        return OAuth2ClientCredentials(transport, token_url, client_id, client_secret, clock=clock)
    raise InputError("scm_auth_method", f"scm_auth_method must be password, client_certificate or oauth2; got {method!r}")
