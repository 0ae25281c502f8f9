"""Vault logins against real servers: ldap (OpenBao's ldap auth and a real slapd), cert (OpenBao over TLS), none (a real
``bao proxy`` that adds its own token), and community.hashi_vault's option names and environment variables.

token, userpass, approle, jwt and kubernetes run in test_vault_store.py. aws_iam and azure cannot run here: OpenBao has
no aws or azure auth built in (docs/vault.md, "Logging in"); tests/unit/plugins/module_utils/test_vault_auth.py checks
the requests hvac signs and sends for them. Each test logs in through ``connect`` (``_vault/auth.login`` on an
``hvac.Client``), writes a record with the token it got, and reads it back with the root token.
"""
from __future__ import annotations

import os
import time
import uuid

import pytest

from testbed.ldap import find_bao_with_ldap, start_slapd
from testbed.pki import TestPki
from testbed.testbed import LOOPBACK, ServerProcess, free_port, http_json, port_open, start_openbao

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultAuthError, VaultStore, connect, policy_hcl

pytestmark = pytest.mark.live

TTL = 600


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def read_back(bao, kv_path: str, name: str):
    reply = bao.api("GET", f"secret/data/{kv_path}/{name}", expect_ok=False)
    return reply["data"]["data"] if isinstance(reply, dict) and reply.get("data") else None


# --- ldap ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ldap_bed():
    """slapd with one person, and an OpenBao whose ldap auth binds against it."""
    slapd = start_slapd(ttl=TTL)
    try:
        bao = start_openbao(bin_dir=find_bao_with_ldap(), ttl=TTL)
    except BaseException:
        slapd.stop()
        raise
    try:
        password = f"ldap-pw-{uuid.uuid4().hex}"
        slapd.add_user("alice", password)
        kv_path = unique("ldap")
        bao.api("PUT", "sys/policies/acl/sectigo", {"policy": policy_hcl("secret", kv_path)})
        bao.api("POST", "sys/auth/corp-ldap", {"type": "ldap"})
        bao.api("POST", "auth/corp-ldap/config", {"url": slapd.url, "userdn": slapd.people_dn, "userattr": "uid",
                                                  "binddn": slapd.admin_dn, "bindpass": slapd.admin_password, "token_ttl": "10m"})
        bao.api("POST", "auth/corp-ldap/users/alice", {"policies": "sectigo"})
        yield {"bao": bao, "slapd": slapd, "password": password, "kv_path": kv_path}
    finally:
        bao.stop()
        slapd.stop()


def test_ldap_login_against_a_real_directory(ldap_bed):
    bao, kv_path = ldap_bed["bao"], ldap_bed["kv_path"]
    opts = VaultOptions.from_mapping({"vault_addr": bao.addr, "vault_auth_method": "ldap", "vault_auth_mount": "corp-ldap",
                                      "vault_username": "alice", "vault_password": ldap_bed["password"], "kv_path": kv_path})
    client = connect(opts)
    assert client.token and client.token != bao.token
    store = VaultStore(client, base_path=kv_path)
    assert store.write("configs/ldap", {"by": "ldap"}, cas=0) == 1
    assert read_back(bao, kv_path, "configs/ldap") == {"by": "ldap"}


def test_ldap_with_community_hashi_vault_environment(ldap_bed):
    bao = ldap_bed["bao"]
    env = {"ANSIBLE_HASHI_VAULT_ADDR": bao.addr, "ANSIBLE_HASHI_VAULT_AUTH_METHOD": "ldap", "ANSIBLE_HASHI_VAULT_MOUNT_POINT": "corp-ldap",
           "ANSIBLE_HASHI_VAULT_USERNAME": "alice", "ANSIBLE_HASHI_VAULT_PASSWORD": ldap_bed["password"]}
    store = VaultStore(connect(VaultOptions.from_mapping({"kv_path": ldap_bed["kv_path"]}, env=env)), base_path=ldap_bed["kv_path"])
    assert store.write("configs/ldap-env", {"by": "env"}, cas=0) == 1


@pytest.mark.parametrize("user, password", [("alice", "wrong-password-123"), ("mallory", "any-password-456")])
def test_ldap_refused_names_the_method_not_the_password(ldap_bed, user, password):
    with pytest.raises(VaultAuthError) as err:
        connect(VaultOptions.from_mapping({"vault_addr": ldap_bed["bao"].addr, "auth_method": "ldap", "mount_point": "corp-ldap",
                                           "username": user, "vault_password": password}))
    message = str(err.value)
    assert "vault_auth_method 'ldap'" in message and "auth/corp-ldap" in message
    assert password not in message and ldap_bed["password"] not in message and ldap_bed["slapd"].admin_password not in message


