"""VaultStore and connect() against a real OpenBao dev server (no mocks of Vault).

Each test works under its own ``kv_path`` (and its own auth mounts), so tests share one server safely.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from testbed.testbed import free_port

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import (
    VaultAuthError, VaultCasConflict, VaultConnectionError, VaultError, VaultNotFoundError, VaultStore, connect, policy_hcl)

pytestmark = pytest.mark.live


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def options(openbao, **values) -> VaultOptions:
    return VaultOptions.from_mapping({"vault_addr": openbao.addr, "vault_token": openbao.token, **values})


@pytest.fixture
def kv_path():
    return unique("store")


@pytest.fixture
def store(openbao, kv_path):
    opts = options(openbao, kv_path=kv_path)
    return VaultStore(connect(opts), mount=opts.kv_mount, base_path=opts.kv_path)


def raw_read(openbao, path):
    """Independent route: read with the root token over plain HTTP."""
    reply = openbao.api("GET", f"secret/data/{path}", expect_ok=False)
    return reply["data"]["data"] if reply and "data" in reply else None


# --- records -------------------------------------------------------------------------------------------------

def test_write_read_and_check_and_set(store, openbao, kv_path):
    assert store.read("configs/a") == (None, 0)
    assert store.write("configs/a", {"x": 1}, cas=0) == 1
    assert store.read("configs/a") == ({"x": 1}, 1)
    assert raw_read(openbao, f"{kv_path}/configs/a") == {"x": 1}
    with pytest.raises(VaultCasConflict) as err:
        store.write("configs/a", {"x": "again"}, cas=0)
    assert err.value.path == f"secret/{kv_path}/configs/a" and err.value.status == 400
    assert store.write("configs/a", {"x": 2}, cas=1) == 2
    with pytest.raises(VaultCasConflict):
        store.write("configs/a", {"x": "stale"}, cas=1)
    assert store.read("configs/a") == ({"x": 2}, 2)


def test_write_refuses_a_missing_cas(store):
    for cas in (None, -1, True, "1"):
        with pytest.raises(VaultError):
            store.write("configs/b", {}, cas=cas)
    assert store.read("configs/b") == (None, 0)


def test_concurrent_create_only_writes_have_one_winner(store):
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def writer(number):
        barrier.wait()
        try:
            store.write("names/c/race", {"writer": number}, cas=0)
            outcomes.append("won")
        except VaultCasConflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    assert store.read("names/c/race")[1] == 1


def test_list(store):
    assert store.list("certs/c1") == []
    for name in ("b", "a", "sub/x"):
        store.write(f"certs/c1/{name}", {"n": name}, cas=0)
    assert store.list("certs/c1") == ["a", "b", "sub"]
    assert store.list("certs") == ["c1"]
    assert store.list("/certs/c1/") == ["a", "b", "sub"]


def test_delete_removes_every_version_then_create_again(store, openbao, kv_path):
    store.write("certs/c/x", {"v": 1}, cas=0)
    store.write("certs/c/x", {"v": 2}, cas=1)
    store.delete("certs/c/x")
    assert store.read("certs/c/x") == (None, 0)
    assert store.read_metadata("certs/c/x") is None
    assert openbao.api("GET", f"secret/metadata/{kv_path}/certs/c/x", expect_ok=False).get("errors") == []
    store.delete("certs/c/x")  # absent: no error
    assert store.write("certs/c/x", {"v": "new"}, cas=0) == 1


def test_soft_deleted_latest_version_reads_as_absent_with_its_version(store, openbao, kv_path):
    store.write("names/c/soft", {"v": 1}, cas=0)
    store.write("names/c/soft", {"v": 2}, cas=1)
    openbao.api("DELETE", f"secret/data/{kv_path}/names/c/soft")  # what `bao kv delete` does
    assert store.read("names/c/soft") == (None, 2)
    with pytest.raises(VaultCasConflict):
        store.write("names/c/soft", {"v": 3}, cas=0)
    assert store.write("names/c/soft", {"v": 3}, cas=2) == 3
    openbao.api("PUT", f"secret/destroy/{kv_path}/names/c/soft", {"versions": [3]})
    assert store.read("names/c/soft") == (None, 3)


def test_read_metadata(store):
    assert store.read_metadata("profiles/c/101") is None
    store.write("profiles/c/101", {"id": 101}, cas=0)
    store.write("profiles/c/101", {"id": 101, "name": "OV"}, cas=1)
    metadata = store.read_metadata("profiles/c/101")
    assert metadata["current_version"] == 2 and set(metadata["versions"]) == {"1", "2"}


def test_paths_are_relative_to_mount_and_base(store, kv_path):
    assert store.full_path("configs/a") == f"secret/{kv_path}/configs/a"
    for bad in ("", "/", "a/../b", "a//b"):
        with pytest.raises(VaultError):
            store.read(bad)


def test_requests_sent_counts_every_call(store):
    assert store.requests_sent == 0
    store.read("configs/n")
    assert store.requests_sent == 1
    store.write("configs/n", {}, cas=0)  # + the one-time mount check
    assert store.requests_sent == 3
    store.write("configs/n", {}, cas=1)
    store.list("configs")
    store.delete("configs/n")
    assert store.requests_sent == 6


# --- token auth ----------------------------------------------------------------------------------------------

def test_token_auth_sends_no_login_request(openbao):
    client = connect(options(openbao))
    assert client.token == openbao.token


def test_bad_token_is_reported_without_the_token(openbao):
    secret_token = "s.this-token-is-wrong-123456"
    store = VaultStore(connect(options(openbao, vault_token=secret_token)))
    with pytest.raises(VaultAuthError) as err:
        store.read("configs/a")
    message = str(err.value)
    assert "vault_auth_method 'token'" in message and "invalid, expired or revoked" in message
    assert secret_token not in message and err.value.status == 403


def test_token_without_policy_is_told_apart_from_a_bad_token(openbao, kv_path):
    policy = unique("narrow")
    openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": 'path "secret/data/elsewhere/*" { capabilities = ["read"] }'})
    token = openbao.api("POST", "auth/token/create", {"policies": [policy], "ttl": "10m"})["auth"]["client_token"]
    store = VaultStore(connect(options(openbao, vault_token=token)), base_path=kv_path)
    with pytest.raises(VaultAuthError) as err:
        store.read("configs/a")
    assert "policies do not allow" in str(err.value) and token not in str(err.value)


def test_minimal_policy_is_enough_and_no_more(openbao, kv_path):
    policy = unique("sectigo")
    openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": policy_hcl("secret", kv_path)})
    token = openbao.api("POST", "auth/token/create", {"policies": [policy], "ttl": "10m"})["auth"]["client_token"]
    store = VaultStore(connect(options(openbao, vault_token=token)), base_path=kv_path)
    assert store.write("configs/p", {"ok": True}, cas=0) == 1
    assert store.read("configs/p") == ({"ok": True}, 1)
    assert store.list("configs") == ["p"]
    assert store.read_metadata("configs/p")["current_version"] == 1
    store.delete("configs/p")
    assert store.read("configs/p") == (None, 0)
    outside = VaultStore(store.client, base_path=unique("other"))
    with pytest.raises(VaultAuthError):
        outside.read("configs/p")


# --- approle and userpass ------------------------------------------------------------------------------------

@pytest.fixture
def approle(openbao, kv_path):
    """An AppRole at its own mount whose tokens carry only the collection's minimal policy for ``kv_path``."""
    mount, policy = unique("approle"), unique("sectigo")
    openbao.api("POST", f"sys/auth/{mount}", {"type": "approle"})
    openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": policy_hcl("secret", kv_path)})
    openbao.api("POST", f"auth/{mount}/role/ansible", {"token_policies": [policy], "token_ttl": "10m"})
    role_id = openbao.api("GET", f"auth/{mount}/role/ansible/role-id")["data"]["role_id"]
    secret_id = openbao.api("POST", f"auth/{mount}/role/ansible/secret-id")["data"]["secret_id"]
    yield {"vault_auth_method": "approle", "vault_auth_mount": mount, "vault_role_id": role_id, "vault_secret_id": secret_id}
    openbao.api("DELETE", f"sys/auth/{mount}")


