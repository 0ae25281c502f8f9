# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's two HTTP clients share: a ``requests.Session`` that reads the environment once per origin.

With ``trust_env`` on (requests' default, and the collection's), requests reads the environment again for every
request: the proxies and ``NO_PROXY`` (each time walking all of ``os.environ`` three times), ``REQUESTS_CA_BUNDLE`` and
``CURL_CA_BUNDLE``, and ``~/.netrc`` (two file lookups). What it finds depends only on the request's origin (scheme,
host and port), on the settings given and on a few environment variables (:data:`ENV_NAMES`). :class:`EnvOnceSession`
asks requests once per origin, settings and values of those variables, and reuses the answer: reading a dozen
variables costs a few microseconds where walking the environment cost a few hundred. Proxies, ``NO_PROXY``, the CA
bundle variables and ``.netrc`` mean what they mean to requests (docs/vault.md "TLS, proxies and redirects",
docs/scm-protocol.md), and a change of one of those variables counts at the next request. In the fleet path this was
about a fifth of the CPU time spent per certificate (docs/bench.md "One controller's ceiling").

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import os
from typing import Any

try:
    import requests
    from requests.utils import get_netrc_auth
except ImportError:  # ansible-test's import sanity test loads module_utils without optional libraries
    _Session: Any = object
    _AuthBase: Any = object
else:
    _Session = requests.Session
    _AuthBase = requests.auth.AuthBase


# What requests' reading of the environment depends on for http and https URLs: the proxy variables (urllib ignores
# the upper-case HTTP_PROXY when REQUEST_METHOD is set), the CA bundle variables, and where .netrc is.
ENV_NAMES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
             "REQUEST_METHOD", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC", "HOME")


def environment() -> tuple[str | None, ...]:
    """The values of :data:`ENV_NAMES` now."""
    return tuple(os.environ.get(name) for name in ENV_NAMES)


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, lower-cased: what the environment's settings for a request depend on."""
    scheme, _sep, rest = str(url).partition("://")
    for stop in "/?#":
        rest = rest.split(stop, 1)[0]
    return f"{scheme.lower()}://{rest.lower()}"


class _NoAuth(_AuthBase):  # type: ignore[misc,valid-type]
    """No credentials (what ``.netrc`` gave for an origin without an entry): leaves the request as it is."""

    def __call__(self, request: Any) -> Any:
        return request


NO_AUTH = _NoAuth()


class EnvOnceSession(_Session):  # type: ignore[misc,valid-type]
    """A ``requests.Session`` that reads the environment once per origin and values of :data:`ENV_NAMES` (see the module
    docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._netrc: dict[str, Any] = {}
        self._settings: dict[Any, dict[str, Any]] = {}

    def prepare_request(self, request: Any) -> Any:
        if self.trust_env and not request.auth and not self.auth:
            key = (origin(request.url), os.environ.get("NETRC"), os.environ.get("HOME"))
            if key not in self._netrc:
                self._netrc[key] = get_netrc_auth(request.url)
            # A true value keeps requests from looking .netrc up again; NO_AUTH changes nothing in the request.
            request.auth = self._netrc[key] or NO_AUTH
        return super().prepare_request(request)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        try:
            key = (origin(url), tuple(sorted((proxies or {}).items())), stream, verify, cert,
                   tuple(sorted(self.proxies.items())), self.stream, self.verify, self.cert, environment())
            found = self._settings.get(key)
        except TypeError:  # a setting that cannot be a key (a list given as cert): no reuse
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if found is None:
            found = super().merge_environment_settings(url, None if proxies is None else dict(proxies), stream, verify, cert)
            self._settings[key] = found
        # The caller may change what it is given: a copy of the proxies each time.
        return dict(found, proxies=dict(found["proxies"] or {}))
