# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the two HTTP clients (Vault through hvac, and SCM) share: the environment is read once per session.

Private to this collection: no compatibility is promised to code outside it.

With ``trust_env`` on, requests reads the proxy variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) and
the CA bundle variables from the environment again for every request, which costs about a millisecond: a
large part of a Vault read on loopback, and of an idempotent re-run (docs/bench.md "Fleet scale"). A session
here reads them once, for the servers it talks to, with the same outcome: the proxies the environment names
for those URLs (none when ``NO_PROXY`` covers them) under the ones the options give, and the environment's
CA bundle when the options leave verification at its default.
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
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return verify