def test_approle_login_and_records(openbao, approle, kv_path):
    opts = VaultOptions.from_mapping({"vault_addr": openbao.addr, "kv_path": kv_path, **approle})
    client = connect(opts)
    assert client.token and client.token != openbao.token
    store = VaultStore(client, base_path=kv_path)
    assert store.write("configs/ar", {"by": "approle"}, cas=0) == 1
    assert raw_read(openbao, f"{kv_path}/configs/ar") == {"by": "approle"}
    with pytest.raises(VaultAuthError) as err:
        VaultStore(client, base_path=unique("other")).read("configs/ar")
    assert approle["vault_secret_id"] not in str(err.value) and client.token not in str(err.value)


def test_approle_refused_login_hides_the_secret_id(openbao, approle):
    wrong = "0badc0de-1111-2222-3333-444455556666"
    with pytest.raises(VaultAuthError) as err:
        connect(VaultOptions.from_mapping({"vault_addr": openbao.addr, **dict(approle, vault_secret_id=wrong)}))
    message = str(err.value)
    assert "vault_auth_method 'approle'" in message and approle["vault_auth_mount"] in message
    assert wrong not in message and approle["vault_secret_id"] not in message


def test_approle_at_a_missing_mount(openbao, approle):
    with pytest.raises((VaultAuthError, VaultNotFoundError)) as err:
        connect(VaultOptions.from_mapping({"vault_addr": openbao.addr, **dict(approle, vault_auth_mount="no-such-approle")}))
    assert "no-such-approle" in str(err.value) and approle["vault_secret_id"] not in str(err.value)


