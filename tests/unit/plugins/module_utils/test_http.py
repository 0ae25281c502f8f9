"""_http.environment_once: the environment's proxies and CA bundle read once per session, with requests' own outcome."""
from __future__ import annotations

import pytest
import requests

from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import environment_once, environment_proxy

VAULT = "https://vault.example.com:8200"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                 "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_the_environments_proxy_is_kept_and_the_environment_no_longer_read(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    session = requests.Session()
    assert environment_once(session, [VAULT], True) is True
    assert session.proxies["https"] == "http://proxy.example.com:3128" and session.trust_env is False
    # A proxy set later in the environment is not read per request any more.
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example.com:3128")
    assert session.merge_environment_settings(VAULT, {}, None, None, None)["proxies"]["https"] == "http://proxy.example.com:3128"


def test_no_proxy_for_the_server_means_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "vault.example.com")
    session = requests.Session()
    environment_once(session, [VAULT], True)
    assert "https" not in session.proxies and session.trust_env is False


def test_proxies_the_options_give_win(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    session = requests.Session()
    session.proxies["https"] = "http://mine.example.com:8080"
    environment_once(session, [VAULT], True)
    assert session.proxies["https"] == "http://mine.example.com:8080"


def test_urls_with_different_proxies_leave_the_session_reading_the_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "auth.example.com")
    session = requests.Session()
    assert environment_once(session, ["https://scm.example.com/api", "https://auth.example.com/token"], None) is None
    assert session.trust_env is True and "https" not in session.proxies


@pytest.mark.parametrize("given, env, expected", [
    (True, {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, "/etc/ca.pem"),
    (True, {"CURL_CA_BUNDLE": "/etc/curl.pem"}, "/etc/curl.pem"),
    (True, {}, True),
    (False, {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, False),
    ("/etc/mine.pem", {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, "/etc/mine.pem"),
])
def test_verify_takes_the_environments_bundle_only_by_default(monkeypatch, given, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert environment_once(requests.Session(), [VAULT], given) == expected


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
