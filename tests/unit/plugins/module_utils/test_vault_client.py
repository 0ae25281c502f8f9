"""_vault/client.VaultClient on a recording requests adapter: redirects, retries, the pool, token renewal and re-login.

The live tests (tests/live/test_vault_store.py) follow a real 307 against OpenBao, refuse a real https->http redirect
and run an approle token with a 5 s TTL through a longer run.
"""
from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from vault_fakes import Recorded

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import client as vc
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.auth import LoginResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import RedirectRefused, VaultClient
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultConnectionError, VaultError, VaultStore, _translate

TOKEN = "s3cret-token"


def client_on(addr, replies=(), answer=None, login=None, **values):
    client = VaultClient(VaultOptions.from_mapping({"vault_addr": addr, "vault_token": TOKEN, **values}), login)
    client.token = TOKEN
    adapter = Recorded(replies, answer)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    return client, adapter


# --- redirects ---------------------------------------------------------------------------------------------

def test_a_307_is_followed_with_the_token_the_method_and_the_body():
    client, adapter = client_on("https://standby:8200", [(307, {"Location": "https://active:8200/v1/secret/data/x"}, None),
                                                         (200, {}, {"data": 1})])
    assert client.request("POST", "/v1/secret/data/x", json_body={"data": {}}) == {"data": 1}
    assert adapter.sent == [("POST", "https://standby:8200/v1/secret/data/x", TOKEN, {"data": {}}),
                            ("POST", "https://active:8200/v1/secret/data/x", TOKEN, {"data": {}})]


def test_a_redirect_from_https_to_http_is_refused_and_the_token_stays():
    client, adapter = client_on("https://vault:8200", [(307, {"Location": "http://vault:8200/v1/secret/data/x"}, None)])
    with pytest.raises(RedirectRefused) as err:
        client.request("GET", "/v1/secret/data/x")
    assert len(adapter.sent) == 1
    error = _translate(err.value, action="read", path="secret/x", secrets=[TOKEN])
    assert isinstance(error, VaultError) and not isinstance(error, VaultConnectionError) and "plain http" in str(error) and TOKEN not in str(error)


def test_a_relative_redirect_stays_on_https():
    client, adapter = client_on("https://vault:8200", [(307, {"Location": "/v1/other"}, None), (200, {}, {})])
    assert client.request("GET", "/v1/x") == {}
    assert adapter.sent[1][:3] == ("GET", "https://vault:8200/v1/other", TOKEN)


def test_a_301_is_followed_for_reads_only():
    client, _adapter = client_on("http://vault:8200", [(301, {"Location": "/v1/elsewhere"}, None), (200, {}, {})])
    assert client.request("GET", "/v1/x") == {}
    client, adapter = client_on("http://vault:8200", [(301, {"Location": "/v1/elsewhere"}, None)])
    with pytest.raises(RedirectRefused):
        client.request("POST", "/v1/x", json_body={})
    assert len(adapter.sent) == 1


def test_a_redirect_loop_stops_after_five_hops():
    client, adapter = client_on("http://vault:8200", answer=lambda request: (307, {"Location": "/v1/again"}, None))
    with pytest.raises(requests.exceptions.TooManyRedirects) as err:
        client.request("GET", "/v1/x")
    assert "more than 5 redirects" in str(_translate(err.value, action="read", path="x"))
    assert len(adapter.sent) == 6


# --- the session: retries, pool, TLS, proxies -----------------------------------------------------------------

def test_reads_are_retried_and_writes_never():
    client = VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN}))
    retry = client.session.get_adapter("https://vault:8200").max_retries
    assert retry.read == 0 and retry.respect_retry_after_header and retry.status == 3
    assert set(retry.allowed_methods) == {"GET", "HEAD", "LIST", "OPTIONS"} and 429 in retry.status_forcelist
    assert not retry.is_retry("POST", 503) and retry.is_retry("GET", 503)
    off = VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN, "vault_retries": 0}))
    assert off.session.get_adapter("https://vault:8200").max_retries.total == 0