@pytest.fixture
def userpass(openbao, kv_path):
    mount, policy = unique("userpass"), unique("sectigo")
    openbao.api("POST", f"sys/auth/{mount}", {"type": "userpass"})
    openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": policy_hcl("secret", kv_path)})
    password = f"pw-{uuid.uuid4().hex}"
    openbao.api("POST", f"auth/{mount}/users/ansible", {"password": password, "token_policies": [policy]})
    yield {"vault_auth_method": "userpass", "vault_auth_mount": mount, "vault_username": "ansible", "vault_password": password}
    openbao.api("DELETE", f"sys/auth/{mount}")


def test_userpass_login_and_records(openbao, userpass, kv_path):
    store = VaultStore(connect(VaultOptions.from_mapping({"vault_addr": openbao.addr, **userpass})), base_path=kv_path)
    assert store.write("configs/up", {"by": "userpass"}, cas=0) == 1
    assert store.read("configs/up") == ({"by": "userpass"}, 1)


def test_userpass_wrong_password(openbao, userpass):
    wrong = f"wrong-{uuid.uuid4().hex}"
    with pytest.raises(VaultAuthError) as err:
        connect(VaultOptions.from_mapping({"vault_addr": openbao.addr, **dict(userpass, vault_password=wrong)}))
    assert "vault_auth_method 'userpass'" in str(err.value)
    assert wrong not in str(err.value) and userpass["vault_password"] not in str(err.value)


# --- jwt -----------------------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _es256_jwt(key: ec.EllipticCurvePrivateKey, claims: dict) -> str:
    signing_input = f"{_b64(json.dumps({'alg': 'ES256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_jwt_login(openbao, kv_path):
    mount, policy = unique("jwt"), unique("sectigo")
    key = ec.generate_private_key(ec.SECP256R1())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    openbao.api("POST", f"sys/auth/{mount}", {"type": "jwt"})
    try:
        openbao.api("POST", f"auth/{mount}/config", {"jwt_validation_pubkeys": [public_pem]})
        openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": policy_hcl("secret", kv_path)})
        openbao.api("POST", f"auth/{mount}/role/ci", {"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["sectigo"],
                                                      "token_policies": [policy], "token_ttl": "10m"})
        now = int(time.time())
        token = _es256_jwt(key, {"sub": "ci-runner", "aud": "sectigo", "iat": now, "nbf": now - 5, "exp": now + 300})
        base = {"vault_addr": openbao.addr, "vault_auth_method": "jwt", "vault_auth_mount": mount, "vault_role": "ci"}
        store = VaultStore(connect(VaultOptions.from_mapping(dict(base, vault_jwt=token))), base_path=kv_path)
        assert store.write("configs/jwt", {"by": "jwt"}, cas=0) == 1
        forged = _es256_jwt(ec.generate_private_key(ec.SECP256R1()), {"sub": "x", "aud": "sectigo", "iat": now, "exp": now + 300})
        with pytest.raises(VaultAuthError) as err:
            connect(VaultOptions.from_mapping(dict(base, vault_jwt=forged)))
        assert forged not in str(err.value) and "vault_auth_method 'jwt'" in str(err.value)
    finally:
        openbao.api("DELETE", f"sys/auth/{mount}")


