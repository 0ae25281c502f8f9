"""_vault/auth.login: each method's request (path and body, recorded at the requests adapter) and its LoginResult."""
from __future__ import annotations

import pytest
from vault_fakes import Recorded

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import auth
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultAuthError, _translate


ADDR = "https://vault:8200"
GRANTED = {"auth": {"client_token": "hvs.new", "lease_duration": 1200, "renewable": True}}


@pytest.fixture
def cert_files(tmp_path):
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("cert")
    key.write_text("key")
    return {"vault_client_cert": str(cert), "vault_client_key": str(key)}


def log_in(method, given, reply=None):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import VaultClient

    options = VaultOptions.from_mapping({"vault_addr": ADDR, "vault_auth_method": method, **given})
    client = VaultClient(options)
    adapter = Recorded(answer=lambda request: (200, {}, GRANTED if reply is None else reply))
    client.session.mount("https://", adapter)
    result = auth.login(client.hvac, options)
    return client, [(m, url[len(ADDR):], body) for m, url, _token, body in adapter.sent], result


@pytest.mark.parametrize("method, given, call", [
    ("approle", {"vault_role_id": "r", "vault_secret_id": "s"}, ("/v1/auth/approle/login", {"role_id": "r", "secret_id": "s"})),
    ("userpass", {"vault_username": "u", "vault_password": "p", "vault_auth_mount": "people"}, ("/v1/auth/people/login/u", {"password": "p"})),
    ("userpass", {"vault_username": "a b", "vault_password": "p"}, ("/v1/auth/userpass/login/a%20b", {"password": "p"})),
    ("jwt", {"vault_role": "r", "vault_jwt": "j"}, ("/v1/auth/jwt/login", {"role": "r", "jwt": "j"})),
    ("kubernetes", {"vault_role": "r", "vault_jwt": "j"}, ("/v1/auth/kubernetes/login", {"role": "r", "jwt": "j"})),
    ("kubernetes", {"vault_role": "r", "vault_jwt": "j", "vault_auth_mount": "k8s/prod"}, ("/v1/auth/k8s/prod/login", {"role": "r", "jwt": "j"})),
])
def test_each_method_logs_in_at_its_mount(method, given, call):
    client, sent, result = log_in(method, given)
    assert sent == [("POST", *call)]
    assert client.token == "hvs.new" and result == auth.LoginResult(renewable=True, lease_duration=1200, can_relogin=True)


def test_cert_method_logs_in_with_optional_role(cert_files):
    assert log_in("cert", dict(cert_files, vault_role="web"))[1] == [("POST", "/v1/auth/cert/login", {"name": "web"})]
    assert log_in("cert", cert_files)[1] == [("POST", "/v1/auth/cert/login", {})]


def test_token_method_sends_nothing():
    client, sent, result = log_in("token", {"vault_token": "t"})
    assert sent == [] and client.token == "t" and result == auth.LoginResult()


def test_a_login_answered_without_a_token_is_refused():
    with pytest.raises(auth.LoginError) as err:
        log_in("approle", {"vault_role_id": "r", "vault_secret_id": "s"}, reply={"data": {}})
    error = _translate(err.value, action="log in to", path="auth/approle", login="approle", secrets=["s"])
    assert isinstance(error, VaultAuthError) and "without a client token" in str(error)
