# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's Vault client: one ``hvac.Client`` on its own ``requests.Session`` per set of Vault options.

Every Vault request of the collection goes through :class:`VaultClient` (docs/vault.md "TLS, proxies and redirects"):

- proxies, ``NO_PROXY``, the CA bundle or directory and the client certificate are the session's, and requests reads
  the environment (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``, ...) itself, as for any requests user, once
  per Vault address (``_http.EnvOnceSession``);
- reads are retried by urllib3's ``Retry`` on the session's adapter (``Retry-After`` honoured); a write is sent once
  here (``_vault/store`` sends a check-and-set write again while a cluster elects a leader, docs/vault.md "Retries");
- a redirect is followed with the token (a standby node's 307), except from https to plain http, which is refused
  (:class:`VaultSession`), so the token never travels without TLS;
- the token is kept alive for runs that outlive it: renewed before it expires, or a new login when the method can
  log in again (:meth:`VaultClient.keep_token`). The logins themselves are ``_vault/auth.login``.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import EnvOnceSession

try:
    import hvac
    import hvac.adapters
    import hvac.exceptions
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
except ImportError:
    HAS_HVAC = False
    HVAC_IMPORT_ERROR: str | None = traceback.format_exc()
    _JSONAdapter: Any = object
else:
    HAS_HVAC = True
    HVAC_IMPORT_ERROR = None
    _JSONAdapter = hvac.adapters.JSONAdapter

# Methods retried after a failure or a retryable status: reads only. A write that may have reached Vault is never
# sent again (a repeated check-and-set write would report a conflict for a write that in fact succeeded).
RETRY_METHODS = frozenset({"GET", "HEAD", "LIST", "OPTIONS"})
# Connections kept per host; the fleet path raises it to its concurrency (set_pool_size).
POOL_SIZE = 10
# Hosts whose pools are kept: Vault's address and the nodes a standby redirects to.
POOL_HOSTS = 4
# Vault answers 307 from a standby node that does not forward requests; more hops than this is a loop.
MAX_REDIRECTS = 5
# A token is renewed (or a new login made) once less than this share of its lease is left.
RENEW_WHEN_LEFT = 1 / 3


class RedirectRefused(Exception):
    """Vault (or something posing as it) answered with a redirect the client does not follow."""


class RenewalRefused(Exception):
    """Vault would not renew the token (past its max TTL: HTTP 500; revoked: 403) and the method cannot log in again.

    Its own class so that ``_vault/store`` never takes the 500 of a token past its max TTL for a cluster's election.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class VaultSession(EnvOnceSession):  # type: ignore[misc,valid-type]
    """A ``requests.Session`` that follows Vault's redirects with the token, but never from TLS to plain http (and reads
    the environment once per origin: ``_http.EnvOnceSession``).

    requests keeps custom headers such as ``X-Vault-Token`` on every hop, which a standby node's 307 needs; it would
    keep them on a hop to ``http://`` too. 301, 302 and 303 would turn a write into a GET: followed for reads only.
    """

    def __init__(self) -> None:
        super().__init__()
        self.max_redirects = MAX_REDIRECTS

    def rebuild_method(self, prepared_request: Any, response: Any) -> None:
        if response.status_code in (301, 302, 303) and (prepared_request.method or "").upper() not in RETRY_METHODS:
            raise RedirectRefused(f"Vault answered a write with HTTP {response.status_code} to another address; "
                                  "only 307 and 308 are followed for writes")
        super().rebuild_method(prepared_request, response)

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        if response.request.url.lower().startswith("https://") and not prepared_request.url.lower().startswith("https://"):
            raise RedirectRefused("refused a redirect from https to plain http (the token is never sent without TLS)")
        super().rebuild_auth(prepared_request, response)


class _StatusAdapter(_JSONAdapter):  # type: ignore[misc,valid-type]
    """hvac's JSON adapter; its exceptions also carry the HTTP status (``status``) for ``_vault/store._translate``."""

    def _raise_for_error(self, method: str, url: str, response: Any) -> None:
        try:
            super()._raise_for_error(method, url, response)
        except hvac.exceptions.VaultError as exc:
            exc.status = response.status_code  # type: ignore[attr-defined]
            raise


def retry_policy(settings: dict[str, Any] | None) -> Any:
    """urllib3 ``Retry`` for ``vault_retries``: connection failures, and reads answered 412/429/5xx (``Retry-After`` honoured).

    ``read=0`` and reads only in ``allowed_methods``, whatever the option says (see :data:`RETRY_METHODS`). Redirects
    are requests' business (``redirect=False`` here), so ``vault_retries: 0`` still follows them.
    """
    settings = dict(settings or {})
    return Retry(total=settings.get("total", 3), connect=settings.get("connect", 2), read=0, redirect=False,
                 status=settings.get("status", 3), backoff_factor=settings.get("backoff_factor", 0.25),
                 allowed_methods=RETRY_METHODS, status_forcelist=tuple(settings.get("status_forcelist") or (412, 429, 500, 502, 503, 504)),
                 respect_retry_after_header=True, raise_on_status=False)


def new_session(options: Any, size: int = POOL_SIZE) -> Any:
    """The session for ``options``: TLS verification, client certificate, ``vault_proxies``, retries, ``size`` connections."""
    session = VaultSession()
    adapter = HTTPAdapter(pool_connections=POOL_HOSTS, pool_maxsize=size, max_retries=retry_policy(options.vault_retries))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = options.verify
    session.cert = options.client_cert
    if options.vault_proxies:
        session.proxies.update(options.vault_proxies)
    return session


