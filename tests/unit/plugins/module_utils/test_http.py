"""_http.EnvOnceSession: requests' own reading of the environment (proxies, NO_PROXY, CA bundle, .netrc), done once per
origin and values of the variables it depends on. The Vault and SCM clients' tests check the same settings through
their sessions; tests/live/test_vault_store.py changes NO_PROXY between two requests of one client."""
from __future__ import annotations

import requests
import requests.utils

from vault_fakes import Recorded

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _http
from ansible_collections.sectigo.vault_pki.plugins.module_utils._http import EnvOnceSession, origin

PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY",
              "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC")


def clean_env(monkeypatch, tmp_path):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_origin_is_scheme_host_and_port():
    assert origin("HTTPS://Vault.Example.com:8200/v1/secret/data/x?version=2") == "https://vault.example.com:8200"
    assert origin("http://10.0.0.1/v1") == "http://10.0.0.1"
    assert origin("http://host?x=1") == "http://host" and origin("http://host#frag") == "http://host"


def test_the_same_settings_as_a_plain_session(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8,.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "bundle.pem"))
    ours, plain = EnvOnceSession(), requests.Session()
    for url in ("https://vault.example.com:8200/v1/a", "https://10.1.2.3:8200/v1/a", "https://vault.internal:8200/v1/a",
                "http://vault.example.com:8200/v1/a"):
        for verify in (None, True, False, "/etc/ca.pem"):
            for _twice in range(2):
                assert ours.merge_environment_settings(url, {}, None, verify, None) == \
                    plain.merge_environment_settings(url, {}, None, verify, None), (url, verify)
    # The session's own proxies and those given with the request are merged as requests merges them (a change of the
    # session's counts at once).
    for session in (ours, plain):
        session.proxies = {"https": "http://other:1", "http": "http://other:2"}
    for given in ({}, {"https": "http://given:3"}):
        assert ours.merge_environment_settings("https://vault.example.com/v1", dict(given), None, None, None) == \
            plain.merge_environment_settings("https://vault.example.com/v1", dict(given), None, None, None)


def test_the_environment_is_read_once_per_origin_and_settings(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)
    calls = []
    real = requests.sessions.get_environ_proxies

    def counted(url, no_proxy=None):
        calls.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    session = EnvOnceSession()
    for path in ("a", "b", "c"):
        session.merge_environment_settings(f"https://vault:8200/v1/{path}", {}, None, True, None)
    session.merge_environment_settings("https://other:8200/v1/a", {}, None, True, None)
    session.merge_environment_settings("https://vault:8200/v1/a", {}, None, False, None)
    assert calls == ["https://vault:8200/v1/a", "https://other:8200/v1/a", "https://vault:8200/v1/a"]


def test_a_change_of_the_proxy_variables_counts_at_the_next_request(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy:3128")
    session = EnvOnceSession()
    url = "http://127.0.0.1:8200/v1/a"
    assert requests.utils.select_proxy(url, session.merge_environment_settings(url, {}, None, None, None)["proxies"]) == "http://proxy:3128"
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
    assert requests.utils.select_proxy(url, session.merge_environment_settings(url, {}, None, None, None)["proxies"]) is None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    assert session.merge_environment_settings(url, {}, None, True, None)["verify"] == str(tmp_path / "ca.pem")


def test_what_it_returns_may_be_changed_by_the_caller(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    session = EnvOnceSession()
    first = session.merge_environment_settings("https://vault/v1", {}, None, None, None)
    first["proxies"]["https"] = "changed"
    assert session.merge_environment_settings("https://vault/v1", {}, None, None, None)["proxies"]["https"] == "http://proxy:3128"


def test_netrc_credentials_are_requests_own_and_looked_up_once(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine vault login alice password wonder\n")
    netrc.chmod(0o600)
    lookups = []
    real = _http.get_netrc_auth

    def counted(url, *args):
        lookups.append(url)
        return real(url, *args)

    monkeypatch.setattr(_http, "get_netrc_auth", counted)
    session = EnvOnceSession()
    adapter = Recorded(answer=lambda request: (200, {}, {"auth": request.headers.get("Authorization")}))
    session.mount("https://", adapter)
    for path in ("a", "b"):
        assert session.get(f"https://vault/v1/{path}").json()["auth"] == requests.auth._basic_auth_str("alice", "wonder")
    assert session.get("https://elsewhere/v1/a").json()["auth"] is None
    assert session.get("https://elsewhere/v1/b").json()["auth"] is None
    assert lookups == ["https://vault/v1/a", "https://elsewhere/v1/a"]
    # Credentials given with the request, or set on the session, are used and .netrc is not read.
    assert session.get("https://vault/v1/c", auth=("bob", "x")).json()["auth"] == requests.auth._basic_auth_str("bob", "x")
    session.auth = ("carol", "y")
    assert session.get("https://new/v1/c").json()["auth"] == requests.auth._basic_auth_str("carol", "y")
    assert lookups == ["https://vault/v1/a", "https://elsewhere/v1/a"]


def test_without_trust_env_nothing_is_read(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    session = EnvOnceSession()
    session.trust_env = False
    assert session.merge_environment_settings("https://vault/v1", {}, None, None, None)["proxies"] == {}
