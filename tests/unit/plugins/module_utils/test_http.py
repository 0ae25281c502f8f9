"""_http.environment_proxy: the Vault client's proxy for an address, decided as requests decides it."""
from __future__ import annotations

import pytest
import requests

from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import environment_proxy


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                 "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("url, env, expected", [
    ("https://vault.example.com:8200", {"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
    ("http://vault.example.com", {"HTTPS_PROXY": "http://proxy:3128"}, None),
    ("http://vault.example.com", {"ALL_PROXY": "http://all:3128"}, "http://all:3128"),
    ("https://vault.example.com", {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, "http://lower:1"),
    ("https://vault.example.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}, None),
    ("https://vault.example.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example.com"}, None),
    ("https://vault.example.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "other.com, ample.com"}, "http://p:1"),
    ("https://vault.example.com:8200", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "vault.example.com:8200"}, None),
    ("https://vault.example.com:8200", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "vault.example.com:9999"}, "http://p:1"),
    ("https://10.1.2.3:8200", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, None),
    ("https://11.1.2.3:8200", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "http://p:1"),
    ("https://vault.example.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
])
def test_environment_proxy_decides_as_requests_does(monkeypatch, url, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(url) == expected
    # The same decision as requests' own, which the SCM session uses.
    assert requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url)) == expected
