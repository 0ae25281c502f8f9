# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REST client for Sectigo Certificate Manager (SCM); the protocol is described in docs/scm-protocol.md.

Three logins ("Authentication"): login/password headers on ``/api``, a TLS client certificate on
``/private/api``, and OAuth2 client credentials (a Bearer token) on the Admin API.

One ``requests.Session`` per client and one method per endpoint; no Ansible in here. GETs and HEADs
are retried with backoff on 429/5xx and connection errors; a POST is sent once, because enroll,
renew and replace are not idempotent ("Retries" in docs/scm-protocol.md): when its fate is unknown
the error says ``may_have_reached=True`` and the caller reconciles. The only POST retried is one whose
connection was never established, or one SCM refused with 401 before acting (a Bearer token that
expired is fetched again once), so it cannot have reached SCM.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import email.utils
import json
import os
import random
import re
import shutil
import ssl
import tempfile
import time
import traceback
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import environment_once
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import (
    RETRYABLE_STATUSES, ScmAuthError, ScmConnectionError, ScmError, ScmPending, ScmServerError, error_from_response, redact,
)

try:
    import requests
    import urllib3.exceptions
    from requests.adapters import HTTPAdapter
    from urllib3.util.ssl_ import create_urllib3_context
except ImportError:  # ansible-test's import sanity test loads module_utils without optional libraries
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

AUTH_METHODS = ("password", "client_certificate", "oauth2")
# OAuth2 client credentials: Sectigo's token endpoint and Admin API root ("Authentication" in docs/scm-protocol.md).
DEFAULT_TOKEN_URL = "https://auth.sso.sectigo.com/auth/realms/apiclients/protocol/openid-connect/token"
DEFAULT_ADMIN_API_URL = "https://admin.enterprise.sectigo.com/api"
# A token is fetched again this many seconds before the expiry its endpoint announced.
TOKEN_EXPIRY_MARGIN = 30
PAGE_SIZE = 200
JSON_CONTENT_TYPE = "application/json;charset=utf-8"
USER_AGENT = "sectigo.vault_pki"

# snake_case keyword -> SCM query name, per list endpoint ("Lists and counts" in docs/scm-protocol.md).
_COMMON_FILTERS = {"date_format": "dateFormat"}
SSL_LIST_FILTERS = dict(_COMMON_FILTERS, **{
    "common_name": "commonName", "subject_alternative_name": "subjectAlternativeName", "status": "status",
    "ssl_type_id": "sslTypeId", "discovery_status": "discoveryStatus", "vendor": "vendor", "org_id": "orgId",
    "install_status": "installStatus", "renewal_status": "renewalStatus", "issuer": "issuer", "serial_number": "serialNumber",
    "requester": "requester", "external_requester": "externalRequester", "signature_algorithm": "signatureAlgorithm",
    "key_algorithm": "keyAlgorithm", "key_size": "keySize", "key_param": "keyParam", "sha1_hash": "sha1Hash",
    "md5_hash": "md5Hash", "sha256_hash": "sha256Hash", "key_usage": "keyUsage", "extended_key_usage": "extendedKeyUsage",
    "requested_via": "requestedVia",
})
SMIME_LIST_FILTERS = dict(_COMMON_FILTERS, **{
    "person_id": "personId", "state": "state", "cert_type_id": "certTypeId", "serial_number": "serialNumber",
    "backend_cert_id": "backendCertId", "email": "email", "key_vault": "keyVault", "signature_algorithm": "signatureAlgorithm",
    "key_algorithm": "keyAlgorithm", "key_param": "keyParam", "key_usage": "keyUsage", "extended_key_usage": "extendedKeyUsage",
})

# Raised while preparing a request, before any connection: nothing was sent, nothing to retry.
_UNSENDABLE = (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema,
               requests.exceptions.InvalidSchema, requests.exceptions.URLRequired) if HAS_REQUESTS else ()
_OBJECT_AT = re.compile(r"<[^>]* object at 0x[0-9a-fA-F]+>:?\s*")


