"""The SCM client's logins besides the password: OAuth2 client credentials and a client certificate given as PEM.

OAuth2 runs against the fake transport of test_scm_client (every request recorded); the PEM client
certificate does a real TLS handshake with the SCM simulator served in this process on loopback.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import tempfile
import threading
from urllib.parse import parse_qs

import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_scm_client import FakeTransport, path_of

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import DEFAULT_TOKEN_URL
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.client import ScmClient
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.transport import ScmAdapter, client_cert_context
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmAuthError, ScmConnectionError, ScmServerError

ADMIN = "https://admin.enterprise.sectigo.com/api"
CLIENT_ID = "0d1e2f-client"
CLIENT_SECRET = "very-secret-client-secret-42"
TOKEN_A = "token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN_B = "token-bbbbbbbbbbbbbbbbbbbbbbbbbbbb"


def token_answer(token: str, expires_in: int | None = 300) -> dict:
    body = {"access_token": token, "token_type": "Bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return {"status": 200, "json": body}


TYPES = {"status": 200, "json": [{"id": 101, "name": "OV", "terms": [365]}]}
UNAUTHORIZED = {"status": 401, "json": {"code": -16, "description": "Invalid auth data"}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def oauth(clock):
    transport = FakeTransport()
    sleeps: list = []
    client = ScmClient(ADMIN, "", "", auth_method="oauth2", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, sleep=sleeps.append,
                       rand=lambda: 0.5, clock=clock, token_url=DEFAULT_TOKEN_URL)
    transport.install(client)
    return client, transport


def test_token_is_fetched_once_and_sent_as_bearer(oauth):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A), TYPES, TYPES]
    client.list_ssl_types()
    client.list_ssl_types()
    token_request, first, second = transport.requests
    assert token_request.url == DEFAULT_TOKEN_URL and token_request.method == "POST"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.body) == {"grant_type": ["client_credentials"], "client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET]}
    assert "Authorization" not in token_request.headers
    for request in (first, second):
        assert request.url == f"{ADMIN}/ssl/v1/types"
        assert request.headers["Authorization"] == f"Bearer {TOKEN_A}"
        assert not {"login", "password", "customerUri"} & set(request.headers)
    assert client.tokens_fetched == 1


def test_one_token_for_many_requests_on_many_threads(oauth):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A)] + [TYPES] * 24

    def three():
        for _request in range(3):
            client.list_ssl_types()
    workers = [threading.Thread(target=three) for _worker in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert client.tokens_fetched == 1 and [path_of(r) for r in transport.requests].count("/api/ssl/v1/types") == 24
    assert {r.headers["Authorization"] for r in transport.requests[1:]} == {f"Bearer {TOKEN_A}"}


def test_a_401_fetches_a_new_token_once_and_repeats_even_a_post(oauth):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A), UNAUTHORIZED, token_answer(TOKEN_B), {"status": 200, "json": {"sslId": 7, "renewId": "r"}}]
    answer = client.enroll_ssl(org_id=1, csr="-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n",
                               cert_type=101, term=365)
    assert answer["sslId"] == 7
    assert [path_of(r) for r in transport.requests].count("/api/ssl/v1/enroll") == 2
    assert transport.last.headers["Authorization"] == f"Bearer {TOKEN_B}"
    assert client.tokens_fetched == 2 and client.requests_sent == 4


def test_a_401_on_a_get_fetches_a_new_token_and_the_next_requests_keep_it(oauth):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A), UNAUTHORIZED, token_answer(TOKEN_B), TYPES, TYPES]
    client.list_ssl_types()
    client.list_ssl_types()
    assert client.tokens_fetched == 2
    assert [r.headers.get("Authorization") for r in transport.requests[3:]] == [f"Bearer {TOKEN_B}"] * 2


def test_a_second_401_is_an_auth_error_without_token_or_secret(oauth):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A), UNAUTHORIZED, token_answer(TOKEN_B),
                        {"status": 401, "json": {"code": -16, "description": f"bad token {TOKEN_B} for {CLIENT_SECRET}"}}]
    with pytest.raises(ScmAuthError) as info:
        client.list_ssl_types()
    text = str(info.value) + repr(info.value) + json.dumps(info.value.to_dict())
    assert TOKEN_B not in text and CLIENT_SECRET not in text and "<redacted>" in text
    assert len(transport.requests) == 4


def test_token_is_fetched_again_shortly_before_it_expires(oauth, clock):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A, expires_in=100), TYPES, TYPES, token_answer(TOKEN_B, expires_in=100), TYPES]
    client.list_ssl_types()
    clock.now = 69.0  # 100 s minus the 30 s margin: still good
    client.list_ssl_types()
    assert client.tokens_fetched == 1
    clock.now = 71.0
    client.list_ssl_types()
    assert client.tokens_fetched == 2 and transport.last.headers["Authorization"] == f"Bearer {TOKEN_B}"


def test_refused_client_credentials_name_the_options_not_the_secret(oauth):
    client, transport = oauth
    transport.queue.append({"status": 401, "json": {"error": "invalid_client", "error_description": f"no client {CLIENT_SECRET}"}})
    with pytest.raises(ScmAuthError) as info:
        client.list_ssl_types()
    message = str(info.value)
    assert "invalid_client" in message and "client_id and client_secret" in message and CLIENT_SECRET not in message
    assert len(transport.requests) == 1  # no SCM request without a token


def test_token_endpoint_5xx_is_retried_then_reported(oauth):
    client, transport = oauth
    transport.queue += [{"status": 503, "body": "down"}] * 5
    with pytest.raises(ScmServerError) as info:
        client.list_ssl_types()
    assert "HTTP 503" in str(info.value) and len(transport.requests) == 5


def test_the_token_request_places_no_order_and_is_retried_like_a_get(oauth):
    client, transport = oauth
    transport.queue += [urllib3.exceptions.ReadTimeoutError(None, "/token", "Read timed out."), {"status": 429, "headers": {"Retry-After": "2"}},
                        token_answer(TOKEN_A), TYPES]
    client.list_ssl_types()
    assert [r.method for r in transport.requests] == ["POST", "POST", "POST", "GET"] and client.tokens_fetched == 1


def test_token_endpoint_unreachable(oauth):
    client, transport = oauth
    transport.queue += [urllib3.exceptions.ReadTimeoutError(None, "/token", "Read timed out.")] * 5
    with pytest.raises(ScmConnectionError) as info:
        client.list_ssl_types()
    assert "OAuth2 token" in str(info.value)


@pytest.mark.parametrize("answer", [{"status": 200, "json": {"token_type": "Bearer"}}, {"status": 200, "body": "<html>login</html>"},
                                    {"status": 200, "json": {"access_token": "x", "token_type": "mac"}}])
def test_unusable_token_answers(oauth, answer):
    client, transport = oauth
    transport.queue.append(answer)
    with pytest.raises(ScmAuthError):
        client.list_ssl_types()


def test_custom_token_url_and_smime_paths_on_the_admin_api(clock):
    transport = FakeTransport()
    client = ScmClient("https://scm.example.org/api", "", "", auth_method="oauth2", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       token_url="https://sso.example.org/token", clock=clock)
    transport.install(client)
    transport.queue += [token_answer(TOKEN_A), {"status": 200, "json": []}]
    client.list_smime_types()
    assert transport.requests[0].url == "https://sso.example.org/token"
    assert transport.last.url == "https://scm.example.org/api/smime/v2/types"


def test_oauth2_needs_a_token_url():
    # _lifecycle/configs gives every oauth2 config Sectigo's token endpoint unless the config names another.
    with pytest.raises(InputError) as info:
        ScmClient(ADMIN, "", "", auth_method="oauth2", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert info.value.field == "scm_token_url"


def test_repr_shows_no_secret(oauth):
    client, transport = oauth
    transport.queue += [token_answer(TOKEN_A), TYPES]
    client.list_ssl_types()
    assert CLIENT_SECRET not in repr(client) and TOKEN_A not in repr(client)


# --- client certificate as PEM ------------------------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_key, cn: str, issuer_key, issuer_cn: str, *, ca: bool = False, ip: str | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(issuer_cn)).public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(item) -> str:
    if isinstance(item, x509.Certificate):
        return item.public_bytes(serialization.Encoding.PEM).decode()
    return item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(ca_key, "test CA", ca_key, "test CA", ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    files = {"ca": _pem(ca), "server": _pem(_cert(server_key, "127.0.0.1", ca_key, "test CA", ip="127.0.0.1")), "server_key": _pem(server_key)}
    for name, text in files.items():
        (directory / f"{name}.pem").write_text(text)
    return {"dir": directory, "ca": str(directory / "ca.pem"), "client_cert": _pem(_cert(client_key, "api-user", ca_key, "test CA")),
            "client_key": _pem(client_key), "other_key": _pem(ec.generate_private_key(ec.SECP256R1()))}


@pytest.fixture
def tls_simulator(pki):
    from scm_simulator.server import served  # pylint: disable=import-outside-toplevel
    from scm_simulator.simulator import Simulator  # pylint: disable=import-outside-toplevel

    with served(Simulator.create(), tls_cert=str(pki["dir"] / "server.pem"), tls_key=str(pki["dir"] / "server_key.pem"),
                tls_client_ca=pki["ca"]) as server:
        yield server


def _leftovers() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("sectigo-scm-")}


def test_pem_client_certificate_logs_in_to_the_private_api_and_leaves_no_file(pki, tls_simulator):
    before = _leftovers()
    client = ScmClient(tls_simulator.base_url, "demo", "demo", auth_method="client_certificate", client_cert_pem=pki["client_cert"],
                       client_key_pem=pki["client_key"], ca_cert=pki["ca"], max_retries=0)
    assert _leftovers() == before
    assert client.session.cert is None
    assert client.base_url.endswith("/private/api")
    assert [t["id"] for t in client.list_ssl_types()]
    client.close()


def test_without_a_client_certificate_the_private_api_refuses(pki, tls_simulator):
    client = ScmClient(tls_simulator.base_url, "demo", "demo", auth_method="client_certificate", client_cert="/nonexistent.pem",
                       ca_cert=pki["ca"], max_retries=0)
    client.session.cert = None
    with pytest.raises(ScmAuthError):
        client.list_ssl_types()


def test_a_key_that_does_not_match_is_refused_before_any_request(pki):
    before = _leftovers()
    with pytest.raises(InputError) as info:
        client_cert_context(pki["client_cert"], pki["other_key"])
    assert info.value.field == "scm_client_key_pem" and "PRIVATE KEY" not in str(info.value)
    assert _leftovers() == before


@pytest.mark.parametrize("cert, key", [("not pem", "-----BEGIN PRIVATE KEY-----\n"), ("-----BEGIN CERTIFICATE-----\n", "a path")])
def test_unusable_pem_names_the_options(cert, key):
    before = _leftovers()
    with pytest.raises(InputError) as info:
        client_cert_context(cert, key)
    assert info.value.field == "scm_client_key_pem" and "scm_client_cert_pem" in str(info.value)
    assert _leftovers() == before


def test_pem_certificate_needs_its_key(pki):
    with pytest.raises(InputError) as info:
        ScmClient("https://scm.example.org/api", "demo", "demo", auth_method="client_certificate", client_cert_pem=pki["client_cert"])
    assert info.value.field == "scm_client_key_pem"


def test_context_is_used_for_verify_false_too(pki):
    client = ScmClient("https://scm.example.org/api", "demo", "demo", auth_method="client_certificate", verify=False,
                       client_cert_pem=pki["client_cert"], client_key_pem=pki["client_key"])
    adapter = client.session.get_adapter("https://scm.example.org/private/api")
    assert isinstance(adapter, ScmAdapter) and adapter._context is not None  # pylint: disable=protected-access
    assert client.session.verify is False