class _LoopbackServer:
    """An HTTP server on a free loopback port, served from a thread while the ``with`` block runs, then stopped."""

    def __init__(self, handler: type) -> None:
        import http.server

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class _TokenReviews(_LoopbackServer):
    """A loopback stand-in for the Kubernetes API's TokenReview endpoint, the one call OpenBao's kubernetes auth makes:
    it accepts the service-account tokens in ``valid`` and records every token it was asked about."""

    def __init__(self, valid: dict[str, str]) -> None:
        import http.server

        reviews = self
        self.asked: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                token = review["spec"]["token"]
                reviews.asked.append(token)
                user = valid.get(token)
                status = {"authenticated": True, "user": {"username": user, "uid": "uid-1"}} if user else {"authenticated": False}
                body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        super().__init__(Handler)


def _self_signed_pem(key: ec.EllipticCurvePrivateKey) -> str:
    import datetime

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_kubernetes_login(openbao, kv_path, tmp_path):
    mount, policy = unique("k8s"), unique("sectigo")
    key = ec.generate_private_key(ec.SECP256R1())
    claims = {"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:ci:ansible",
              "kubernetes.io/serviceaccount/namespace": "ci", "kubernetes.io/serviceaccount/service-account.name": "ansible",
              "kubernetes.io/serviceaccount/service-account.uid": "uid-1"}
    token, other = _es256_jwt(key, claims), _es256_jwt(key, dict(claims, sub="system:serviceaccount:ci:other"))
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    openbao.api("POST", f"sys/auth/{mount}", {"type": "kubernetes"})
    try:
        with _TokenReviews({token: "system:serviceaccount:ci:ansible"}) as api:
            # OpenBao insists on a CA certificate for the Kubernetes API; over http:// it is never used.
            openbao.api("POST", f"auth/{mount}/config", {"kubernetes_host": api.url, "disable_local_ca_jwt": True,
                                                         "kubernetes_ca_cert": _self_signed_pem(key)})
            openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": policy_hcl("secret", kv_path)})
            role = {"bound_service_account_names": ["ansible"], "bound_service_account_namespaces": ["ci"], "token_policies": [policy],
                    "token_ttl": "10m"}
            openbao.api("POST", f"auth/{mount}/role/deployer", role)
            base = {"vault_addr": openbao.addr, "vault_auth_method": "kubernetes", "vault_auth_mount": mount, "vault_role": "deployer"}
            # The service-account token is read from its file when vault_jwt is not given, as in a pod.
            opts = VaultOptions.from_mapping(base, k8s_token_path=str(token_file))
            store = VaultStore(connect(opts), base_path=kv_path)
            assert store.write("configs/k8s", {"by": "kubernetes"}, cas=0) == 1
            assert raw_read(openbao, f"{kv_path}/configs/k8s") == {"by": "kubernetes"}
            assert api.asked == [token]
            with pytest.raises(VaultAuthError) as err:
                connect(VaultOptions.from_mapping(dict(base, vault_jwt=other)))
            assert other not in str(err.value) and "vault_auth_method 'kubernetes'" in str(err.value)
    finally:
        openbao.api("DELETE", f"sys/auth/{mount}")


# --- unreachable and wrong mounts ----------------------------------------------------------------------------

def test_unreachable_address():
    addr = f"http://127.0.0.1:{free_port()}"
    store = VaultStore(connect(VaultOptions.from_mapping({"vault_addr": addr, "vault_token": "t0ken-value"})))
    with pytest.raises(VaultConnectionError) as err:
        store.read("configs/a")
    assert addr in str(err.value) and "t0ken-value" not in str(err.value)
    with pytest.raises(VaultConnectionError):
        connect(VaultOptions.from_mapping({"vault_addr": addr, "vault_auth_method": "userpass", "vault_username": "u", "vault_password": "pw"}))


def test_kv_version_1_mount_is_refused_clearly(openbao):
    mount = unique("kv1")
    openbao.api("POST", f"sys/mounts/{mount}", {"type": "kv", "options": {"version": "1"}})
    try:
        store = VaultStore(connect(options(openbao)), mount=mount)
        with pytest.raises(VaultNotFoundError) as err:
            store.write("configs/a", {"x": 1}, cas=0)
        assert f"kv_mount '{mount}' is not a KV version 2 mount" in str(err.value)
        assert openbao.api("LIST", f"{mount}/", expect_ok=False).get("errors") == []  # nothing was written
        openbao.api("POST", f"{mount}/data/sectigo-vault-pki/configs/v1", {"x": 1})
        with pytest.raises(VaultNotFoundError) as err:
            store.read("configs/v1")
        assert "not a KV version 2 mount" in str(err.value)
    finally:
        openbao.api("DELETE", f"sys/mounts/{mount}")


