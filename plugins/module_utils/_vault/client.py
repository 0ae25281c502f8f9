# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault's HTTP API over one urllib3 pool: TLS, proxies, retries, redirects, the token and the namespace.

Every Vault request of the collection goes through :class:`VaultClient`: the login of each auth method (one POST,
see ``_vault_options``), KV v2 reads, check-and-set writes, lists and deletes (``_vault_store``). It speaks urllib3
directly, the library ``requests`` is built on: a Vault read is then one call into a kept connection, and a
process that only reads Vault imports neither ``requests`` nor hvac (docs/architecture.md "Talking to Vault").

The settings follow what ``requests`` would do with the same options, so that nothing changes for users:
``verify=True`` trusts ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` or certifi's bundle, in that order;
``vault_proxies`` wins over ``HTTP(S)_PROXY``, and ``NO_PROXY`` is honoured (``_http.environment_proxy``).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import json
import os
import traceback
from typing import Any
from urllib.parse import unquote

from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import environment_ca_bundle, environment_proxy

try:
    import urllib3
    from urllib3.util.retry import Retry
except ImportError:
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None

# Methods retried after a failure or a retryable status: reads only. A write that may have reached Vault is never
# sent again (a repeated check-and-set write would report a conflict for a write that in fact succeeded).
RETRY_METHODS = frozenset({"GET", "HEAD", "LIST", "OPTIONS"})
# Connections kept per host; the fleet path raises it to its concurrency (set_pool_size).
POOL_SIZE = 10
# Vault answers 307 from a standby node that does not forward requests; more hops than this is a loop.
MAX_REDIRECTS = 5
# 307 and 308 keep the method and the body; 301, 302 and 303 are followed for reads only (a client would turn a
# write into a GET, which is never what a Vault write means).
_REDIRECTS = frozenset({307, 308})
_READ_REDIRECTS = frozenset({301, 302, 303})


class VaultHttpError(Exception):
    """Vault answered with an HTTP error status; ``_vault_store._translate`` turns it into a ``VaultError``."""

    def __init__(self, status: int, errors: list[Any], body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.errors = errors
        self.json = body


class VaultLoginError(Exception):
    """A login was answered without a client token."""


def ca_bundle(verify: bool | str) -> str | None:
    """The CA file or directory to trust: the one given, else the environment's bundle, else certifi's; ``None``: system's."""
    if isinstance(verify, str):
        return verify
    found = environment_ca_bundle()
    if found:
        return found
    try:
        import certifi  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return certifi.where()


def retry_policy(settings: dict[str, Any] | None) -> Any:
    """urllib3 ``Retry`` for ``vault_retries``: connection failures, and reads answered 412/429/5xx (``Retry-After`` honoured).

    ``read=0`` and reads only in ``allowed_methods``, whatever the option says (see :data:`RETRY_METHODS`); redirects
    are followed by :meth:`VaultClient.request`, not counted here, so ``vault_retries: 0`` still follows them.
    """
    settings = dict(settings or {})
    return Retry(total=settings.get("total", 3), connect=settings.get("connect", 2), read=0,
                 status=settings.get("status", 3), backoff_factor=settings.get("backoff_factor", 0.25),
                 allowed_methods=RETRY_METHODS, status_forcelist=tuple(settings.get("status_forcelist") or (412, 429, 500, 502, 503, 504)),
                 respect_retry_after_header=True, raise_on_status=False)


def pool_manager(options: Any, size: int = POOL_SIZE) -> Any:
    """A urllib3 pool manager for ``options``: TLS settings, the client certificate, and the proxy when one applies."""
    tls: dict[str, Any] = {"maxsize": size}
    if options.verify is False:
        tls["cert_reqs"] = "CERT_NONE"
    else:
        tls["cert_reqs"] = "CERT_REQUIRED"
        bundle = ca_bundle(options.verify)
        if bundle:
            tls["ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"] = bundle
    if options.client_cert:
        tls["cert_file"], tls["key_file"] = options.client_cert
    proxy = proxy_for(options.vault_addr, options.vault_proxies)
    if not proxy:
        return urllib3.PoolManager(**tls)
    if proxy.lower().startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise ImportError("a socks proxy needs the Python package PySocks (pip install pysocks)") from None
        return SOCKSProxyManager(proxy, **tls)
    url = urllib3.util.parse_url(proxy)
    headers = urllib3.util.make_headers(proxy_basic_auth=unquote(url.auth)) if url.auth else None
    return urllib3.ProxyManager(url._replace(auth=None).url, proxy_headers=headers, **tls)


def proxy_for(addr: str, proxies: dict[str, str] | None) -> str | None:
    """The proxy for ``addr``: ``vault_proxies`` by scheme (or ``all``), else the environment's (``NO_PROXY`` honoured)."""
    scheme = addr.split("://", 1)[0].lower()
    given = proxies or {}
    return given.get(scheme) or given.get("all") or environment_proxy(addr)


class VaultClient:
    """Vault's HTTP API for one set of Vault options: one pool of kept connections, shared by threads.

    :meth:`request` returns the parsed JSON body (``None`` for an empty one) and raises :class:`VaultHttpError` for an
    HTTP error status; urllib3's exceptions pass through for the caller to translate.
    """

    def __init__(self, options: Any) -> None:
        self.base_uri = options.vault_addr.rstrip("/")
        self.auth_method = options.vault_auth_method
        self.namespace = options.vault_namespace or None
        self.token: str | None = None
        self._options = options
        self._pool = pool_manager(options)
        self._retries = retry_policy(options.vault_retries)
        self._timeout = urllib3.Timeout(connect=options.vault_timeout, read=options.vault_timeout)

    def set_pool_size(self, size: int) -> None:
        """Keep up to ``size`` connections per host (for that many threads); existing connections are closed."""
        if size > self._pool.connection_pool_kw.get("maxsize", POOL_SIZE):
            self._pool.clear()
            self._pool = pool_manager(self._options, size)

    def request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        """``method`` on ``<vault_addr><path>`` (``path`` starts with ``/v1/``), with the token and namespace headers."""
        headers = {"X-Vault-Request": "true"}
        if self.token:
            headers["X-Vault-Token"] = self.token
        if self.namespace:
            headers["X-Vault-Namespace"] = self.namespace
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_uri + path
        for hop in range(MAX_REDIRECTS + 1):
            response = self._pool.request(method, url, body=body, headers=headers, retries=self._retries, timeout=self._timeout,
                                          redirect=False)
            location = response.headers.get("Location")
            followed = response.status in _REDIRECTS or (response.status in _READ_REDIRECTS and method in RETRY_METHODS)
            if not followed or not location:
                break
            target = urllib3.util.parse_url(location).url if "://" in location else self.base_uri + location
            if url.startswith("https://") and not target.startswith("https://"):
                # The token travels with the request: never from TLS to plain HTTP.
                raise VaultHttpError(response.status, ["refused a redirect from https to plain http (the token is never sent without TLS)"], None)
            if hop == MAX_REDIRECTS:
                raise VaultHttpError(response.status, [f"more than {MAX_REDIRECTS} redirects"], None)
            url = target
        parsed = None
        if response.data:
            try:
                parsed = json.loads(response.data)
            except ValueError:
                parsed = None
        if response.status >= 300:
            errors = parsed.get("errors") if isinstance(parsed, dict) else None
            if not errors and not isinstance(parsed, dict):
                errors = [response.data.decode("utf-8", "replace").strip()[:300]] if response.data else []
            raise VaultHttpError(response.status, list(errors or []), parsed)
        return parsed

    def login(self, path: str, body: dict[str, Any]) -> None:
        """POST ``body`` to ``auth/<mount>/login...`` and keep the client token Vault answers with."""
        self.token = None
        reply = self.request("POST", f"/v1/{path}", json_body=body)
        token = ((reply or {}).get("auth") or {}).get("client_token") if isinstance(reply, dict) else None
        if not token:
            raise VaultLoginError(f"Vault answered the login at '{path}' without a client token")
        self.token = token
