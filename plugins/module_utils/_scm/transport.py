# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How requests reach SCM: one ``requests.Session``, one urllib3 ``Retry`` policy, TLS ("Retries" in docs/scm-protocol.md).

The policy lives on the session's ``HTTPAdapter``, so urllib3 does the retrying:

- GET and HEAD are retried on a failed connection, a timeout, a dropped answer and on 429/500/502/503/504,
  with exponential backoff and jitter, honouring ``Retry-After`` (capped at ``max_retry_after``).
- Any other method, POST above all (enroll, renew, replace, revoke), is retried only when the connection was
  never established: urllib3 counts those as connect errors, whatever the method. Once a POST may have reached
  SCM, it is never sent again; the error says ``may_have_reached`` and the caller looks the order up.
- A POST that places nothing (the OAuth2 token request, a report) may go again like a GET: ``mount_read_post``
  mounts the same policy with POST allowed under that URL only.

Proxies (``HTTP(S)_PROXY``, ``NO_PROXY``) and ``REQUESTS_CA_BUNDLE`` come from the environment as requests reads
them, kept per SCM address (``_http.EnvOnceSession``). ``verify`` is passed with every request, because requests would
otherwise let ``REQUESTS_CA_BUNDLE`` override an explicit ``scm_ca_cert`` or ``scm_validate_certs: false``.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import os
import re
import shutil
import ssl
import tempfile
import threading
import traceback
from typing import Any, Callable, Iterator

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, redact
from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import EnvOnceSession
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import RETRYABLE_STATUSES, ScmConnectionError

try:
    import requests
    import urllib3.exceptions
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
    from urllib3.util.ssl_ import create_urllib3_context
except ImportError:  # ansible-test's import sanity test loads module_utils without optional libraries
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR: str | None = traceback.format_exc()
    HTTPAdapter = Retry = object  # type: ignore[assignment,misc]
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

USER_AGENT = "sectigo.vault_pki"
READ_METHODS = frozenset({"GET", "HEAD"})

# Raised while preparing a request, before any connection: nothing was sent, nothing to retry.
_UNSENDABLE = (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema,
               requests.exceptions.InvalidSchema, requests.exceptions.URLRequired) if HAS_REQUESTS else ()
_OBJECT_AT = re.compile(r"<[^>]* object at 0x[0-9a-fA-F]+>:?\s*")


class Attempts:
    """Every request sent (retries included), and the attempts of the last exchange of the calling thread."""

    def __init__(self) -> None:
        self.sent = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def first(self) -> None:
        with self._lock:
            self.sent += 1
        self._local.count = 1

    def again(self) -> None:
        with self._lock:
            self.sent += 1
        self._local.count = getattr(self._local, "count", 0) + 1

    @property
    def last(self) -> int:
        return getattr(self._local, "count", 1)


class RetryTiming:
    """What the retry policy sleeps and how it counts: injectable, so the unit tests need no clock."""

    def __init__(self, sleep: Callable[[float], None], rand: Callable[[], float], max_retry_after: float, attempts: Attempts) -> None:
        self.sleep = sleep
        self.rand = rand
        self.max_retry_after = float(max_retry_after)
        self.attempts = attempts