def test_missing_mount_is_named(openbao):
    store = VaultStore(connect(options(openbao)), mount="no-such-mount")
    for call in (lambda: store.read("configs/a"), lambda: store.write("configs/a", {}, cas=0), lambda: store.list("configs")):
        with pytest.raises(VaultNotFoundError) as err:
            call()
        assert "kv_mount 'no-such-mount'" in str(err.value)


# --- the transport: proxies, redirects, the pool ---------------------------------------------------------------

class _Relay(_LoopbackServer):
    """A loopback HTTP server that either forwards each request to OpenBao as a plain proxy would (``mode='proxy'``)
    or answers it with a 307 to the same path on OpenBao (``mode='redirect'``, as a standby Vault node does)."""

    def __init__(self, upstream: str, mode: str) -> None:
        import http.client
        import http.server
        from urllib.parse import urlsplit

        relay = self
        self.seen: list[tuple[str, str, bool]] = []
        target = urlsplit(upstream)

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                relay.seen.append((self.command, self.path, "X-Vault-Token" in self.headers))
                if mode == "redirect":
                    self.send_response(307)
                    self.send_header("Location", upstream + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path = urlsplit(self.path)
                upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "connection")}
                upstream_conn.request(self.command, path.path + (f"?{path.query}" if path.query else ""), body=body or None, headers=headers)
                reply = upstream_conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream_conn.close()

            do_GET = do_POST = do_DELETE = do_LIST = _any

            def log_message(self, *_args):
                pass

        super().__init__(Handler)


def test_vault_proxies_carry_every_request_and_the_login(openbao, approle, kv_path):
    with _Relay(openbao.addr, "proxy") as proxy:
        opts = VaultOptions.from_mapping({"vault_addr": openbao.addr, "vault_proxies": proxy.url, "kv_path": kv_path, **approle})
        store = VaultStore(connect(opts), base_path=kv_path)
        store.write("configs/p", {"via": "proxy"}, cas=0)
        assert store.read("configs/p") == ({"via": "proxy"}, 1)
    # A proxy sees absolute URLs: the login went through it without a token, the rest with the token it returned.
    assert proxy.seen[0] == ("POST", f"{openbao.addr}/v1/auth/{approle['vault_auth_mount']}/login", False)
    assert [seen[0] for seen in proxy.seen[1:]] == ["GET", "POST", "GET"] and all(seen[2] for seen in proxy.seen[1:])
    assert all(seen[1].startswith(openbao.addr) for seen in proxy.seen)
    assert raw_read(openbao, f"{kv_path}/configs/p") == {"via": "proxy"}


def test_a_redirect_is_followed_with_the_token_and_the_body(openbao, kv_path):
    with _Relay(openbao.addr, "redirect") as standby:
        store = VaultStore(connect(VaultOptions.from_mapping({"vault_addr": standby.url, "vault_token": openbao.token, "kv_path": kv_path,
                                                              "vault_retries": 0})), base_path=kv_path)
        assert store.write("configs/r", {"moved": True}, cas=0) == 1
        assert store.read("configs/r") == ({"moved": True}, 1)
    assert [seen[0] for seen in standby.seen] == ["GET", "POST", "GET"] and all(seen[2] for seen in standby.seen)
    assert raw_read(openbao, f"{kv_path}/configs/r") == {"moved": True}


def test_threads_share_one_client_with_a_pool_as_wide_as_they_are_many(store, openbao):
    from concurrent.futures import ThreadPoolExecutor

    store.client.set_pool_size(16)
    with ThreadPoolExecutor(16) as pool:
        versions = list(pool.map(lambda i: store.write(f"configs/t{i}", {"i": i}, cas=0), range(48)))
    assert versions == [1] * 48
    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(lambda i: store.read(f"configs/t{i}")[0]["i"], range(48))) == list(range(48))
    manager = store.client.session.get_adapter(openbao.addr).poolmanager
    assert len(manager.pools) == 1 and manager.connection_pool_kw["maxsize"] == 16
    assert manager.connection_from_url(openbao.addr).num_connections <= 16