# --- cert ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_bed(tmp_path_factory):
    """OpenBao over TLS (it asks for client certificates) trusting a test CA for cert auth."""
    pki = TestPki.create(str(tmp_path_factory.mktemp("pki")))
    other = TestPki.create(str(tmp_path_factory.mktemp("other-pki")), name="untrusted CA")
    bao = start_openbao(tls=True, ttl=TTL)
    try:
        kv_path = unique("cert")
        bao.api("PUT", "sys/policies/acl/sectigo", {"policy": policy_hcl("secret", kv_path)})
        bao.api("POST", "sys/auth/cert", {"type": "cert"})
        bao.api("POST", "auth/cert/certs/controller", {"certificate": pki.ca_pem, "token_policies": ["sectigo"], "token_ttl": "10m"})
        yield {"bao": bao, "client": pki.client("vault-client", "ansible-controller"), "stranger": other.client("stranger", "stranger"),
               "kv_path": kv_path}
    finally:
        bao.stop()


@pytest.mark.parametrize("names", ["ours", "community"])
def test_cert_login_over_tls(tls_bed, names):
    bao, kv_path, client_cert = tls_bed["bao"], tls_bed["kv_path"], tls_bed["client"]
    if names == "ours":
        given = {"vault_addr": bao.addr, "vault_ca_cert": bao.ca_cert, "vault_auth_method": "cert", "vault_client_cert": client_cert.cert_path,
                 "vault_client_key": client_cert.key_path, "vault_role": "controller"}
    else:
        given = {"url": bao.addr, "cacert": bao.ca_cert, "auth_method": "cert", "cert_auth_public_key": client_cert.cert_path,
                 "cert_auth_private_key": client_cert.key_path, "role_id": "controller"}
    store = VaultStore(connect(VaultOptions.from_mapping(dict(given, kv_path=kv_path))), base_path=kv_path)
    assert store.write(f"configs/cert-{names}", {"by": names}, cas=0) == 1
    assert read_back(bao, kv_path, f"configs/cert-{names}") == {"by": names}


def test_cert_login_without_verification(tls_bed):
    bao, kv_path, client_cert = tls_bed["bao"], tls_bed["kv_path"], tls_bed["client"]
    opts = VaultOptions.from_mapping({"vault_addr": bao.addr, "vault_validate_certs": False, "vault_auth_method": "cert",
                                      "vault_client_cert": client_cert.cert_path, "vault_client_key": client_cert.key_path, "kv_path": kv_path})
    assert VaultStore(connect(opts), base_path=kv_path).write("configs/cert-noverify", {"by": "cert"}, cas=0) == 1


def test_cert_from_an_untrusted_ca_is_refused_naming_the_method(tls_bed):
    bao, stranger = tls_bed["bao"], tls_bed["stranger"]
    with pytest.raises(VaultAuthError) as err:
        connect(VaultOptions.from_mapping({"vault_addr": bao.addr, "vault_ca_cert": bao.ca_cert, "vault_auth_method": "cert",
                                           "vault_client_cert": stranger.cert_path, "vault_client_key": stranger.key_path}))
    assert "vault_auth_method 'cert'" in str(err.value) and "PRIVATE KEY" not in str(err.value)


# --- none: a real `bao proxy` adds the token ----------------------------------------------------------------