def private_api_url(base_url: str) -> str:
    """The client-certificate form of a base URL: ``.../api`` becomes ``.../private/api`` (docs/scm-protocol.md, "Base URLs")."""
    base = base_url.rstrip("/")
    if base.endswith("/api") and not base.endswith("/private/api"):
        return f"{base[:-len('/api')]}/private/api"
    return base


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_total_count(value: str | None) -> int | None:
    """``X-Total-Count`` as an int, None when absent or not a number ("Lists and counts")."""
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _validate_text(field: str, value: Any, *, minimum: int, maximum: int) -> str:
    if not isinstance(value, str) or not minimum <= len(value) <= maximum:
        got = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        raise InputError(field, f"{field} must be a string of {minimum} to {maximum} characters; got {got}")
    return value


def _validate_reason_code(value: Any) -> int:
    try:
        code = int(value)
    except (TypeError, ValueError):
        code = None
    if isinstance(value, bool) or code not in rec.REASON_CODES.values():
        raise InputError("reason_code", f"reason_code must be one of {', '.join(str(c) for c in rec.REASON_CODES.values())}; got {value!r}")
    return code


def _custom_fields(value: Any) -> list[dict[str, str]]:
    """``[{name, value}]`` from a list of such dicts or a plain ``{name: value}`` mapping."""
    items = [{"name": k, "value": v} for k, v in value.items()] if isinstance(value, dict) else list(value)
    out = []
    for item in items:
        if not isinstance(item, dict) or "name" not in item or "value" not in item:
            raise InputError("custom_fields", "custom_fields must be a list of {name, value} entries")
        out.append({"name": str(item["name"]), "value": str(item["value"])})
    return out


def _names_list(value: Any) -> list[str]:
    """SANs and requesters as a list, from a list or a comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _segment(value: Any) -> str:
    """An id or serial number as one path segment (serials keep their colons, "Revoke" in docs/scm-protocol.md)."""
    text = str(value)
    if not text:
        raise InputError("id", "an SCM id or serial number must not be empty")
    return quote(text, safe=":")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: urllib3's ``reason``, ``original_error``, ``args[0]``, ``__cause__``, ``__context__``."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "reason", None), getattr(current, "original_error", None),
                     current.args[0] if current.args else None, current.__cause__, current.__context__])


def is_connect_failure(exc: BaseException) -> bool:
    """True when no connection was established, so the request never left this host."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        # A refused server certificate ends the handshake before a byte of the request is sent.
        return any(isinstance(cause, ssl.SSLCertVerificationError) for cause in _causes(exc))
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    return any(isinstance(cause, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))
               for cause in _causes(exc))


def _describe(exc: BaseException) -> str:
    """A short reason for a transport error: the innermost message, without object addresses or URLs' queries."""
    causes = list(_causes(exc))
    innermost = causes[-1] if causes else exc
    for cause in causes:
        if isinstance(cause, (OSError, urllib3.exceptions.HTTPError)) and not isinstance(cause, urllib3.exceptions.MaxRetryError) \
                and not isinstance(cause, requests.exceptions.RequestException):
            innermost = cause
            break
    text = _OBJECT_AT.sub("", str(innermost)).strip() or type(innermost).__name__
    text = re.sub(r"(url: [^?\s]*)\?\S*", r"\1", text)
    return f"{type(exc).__name__}: {text}"


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


class _ContextAdapter(HTTPAdapter if HAS_REQUESTS else object):  # type: ignore[misc]
    """An adapter whose TLS connections use one ready ``ssl.SSLContext`` (a client certificate loaded from memory)."""

    def __init__(self, context: Any, **kwargs: Any) -> None:
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs["ssl_context"] = self._context
        return host_params, pool_kwargs