def test_the_pool_grows_to_the_fleets_concurrency():
    client = VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN}))
    before = client.session.get_adapter("https://vault:8200")
    client.set_pool_size(32)
    after = client.session.get_adapter("https://vault:8200")
    assert isinstance(after, HTTPAdapter) and after._pool_maxsize == 32  # pylint: disable=protected-access
    assert after.max_retries is before.max_retries and client.session.get_adapter("http://vault:8200") is after
    client.set_pool_size(4)  # never shrinks
    assert client.session.get_adapter("https://vault:8200") is after


def test_tls_and_proxy_options_are_the_sessions(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("ca")
    cert, key = tmp_path / "c.pem", tmp_path / "c.key"
    cert.write_text("c")
    key.write_text("k")
    client = VaultClient(VaultOptions.from_mapping({
        "vault_addr": "https://vault:8200", "vault_auth_method": "cert", "vault_client_cert": str(cert), "vault_client_key": str(key),
        "vault_ca_cert": str(ca), "vault_proxies": "http://proxy:3128", "vault_namespace": "team"}))
    assert client.session.verify == str(ca) and client.session.cert == (str(cert), str(key))
    assert client.session.proxies == {"http": "http://proxy:3128", "https": "http://proxy:3128"}
    assert client.session.trust_env is True and client.hvac.adapter.namespace == "team"


def test_the_environments_proxy_and_no_proxy_are_requests_own(monkeypatch):
    for name in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8,.internal")
    session = VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN})).session
    for url, proxy in (("https://vault.example.com:8200", "http://proxy.example.com:3128"), ("https://10.1.2.3:8200", None),
                       ("https://vault.internal:8200", None)):
        proxies = session.merge_environment_settings(url, {}, None, None, None)["proxies"]
        assert requests.utils.select_proxy(url, proxies) == proxy, url


def test_the_ca_bundle_of_the_environment_is_requests_own(monkeypatch, tmp_path):
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    given_ca = tmp_path / "given.pem"
    given_ca.write_text("ca")
    for given, verify in ((True, str(tmp_path)), (False, False), (str(given_ca), str(given_ca))):
        options = {"vault_ca_cert": given} if isinstance(given, str) else {"vault_validate_certs": given}
        client = VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN, **options}))
        # hvac passes the session's verify with every request; requests puts the environment's bundle in for True.
        per_request = client.hvac.adapter._kwargs["verify"]  # pylint: disable=protected-access
        assert client.session.merge_environment_settings("https://vault:8200", {}, None, per_request, None)["verify"] == verify


def test_a_socks_proxy_without_pysocks_is_named(monkeypatch):
    monkeypatch.setattr(requests.adapters, "SOCKSProxyManager", None, raising=False)

    def missing(*_args, **_kwargs):
        raise requests.exceptions.InvalidSchema("Missing dependencies for SOCKS support.")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "proxy_manager_for", missing)
    store = VaultStore(VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN,
                                                              "vault_proxies": "socks5h://user:pw@proxy:1080"})))
    with pytest.raises(VaultError) as err:
        store.read("configs/a")
    assert "PySocks" in str(err.value) and TOKEN not in str(err.value) and "pw@" not in str(err.value)


def test_no_token_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "from-the-environment")
    client = VaultClient(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN}))
    assert client.token is None


# --- the token's lifetime ---------------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def renewing_client(results, renew_lease=5, renewable=True):
    """A client whose logins return ``results`` in turn, on a fake clock; Vault answers reads, renew-self and 403s."""
    clock = Clock()
    logins = []

    def login(hvac_client, _options):
        logins.append(clock.now)
        hvac_client.token = f"token-{len(logins)}"
        return results[min(len(logins), len(results)) - 1]

    def answer(request):
        if request.url.endswith("/renew-self"):
            return 200, {}, {"auth": {"client_token": request.headers["X-Vault-Token"], "lease_duration": renew_lease,
                                      "renewable": renewable}}
        if request.url.endswith("/revoked"):
            return 403, {}, {"errors": ["permission denied"]}
        return 200, {}, {"data": {"token": request.headers["X-Vault-Token"]}}

    client, adapter = client_on("https://vault:8200", answer=answer, login=login, vault_auth_method="approle", vault_role_id="r",
                                vault_secret_id="s")
    client._monotonic = clock  # pylint: disable=protected-access
    client.log_in()
    return client, adapter, clock, logins


