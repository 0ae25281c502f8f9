# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every SCM endpoint group shares: paths to URLs, JSON in and out, SCM's answers to exceptions, lists and counts.

A group of endpoints (``ssl_api.SslEndpoints``, ``smime_api.SmimeEndpoints``, ``report_api.ReportEndpoints``) is a
class over ``Endpoints`` with one method per endpoint; ``client.ScmClient`` combines them. A new group is a new file
of that shape and one more base class of ``ScmClient`` (docs/architecture.md, "_scm/client.ScmClient").

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError, ScmPending, error_from_response

PAGE_SIZE = 200
JSON_CONTENT_TYPE = "application/json;charset=utf-8"
_READS = ("GET", "HEAD")


def parse_total_count(value: str | None) -> int | None:
    """``X-Total-Count`` as an int, None when absent or not a number ("Lists and counts")."""
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def names_list(value: Any) -> list[str]:
    """SANs and requesters as SCM's list, from a list or a comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


def field_list(value: Any) -> list[dict[str, str]]:
    """``[{name, value}]`` with string values, as SCM takes them, from such a list or a ``{name: value}`` mapping."""
    items = [{"name": k, "value": v} for k, v in value.items()] if isinstance(value, dict) else value
    return [{"name": str(item["name"]), "value": str(item["value"])} for item in items]


def revoke_body(reason: str, reason_code: int) -> dict[str, Any]:
    # Always both members: newer servers want reasonCode, older ones reason ("Revoke" in docs/scm-protocol.md).
    return {"reason": reason or "", "reasonCode": int(reason_code)}


def segment(value: Any) -> str:
    """An id or serial number as one path segment (serials keep their colons, "Revoke" in docs/scm-protocol.md)."""
    text = str(value)
    if not text:
        raise InputError("id", "an SCM id or serial number must not be empty")
    return quote(text, safe=":")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Endpoints:
    """The request helpers of an endpoint group; ``ScmClient`` sets ``base_url``, ``auth_method``, ``transport`` and ``auth``."""

    base_url: str
    auth_method: str
    transport: Any
    auth: Any

    @property
    def _secrets(self) -> tuple[str, ...]:
        return tuple(self.auth.secrets)

    def _url(self, path: str) -> str:
        if self.auth_method == "oauth2" and path.startswith("/smime/v1/"):
            # The Admin API serves every S/MIME operation under v2 ("S/MIME certificates" in docs/scm-protocol.md).
            path = "/smime/v2/" + path[len("/smime/v1/"):]
        return f"{self.base_url}{path}"

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, collect: bool = False,
                 reads: bool | None = None) -> Any:
        """Send one request (the transport retries what may be retried); the ``requests.Response`` of a 2xx answer.

        ``reads`` marks a POST that places nothing (a report): its errors do not say it may have reached SCM.
        """
        url = self._url(path)
        reads = method in _READS if reads is None else reads
        headers = {"Content-Type": JSON_CONTENT_TYPE} if body is not None else None
        data = json.dumps(body).encode("utf-8") if body is not None else None
        response = self.transport.send(method, url, params=params, data=data, headers=headers, reads=reads,
                                       doing=f"complete {method} {path} with SCM")
        status = response.status_code
        if 200 <= status < 300:
            return response
        if 300 <= status < 400:
            # Redirects are not followed: requests would resend the password header to wherever Location points.
            location = urlsplit(response.headers.get("Location") or "")
            target = urlunsplit((location.scheme, location.hostname or "", location.path, "", "")) if location.path else "elsewhere"
            raise ScmError(f"SCM redirected {method} {path} to {target} (HTTP {status}); set base_url to the final address",
                           status=status, method=method, url=url, may_have_reached=not reads)
        raise error_from_response(status, response.content, method=method, url=url, path=path, collect=collect,
                                  may_have_reached=not reads and status >= 500, attempts=self.transport.attempts.last,
                                  secrets=self._secrets)

    def _json(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, reads: bool | None = None) -> Any:
        response = self._request(method, path, params=params, body=body, reads=reads)
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
        # The format is sent as given: _lifecycle/request checks it, and SCM matches it case-insensitively.
        response = self._request("GET", path, params={"format": str(fmt)}, collect=True)
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