def client_cert_context(cert_pem: str, key_pem: str, *, verify: bool = True) -> Any:
    """An ``ssl.SSLContext`` holding a client certificate and key given as PEM text.

    ``ssl`` loads a certificate only from files, so both are written to a directory only this user may
    read, loaded, and removed before this function returns: the key never stays on disk.
    """
    for field, value, marker in (("scm_client_cert_pem", cert_pem, "CERTIFICATE"), ("scm_client_key_pem", key_pem, "PRIVATE KEY")):
        if not isinstance(value, str) or "-----BEGIN " not in value or marker not in value:
            raise InputError(field, f"{field} must be PEM text (-----BEGIN ... {marker}-----)")
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
    directory = tempfile.mkdtemp(prefix="sectigo-scm-")
    try:
        os.chmod(directory, 0o700)
        paths = []
        for name, text in (("cert.pem", cert_pem), ("key.pem", key_pem)):
            path = os.path.join(directory, name)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
                handle.write(text)
            paths.append(path)
        try:
            context.load_cert_chain(paths[0], paths[1])
        except (ssl.SSLError, ValueError):
            # The library's message may name the file; say which options to look at instead.
            raise InputError("scm_client_key_pem", "scm_client_cert_pem and scm_client_key_pem are not a usable certificate and "
                                                   "matching unencrypted private key") from None
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return context


