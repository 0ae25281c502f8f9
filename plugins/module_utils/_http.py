# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the two HTTP clients (Vault over urllib3, SCM over requests) share: proxies and CA bundles from the environment.

Private to this collection: no compatibility is promised to code outside it.

The Vault client reads them with :func:`environment_proxy` and :func:`environment_ca_bundle` when it builds its
pool. The SCM session gets the same from :func:`environment_once`: with ``trust_env`` on, requests reads the proxy
variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) and the CA bundle variables from the environment again for
every request, which costs about a millisecond (docs/bench.md "Fleet scale"). A session here reads them once, for
the servers it talks to, with the same outcome: the proxies the environment names for those URLs (none when
``NO_PROXY`` covers them) under the ones the options give, and the environment's CA bundle when the options leave
verification at its default.
"""
from __future__ import annotations

import os
from typing import Any


def environment_once(session: Any, urls: list[str], verify: Any) -> Any:
    """Settle ``session``'s proxies from the environment for ``urls`` and stop it reading the environment again.

    Returns the ``verify`` value to use: ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when ``verify`` is True, as
    requests would pick it per request. When the URLs would get different proxies (a ``NO_PROXY`` that covers one
    of them), the session is left as it was and reads the environment per request.
    """
    import requests.utils  # pylint: disable=import-outside-toplevel

    found = [requests.utils.get_environ_proxies(url) for url in urls]
    if any(proxies != found[0] for proxies in found[1:]):
        return verify
    for scheme, proxy in found[0].items() if found else ():
        if scheme != "no":
            session.proxies.setdefault(scheme, proxy)
    session.trust_env = False
    if verify is True:
        return environment_ca_bundle() or True
    return verify


def environment_ca_bundle() -> str | None:
    """The CA bundle the environment names for verification left at its default, as requests picks it."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``<scheme>_proxy`` or ``all_proxy``), ``None`` when ``NO_PROXY`` covers it.

    Read as ``requests`` reads it: lower-case names first, ``NO_PROXY`` entries matching the host, a domain suffix,
    ``host:port``, ``*`` for every host, or a network in CIDR notation for an IP address.
    """
    import urllib.request  # pylint: disable=import-outside-toplevel
    from urllib.parse import urlsplit  # pylint: disable=import-outside-toplevel

    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme.lower()) or proxies.get("all")
    if not proxy or _bypassed(parts.hostname or "", parts.port, proxies.get("no", "")):
        return None
    return proxy


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    import ipaddress  # pylint: disable=import-outside-toplevel

    host = host.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (part.strip().lower() for part in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
            continue
        name = entry.lstrip(".")
        if host == name or host.endswith("." + name) or (port is not None and f"{host}:{port}" == entry):
            return True
    return False