def _clear_proxy_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_the_environments_proxy_is_used_unless_no_proxy_covers_vault(openbao, kv_path, monkeypatch):
    _clear_proxy_environment(monkeypatch)
    with _Relay(openbao.addr, "proxy") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "vault.example.com,10.0.0.0/8")
        store = VaultStore(connect(options(openbao, kv_path=kv_path)), base_path=kv_path)
        assert store.write("configs/env", {"via": "environment"}, cas=0) == 1
        through = len(proxy.seen)
        # NO_PROXY naming Vault's address (here as a network): straight to Vault, as requests decides for any client.
        monkeypatch.setenv("NO_PROXY", "vault.example.com,127.0.0.0/8")
        assert store.read("configs/env") == ({"via": "environment"}, 1)
        bypassed = len(proxy.seen) - through
    assert through == 2 and [seen[0] for seen in proxy.seen] == ["GET", "POST"] and bypassed == 0
    assert all(seen[1].startswith(openbao.addr) and seen[2] for seen in proxy.seen)


class _TlsRelay(_Relay):
    """The relay on https (a certificate of the test CA for 127.0.0.1), for redirects that leave TLS."""

    def __init__(self, upstream: str, mode: str, issued) -> None:
        import ssl

        super().__init__(upstream, mode)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(issued.cert_path, issued.key_path)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = self.url.replace("http://", "https://")


def test_a_redirect_from_https_to_plain_http_is_refused(openbao, kv_path, tmp_path):
    from testbed.pki import TestPki

    pki = TestPki.create(str(tmp_path / "pki"))
    with _TlsRelay(openbao.addr, "redirect", pki.server()) as standby:
        opts = VaultOptions.from_mapping({"vault_addr": standby.url, "vault_token": openbao.token, "vault_ca_cert": pki.ca_path,
                                          "kv_path": kv_path})
        store = VaultStore(connect(opts), base_path=kv_path)
        with pytest.raises(VaultError) as err:
            store.read("configs/tls")
    assert "plain http" in str(err.value) and openbao.token not in str(err.value)
    # The relay (over TLS) saw the read once; OpenBao, on plain http, never saw the token.
    assert standby.seen == [("GET", f"/v1/secret/data/{kv_path}/configs/tls", True)]


# --- the token's lifetime ------------------------------------------------------------------------------------

def test_a_run_that_outlives_its_5s_token_succeeds(openbao, scm_simulator, kv_path):
    """A fleet of certificates whose issuance takes longer than the approle token lives (token_max_ttl 5 s)."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, build_requests
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService, scm_client_for

    mount, policy = unique("approle"), unique("sectigo")
    openbao.api("POST", f"sys/auth/{mount}", {"type": "approle"})
    openbao.api("PUT", f"sys/policies/acl/{policy}", {"policy": policy_hcl("secret", kv_path)})
    openbao.api("POST", f"auth/{mount}/role/short", {"token_policies": [policy], "token_ttl": "5s", "token_max_ttl": "5s"})
    role_id = openbao.api("GET", f"auth/{mount}/role/short/role-id")["data"]["role_id"]
    secret_id = openbao.api("POST", f"auth/{mount}/role/short/secret-id")["data"]["secret_id"]
    opts = VaultOptions.from_mapping({"vault_addr": openbao.addr, "vault_auth_method": "approle", "vault_auth_mount": mount,
                                      "vault_role_id": role_id, "vault_secret_id": secret_id, "kv_path": kv_path})
    scm_simulator.configure(issue_delay=20)
    try:
        started = time.monotonic()
        store = VaultStore(connect(opts), base_path=kv_path)
        config = ConfigService(store).ensure_present({
            "name": "ttl", "config_type": "ssl_cert", "org_id": 1001, "base_url": scm_simulator.base_url, "login": scm_simulator.login,
            "password": scm_simulator.password, "customer_uri": scm_simulator.customer_uri,
            "defaults": {"cert_type": 101, "term": 365, "loop_period": 2, "max_timeout": 120}}).config
        config = ConfigService(store).require("ttl")
        names = [f"ttl{i}" for i in range(4)]
        fleet = Fleet(store, config, lambda: scm_client_for(config), concurrency=4)
        outcomes = fleet.run(build_requests([{"name": n, "common_name": f"{n}.example.com", "key_algo": "EC"} for n in names],
                                            {"config": "ttl"}))
        elapsed = time.monotonic() - started
    finally:
        scm_simulator.configure(issue_delay=0)
        openbao.api("DELETE", f"sys/auth/{mount}")
    assert [str(o.error) for o in outcomes if o.error] == []
    assert [o.result.record["status"] for o in outcomes] == ["Issued"] * 4
    assert elapsed >= 20, elapsed
    # The orders were placed on the first token; the certificates were stored with a later one (a new login once
    # renewal could not extend the token past its 5 s max TTL).
    assert store.client.logins >= 2
