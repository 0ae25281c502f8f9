# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault client's view of the environment: the proxy for an address (``NO_PROXY`` honoured) and the CA bundle.

Private to this collection: no compatibility is promised to code outside it.

The Vault client reads them with :func:`environment_proxy` and :func:`environment_ca_bundle` when it builds its
pool. The SCM session leaves them to requests itself (``_scm/transport``).
"""
from __future__ import annotations

import os


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