class ScmRetry(Retry):  # type: ignore[misc,valid-type]
    """urllib3's ``Retry`` with this collection's waits: ``Retry-After`` capped, else backoff with jitter."""

    def __init__(self, *args: Any, timing: RetryTiming | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timing = timing

    def new(self, **kw: Any) -> Any:
        kw.setdefault("timing", self.timing)
        return super().new(**kw)

    def get_retry_after(self, response: Any) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except urllib3.exceptions.InvalidHeader:  # neither delta-seconds nor an HTTP date: back off instead
            return None
        return None if seconds is None else min(float(seconds), self.timing.max_retry_after)

    def get_backoff_time(self) -> float:
        """Between half and all of ``backoff_factor * 2**n`` before the (n+1)-th retry, at most ``max_retry_after``."""
        delay = self.backoff_factor * (2 ** max(0, len(self.history) - 1))
        return min(self.timing.max_retry_after, delay * (0.5 + self.timing.rand() / 2))

    def sleep(self, response: Any = None) -> None:
        # urllib3 calls this once before every retry.
        self.timing.attempts.again()
        wait = self.get_retry_after(response) if response is not None and self.respect_retry_after_header else None
        self.timing.sleep(self.get_backoff_time() if wait is None else wait)


def retry_policy(max_retries: int, backoff_factor: float, timing: RetryTiming, methods: frozenset[str] = READ_METHODS) -> ScmRetry:
    """The one policy: ``max_retries`` more attempts; statuses and dropped answers only for ``methods``.

    ``other=0``: a TLS failure is not retried (a refused server certificate will be refused again).
    ``raise_on_status=False``: once the retries are spent the last answer is returned, so its error body is reported.
    """
    return ScmRetry(total=max(0, int(max_retries)), other=0, allowed_methods=methods, status_forcelist=RETRYABLE_STATUSES,
                    backoff_factor=float(backoff_factor), raise_on_status=False, respect_retry_after_header=True, timing=timing)


class ScmAdapter(HTTPAdapter):  # type: ignore[misc,valid-type]
    """The session's adapter: counts what it sends, and uses one ready ``ssl.SSLContext`` when it holds a client certificate."""

    def __init__(self, attempts: Attempts, context: Any = None, **kwargs: Any) -> None:
        self._attempts = attempts
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if self._context is not None:
            pool_kwargs["ssl_context"] = self._context
        return host_params, pool_kwargs

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # pylint: disable=signature-differs
        self._attempts.first()
        return super().send(request, *args, **kwargs)


def client_cert_context(cert_pem: str, key_pem: str, *, verify: bool = True) -> Any:
    """An ``ssl.SSLContext`` holding a client certificate and key given as PEM text.

    ``ssl`` loads a certificate only from files, so both are written to a directory only this user may
    read, loaded, and removed before this function returns: the key never stays on disk.
    """
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
    directory = tempfile.mkdtemp(prefix="sectigo-scm-")
    try:
        os.chmod(directory, 0o700)
        paths = []
        for name, text in (("cert.pem", cert_pem), ("key.pem", key_pem)):
            path = os.path.join(directory, name)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
                handle.write(text if isinstance(text, str) else "")
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


def describe(exc: BaseException) -> str:
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


class Transport:
    """One session to one SCM account: TLS settings, the retry policy, and the count of requests sent."""

    def __init__(self, *, verify: bool = True, ca_cert: str | None = None, timeout: Any = 30, cert: Any = None, context: Any = None,
                 max_retries: int = 4, backoff_factor: float = 0.5, timing: RetryTiming) -> None:
        self.attempts = timing.attempts
        self.timeout = timeout
        self.verify: Any = ca_cert if ca_cert else bool(verify)
        self._policy = (max_retries, backoff_factor, timing)
        self._context = context
        self.session = EnvOnceSession()
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        adapter = ScmAdapter(self.attempts, context, max_retries=retry_policy(*self._policy))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.verify = self.verify
        self.session.cert = cert

    def mount_read_post(self, prefix: str) -> None:
        """Retry POSTs under ``prefix`` like reads: for endpoints that only read or hand out a token, never for an order."""
        policy = retry_policy(*self._policy, methods=READ_METHODS | {"POST"})
        self.session.mount(prefix, ScmAdapter(self.attempts, self._context, max_retries=policy))

    def send(self, method: str, url: str, *, doing: str, reads: bool | None = None, **kwargs: Any) -> Any:
        """One request, retried as the policy allows; the ``requests.Response`` of any HTTP answer.

        ``doing`` names the request in messages ("complete GET /ssl/v1/types with SCM"); ``reads`` says that the request
        places nothing (GET and HEAD by default). Raises ``ScmConnectionError`` when no answer came.
        """
        reads = method in READ_METHODS if reads is None else reads
        try:
            return self.session.request(method, url, timeout=self.timeout, allow_redirects=False, verify=self.verify, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise self._failure(exc, method, url, doing, reads) from None
        except OSError as exc:
            # requests checks the CA bundle's and the client certificate's files before it connects: nothing was sent.
            raise ScmConnectionError(f"Could not {doing}: {describe(exc)}; check scm_ca_cert, scm_client_cert and scm_client_key",
                                     method=method, url=url) from None

    def _failure(self, exc: BaseException, method: str, url: str, doing: str, reads: bool) -> ScmConnectionError:
        secrets = getattr(self.session.auth, "secrets", ())
        if isinstance(exc, _UNSENDABLE):
            # These messages may quote a header value, and a header holds the password: name the type only.
            return ScmConnectionError(f"Could not {doing}: {type(exc).__name__}; check base_url, login, password and customer_uri "
                                      "for characters HTTP does not allow", method=method, url=url)
        never_left = is_connect_failure(exc)
        tries = f" after {self.attempts.last} attempts" if self.attempts.last > 1 else ""
        hint = "; check scm_validate_certs and scm_ca_cert" if isinstance(exc, requests.exceptions.SSLError) else ""
        if not never_left and not reads:
            hint += "; the request may have reached SCM"
        return ScmConnectionError(f"Could not {doing}{tries}: {redact(describe(exc), secrets)}{hint}", method=method, url=url,
                                  may_have_reached=not never_left and not reads)

    def close(self) -> None:
        self.session.close()
