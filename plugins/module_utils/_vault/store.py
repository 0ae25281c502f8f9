# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault side of the collection: log in (any auth method of docs/vault.md) and keep records in KV v2 with check-and-set.

Every record lives under ``<kv_mount>/<kv_path>/`` (docs/vault.md); :class:`VaultStore` takes paths relative to that.
Requests go through ``_vault/client.VaultClient`` (hvac on one ``requests.Session``). hvac's and requests'
exceptions become one of the :class:`VaultError` classes in :func:`_translate`, the only place that reads them,
so messages have one shape and never hold a token or a secret id.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import redact
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import auth as _vault_auth
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import client as _vault_client
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import RedirectRefused, RenewalRefused, VaultClient
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions, VaultOptionsError

if _vault_client.HAS_HVAC:
    import hvac.exceptions
    import requests.exceptions
    import urllib3.exceptions
    import urllib3.util


class VaultError(Exception):
    """A Vault operation failed. ``path`` is the full Vault path when known, ``status`` the HTTP status."""

    def __init__(self, message: str, *, path: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.status = status


class VaultAuthError(VaultError):
    """Login refused, or a request refused for the token (HTTP 401/403)."""


class VaultCasConflict(VaultError):
    """A check-and-set write lost: the record changed (or was created) since it was read."""


# How many times a writer reads again and decides again after losing a check-and-set to another run.
CAS_ATTEMPTS = 5


class VaultConnectionError(VaultError):
    """Vault did not answer: refused connection, DNS failure, TLS failure or timeout."""


class VaultNotFoundError(VaultError):
    """The KV mount does not exist, is not KV version 2, or an auth mount is missing."""


# A Vault cluster electing a new leader (docs/scale.md "A Vault cluster"): its nodes answer 500, 502, 503 or 504, or
# hold a request until it times out, or drop the connection, for a few seconds. A request that met one of these is sent
# again with backoff until ELECTION_WINDOW seconds have passed since its first failure; a write is safe to send again
# because it carries check-and-set (see VaultStore.write). During an election a standby also redirects (307) to the
# leader it last knew, which is gone: a connection refused by that other node is retried too. A connection refused by
# vault_addr itself, a name that does not resolve or a TLS failure is not: the address is wrong or down, and the
# message says so at once.
ELECTION_WINDOW = 60.0
_TRANSIENT_STATUS = (500, 502, 503, 504)

# Vault's clock (docs/scale.md "Claims on Vault's clock"): the store keeps the time Vault wrote the versions it read or
# wrote last (this many paths), so that judging a claim just read costs no extra request.
STAMPS_KEPT = 256
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def vault_time(value: Any) -> datetime | None:
    """An RFC 3339 time as Vault writes it (``2026-12-07T22:55:01.123456789Z``, nanoseconds) as an aware UTC datetime;
    None when absent or not such a time (KV v2 leaves ``created_time`` empty on some paths of some servers)."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    text = f"{whole}.{(fraction or '0')[:6].ljust(6, '0')}{'+00:00' if zone == 'Z' else zone}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def transient(exc: BaseException, base_uri: str = "") -> bool:
    """Whether hvac's or requests' exception ``exc`` may pass once the cluster has a leader again (``base_uri``: vault_addr).

    Transient: HTTP 500, 502, 503 and 504 (hvac's InternalServerError, BadGateway, VaultDown and a 504's
    UnexpectedError), a connect or read timeout, a dropped connection, and a connection refused by a node other than
    ``base_uri`` (a redirect to the leader that is gone). Not transient: anything else, among them a connection refused
    by ``base_uri`` itself, a name that does not resolve, a TLS or proxy failure, every 4xx, and a token renewal Vault
    refused (:class:`RenewalRefused`: a token past its max TTL is answered with a 500 that no election will change).
    """
    if not _vault_client.HAS_HVAC or isinstance(exc, RenewalRefused):
        return False
    if isinstance(exc, hvac.exceptions.VaultError):
        return getattr(exc, "status", None) in _TRANSIENT_STATUS
    errors = requests.exceptions
    if isinstance(exc, (errors.SSLError, errors.ProxyError, errors.InvalidURL, errors.InvalidSchema)):
        return False
    if isinstance(exc, errors.Timeout):  # ReadTimeout, and ConnectTimeout (a subclass of ConnectionError too)
        return True
    if not isinstance(exc, errors.ConnectionError):
        return False
    reason = _innermost(exc)
    if isinstance(reason, urllib3.exceptions.NameResolutionError) or "resolve" in str(reason).lower():
        return False
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # refused: by vault_addr, or by a node it redirected to
        return _refused_elsewhere(reason, exc, base_uri)
    return True  # the connection dropped (reset, aborted, remote end closed) or a retry budget ran out on one of these


def _innermost(exc: BaseException) -> BaseException:
    """urllib3's reason under requests' ConnectionError (through MaxRetryError when there is one)."""
    reason: Any = exc.args[0] if exc.args else exc
    if isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    return reason if isinstance(reason, BaseException) else exc


def _refused_elsewhere(reason: BaseException, exc: BaseException, base_uri: str) -> bool:
    """Whether the refused connection went to another host:port than ``base_uri`` (a redirect to an old leader)."""
    conn = getattr(reason, "conn", None) or getattr(reason, "pool", None)
    host, port = getattr(conn, "host", None), getattr(conn, "port", None)
    if not host:  # no connection object: the request's URL says where it went
        request = getattr(exc, "request", None)
        url = urllib3.util.parse_url(getattr(request, "url", None) or "")
        host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
    target = urllib3.util.parse_url(base_uri) if base_uri else None
    if not (target and host):
        return False
    return (str(host).strip("[]").lower(), port) != (str(target.host).strip("[]").lower(), target.port or (443 if target.scheme == "https" else 80))


def policy_hcl(mount: str = "secret", base_path: str = "sectigo-vault-pki") -> str:
    """The least a token needs for the collection's records under ``<mount>/<base_path>/`` (docs/vault.md explains it)."""
    return (f'path "{mount}/data/{base_path}/*" {{\n  capabilities = ["create", "read", "update"]\n}}\n'
            f'path "{mount}/metadata/{base_path}/*" {{\n  capabilities = ["read", "list", "delete"]\n}}\n')


def connect(options: VaultOptions) -> VaultClient:
    """A :class:`VaultClient` for ``options``, logged in with ``options.vault_auth_method`` at ``options.auth_mount``.

    Token auth sends no request here: the token is checked when a first request is refused.
    Raises VaultAuthError (login refused), VaultConnectionError (Vault unreachable), VaultNotFoundError.
    """
    if not _vault_client.HAS_HVAC:
        raise VaultError("the Python libraries hvac and requests are required (pip install hvac)")
    try:
        client = VaultClient(options, _vault_auth.login)
        client.log_in()
    except VaultOptionsError:
        raise  # names the option (an AWS profile, a library) before any request
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise _translate(exc, action="log in to", path=f"auth/{options.auth_mount}", addr=options.vault_addr,
                         secrets=options.secrets(), login=options.vault_auth_method) from None
    return client


def open_store(options: VaultOptions) -> "VaultStore":
    """The collection's KV store for ``options``: logged in (see :func:`connect`) under ``kv_mount``/``kv_path``."""
    return VaultStore(connect(options), mount=options.kv_mount, base_path=options.kv_path)


def _errors_text(exc: Any) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(str(error) for error in errors)
    text = (getattr(exc, "text", None) or "").strip()
    return text[:300] if text else "no details"


def _connection_reason(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without urllib3's pool and URL prose."""
    errors = requests.exceptions
    if isinstance(exc, errors.ProxyError):
        # urllib3's text may quote the proxy URL, which can hold a password.
        return "the proxy could not be reached or refused the connection (see vault_proxies, HTTPS_PROXY, NO_PROXY)"
    if isinstance(exc, errors.SSLError):
        return "TLS verification failed (set vault_ca_cert, or vault_validate_certs: false for a test server)"
    if isinstance(exc, errors.Timeout):
        return "timed out (see vault_timeout)"
    if isinstance(exc, errors.InvalidSchema) and "SOCKS" in str(exc):
        return "a socks proxy needs the Python package PySocks (pip install pysocks)"
    inner = exc.args[0] if exc.args else None
    text = str(getattr(inner, "reason", None) or inner or exc)
    found = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if found:
        return found.group(0).strip()
    if "resolve" in text.lower():
        return "the host name does not resolve"
    return text[-200:]


class _Absent(VaultNotFoundError):
    """HTTP 404 on a record path inside an existing mount: no record (``body`` may hold a deleted version)."""

    def __init__(self, message: str, *, path: str | None = None, body: Any = None) -> None:
        super().__init__(message, path=path, status=404)
        self.body = body if isinstance(body, dict) else {}


def _translate(exc: BaseException, *, action: str, path: str, addr: str = "", secrets: list[str] | None = None,
               login: str | None = None, mount: str | None = None) -> VaultError:
    """The one mapping from hvac's and requests' exceptions to VaultError classes.

    ``action`` is a verb phrase (``read``, ``write``, ``log in to``); ``login`` names the auth method when the
    request was a login, where 400/401/403 all mean the credentials were refused. Messages are scrubbed of
    ``secrets`` in case a server ever echoes one.
    """
    secrets = secrets or []
    if isinstance(exc, VaultError):
        return exc
    if isinstance(exc, RedirectRefused):
        return VaultError(f"cannot {action} '{path}': {exc}", path=path)
    if _vault_client.HAS_HVAC and isinstance(exc, requests.exceptions.TooManyRedirects):
        return VaultError(f"cannot {action} '{path}': more than {_vault_client.MAX_REDIRECTS} redirects", path=path)
    if _vault_client.HAS_HVAC and isinstance(exc, requests.exceptions.RequestException):
        return VaultConnectionError(f"cannot reach Vault at {addr or 'vault_addr'} to {action} '{path}': {_connection_reason(exc)}", path=path)
    if isinstance(exc, _vault_auth.LoginError):  # its text names the method and the mount, never a secret
        kind = VaultNotFoundError if exc.missing_mount else VaultAuthError
        return kind(redact(str(exc), secrets), path=f"auth/{exc.mount}", status=exc.status)
    if isinstance(exc, RenewalRefused):
        return VaultAuthError(f"cannot {action} '{path}': {exc}", path=path, status=exc.status)
    if not (_vault_client.HAS_HVAC and isinstance(exc, hvac.exceptions.VaultError)):
        return VaultError(redact(f"failed to {action} '{path}': {type(exc).__name__}: {exc}", secrets), path=path)
    status = getattr(exc, "status", None)
    detail = redact(_errors_text(exc), secrets)
    no_route = "no handler for route" in detail or "unsupported path" in detail
    if login is not None:
        if status == 404 or no_route:
            return VaultNotFoundError(f"no auth method is mounted at '{path}' (vault_auth_method '{login}'; set vault_auth_mount "
                                      f"if it is mounted elsewhere): {detail}", path=path, status=status)
        if status in (400, 401, 403):
            return VaultAuthError(f"Vault refused the login (vault_auth_method '{login}', mount '{path}'): {detail}", path=path, status=status)
    if mount and "preflight capability check" in detail:
        return VaultNotFoundError(f"kv_mount '{mount}' is not a KV version 2 mount the token may use (it does not exist, "
                                  f"or the token's policies grant nothing under it)", path=path, status=status)
    if mount and no_route:
        return VaultNotFoundError(f"kv_mount '{mount}' does not exist (no secrets engine is mounted there)", path=path, status=status)
    if status in (401, 403):
        return VaultAuthError(f"permission denied to {action} '{path}': {detail}", path=path, status=status)
    if status == 404:
        return _Absent(f"no record at '{path}'", path=path, body=getattr(exc, "json", None))
    if status == 400 and "check-and-set" in detail:
        return VaultCasConflict(f"check-and-set conflict on '{path}': it changed since it was read ({detail})", path=path, status=status)
    if status == 503:
        return VaultError(f"Vault is sealed or unavailable; cannot {action} '{path}': {detail}", path=path, status=status)
    return VaultError(f"Vault refused to {action} '{path}' (HTTP {status or 'error'}): {detail}", path=path, status=status)


class VaultStore:
    """KV v2 records under ``<mount>/<base_path>/``, every write with check-and-set.

    ``requests_sent`` counts the HTTP requests the store made (a token check and the one-time mount check included).
    """

    def __init__(self, client: Any, mount: str = "secret", base_path: str = "sectigo-vault-pki", *, auth_method_name: str | None = None,
                 retry_window: float = ELECTION_WINDOW, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.retry_window = retry_window
        self._sleep = sleep
        self._monotonic = monotonic
        self.mount = mount.strip("/")
        self.base_path = base_path.strip("/")
        self.auth_method = auth_method_name or getattr(client, "auth_method", None) or "token"
        self.requests_sent = 0
        self._mount_checked = False
        # path -> (version, when Vault wrote it); and (Vault's time, this process's monotonic time) at the latest sample.
        self._stamps: dict[str, tuple[int, datetime]] = {}
        self._clock_sample: tuple[datetime, float] | None = None

    def _rel(self, path: str) -> str:
        rel = path.strip("/") if isinstance(path, str) else ""
        if not rel or any(part in ("", ".", "..") for part in rel.split("/")):
            raise VaultError(f"invalid record path {path!r}", path=str(path))
        return f"{self.base_path}/{rel}"

    def full_path(self, path: str) -> str:
        """``<mount>/<base_path>/<path>``: where ``bao kv get`` finds the record."""
        return f"{self.mount}/{self._rel(path)}"

    def _request(self, method: str, api_path: str, *, action: str, shown: str, attempts: list[VaultError] | None = None,
                 **kwargs: Any) -> Any:
        """``_request_once``, sent again while it fails with a ``transient`` error, for at most ``retry_window`` seconds.

        ``attempts`` (when given) receives each failure that was followed by another attempt.
        """
        deadline, delay = None, 0.25
        while True:
            try:
                return self._request_once(method, api_path, action=action, shown=shown, **kwargs)
            except VaultError as error:
                now = self._monotonic()
                deadline = now + self.retry_window if deadline is None else deadline
                if not getattr(error, "transient", False) or now >= deadline:
                    raise
                if attempts is not None:
                    attempts.append(error)
                self._sleep(min(delay, max(0.0, deadline - now)))
                delay = min(delay * 2, 4.0)

    def _request_once(self, method: str, api_path: str, *, action: str, shown: str, **kwargs: Any) -> Any:
        """One request through the client; every failure leaves as a VaultError (see _translate)."""
        self.requests_sent += 1
        try:
            return self.client.request(method, f"/v1/{api_path}", **kwargs)
        except VaultOptionsError:
            raise  # a new login found its credentials gone (an AWS profile, an Azure identity): it names the option
        except Exception as exc:  # pylint: disable=broad-exception-caught
            token = getattr(self.client, "token", None)
            error = _translate(exc, action=action, path=shown, addr=getattr(self.client, "base_uri", ""),
                               secrets=[token] if token else [], mount=self.mount)
            error.transient = transient(exc, getattr(self.client, "base_uri", ""))  # type: ignore[attr-defined]
        if isinstance(error, VaultAuthError) and self.auth_method == "token" and api_path != "auth/token/lookup-self":
            error = self._explain_token_refusal(error, action=action, shown=shown)
        raise error

    def _explain_token_refusal(self, error: VaultAuthError, *, action: str, shown: str) -> VaultAuthError:
        """Tell a dead token from a policy that does not allow the path (token auth is checked lazily, here)."""
        try:
            self._request_once("GET", "auth/token/lookup-self", action="look up", shown="auth/token/lookup-self")
        except VaultError:
            return VaultAuthError(f"Vault refused the token (vault_auth_method 'token'): it is invalid, expired or revoked; "
                                  f"could not {action} '{shown}'", path=shown, status=error.status)
        return VaultAuthError(f"permission denied to {action} '{shown}': the token's policies do not allow it "
                              f"(see the minimal policy in docs/vault.md)", path=shown, status=error.status)

    def _check_mount(self) -> None:
        """Once per store, before the first write or delete: a KV v1 mount would silently take ``data/...`` as a key.

        Reads ``sys/internal/ui/mounts/<mount>``, which any token with a capability under the mount may read.
        """
        if self._mount_checked:
            return
        try:
            reply = self._request("GET", f"sys/internal/ui/mounts/{self.mount}", action="inspect", shown=self.mount)
        except (VaultAuthError, VaultConnectionError):
            raise
        except VaultNotFoundError as exc:
            if not isinstance(exc, _Absent):
                raise
            reply = None  # a server without this endpoint: a KV v1 mount would show on the first read instead
        except VaultError:
            reply = None
        if isinstance(reply, dict):
            data = reply.get("data") or {}
            kind = data.get("type")
            version = str((data.get("options") or {}).get("version") or "1")
            if kind not in ("kv", "generic") or version != "2":
                described = f"a KV version {version} mount" if kind in ("kv", "generic") else f"a '{kind or 'unknown'}' mount"
                raise VaultNotFoundError(f"kv_mount '{self.mount}' is not a KV version 2 mount (it is {described})", path=self.mount)
        self._mount_checked = True

    def _not_kv2(self) -> VaultNotFoundError:
        return VaultNotFoundError(f"kv_mount '{self.mount}' is not a KV version 2 mount", path=self.mount)

    def read(self, path: str) -> tuple[dict[str, Any] | None, int]:
        """``(data, version)`` of the latest version; ``(None, 0)`` when there is no record.

        When the latest version is soft-deleted or destroyed (e.g. ``bao kv delete``), returns ``(None, <that
        version>)``: KV v2 keeps counting versions, so ``write(path, data, cas=version)`` re-creates the record.
        """
        rel = self._rel(path)
        try:
            reply = self._request("GET", f"{self.mount}/data/{rel}", action="read", shown=f"{self.mount}/{rel}")
        except _Absent as absent:
            metadata = (absent.body.get("data") or {}).get("metadata") or {}
            return None, int(metadata.get("version") or 0)
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            raise self._not_kv2()
        version = int(data["metadata"].get("version") or 0)
        if data.get("data") is None:
            return None, version
        self._stamp(rel, version, data["metadata"].get("created_time"))
        return data["data"], version

    def write(self, path: str, data: dict[str, Any], cas: int) -> int:
        """Write a new version if the record is still at version ``cas`` (``0``: only if it does not exist).

        Returns the new version; raises VaultCasConflict when another writer came first.

        A write sent again after a transient failure (``_request``) may find that its first attempt was applied (the
        answer was lost, not the write): Vault refuses the repeat with a check-and-set conflict. The record is then read:
        at version ``cas + 1`` and holding ``data``, it is this write's own, and its version is returned.
        """
        if not isinstance(cas, int) or isinstance(cas, bool) or cas < 0:
            raise VaultError(f"check-and-set version must be an integer >= 0; got {cas!r}", path=path)
        rel = self._rel(path)
        self._check_mount()
        attempts: list[VaultError] = []
        try:
            reply = self._request("POST", f"{self.mount}/data/{rel}", action="write", shown=f"{self.mount}/{rel}", attempts=attempts,
                                  json_body={"data": data, "options": {"cas": cas}})
        except VaultCasConflict:
            if attempts:
                current, version = self.read(path)
                if version == cas + 1 and current == data:
                    return version
            raise
        try:
            version = int(reply["data"]["version"])
        except (KeyError, TypeError, ValueError):
            raise self._not_kv2() from None
        written = self._stamp(rel, version, reply["data"].get("created_time"))
        if written is not None:
            self._clock_sample = (written, self._monotonic())
        return version

    def list(self, path: str) -> list[str]:
        """Names directly under ``path``, sorted, sub-folders without their trailing ``/``; ``[]`` when none."""
        rel = self._rel(path)
        try:
            reply = self._request("LIST", f"{self.mount}/metadata/{rel}", action="list", shown=f"{self.mount}/{rel}")
        except _Absent:
            return []
        keys = ((reply.get("data") or {}).get("keys") or []) if isinstance(reply, dict) else []
        return sorted({str(key).rstrip("/") for key in keys})

    def delete(self, path: str) -> None:
        """Remove the record with its metadata and every version; nothing happens when there is none."""
        rel = self._rel(path)
        self._check_mount()
        try:
            self._request("DELETE", f"{self.mount}/metadata/{rel}", action="delete", shown=f"{self.mount}/{rel}")
        except _Absent:
            return

    # ---- Vault's clock (docs/scale.md "Claims on Vault's clock") ----------------------------------------

    def _stamp(self, rel: str, version: int, created_time: Any) -> datetime | None:
        written = created_time if isinstance(created_time, datetime) else vault_time(created_time)
        if written is not None:
            self._stamps.pop(rel, None)
            self._stamps[rel] = (version, written)
            if len(self._stamps) > STAMPS_KEPT:
                del self._stamps[next(iter(self._stamps))]
        return written

    def written_at(self, path: str, version: int) -> datetime | None:
        """When Vault wrote ``version`` of the record at ``path``, by Vault's own clock (KV v2's ``created_time``).

        Known without a request when this store read or wrote that version lately, else read from the record's metadata;
        None when Vault keeps no such version or no time for it."""
        rel = self._rel(path)
        seen = self._stamps.get(rel)
        if seen is not None and seen[0] == version:
            return seen[1]
        metadata = self.read_metadata(path) or {}
        written = vault_time(((metadata.get("versions") or {}).get(str(version)) or {}).get("created_time"))
        if written is not None:
            self._stamp(rel, version, written)
        return written

    def vault_now(self) -> datetime:
        """Vault's clock now, without the controller's: the time Vault gave last (a write of this store returns when Vault
        wrote it; else ``sys/health`` answers ``server_time_utc``, asked once), moved on by this process's monotonic clock,
        which no change of the wall clock moves. Either sample is taken as its answer arrives, so the estimate is behind
        Vault's clock by the answer's travel time (and up to a second for ``server_time_utc``): a claim looks younger,
        never older, than it is."""
        if self._clock_sample is None:
            reply = self._request("GET", "sys/health?standbyok=true&perfstandbyok=true", action="read the time of",
                                  shown="sys/health")
            seconds = reply.get("server_time_utc") if isinstance(reply, dict) else None
            if not isinstance(seconds, int) or isinstance(seconds, bool):
                raise VaultError("Vault's sys/health did not answer its time (server_time_utc): claims cannot be judged on "
                                 "Vault's clock", path="sys/health")
            self._clock_sample = (datetime.fromtimestamp(seconds, timezone.utc), self._monotonic())
        sampled, at = self._clock_sample
        return sampled + timedelta(seconds=self._monotonic() - at)

    def read_metadata(self, path: str) -> dict[str, Any] | None:
        """KV v2 metadata (``current_version``, ``versions``, times); ``None`` when there is no record."""
        rel = self._rel(path)
        try:
            reply = self._request("GET", f"{self.mount}/metadata/{rel}", action="read metadata of", shown=f"{self.mount}/{rel}")
        except _Absent:
            return None
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, dict):
            raise self._not_kv2()
        return data