class VaultClient:  # pylint: disable=too-many-instance-attributes
    """Vault's HTTP API for one set of Vault options, shared by threads.

    ``login(hvac_client, options)`` is ``_vault/auth.login``: it sets the token and returns a ``LoginResult``
    (``renewable``, ``lease_duration``, ``can_relogin``). :meth:`request` returns Vault's JSON (``None`` for an empty
    answer) and lets hvac's and requests' exceptions through for the caller to translate.
    """

    def __init__(self, options: Any, login: Callable[[Any, Any], Any] | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.base_uri = options.vault_addr.rstrip("/")
        self.auth_method = options.vault_auth_method
        self.session = new_session(options)
        # token="": hvac would otherwise read VAULT_TOKEN or ~/.vault-token; only the chosen login sets a token.
        self.hvac = hvac.Client(url=self.base_uri, token="", cert=options.client_cert, verify=options.verify,
                                timeout=options.vault_timeout, namespace=options.vault_namespace or None,
                                session=self.session, adapter=_StatusAdapter)
        self.renewals = 0
        self.logins = 0
        self._options = options
        self._login = login
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._lease: float = 0.0
        self._expires: float | None = None
        self._renewable = False
        self._can_relogin = False

    @property
    def token(self) -> str | None:
        return self.hvac.token or None

    @token.setter
    def token(self, value: str | None) -> None:
        self.hvac.token = value or ""

    def set_pool_size(self, size: int) -> None:
        """Keep up to ``size`` connections to Vault (for that many threads); existing connections are closed."""
        current = self.session.get_adapter(self.base_uri)
        if size > getattr(current, "_pool_maxsize", POOL_SIZE):
            adapter = HTTPAdapter(pool_connections=POOL_HOSTS, pool_maxsize=size, max_retries=current.max_retries)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
            current.close()

    # ---- the token ---------------------------------------------------------------------------------------

    def log_in(self) -> None:
        """Log in with the options' method (``_vault/auth.login``) and note when the token will need renewing."""
        started = self._monotonic()
        result = self._login(self.hvac, self._options) if self._login else None
        self.logins += 1
        self._can_relogin = bool(getattr(result, "can_relogin", False))
        self._track(started, getattr(result, "lease_duration", 0), getattr(result, "renewable", False))

    def _track(self, started: float, lease: Any, renewable: Any) -> None:
        self._lease = float(lease or 0)
        self._expires = started + self._lease if self._lease > 0 else None
        self._renewable = bool(renewable)

    def _due(self) -> bool:
        return self._expires is not None and self._expires - self._monotonic() <= self._lease * RENEW_WHEN_LEFT

    def keep_token(self) -> None:
        """Before a request: renew the token (or log in again) once less than a third of its lease is left.

        A renewal that cannot extend the token enough (its ``token_max_ttl`` is near) is followed by a new login when
        the method can make one. A token given as ``vault_token`` has no known lease here: it is the user's to keep.
        """
        if not self._due():
            return
        with self._lock:
            if not self._due():
                return  # another thread renewed it meanwhile
            lease = self._lease
            if self._renewable:
                self._renew()
            if self._can_relogin and (self._expires is None or self._expires - self._monotonic() <= lease * RENEW_WHEN_LEFT):
                self.log_in()

    def _renew(self) -> None:
        """renew-self; a token Vault will not renew (past its max TTL) is left to a new login when there can be one.

        Vault answers renew-self for a token past its max TTL with HTTP 500: that is the token's end, not an election,
        so it is never retried as one (:class:`RenewalRefused` when no new login can be made).
        """
        started = self._monotonic()
        try:
            reply = self.hvac.auth.token.renew_self()
        except hvac.exceptions.VaultError as exc:
            if not self._can_relogin:
                status = getattr(exc, "status", None)
                raise RenewalRefused(f"Vault would not renew the token (HTTP {status or 'error'}); it expires soon and "
                                     f"vault_auth_method '{self.auth_method}' cannot log in again", status) from None
            self._renewable = False
            return
        self.renewals += 1
        auth = reply.get("auth") if isinstance(reply, dict) else None
        auth = auth if isinstance(auth, dict) else {}
        self._track(started, auth.get("lease_duration"), auth.get("renewable", self._renewable))

    def _relogin_after_refusal(self, used: str | None) -> bool:
        """A request refused with 403: log in again (once) when the method can, unless another thread already did."""
        if not self._can_relogin:
            return False
        with self._lock:
            if self.hvac.token == used:
                self.log_in()
        return True

    # ---- requests ----------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        """``method`` on ``<vault_addr><path>`` (``path`` starts with ``/v1/``) with the token and the namespace."""
        self.keep_token()
        used = self.hvac.token
        try:
            return self._send(method, path, json_body)
        except hvac.exceptions.Forbidden:
            # A token revoked or expired before its time: Vault refused the request, so sending it again is safe.
            if not self._relogin_after_refusal(used):
                raise
        return self._send(method, path, json_body)

    def _send(self, method: str, path: str, json_body: Any) -> Any:
        kwargs = {} if json_body is None else {"json": json_body}
        reply = self.hvac.adapter.request(method, path, **kwargs)
        if isinstance(reply, dict):
            return reply
        if not reply.content:
            return None
        try:
            return reply.json()
        except ValueError:
            return None