class ScmClient:
    """One SCM account on one SCM instance; every public method is one endpoint (docs/scm-protocol.md names it)."""

    def __init__(self, base_url: str, customer_uri: str, login: str, password: str | None = None, *,
                 auth_method: str = "password", client_cert: str | None = None, client_key: str | None = None,
                 verify: bool = True, ca_cert: str | None = None, timeout: float | tuple[float, float] = 30,
                 session: Any = None, sleep: Callable[[float], None] = time.sleep, max_retries: int = 4,
                 backoff_factor: float = 0.5, max_retry_after: float = 120, rand: Callable[[], float] = random.random,
                 client_cert_pem: str | None = None, client_key_pem: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None, token_url: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not HAS_REQUESTS:
            raise ScmError("the Python library 'requests' is required to talk to SCM")
        if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
            raise InputError("base_url", f"base_url must be an http(s) URL such as https://cert-manager.com/api; got {base_url!r}")
        if auth_method not in AUTH_METHODS:
            raise InputError("scm_auth_method", f"scm_auth_method must be one of {', '.join(AUTH_METHODS)}; got {auth_method!r}")
        if auth_method != "oauth2":
            # The Admin API knows the account by its client id; the legacy API by these two headers.
            for field, value in (("customer_uri", customer_uri), ("login", login)):
                if not value:
                    raise InputError(field, f"{field} is required to talk to SCM")
        if auth_method == "password" and not password:
            raise InputError("password", "password is required when scm_auth_method is password")
        if auth_method == "client_certificate" and not (client_cert or client_cert_pem):
            raise InputError("scm_client_cert", "scm_client_cert or scm_client_cert_pem is required when scm_auth_method is client_certificate")
        if auth_method == "client_certificate" and client_cert_pem and not client_key_pem:
            raise InputError("scm_client_key_pem", "scm_client_key_pem is required with scm_client_cert_pem")
        if auth_method == "oauth2":
            for field, value in (("client_id", client_id), ("client_secret", client_secret)):
                if not value:
                    raise InputError(field, f"{field} is required when scm_auth_method is oauth2")
        token_url = token_url or DEFAULT_TOKEN_URL
        if auth_method == "oauth2" and (urlsplit(token_url).scheme not in ("http", "https") or not urlsplit(token_url).netloc):
            raise InputError("scm_token_url", f"scm_token_url must be an http(s) URL; got {token_url!r}")

        parts = urlsplit(base_url.rstrip("/"))
        # Credentials never travel in the URL; drop any user:password@ so no message can show it.
        base = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        self.base_url = private_api_url(base) if auth_method == "client_certificate" else base
        self.customer_uri = customer_uri
        self.login = login
        self.auth_method = auth_method
        self.timeout = timeout
        self.sleep = sleep
        self.max_retries = max(0, int(max_retries))
        self.backoff_factor = float(backoff_factor)
        self.max_retry_after = float(max_retry_after)
        self.rand = rand
        self.clock = clock
        self.requests_sent = 0
        self.tokens_fetched = 0
        self.client_id = client_id
        self.token_url = token_url
        self._password = password
        self._client_secret = client_secret
        self._token: str | None = None
        self._token_expires: float | None = None

        if session is None:
            session = requests.Session()
            # Retries are this class's loop (it knows which requests may be repeated), not urllib3's.
            if auth_method == "client_certificate" and client_cert_pem:
                context = client_cert_context(client_cert_pem, client_key_pem or "", verify=bool(verify) or bool(ca_cert))
                adapter = _ContextAdapter(context, max_retries=0)
            else:
                adapter = HTTPAdapter(max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # Proxies from the environment once, not per request (_http); verify is this class's own (below).
            environment_once(session, [self.base_url] + ([token_url] if auth_method == "oauth2" else []), None)
        self.session = session
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        if auth_method == "oauth2":
            for name in ("login", "customerUri", "password"):
                session.headers.pop(name, None)
        else:
            session.headers.update({"login": login, "customerUri": customer_uri})
        if auth_method == "password":
            session.headers["password"] = password
        else:
            session.headers.pop("password", None)
        if auth_method == "client_certificate" and client_cert and not client_cert_pem:
            session.cert = (client_cert, client_key) if client_key else client_cert
        session.verify = ca_cert if ca_cert else bool(verify)

    @property
    def _secrets(self) -> tuple[str, ...]:
        """What no message may show: the password, the client secret and the current Bearer token."""
        return tuple(value for value in (self._password, self._client_secret, self._token) if value)

    # ------------------------------------------------------------------ OAuth2

    def _bearer(self) -> None:
        """Make sure the session carries a Bearer token that has not expired (fetched once per run, cached here)."""
        if self.auth_method != "oauth2":
            return
        if self._token and (self._token_expires is None or self.clock() < self._token_expires):
            return
        self._fetch_token()

    def _drop_token(self) -> None:
        self._token = None
        self._token_expires = None
        self.session.headers.pop("Authorization", None)

    def _fetch_token(self) -> None:
        """POST the client credentials to the token endpoint (form-encoded) and keep the ``access_token``."""
        self._drop_token()
        shown = urlunsplit(urlsplit(self.token_url)[:3] + ("", ""))
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._client_secret}
        attempt = 0
        while True:
            self.requests_sent += 1
            try:
                # No Authorization and none of the legacy headers: the endpoint is not SCM's.
                response = self.session.post(self.token_url, data=form, timeout=self.timeout, allow_redirects=False, verify=self.session.verify,
                                             headers={"Authorization": None, "login": None, "customerUri": None, "password": None})
            except requests.exceptions.RequestException as exc:
                if (is_connect_failure(exc) or isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))) \
                        and not isinstance(exc, requests.exceptions.SSLError) and attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                hint = "; check scm_validate_certs and scm_ca_cert" if isinstance(exc, requests.exceptions.SSLError) else ""
                raise ScmConnectionError(f"Could not get an OAuth2 token from {shown}: {redact(_describe(exc), self._secrets)}{hint}",
                                         method="POST", url=shown) from None
            status = response.status_code
            if status in RETRYABLE_STATUSES and attempt < self.max_retries:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                self.sleep(self._backoff(attempt) if wait is None else min(wait, self.max_retry_after))
                attempt += 1
                continue
            break
        reason = _oauth_error(response.content)
        if status in (400, 401, 403):
            raise ScmAuthError(f"The OAuth2 token endpoint {shown} refused the client credentials: {redact(reason, self._secrets)} "
                               f"(HTTP {status}); check client_id and client_secret", status=status, method="POST", url=shown)
        if status >= 300:
            error = ScmServerError if status == 429 or status >= 500 else ScmError
            raise error(f"The OAuth2 token endpoint {shown} answered HTTP {status}: {redact(reason, self._secrets)}",
                        status=status, method="POST", url=shown)
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
        self._token = token
        try:
            lifetime = float(answer.get("expires_in"))
        except (TypeError, ValueError):
            lifetime = None
        self._token_expires = None if lifetime is None else self.clock() + max(0.0, lifetime - TOKEN_EXPIRY_MARGIN)
        self.tokens_fetched += 1
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return (f"ScmClient(base_url={self.base_url!r}, customer_uri={self.customer_uri!r}, login={self.login!r}, "
                f"auth_method={self.auth_method!r})")

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ScmClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _url(self, path: str) -> str:
        if self.auth_method == "oauth2" and path.startswith("/smime/v1/"):
            # The Admin API serves every S/MIME operation under v2 ("S/MIME certificates" in docs/scm-protocol.md).
            path = "/smime/v2/" + path[len("/smime/v1/"):]
        return f"{self.base_url}{path}"

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of ``backoff_factor * 2**attempt``."""
        delay = self.backoff_factor * (2 ** attempt)
        return min(self.max_retry_after, delay * (0.5 + self.rand() / 2))

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                 collect: bool = False) -> Any:
        """Send one logical request; returns the ``requests.Response`` of a 2xx answer or raises ``ScmError``."""
        url = self._url(path)
        idempotent = method in ("GET", "HEAD")
        headers = {}
        data = None
        if body is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
            data = json.dumps(body).encode("utf-8")
        self._bearer()
        refreshed = False
        attempt = 0
        while True:
            self.requests_sent += 1
            try:
                # verify is passed on each call: requests would otherwise let REQUESTS_CA_BUNDLE override session.verify.
                response = self.session.request(method, url, params=params, data=data, headers=headers, timeout=self.timeout,
                                                allow_redirects=False, verify=self.session.verify)
            except requests.exceptions.RequestException as exc:
                unsendable = isinstance(exc, _UNSENDABLE)
                never_left = unsendable or is_connect_failure(exc)
                permanent = unsendable or (isinstance(exc, requests.exceptions.SSLError) and never_left)
                retryable = not permanent and (never_left or (idempotent and isinstance(
                    exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError))))
                if retryable and attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                tries = f" after {attempt + 1} attempts" if attempt else ""
                hint = "; check scm_validate_certs and scm_ca_cert" if isinstance(exc, requests.exceptions.SSLError) else ""
                if unsendable:
                    # These messages may quote a header value, and a header holds the password: name the type only.
                    raise ScmConnectionError(f"Could not send {method} {path} to SCM: {type(exc).__name__}; check base_url, login, "
                                             "password and customer_uri for characters HTTP does not allow", method=method, url=url) from None
                if not never_left and not idempotent:
                    hint += "; the request may have reached SCM"
                raise ScmConnectionError(f"Could not complete {method} {path} with SCM{tries}: {redact(_describe(exc), self._secrets)}{hint}",
                                         method=method, url=url, may_have_reached=not never_left) from None

            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 401 and self.auth_method == "oauth2" and not refreshed:
                # The token expired or was revoked early: SCM refused before acting, so even a POST may go again, once.
                response.close()
                refreshed = True
                self._fetch_token()
                continue
            if idempotent and status in RETRYABLE_STATUSES and attempt < self.max_retries:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                wait = self._backoff(attempt) if wait is None else min(wait, self.max_retry_after)
                response.close()
                self.sleep(wait)
                attempt += 1
                continue
            if 300 <= status < 400:
                # Redirects are not followed: requests would resend the password header to wherever Location points.
                location = urlsplit(response.headers.get("Location") or "")
                target = urlunsplit((location.scheme, location.hostname or "", location.path, "", "")) if location.path else "elsewhere"
                raise ScmError(f"SCM redirected {method} {path} to {target} (HTTP {status}); set base_url to the final address",
                               status=status, method=method, url=url, may_have_reached=not idempotent)
            raise error_from_response(status, response.content, method=method, url=url, path=path, collect=collect,
                                      may_have_reached=not idempotent and status >= 500, attempts=attempt + 1, secrets=self._secrets)

    def _json(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        response = self._request(method, path, params=params, body=body)
        return self._decode(method, path, response)

    def _decode(self, method: str, path: str, response: Any) -> Any:
        content = response.content
        if not content or not content.strip():
            return None
        try:
            return json.loads(content.decode("utf-8"))
        except ValueError:
            # An answer that is not JSON usually means base_url points at a web page, not at the API.
            raise ScmError(f"SCM answered {method} {path} with a body that is not JSON (HTTP {response.status_code}, "
                           f"{response.headers.get('Content-Type') or 'no content type'}); check base_url",
                           status=response.status_code, method=method, url=self._url(path), may_have_reached=method == "POST") from None

    def _answer(self, method: str, path: str, answer: Any, *keys: str) -> dict[str, Any]:
        if not isinstance(answer, dict) or any(answer.get(key) in (None, "") for key in keys):
            raise ScmError(f"SCM answered {method} {path} without {' and '.join(keys)}", status=200, method=method,
                           url=self._url(path), may_have_reached=method == "POST")
        return answer

    def _collect(self, path: str, fmt: str) -> bytes:
        canonical = {f.lower(): f for f in rec.FORMAT_TYPES}.get(str(fmt).lower())
        if canonical is None:
            raise InputError("format_type", f"format_type must be one of {', '.join(rec.FORMAT_TYPES)}; got {fmt!r}")
        response = self._request("GET", path, params={"format": canonical}, collect=True)
        content = response.content or b""
        if not content.strip():
            # Clients guard against an empty 200 ("Collect" in docs/scm-protocol.md): treat it as "not ready yet".
            raise ScmPending(f"SCM has not issued the certificate yet (GET {path}): empty answer (HTTP {response.status_code})",
                             status=response.status_code, method="GET", url=self._url(path))
        return content

    def _list(self, path: str, allowed: dict[str, str], size: int, position: int, filters: dict[str, Any],
              caller: str) -> tuple[list[Any], int | None]:
        params = self._filters(allowed, filters, caller)
        params.update(size=int(size), position=int(position))
        response = self._request("GET", path, params=params)
        items = self._decode("GET", path, response)
        return (items if isinstance(items, list) else []), parse_total_count(response.headers.get("X-Total-Count"))

    def _iter(self, path: str, allowed: dict[str, str], filters: dict[str, Any], caller: str, page_size: int) -> Iterator[Any]:
        self._filters(allowed, filters, caller)  # a wrong keyword fails at the call, not at the first next()
        return self._pages(path, allowed, filters, caller, page_size)

    def _pages(self, path: str, allowed: dict[str, str], filters: dict[str, Any], caller: str, page_size: int) -> Iterator[Any]:
        position = 0
        while True:
            items, _total = self._list(path, allowed, page_size, position, filters, caller)
            yield from items
            if len(items) < page_size:
                return
            position += len(items)

    def _count(self, path: str, allowed: dict[str, str], filters: dict[str, Any], caller: str) -> int:
        response = self._request("HEAD", path, params=self._filters(allowed, filters, caller))
        total = parse_total_count(response.headers.get("X-Total-Count"))
        if total is None:
            raise ScmError(f"SCM answered HEAD {path} without a usable X-Total-Count header", status=response.status_code,
                           method="HEAD", url=self._url(path))
        return total

    @staticmethod
    def _filters(allowed: dict[str, str], filters: dict[str, Any], caller: str) -> dict[str, str]:
        unknown = sorted(set(filters) - set(allowed))
        if unknown:
            raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}; filters: {', '.join(sorted(allowed))}")
        return {allowed[key]: _query_value(value) for key, value in filters.items() if value is not None}

    # ------------------------------------------------------------------ account

    def verify_credentials(self, kind: str = "ssl") -> None:
        """One cheap authenticated GET; raises ``ScmAuthError`` when SCM refuses the credentials."""
        if kind not in ("ssl", "smime"):
            raise InputError("kind", f"kind must be ssl or smime; got {kind!r}")
        self._json("GET", f"/{kind}/v1/types")

    # ------------------------------------------------------------------ SSL

    def list_ssl_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        """GET /ssl/v1/types [Profiles and custom fields]."""
        return self._json("GET", "/ssl/v1/types", params=None if org_id is None else {"organizationId": int(org_id)}) or []

    def list_ssl_custom_fields(self) -> list[dict[str, Any]]:
        """GET /ssl/v1/customFields [Profiles and custom fields]."""
        return self._json("GET", "/ssl/v1/customFields") or []

    def enroll_ssl(self, *, org_id: int, csr: str, cert_type: int, term: int, subj_alt_names: Any = None, comments: str | None = None,
                   external_requester: Any = None, custom_fields: Any = None, num_servers: int | None = None,
                   server_type: int | None = None) -> dict[str, Any]:
        """POST /ssl/v1/enroll [Enroll] -> ``{"sslId": int, "renewId": str}``. Sent once."""
        body: dict[str, Any] = {"orgId": int(org_id), "csr": csr, "certType": int(cert_type), "term": int(term)}
        if subj_alt_names:
            # A comma-separated string here, an array in replace ("Enroll" and "Replace" in docs/scm-protocol.md).
            body["subjAltNames"] = ",".join(_names_list(subj_alt_names))
        if comments:
            body["comments"] = comments
        if external_requester:
            body["externalRequester"] = ",".join(_names_list(external_requester))
        if custom_fields:
            body["customFields"] = _custom_fields(custom_fields)
        if num_servers is not None:
            body["numberServers"] = int(num_servers)
        if server_type is not None:
            body["serverType"] = int(server_type)
        return self._answer("POST", "/ssl/v1/enroll", self._json("POST", "/ssl/v1/enroll", body=body), "sslId")

    def collect_ssl(self, ssl_id: int | str, fmt: str = "x509CO") -> bytes:
        """GET /ssl/v1/collect/{id}?format= [Collect]; raises ``ScmPending`` while not issued."""
        return self._collect(f"/ssl/v1/collect/{_segment(ssl_id)}", fmt)

    def get_ssl(self, ssl_id: int | str) -> dict[str, Any]:
        """GET /ssl/v1/{id} [Details]."""
        return self._json("GET", f"/ssl/v1/{_segment(ssl_id)}") or {}

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
        path = f"/ssl/v1/renewById/{_segment(ssl_id)}"
        answer = self._answer("POST", path, self._json("POST", path, body={"csr": csr} if csr else {}), "sslId")
        return int(answer["sslId"])

    def replace_ssl(self, ssl_id: int | str, *, csr: str, reason: str, common_name: str | None = None,
                    subject_alt_names: Any = None) -> None:
        """POST /ssl/v1/replace/{id} [Replace]; the certificate keeps its sslId. Sent once."""
        body: dict[str, Any] = {"csr": csr, "reason": _validate_text("reason", reason, minimum=1, maximum=rec.REASON_MAX)}
        if common_name:
            body["commonName"] = common_name
        if subject_alt_names:
            body["subjectAlternativeNames"] = _names_list(subject_alt_names)
        self._request("POST", f"/ssl/v1/replace/{_segment(ssl_id)}", body=body)

    def revoke_ssl(self, ssl_id: int | str, *, reason: str, reason_code: int = 0) -> None:
        """POST /ssl/v1/revoke/{id} [Revoke]; already revoked answers -102 (``ScmRequestError``)."""
        self._request("POST", f"/ssl/v1/revoke/{_segment(ssl_id)}", body=self._revoke_body(reason, reason_code, minimum=1))

    def revoke_ssl_by_serial(self, serial: str, *, reason: str, reason_code: int = 0) -> None:
        """POST /ssl/v1/revoke/serial/{serial} [Revoke]."""
        self._request("POST", f"/ssl/v1/revoke/serial/{_segment(serial)}", body=self._revoke_body(reason, reason_code, minimum=1))

    def approve_ssl(self, ssl_id: int | str, message: str) -> None:
        """POST /ssl/v1/approve/{id} [Approve and decline]."""
        body = {"message": _validate_text("message", message, minimum=1, maximum=rec.REASON_MAX)}
        self._request("POST", f"/ssl/v1/approve/{_segment(ssl_id)}", body=body)

    def decline_ssl(self, ssl_id: int | str, message: str) -> None:
        """POST /ssl/v1/decline/{id} [Approve and decline]."""
        body = {"message": _validate_text("message", message, minimum=1, maximum=rec.REASON_MAX)}
        self._request("POST", f"/ssl/v1/decline/{_segment(ssl_id)}", body=body)

    @staticmethod
    def _revoke_body(reason: str, reason_code: int, *, minimum: int) -> dict[str, Any]:
        # Always both members: newer servers want reasonCode, older ones reason ("Revoke" in docs/scm-protocol.md).
        return {"reason": _validate_text("reason", reason, minimum=minimum, maximum=rec.REASON_MAX), "reasonCode": _validate_reason_code(reason_code)}

    # ------------------------------------------------------------------ S/MIME (client certificates)

    def list_smime_types(self, org_id: int | None = None) -> list[dict[str, Any]]:
        """GET /smime/v1/types [S/MIME certificates]."""
        return self._json("GET", "/smime/v1/types", params=None if org_id is None else {"organizationId": int(org_id)}) or []

    def list_smime_custom_fields(self) -> list[dict[str, Any]]:
        """GET /smime/v1/customFields [S/MIME certificates]."""
        return self._json("GET", "/smime/v1/customFields") or []

    def enroll_smime(self, *, org_id: int, csr: str, cert_type: int, term: int, email: str, first_name: str, last_name: str,
                     middle_name: str | None = None, common_name: str | None = None, comments: str | None = None,
                     custom_fields: Any = None, phone: str | None = None, secondary_emails: Any = None, eppn: str | None = None,
                     upn: str | None = None) -> dict[str, Any]:
        """POST /smime/v1/enroll [S/MIME certificates] -> ``{"orderNumber": int, "backendCertId": str}``. Sent once."""
        body: dict[str, Any] = {"orgId": int(org_id), "csr": csr, "certType": int(cert_type), "term": int(term), "email": email,
                                "firstName": first_name, "lastName": last_name}
        optional = {"middleName": middle_name, "commonName": common_name, "comments": comments, "phone": phone, "eppn": eppn, "upn": upn}
        body.update({key: value for key, value in optional.items() if value})
        if secondary_emails:
            body["secondaryEmails"] = _names_list(secondary_emails)
        if custom_fields:
            body["customFields"] = _custom_fields(custom_fields)
        answer = self._json("POST", "/smime/v1/enroll", body=body)
        if isinstance(answer, dict) and answer.get("backendCertId") in (None, "") and answer.get("orderNumber") is not None:
            # Older servers answer with orderNumber only; for the public CA both carry the same digits ("S/MIME certificates").
            answer["backendCertId"] = str(answer["orderNumber"])
        return self._answer("POST", "/smime/v1/enroll", answer, "orderNumber", "backendCertId")

    def collect_smime(self, backend_cert_id: int | str, fmt: str = "x509CO") -> bytes:
        """GET /smime/v1/collect/{backendCertId}?format= [S/MIME certificates]; raises ``ScmPending`` while not issued."""
        return self._collect(f"/smime/v1/collect/{_segment(backend_cert_id)}", fmt)

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
        path = f"/smime/v2/renew/order/{_segment(backend_cert_id)}"
        return self._answer("POST", path, self._json("POST", path), "orderNumber")

    def revoke_smime_by_order(self, backend_cert_id: int | str, *, reason: str = "", reason_code: int = 0) -> None:
        """POST /smime/v1/revoke/order/{backendCertId} [S/MIME certificates]; the reason may be empty for S/MIME."""
        body = self._revoke_body(reason, reason_code, minimum=0)
        self._request("POST", f"/smime/v1/revoke/order/{_segment(backend_cert_id)}", body=body)

    def revoke_smime_by_serial(self, serial: str, *, reason: str = "", reason_code: int = 0) -> None:
        """POST /smime/v1/revoke/serial/{serial} [S/MIME certificates]."""
        self._request("POST", f"/smime/v1/revoke/serial/{_segment(serial)}", body=self._revoke_body(reason, reason_code, minimum=0))