@pytest.fixture
def bao_proxy(openbao, tmp_path):
    """``bao proxy`` logged in with AppRole (auto-auth), adding its token to every request it forwards."""
    mount, kv_path = unique("approle"), unique("none")
    openbao.api("PUT", f"sys/policies/acl/{mount}", {"policy": policy_hcl("secret", kv_path)})
    openbao.api("POST", f"sys/auth/{mount}", {"type": "approle"})
    openbao.api("POST", f"auth/{mount}/role/proxy", {"token_policies": [mount], "token_ttl": "10m"})
    (tmp_path / "role-id").write_text(openbao.api("GET", f"auth/{mount}/role/proxy/role-id")["data"]["role_id"])
    (tmp_path / "secret-id").write_text(openbao.api("POST", f"auth/{mount}/role/proxy/secret-id", {})["data"]["secret_id"])
    port = free_port()
    (tmp_path / "proxy.hcl").write_text(f"""
auto_auth {{
  method "approle" {{
    mount_path = "auth/{mount}"
    config = {{
      role_id_file_path = "{tmp_path}/role-id"
      secret_id_file_path = "{tmp_path}/secret-id"
      remove_secret_id_file_after_reading = false
    }}
  }}
}}
api_proxy {{
  use_auto_auth_token = "force"
}}
listener "tcp" {{
  address = "{LOOPBACK}:{port}"
  tls_disable = true
}}
vault {{
  address = "{openbao.addr}"
}}
""")
    bao = os.path.join(os.path.dirname(__import__("sys").executable), "bao")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    process = ServerProcess("bao-proxy", [bao, "proxy", f"-config={tmp_path}/proxy.hcl"], ttl=TTL, log_path=str(tmp_path / "proxy.log"),
                            env=env, cwd=str(tmp_path))
    try:
        deadline = time.monotonic() + 30
        addr = f"http://{LOOPBACK}:{port}"
        while True:  # ready when it forwards a request with its own token
            if port_open(port) and http_json("GET", f"{addr}/v1/auth/token/lookup-self")[0] == 200:
                break
            if not process.running or time.monotonic() > deadline:
                raise AssertionError(f"bao proxy did not start:\n{process.log_tail()}")
            time.sleep(0.1)
        yield {"addr": addr, "kv_path": kv_path}
    finally:
        process.stop()
        openbao.api("DELETE", f"sys/auth/{mount}")


def test_none_sends_no_token_and_the_proxy_adds_its_own(openbao, bao_proxy, monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "s.a-token-that-must-not-be-sent")
    kv_path = bao_proxy["kv_path"]
    opts = VaultOptions.from_mapping({"vault_addr": bao_proxy["addr"], "vault_auth_method": "none", "kv_path": kv_path}, env=os.environ)
    client = connect(opts)
    assert client.token is None
    store = VaultStore(client, base_path=kv_path)
    assert store.write("configs/none", {"by": "proxy"}, cas=0) == 1
    assert store.read("configs/none") == ({"by": "proxy"}, 1)
    assert read_back(openbao, kv_path, "configs/none") == {"by": "proxy"}


def test_none_straight_to_vault_is_refused(openbao):
    store = VaultStore(connect(VaultOptions.from_mapping({"vault_addr": openbao.addr, "vault_auth_method": "none", "kv_path": unique("none")})))
    with pytest.raises(VaultAuthError):
        store.read("configs/x")


# --- community.hashi_vault's names for the other methods -----------------------------------------------------

def test_approle_with_community_names_and_environment(openbao):
    mount, kv_path = unique("approle"), unique("hashi")
    openbao.api("PUT", f"sys/policies/acl/{mount}", {"policy": policy_hcl("secret", kv_path)})
    openbao.api("POST", f"sys/auth/{mount}", {"type": "approle"})
    try:
        openbao.api("POST", f"auth/{mount}/role/ci", {"token_policies": [mount], "token_ttl": "10m"})
        role_id = openbao.api("GET", f"auth/{mount}/role/ci/role-id")["data"]["role_id"]
        secret_id = openbao.api("POST", f"auth/{mount}/role/ci/secret-id", {})["data"]["secret_id"]
        by_names = {"url": openbao.addr, "auth_method": "approle", "mount_point": mount, "role_id": role_id, "secret_id": secret_id}
        by_env = {"ANSIBLE_HASHI_VAULT_ADDR": openbao.addr, "ANSIBLE_HASHI_VAULT_AUTH_METHOD": "approle", "ANSIBLE_HASHI_VAULT_MOUNT_POINT": mount,
                  "ANSIBLE_HASHI_VAULT_ROLE_ID": role_id, "ANSIBLE_HASHI_VAULT_SECRET_ID": secret_id}
        for number, opts in enumerate((VaultOptions.from_mapping(dict(by_names, kv_path=kv_path)),
                                       VaultOptions.from_mapping({"kv_path": kv_path}, env=by_env))):
            assert VaultStore(connect(opts), base_path=kv_path).write(f"configs/{number}", {"n": number}, cas=0) == 1
        with pytest.raises(VaultAuthError) as err:
            connect(VaultOptions.from_mapping(dict(by_names, secret_id="0badc0de-0000-1111-2222-333344445555")))
        assert "vault_auth_method 'approle'" in str(err.value) and "0badc0de" not in str(err.value) and secret_id not in str(err.value)
    finally:
        openbao.api("DELETE", f"sys/auth/{mount}")