def paths(adapter):
    return [url.split("/v1/", 1)[1] for _method, url, _token, _body in adapter.sent]


def test_a_renewable_token_is_renewed_once_two_thirds_of_its_lease_are_gone():
    client, adapter, clock, logins = renewing_client([LoginResult("approle", renewable=True, lease_duration=30, can_relogin=True)], renew_lease=30)
    clock.now += 19
    client.request("GET", "/v1/secret/data/a")
    clock.now += 2  # 21 s of 30: renew first
    client.request("GET", "/v1/secret/data/a")
    assert paths(adapter) == ["secret/data/a", "auth/token/renew-self", "secret/data/a"]
    clock.now += 19  # 19 s into the renewed 30
    client.request("GET", "/v1/secret/data/a")
    assert paths(adapter)[3:] == ["secret/data/a"] and len(logins) == 1 and client.renewals == 1


def test_a_token_at_its_max_ttl_is_replaced_by_a_new_login():
    result = LoginResult("approle", renewable=True, lease_duration=5, can_relogin=True)
    client, adapter, clock, logins = renewing_client([result], renew_lease=1)  # renewal capped by token_max_ttl
    clock.now += 4
    assert client.request("GET", "/v1/secret/data/a") == {"data": {"token": "token-2"}}
    assert paths(adapter) == ["auth/token/renew-self", "secret/data/a"] and len(logins) == 2


def test_a_token_that_cannot_be_renewed_is_replaced_by_a_new_login():
    client, adapter, clock, logins = renewing_client([LoginResult("approle", renewable=False, lease_duration=6, can_relogin=True)])
    for _round in range(6):
        clock.now += 3
        client.request("GET", "/v1/secret/data/a")
    assert "auth/token/renew-self" not in paths(adapter) and len(logins) == 4
    assert [token for _m, _u, token, _b in adapter.sent] == ["token-1", "token-2", "token-2", "token-3", "token-3", "token-4"]


def test_a_token_without_a_lease_is_left_alone():
    client, adapter, clock, logins = renewing_client([LoginResult("approle", renewable=True, lease_duration=0, can_relogin=True)])
    clock.now += 10 ** 6
    client.request("GET", "/v1/secret/data/a")
    assert paths(adapter) == ["secret/data/a"] and len(logins) == 1


def test_a_refused_request_logs_in_again_once_and_is_sent_again():
    client, adapter, _clock, logins = renewing_client([LoginResult("approle", lease_duration=600, can_relogin=True)])
    with pytest.raises(Exception) as err:
        client.request("GET", "/v1/revoked")
    assert type(err.value).__name__ == "Forbidden" and len(logins) == 2
    assert [(path, token) for (_m, _u, token, _b), path in zip(adapter.sent, paths(adapter))] == [("revoked", "token-1"), ("revoked", "token-2")]


def test_a_given_token_is_never_replaced():
    client, adapter = client_on("https://vault:8200", [(403, {}, {"errors": ["permission denied"]})])
    with pytest.raises(Exception):
        client.request("GET", "/v1/secret/data/a")
    assert len(adapter.sent) == 1 and client.token == TOKEN


def test_the_store_counts_what_it_sends():
    client, adapter = client_on("https://vault:8200", [(200, {}, {"data": {"data": {"x": 1}, "metadata": {"version": 3}}})])
    store = VaultStore(client, base_path="base")
    assert store.read("configs/a") == ({"x": 1}, 3)
    assert store.requests_sent == len(adapter.sent) == 1
    assert adapter.sent[0][:3] == ("GET", "https://vault:8200/v1/secret/data/base/configs/a", TOKEN)


def test_without_hvac_the_client_is_named(monkeypatch):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import store as vs

    monkeypatch.setattr(vc, "HAS_HVAC", False)
    with pytest.raises(VaultError) as err:
        vs.connect(VaultOptions.from_mapping({"vault_addr": "https://vault:8200", "vault_token": TOKEN}))
    assert "hvac" in str(err.value)
