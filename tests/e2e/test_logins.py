"""Every SCM login and every Vault login enrolls a certificate, end to end, over TLS.

A test bed of its own: OpenBao serving HTTPS only (``-dev-tls``, with its own CA) and the SCM simulator
serving HTTPS with a CA made here, asking for client certificates (``/private/api`` then requires one)
and issuing OAuth2 tokens. One playbook (``playbooks/logins.yml``) runs once per case; the cases
together cover the SCM logins password, client certificate (PEM kept in Vault) and OAuth2, the Vault
logins token, approle, userpass, jwt and cert, and the TLS settings vault_ca_cert,
vault_validate_certs=false and VAULT_SKIP_VERIFY, plus a Vault namespace. Results are checked through
OpenBao's HTTP API (root token) and the simulator's orders, not through the collection.
"""
from __future__ import annotations

import base64
import json
import os
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from playbook_runner import BIN, PLAYBOOKS, e2e_collections_path, recap
from testbed.pki import TestPki
from testbed.testbed import start_openbao, start_simulator

import subprocess
import sys

pytestmark = pytest.mark.live

SCM_PASSWORD = f"scm-pw-{uuid.uuid4().hex}"
CLIENT_ID = "e2e-api-client"
CLIENT_SECRET = f"client-secret-{uuid.uuid4().hex}"
USER_PASSWORD = f"userpass-{uuid.uuid4().hex}"
NAMESPACE = "team-a"
POLICY = """
path "secret/data/e2e-login-*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/e2e-login-*" { capabilities = ["read", "list", "delete"] }
"""
TTL = 900


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def es256_jwt(key: ec.EllipticCurvePrivateKey, claims: dict) -> str:
    """A JWT signed with ES256 (RFC 7518 section 3.4: the signature is r and s, 32 bytes each)."""
    signing_input = f"{_b64url(json.dumps({'alg': 'ES256', 'typ': 'JWT'}).encode())}.{_b64url(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class LoginBed:
    """The servers, the PKI and every credential the cases need."""

    def __init__(self, directory: str) -> None:
        self.pki = TestPki.create(os.path.join(directory, "pki"))
        server = self.pki.server("simulator")
        self.scm_client = self.pki.client("scm-client", "demo")
        self.vault_client = self.pki.client("vault-client", "ansible-controller")
        self.openbao = start_openbao(tls=True, ttl=TTL)
        try:
            self.simulator = start_simulator(ttl=TTL, password=SCM_PASSWORD, ca_cert=self.pki.ca_path, client_id=CLIENT_ID,
                                             client_secret=CLIENT_SECRET, extra_args=["--tls-cert", server.cert_path, "--tls-key",
                                                                                      server.key_path, "--tls-client-ca", self.pki.ca_path])
        except BaseException:
            self.openbao.stop()
            raise
        self._configure_vault()

    def stop(self) -> None:
        self.simulator.stop()
        self.openbao.stop()

    def _configure_vault(self) -> None:
        api = self.openbao.api
        api("PUT", "sys/policies/acl/sectigo", {"policy": POLICY})
        api("POST", "sys/auth/approle", {"type": "approle"})
        api("POST", "auth/approle/role/sectigo", {"token_policies": ["sectigo"], "token_ttl": "10m"})
        self.role_id = api("GET", "auth/approle/role/sectigo/role-id")["data"]["role_id"]
        self.secret_id = api("POST", "auth/approle/role/sectigo/secret-id", {})["data"]["secret_id"]
        api("POST", "sys/auth/userpass", {"type": "userpass"})
        api("POST", "auth/userpass/users/ci", {"password": USER_PASSWORD, "token_policies": ["sectigo"]})
        self.jwt_key = ec.generate_private_key(ec.SECP256R1())
        public_pem = self.jwt_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        api("POST", "sys/auth/jwt", {"type": "jwt"})
        api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public_pem]})
        api("POST", "auth/jwt/role/ci", {"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["sectigo"],
                                         "token_policies": ["sectigo"], "token_ttl": "10m"})
        api("POST", "sys/auth/cert", {"type": "cert"})
        api("POST", "auth/cert/certs/controller", {"certificate": self.pki.ca_pem, "token_policies": ["sectigo"], "token_ttl": "10m"})
        api("POST", f"sys/namespaces/{NAMESPACE}", {})
        api("POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}, namespace=NAMESPACE)

    def jwt(self) -> str:
        now = int(time.time())
        return es256_jwt(self.jwt_key, {"sub": "ci-runner", "aud": "sectigo", "iat": now, "nbf": now - 5, "exp": now + 600})

    def read(self, path: str, namespace: str | None = None) -> dict | None:
        reply = self.openbao.api("GET", f"secret/data/{path}", expect_ok=False, namespace=namespace)
        return reply["data"]["data"] if isinstance(reply, dict) and reply.get("data") else None

    def orders(self, common_name: str) -> list[dict]:
        return [o for o in self.simulator.stats()["orders"] if o.get("common_name") == common_name]


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    login_bed = LoginBed(str(tmp_path_factory.mktemp("logins")))
    try:
        yield login_bed
    finally:
        login_bed.stop()


def scm_login(bed: LoginBed, method: str) -> tuple[dict, dict]:
    """``(scm extra var, environment)`` for one SCM login."""
    scm = {"method": method, "base_url": bed.simulator.base_url, "ca_cert": bed.pki.ca_path}
    if method == "password":
        scm.update(login=bed.simulator.login, customer_uri=bed.simulator.customer_uri, secret_flag="password_set")
        return scm, {"SECTIGO_CM_PASSWORD": SCM_PASSWORD}
    if method == "client_certificate":
        scm.update(login=bed.simulator.login, customer_uri=bed.simulator.customer_uri, client_cert_pem=bed.scm_client.cert_pem,
                   secret_flag="scm_client_key_pem_set")
        return scm, {"E2E_SCM_CLIENT_KEY_PEM": bed.scm_client.key_pem}
    scm.update(customer_uri=bed.simulator.customer_uri, client_id=CLIENT_ID, token_url=bed.simulator.token_url, secret_flag="client_secret_set")
    return scm, {"SECTIGO_CM_CLIENT_SECRET": CLIENT_SECRET}


def vault_login(bed: LoginBed, case: str) -> tuple[dict, dict, str | None]:
    """``(environment, vault_args, namespace)`` for one Vault case."""
    addr, ca = bed.openbao.addr, bed.openbao.ca_cert
    if case == "token":  # vault_ca_cert through VAULT_CACERT
        return {"VAULT_ADDR": addr, "VAULT_TOKEN": bed.openbao.token, "VAULT_CACERT": ca}, {}, None
    if case == "approle":  # vault_validate_certs: false
        return ({"VAULT_ADDR": addr, "VAULT_AUTH_METHOD": "approle", "VAULT_ROLE_ID": bed.role_id, "VAULT_SECRET_ID": bed.secret_id},
                {"vault_validate_certs": False}, None)
    if case == "userpass":  # VAULT_SKIP_VERIFY, and community.hashi_vault's variable names
        return ({"ANSIBLE_HASHI_VAULT_ADDR": addr, "ANSIBLE_HASHI_VAULT_AUTH_METHOD": "userpass", "ANSIBLE_HASHI_VAULT_USERNAME": "ci",
                 "ANSIBLE_HASHI_VAULT_PASSWORD": USER_PASSWORD, "VAULT_SKIP_VERIFY": "true"}, {}, None)
    if case == "jwt":
        return ({"VAULT_ADDR": addr, "VAULT_CACERT": ca, "VAULT_AUTH_METHOD": "jwt", "ANSIBLE_HASHI_VAULT_JWT": bed.jwt()},
                {"vault_role": "ci"}, None)
    if case == "cert":
        return ({"VAULT_ADDR": addr, "ANSIBLE_HASHI_VAULT_CA_CERT": ca, "VAULT_AUTH_METHOD": "cert",
                 "ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY": bed.vault_client.cert_path,
                 "ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY": bed.vault_client.key_path}, {"vault_role": "controller"}, None)
    assert case == "namespace"
    return ({"ANSIBLE_HASHI_VAULT_ADDR": addr, "ANSIBLE_HASHI_VAULT_TOKEN": bed.openbao.token, "VAULT_CACERT": ca,
             "ANSIBLE_HASHI_VAULT_NAMESPACE": NAMESPACE}, {}, NAMESPACE)


def run(bed: LoginBed, env_extra: dict, extra_vars: dict) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "ANSIBLE_HASHI_VAULT_", "SECTIGO_CM_", "BAO_"))}
    env = dict(base, PATH=f"{BIN}{os.pathsep}{base.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=e2e_collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               **env_extra)
    command = [os.path.join(BIN, "ansible-playbook"), os.path.join(PLAYBOOKS, "logins.yml"), "--diff", "-e", json.dumps(extra_vars)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


# (Vault case, SCM login): every Vault login and every SCM login at least once.
CASES = [
    ("token", "password"),
    ("approle", "client_certificate"),
    ("userpass", "oauth2"),
    ("jwt", "oauth2"),
    ("cert", "client_certificate"),
    ("namespace", "password"),
]


@pytest.mark.parametrize("vault_case, scm_method", CASES, ids=[f"vault-{v}-scm-{s}" for v, s in CASES])
def test_enroll_through_each_login(bed, vault_case, scm_method):
    scm, scm_env = scm_login(bed, scm_method)
    vault_env, vault_args, namespace = vault_login(bed, vault_case)
    kv_path = f"e2e-login-{vault_case}"
    cert_name = f"{vault_case}-{scm_method.replace('_', '-')}"
    tokens_before = bed.simulator.stats()["tokens_issued"]
    code, output = run(bed, dict(vault_env, **scm_env), {"scm": scm, "vault_args": vault_args, "kv_path": kv_path, "cert_name": cert_name})
    assert code == 0, output[-6000:]
    assert recap(output)["failed"] == 0

    # Independent routes: the records in Vault (root token), the order in the simulator.
    config = bed.read(f"{kv_path}/configs/login", namespace)
    assert config and config["scm_auth_method"] == scm_method
    name = bed.read(f"{kv_path}/names/login/{cert_name}", namespace)
    record = bed.read(f"{kv_path}/certs/login/{name['cert_unique_id']}", namespace)
    assert record["status"] == "Issued" and "BEGIN CERTIFICATE" in record["certificate"]
    orders = bed.orders(f"{cert_name}.example.com")
    assert len(orders) == 1 and orders[0]["status"] == "Issued"
    if namespace:
        assert bed.read(f"{kv_path}/configs/login") is None  # written inside the namespace only
    if scm_method == "oauth2":
        assert config["client_secret"] == CLIENT_SECRET and "password" not in config
        assert bed.simulator.stats()["tokens_issued"] > tokens_before
    if scm_method == "client_certificate":
        assert config["scm_client_key_pem"] == bed.scm_client.key_pem and "scm_client_cert" not in config

    # No secret in the output, even with --diff.
    for secret in (SCM_PASSWORD, CLIENT_SECRET, USER_PASSWORD, bed.secret_id, "PRIVATE KEY"):
        assert secret not in output, f"{secret[:12]}... leaked"
