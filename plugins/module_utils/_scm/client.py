# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REST client for Sectigo Certificate Manager (SCM); the protocol is described in docs/scm-protocol.md.

``ScmClient`` is one SCM account on one SCM instance, put together from three concerns, one file each:

- ``transport``: the ``requests.Session``, TLS, and the one urllib3 ``Retry`` policy (reads retried; a POST that may
  have reached SCM never: "Retries" in docs/scm-protocol.md);
- ``auth``: the login, as a ``requests`` auth object (password headers, client certificate, OAuth2 client credentials);
- the endpoint groups ``ssl_api``, ``smime_api`` and ``report_api`` over ``endpoints``: one method per endpoint.

No Ansible in here. Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.auth import auth_for, private_api_url
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.report_api import REPORT_PREFIX, ReportEndpoints
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.smime_api import SmimeEndpoints
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.ssl_api import SslEndpoints
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.transport import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, Attempts, RetryTiming, Transport, client_cert_context,
)

__all__ = ["ScmClient", "HAS_REQUESTS", "REQUESTS_IMPORT_ERROR"]


class ScmClient(SslEndpoints, SmimeEndpoints, ReportEndpoints):
    """One SCM account on one SCM instance; every public method is one endpoint (docs/scm-protocol.md names it).

    The options come from a config entry whose rules ``_lifecycle/configs`` checked when it stored it.
    ``requests_sent`` counts every request (retries and token requests included), ``tokens_fetched`` the OAuth2 tokens.
    """

    def __init__(self, base_url: str, customer_uri: str, login: str, password: str | None = None, *,
                 auth_method: str = "password", client_cert: str | None = None, client_key: str | None = None,
                 verify: bool = True, ca_cert: str | None = None, timeout: float | tuple[float, float] = 30,
                 sleep: Callable[[float], None] = time.sleep, max_retries: int = 4, backoff_factor: float = 0.5,
                 max_retry_after: float = 120, rand: Callable[[], float] = random.random,
                 client_cert_pem: str | None = None, client_key_pem: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None, token_url: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not HAS_REQUESTS:
            raise ScmError("the Python library 'requests' is required to talk to SCM")
        parts = urlsplit(str(base_url).rstrip("/"))
        # Credentials never travel in the URL; drop any user:password@ so no message can show it.
        base = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        self.base_url = private_api_url(base) if auth_method == "client_certificate" else base
        self.customer_uri = customer_uri
        self.login = login
        self.auth_method = auth_method
        context = None
        if auth_method == "client_certificate" and client_cert_pem:
            context = client_cert_context(client_cert_pem, client_key_pem or "", verify=bool(verify) or bool(ca_cert))
        cert = None
        if auth_method == "client_certificate" and client_cert and not client_cert_pem:
            cert = (client_cert, client_key) if client_key else client_cert
        timing = RetryTiming(sleep, rand, max_retry_after, Attempts())
        self.transport = Transport(verify=verify, ca_cert=ca_cert, timeout=timeout, cert=cert, context=context,
                                   max_retries=max_retries, backoff_factor=backoff_factor, timing=timing)
        self.session = self.transport.session
        # Reports only read: retried like a GET (report_api).
        self.transport.mount_read_post(f"{self.base_url}{REPORT_PREFIX}")
        self.auth = auth_for(auth_method, self.transport, login=login, customer_uri=customer_uri, password=password,
                             client_id=client_id, client_secret=client_secret, token_url=token_url, clock=clock)
        self.session.auth = self.auth

    @property
    def requests_sent(self) -> int:
        return self.transport.attempts.sent

    @property
    def tokens_fetched(self) -> int:
        return self.auth.tokens_fetched

    def __repr__(self) -> str:
        return (f"ScmClient(base_url={self.base_url!r}, customer_uri={self.customer_uri!r}, login={self.login!r}, "
                f"auth_method={self.auth_method!r})")

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> ScmClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def verify_credentials(self, kind: str = "ssl") -> None:
        """One cheap authenticated GET; raises ``ScmAuthError`` when SCM refuses the credentials."""
        if kind not in ("ssl", "smime"):
            raise InputError("kind", f"kind must be ssl or smime; got {kind!r}")
        self._json("GET", f"/{kind}/v1/types")
