"""Unit tests of the SCM REST client against a fake transport that replays recorded-style answers.

The fake answers where urllib3 would talk to the socket (its connection pool's ``_make_request``), under the
client's own session, adapter and retry policy: URL building, headers, auth objects, JSON bodies, redirects and
every retry decision run for real; only the bytes on the wire are made up.
"""
from __future__ import annotations

import email.utils
import http.client
import importlib.util
import io
import json
import ssl
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm import client as _scm_client
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm import transport as _scm_transport
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.auth import private_api_url
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.client import ScmClient
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.endpoints import parse_total_count
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import (
    ScmAuthError, ScmConnectionError, ScmError, ScmNotFoundError, ScmPending, ScmRequestError, ScmServerError, error_from_response,
)

FIXTURES = Path(__file__).parent / "fixtures" / "scm"
BASE = "https://cert-manager.com/api"
PASSWORD = "s3cr3t-Pa55word!"
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBVzCB/gIBADAbMRkwFwYDVQQDDBB3d3cuZXhhbXBsZS5lZHU=\n-----END CERTIFICATE REQUEST-----\n"
RAND = 0.5  # jitter factor 0.5 + RAND / 2 = 0.75


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Wire:
    """One request as it reached the (fake) socket."""

    def __init__(self, method: str, url: str, headers, body) -> None:
        self.method = method
        self.url = url
        self.headers = CaseInsensitiveDict(headers or {})
        self.body = body


class _Broken(io.RawIOBase):
    """A body whose connection drops while it is read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise ConnectionResetError(104, "Connection reset by peer")


class FakeTransport:
    """Answers from a queue at urllib3's connection pool; records every attempt (``requests``) and each send()'s options.

    ``install(client)`` puts it under every adapter of the client's session. A queued item is a fixture dict, an
    exception raised where the socket would fail, or ``"broken"``: headers arrive, the body's connection drops.
    """

    def __init__(self) -> None:
        self.queue: list = []
        self.requests: list[Wire] = []
        self.options: list[dict] = []

    def add(self, name: str, **changes) -> FakeTransport:
        fixture = load(name)
        fixture.update(changes)
        self.queue.append(fixture)
        return self

    def fail(self, exc: BaseException) -> FakeTransport:
        self.queue.append(exc)
        return self

    def install(self, client) -> None:
        fake = self
        for adapter in {id(a): a for a in client.session.adapters.values()}.values():
            def send(request, *args, _send=adapter.send, **kwargs):
                fake.options.append({"timeout": kwargs.get("timeout"), "verify": kwargs.get("verify"), "cert": kwargs.get("cert")})
                return _send(request, *args, **kwargs)
            adapter.send = send
            adapter.poolmanager.clear()
            adapter.poolmanager.pool_classes_by_scheme = {"http": self._pool(urllib3.HTTPConnectionPool),
                                                          "https": self._pool(urllib3.HTTPSConnectionPool)}

    def _pool(self, base):
        fake = self

        class Pool(base):
            def _make_request(self, conn, method, url, body=None, headers=None, retries=None, **kwargs):  # pylint: disable=arguments-differ
                return fake.answer(self, method, url, body, headers, retries)
        return Pool

    def answer(self, pool, method, url, body, headers, retries):
        port = "" if pool.port in (None, 80, 443) else f":{pool.port}"
        self.requests.append(Wire(method, f"{pool.scheme}://{pool.host}{port}{url}", headers, body))
        if not self.queue:
            raise AssertionError(f"unexpected request {method} {url}")
        item = self.queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        data = json.dumps(item["json"]).encode() if "json" in item else item.get("body", "").encode()
        stream = _Broken() if item.get("broken") else io.BytesIO(b"" if method == "HEAD" else data)
        return urllib3.HTTPResponse(body=stream, headers=item.get("headers", {}), status=item["status"], reason="recorded",
                                    preload_content=False, decode_content=False, request_method=method, request_url=url,
                                    retries=retries, enforce_content_length=False)

    # helpers for assertions
    @property
    def last(self) -> Wire:
        return self.requests[-1]


def path_of(request) -> str:
    return urlsplit(request.url).path


def query_of(request) -> dict:
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}


def body_of(request):
    return None if request.body is None else json.loads(request.body)


def make_client(transport: FakeTransport, sleeps: list, **kwargs) -> ScmClient:
    options = dict(sleep=sleeps.append, rand=lambda: RAND)
    options.update(kwargs)
    client = ScmClient(kwargs.pop("base_url", BASE), "InCommon", "api-user", options.pop("password", PASSWORD),
                       **{k: v for k, v in options.items() if k != "base_url"})
    transport.install(client)
    return client


@pytest.fixture(autouse=True)
def _no_env_ca_bundle(monkeypatch):
    # requests lets these variables override ``verify``; the tests check what the client sets.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def sleeps() -> list:
    return []


@pytest.fixture
def client(transport, sleeps) -> ScmClient:
    return make_client(transport, sleeps)


def connect_refused() -> urllib3.exceptions.NewConnectionError:
    return urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")


def connect_timeout() -> urllib3.exceptions.ConnectTimeoutError:
    return urllib3.exceptions.ConnectTimeoutError(None, "Connection to cert-manager.com timed out. (connect timeout=30)")


def connection_reset() -> ConnectionResetError:
    return ConnectionResetError(104, "Connection reset by peer")


def remote_disconnected() -> http.client.RemoteDisconnected:
    return http.client.RemoteDisconnected("Remote end closed connection without response")


def read_timeout() -> urllib3.exceptions.ReadTimeoutError:
    return urllib3.exceptions.ReadTimeoutError(None, "/api/ssl/v1/enroll", "Read timed out. (read timeout=30)")


# --------------------------------------------------------------------------- every endpoint

ENROLL_ALL = dict(org_id=4242, csr=CSR, cert_type=17141, term=365, subj_alt_names=["www.example.edu", "example.edu"],
                  comments="vault_pki:0f3c2a", external_requester=["a@example.edu", "b@example.edu"],
                  custom_fields=[{"name": "Cost Center", "value": 42}], num_servers=1, server_type=-1)
SMIME_ALL = dict(org_id=4242, csr=CSR, cert_type=5301, term=365, email="ada@example.edu", first_name="Ada", last_name="Lovelace",
                 middle_name="K", common_name="Ada Lovelace", comments="vault_pki:77aa01", custom_fields={"Employee ID": "E1"},
                 phone="+44 1", secondary_emails="ada2@example.edu, ada3@example.edu", eppn="ada@example.edu", upn="ada@corp")

# (id, call, fixture, method, path, query, body, expected return)
ENDPOINTS = [
    ("list_ssl_types", lambda c: c.list_ssl_types(), "ssl_types", "GET", "/api/ssl/v1/types", {}, None, load("ssl_types")["json"]),
    ("list_ssl_types_org", lambda c: c.list_ssl_types(org_id=4243), "ssl_types", "GET", "/api/ssl/v1/types", {"organizationId": "4243"},
     None, load("ssl_types")["json"]),
    ("list_ssl_custom_fields", lambda c: c.list_ssl_custom_fields(), "ssl_custom_fields", "GET", "/api/ssl/v1/customFields", {}, None,
     load("ssl_custom_fields")["json"]),
    ("enroll_ssl_all", lambda c: c.enroll_ssl(**ENROLL_ALL), "ssl_enroll", "POST", "/api/ssl/v1/enroll", {},
     {"orgId": 4242, "csr": CSR, "certType": 17141, "term": 365, "subjAltNames": "www.example.edu,example.edu",
      "comments": "vault_pki:0f3c2a", "externalRequester": "a@example.edu,b@example.edu",
      "customFields": [{"name": "Cost Center", "value": "42"}], "numberServers": 1, "serverType": -1},
     {"sslId": 655043, "renewId": "gu03sW6WENt7GTvDTuOP"}),
    ("enroll_ssl_minimal", lambda c: c.enroll_ssl(org_id="4242", csr=CSR, cert_type=17141, term=365, subj_alt_names=None),
     "ssl_enroll", "POST", "/api/ssl/v1/enroll", {}, {"orgId": 4242, "csr": CSR, "certType": 17141, "term": 365},
     {"sslId": 655043, "renewId": "gu03sW6WENt7GTvDTuOP"}),
    ("enroll_ssl_san_string", lambda c: c.enroll_ssl(org_id=1, csr=CSR, cert_type=2, term=3, subj_alt_names="a.example, b.example"),
     "ssl_enroll", "POST", "/api/ssl/v1/enroll", {}, {"orgId": 1, "csr": CSR, "certType": 2, "term": 3, "subjAltNames": "a.example,b.example"},
     {"sslId": 655043, "renewId": "gu03sW6WENt7GTvDTuOP"}),
    ("collect_ssl", lambda c: c.collect_ssl(655043), "ssl_collect_x509co", "GET", "/api/ssl/v1/collect/655043", {"format": "x509CO"}, None,
     load("ssl_collect_x509co")["body"].encode()),
    ("collect_ssl_format_case", lambda c: c.collect_ssl("655043", "X509r"), "ssl_collect_x509co", "GET", "/api/ssl/v1/collect/655043",
     {"format": "X509r"}, None, load("ssl_collect_x509co")["body"].encode()),
    ("get_ssl", lambda c: c.get_ssl(655043), "ssl_details", "GET", "/api/ssl/v1/655043", {}, None, load("ssl_details")["json"]),
    ("list_ssl", lambda c: c.list_ssl(size=50, position=100, common_name="www.example.edu", ssl_type_id=17141, serial_number="AB:CD",
                                      org_id=4242, status="Issued", requested_via="API", key_usage=None),
     "ssl_list", "GET", "/api/ssl/v1",
     {"size": "50", "position": "100", "commonName": "www.example.edu", "sslTypeId": "17141", "serialNumber": "AB:CD", "orgId": "4242",
      "status": "Issued", "requestedVia": "API"}, None, (load("ssl_list")["json"], 42)),
    ("count_ssl", lambda c: c.count_ssl(common_name="www.example.edu"), "ssl_count", "HEAD", "/api/ssl/v1",
     {"commonName": "www.example.edu"}, None, 42),
    ("renew_ssl", lambda c: c.renew_ssl(655043), "ssl_renew", "POST", "/api/ssl/v1/renewById/655043", {}, {}, 656825),
    ("renew_ssl_csr", lambda c: c.renew_ssl(655043, csr=CSR), "ssl_renew", "POST", "/api/ssl/v1/renewById/655043", {}, {"csr": CSR}, 656825),
    ("replace_ssl", lambda c: c.replace_ssl(655043, csr=CSR, reason="Key rotated", common_name="www.example.edu",
                                            subject_alt_names=["www.example.edu", "example.edu"]),
     "no_content", "POST", "/api/ssl/v1/replace/655043", {},
     {"csr": CSR, "reason": "Key rotated", "commonName": "www.example.edu", "subjectAlternativeNames": ["www.example.edu", "example.edu"]},
     None),
    ("replace_ssl_san_string", lambda c: c.replace_ssl(7, csr=CSR, reason="r", subject_alt_names="a.example, b.example"),
     "no_content", "POST", "/api/ssl/v1/replace/7", {}, {"csr": CSR, "reason": "r", "subjectAlternativeNames": ["a.example", "b.example"]},
     None),
    ("revoke_ssl", lambda c: c.revoke_ssl(655043, reason="Key compromise", reason_code=1), "no_content", "POST",
     "/api/ssl/v1/revoke/655043", {}, {"reason": "Key compromise", "reasonCode": 1}, None),
    ("revoke_ssl_default_code", lambda c: c.revoke_ssl(655043, reason="No longer needed"), "no_content", "POST",
     "/api/ssl/v1/revoke/655043", {}, {"reason": "No longer needed", "reasonCode": 0}, None),
    ("revoke_ssl_by_serial", lambda c: c.revoke_ssl_by_serial("AB:CD:EF:01", reason="Superseded", reason_code="4"), "no_content", "POST",
     "/api/ssl/v1/revoke/serial/AB:CD:EF:01", {}, {"reason": "Superseded", "reasonCode": 4}, None),
    ("approve_ssl", lambda c: c.approve_ssl(655043, "ok"), "no_content", "POST", "/api/ssl/v1/approve/655043", {}, {"message": "ok"}, None),
    ("decline_ssl", lambda c: c.decline_ssl(655043, "no"), "no_content", "POST", "/api/ssl/v1/decline/655043", {}, {"message": "no"}, None),
    ("list_smime_types", lambda c: c.list_smime_types(org_id=4242), "smime_types", "GET", "/api/smime/v1/types", {"organizationId": "4242"},
     None, load("smime_types")["json"]),
    ("list_smime_custom_fields", lambda c: c.list_smime_custom_fields(), "smime_custom_fields", "GET", "/api/smime/v1/customFields", {},
     None, load("smime_custom_fields")["json"]),
    ("enroll_smime_all", lambda c: c.enroll_smime(**SMIME_ALL), "smime_enroll", "POST", "/api/smime/v1/enroll", {},
     {"orgId": 4242, "csr": CSR, "certType": 5301, "term": 365, "email": "ada@example.edu", "firstName": "Ada", "lastName": "Lovelace",
      "middleName": "K", "commonName": "Ada Lovelace", "comments": "vault_pki:77aa01", "phone": "+44 1", "eppn": "ada@example.edu",
      "upn": "ada@corp", "secondaryEmails": ["ada2@example.edu", "ada3@example.edu"], "customFields": [{"name": "Employee ID", "value": "E1"}]},
     {"orderNumber": 1923182777, "backendCertId": "1923182777"}),
    ("enroll_smime_legacy_answer", lambda c: c.enroll_smime(org_id=1, csr=CSR, cert_type=2, term=365, email="a@b.c", first_name="A",
                                                            last_name="B"),
     "smime_enroll_legacy", "POST", "/api/smime/v1/enroll", {},
     {"orgId": 1, "csr": CSR, "certType": 2, "term": 365, "email": "a@b.c", "firstName": "A", "lastName": "B"},
     {"orderNumber": 1923182778, "backendCertId": "1923182778"}),
    ("collect_smime", lambda c: c.collect_smime("1923182777", fmt="base64"), "smime_collect_base64", "GET",
     "/api/smime/v1/collect/1923182777", {"format": "base64"}, None, load("smime_collect_base64")["body"].encode()),
    ("list_smime", lambda c: c.list_smime(cert_type_id=5301, backend_cert_id="1923182777", email="ada@example.edu", person_id=9,
                                          key_vault=False),
     "smime_list", "GET", "/api/smime/v2",
     {"size": "200", "position": "0", "certTypeId": "5301", "backendCertId": "1923182777", "email": "ada@example.edu", "personId": "9",
      "keyVault": "false"}, None, (load("smime_list")["json"], 1)),
    ("count_smime", lambda c: c.count_smime(email="ada@example.edu", state="issued"), "ssl_count", "HEAD", "/api/smime/v2",
     {"email": "ada@example.edu", "state": "issued"}, None, 42),
    ("renew_smime_by_order", lambda c: c.renew_smime_by_order("1923182777"), "smime_renew", "POST", "/api/smime/v2/renew/order/1923182777",
     {}, None, {"orderNumber": 1923182990, "backendCertId": "1923182990"}),
    ("revoke_smime_by_order", lambda c: c.revoke_smime_by_order("1923182777"), "no_content", "POST", "/api/smime/v1/revoke/order/1923182777",
     {}, {"reason": "", "reasonCode": 0}, None),
    ("revoke_smime_by_serial", lambda c: c.revoke_smime_by_serial("01:02:03", reason="left", reason_code=3), "no_content", "POST",
     "/api/smime/v1/revoke/serial/01:02:03", {}, {"reason": "left", "reasonCode": 3}, None),
    ("report_ssl_certificates", lambda c: c.report_ssl_certificates({"certificateStatus": 2, "organizationIds": [4242]}), "report_ssl",
     "POST", "/api/report/v1/ssl-certificates", {"output_type": "buffered"}, {"certificateStatus": 2, "organizationIds": [4242]},
     load("report_ssl")["json"]["reports"]),
    ("report_client_certificates", lambda c: c.report_client_certificates({"certificateStatus": 0}), "report_client", "POST",
     "/api/report/v1/client-certificates", {"output_type": "buffered"}, {"certificateStatus": 0}, load("report_client")["json"]["reports"]),
    ("verify_credentials_ssl", lambda c: c.verify_credentials(), "ssl_types", "GET", "/api/ssl/v1/types", {}, None, None),
    ("verify_credentials_smime", lambda c: c.verify_credentials(kind="smime"), "smime_types", "GET", "/api/smime/v1/types", {}, None, None),
]


@pytest.mark.parametrize("call, fixture, method, path, query, body, expected", [case[1:] for case in ENDPOINTS],
                         ids=[case[0] for case in ENDPOINTS])
def test_endpoint(client, transport, sleeps, call, fixture, method, path, query, body, expected):
    transport.add(fixture)
    assert call(client) == expected
    assert len(transport.requests) == 1 and client.requests_sent == 1 and sleeps == []
    request = transport.last
    assert (request.method, path_of(request), query_of(request)) == (method, path, query)
    assert urlsplit(request.url).netloc == "cert-manager.com"
    headers = request.headers
    assert (headers["Accept"], headers["login"], headers["password"], headers["customerUri"]) == (
        "application/json", "api-user", PASSWORD, "InCommon")
    if body is None:
        assert request.body is None and "Content-Type" not in headers
    else:
        assert headers["Content-Type"] == "application/json;charset=utf-8"
        assert body_of(request) == body
    assert transport.options[0]["timeout"] == 30 and transport.options[0]["verify"] is True


def test_every_public_method_has_an_endpoint_case():
    public = {name for name in dir(ScmClient) if not name.startswith("_") and callable(getattr(ScmClient, name))}
    public -= {"close", "iter_ssl", "iter_smime"}  # paging has its own tests
    covered = {case[0] for case in ENDPOINTS}
    assert all(any(c == name or c.startswith(f"{name}_") for c in covered) for name in public), sorted(
        name for name in public if not any(c == name or c.startswith(f"{name}_") for c in covered))


# --------------------------------------------------------------------------- authentication and TLS

@pytest.mark.parametrize("base_url, private", [
    ("https://cert-manager.com/api", "https://cert-manager.com/private/api"),
    ("https://cert-manager.com/api/", "https://cert-manager.com/private/api"),
    ("https://hard.cert-manager.com/private/api", "https://hard.cert-manager.com/private/api"),
    ("https://scm.example.org:8443/custom/root", "https://scm.example.org:8443/custom/root"),
])
def test_private_api_url(base_url, private):
    assert private_api_url(base_url) == private


@pytest.fixture
def cert_files(tmp_path):
    # requests checks that the files exist before it connects; the fake transport never reads them.
    for name in ("client.pem", "client.key", "both.pem"):
        (tmp_path / name).write_text("placeholder")
    return {name: str(tmp_path / name) for name in ("client.pem", "client.key", "both.pem")}


def test_client_certificate_auth_uses_private_api_and_tls_cert(transport, sleeps, cert_files):
    client = make_client(transport, sleeps, password=None, auth_method="client_certificate", client_cert=cert_files["client.pem"],
                         client_key=cert_files["client.key"])
    transport.add("ssl_types")
    client.list_ssl_types()
    request = transport.last
    assert request.url == "https://cert-manager.com/private/api/ssl/v1/types"
    assert "password" not in request.headers
    assert (request.headers["login"], request.headers["customerUri"]) == ("api-user", "InCommon")
    assert transport.options[0]["cert"] == (cert_files["client.pem"], cert_files["client.key"])
    assert client.base_url == "https://cert-manager.com/private/api"


def test_client_certificate_without_key_file_sends_the_combined_pem(transport, sleeps, cert_files):
    client = make_client(transport, sleeps, password=None, auth_method="client_certificate", client_cert=cert_files["both.pem"])
    transport.add("ssl_types")
    client.list_ssl_types()
    assert transport.options[0]["cert"] == cert_files["both.pem"]


def test_a_missing_client_certificate_file_names_the_options(transport, sleeps):
    client = make_client(transport, sleeps, password=None, auth_method="client_certificate", client_cert="/nonexistent/client.pem")
    with pytest.raises(ScmConnectionError, match="scm_client_cert") as info:
        client.list_ssl_types()
    assert info.value.may_have_reached is False and transport.requests == []


def test_password_auth_keeps_the_base_url(client, transport):
    transport.add("ssl_types")
    client.list_ssl_types()
    assert transport.last.url == "https://cert-manager.com/api/ssl/v1/types"
    assert transport.options[0]["cert"] is None


@pytest.mark.parametrize("kwargs, verify", [
    ({}, True),
    ({"verify": False}, False),
    ({"ca_cert": "scm-ca.pem"}, "scm-ca.pem"),
    ({"verify": False, "ca_cert": "scm-ca.pem"}, "scm-ca.pem"),
])
def test_verify_and_ca_cert(transport, sleeps, tmp_path, monkeypatch, kwargs, verify):
    for name in ("scm-ca.pem", "from-the-environment.pem"):
        (tmp_path / name).write_text("placeholder")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "from-the-environment.pem")  # used only when the options leave verify at its default
    client = make_client(transport, sleeps, timeout=7, **kwargs)
    transport.add("ssl_types")
    client.list_ssl_types()
    assert transport.options[0]["verify"] == (verify if verify is not True else "from-the-environment.pem")
    assert transport.options[0]["timeout"] == 7


def test_one_retry_policy_on_the_session_reads_only():
    client = ScmClient(BASE, "InCommon", "api-user", PASSWORD)
    policy = client.session.get_adapter(f"{BASE}/ssl/v1/enroll").max_retries
    assert isinstance(policy, urllib3.util.Retry) and policy.total == 4 and policy.other == 0
    assert set(policy.allowed_methods) == {"GET", "HEAD"} and set(policy.status_forcelist) == {429, 500, 502, 503, 504}
    assert policy.respect_retry_after_header is True and policy.raise_on_status is False
    # Reports only read: the same policy with POST allowed, under /report/ only.
    report = client.session.get_adapter(f"{BASE}/report/v1/ssl-certificates").max_retries
    assert set(report.allowed_methods) == {"GET", "HEAD", "POST"} and report.total == 4
    assert client.session.get_adapter(f"{BASE}/ssl/v1/enroll") is client.session.get_adapter("https://other.example/")


def test_an_unknown_login_is_refused():
    with pytest.raises(InputError) as info:
        ScmClient(BASE, "InCommon", "api-user", PASSWORD, auth_method="oauth")
    assert info.value.field == "scm_auth_method"


def test_userinfo_in_base_url_is_dropped():
    client = ScmClient(f"https://api-user:{PASSWORD}@cert-manager.com/api/", "InCommon", "api-user", PASSWORD)
    assert client.base_url == "https://cert-manager.com/api"


# --------------------------------------------------------------------------- error mapping

# (fixture, call, class, status, scm_code)
ERRORS = [
    ("error_auth", lambda c: c.list_ssl_types(), ScmAuthError, 401, -16),
    ("error_term", lambda c: c.enroll_ssl(org_id=1, csr=CSR, cert_type=2, term=999), ScmRequestError, 400, -36),
    ("error_not_found", lambda c: c.get_ssl(999999), ScmNotFoundError, 404, -5101),
    ("error_wrong_ssl_id", lambda c: c.get_ssl(999999), ScmNotFoundError, 400, -124),
    ("error_invalid_order", lambda c: c.revoke_smime_by_order("31337"), ScmNotFoundError, 400, -1104),
    ("error_already_revoked", lambda c: c.revoke_ssl(1, reason="again"), ScmRequestError, 400, -102),
    ("error_empty_400", lambda c: c.get_ssl(1), ScmRequestError, 400, None),
    ("ssl_collect_pending", lambda c: c.get_ssl(1), ScmRequestError, 400, 0),  # pending means something only on collect
    ("ssl_collect_bad_format", lambda c: c.collect_ssl(1), ScmRequestError, 400, -1450),
    ("error_empty_400", lambda c: c.collect_ssl(1), ScmRequestError, 400, None),
    ("error_internal", lambda c: c.revoke_ssl(1, reason="r"), ScmServerError, 500, -2),
    ("error_bad_gateway_html", lambda c: c.renew_ssl(1), ScmServerError, 502, None),
    ("rate_limited", lambda c: c.enroll_ssl(org_id=1, csr=CSR, cert_type=2, term=3), ScmServerError, 429, -1),
]


@pytest.mark.parametrize("fixture, call, cls, status, code", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_error_mapping(client, transport, fixture, call, cls, status, code):
    transport.add(fixture)
    with pytest.raises(ScmError) as info:
        call(client)
    err = info.value
    assert err.__class__ is cls
    assert (err.status, err.scm_code) == (status, code)
    assert err.method == transport.last.method and err.url == transport.last.url.split("?")[0]
    assert not isinstance(err, ScmPending)
    assert client.requests_sent == 1


def test_refusal_message_shape(client, transport):
    transport.add("error_term")
    with pytest.raises(ScmRequestError) as info:
        client.enroll_ssl(org_id=4242, csr=CSR, cert_type=17141, term=999)
    assert str(info.value) == "SCM refused POST /ssl/v1/enroll: -36 The validity period (term) is invalid for this certificate profile. (HTTP 400)"
    assert info.value.description == "The validity period (term) is invalid for this certificate profile."
    assert info.value.may_have_reached is False


def test_non_json_error_body_is_summarised(client, transport):
    transport.add("error_bad_gateway_html")
    with pytest.raises(ScmServerError) as info:
        client.renew_ssl(655043)
    assert "502 Bad Gateway" in str(info.value) and "<" not in str(info.value)
    assert info.value.description is None and info.value.may_have_reached is True


def test_empty_error_body(client, transport):
    transport.add("error_empty_400")
    with pytest.raises(ScmRequestError, match=r"no error details in the answer \(HTTP 400\)"):
        client.get_ssl(1)


@pytest.mark.parametrize("fixture, code", [
    ("ssl_collect_pending", 0),
    ("smime_collect_pending", -183),
    ("error_term", -1400),
    ("error_term", -109),
])
def test_collect_pending_codes(client, transport, fixture, code):
    transport.add(fixture, json=dict(load(fixture)["json"], code=code))
    with pytest.raises(ScmPending) as info:
        client.collect_ssl(655043)
    assert info.value.scm_code == code and info.value.status == 400


def test_collect_smime_pending(client, transport):
    transport.add("smime_collect_pending")
    with pytest.raises(ScmPending, match="Certificate is not collectable"):
        client.collect_smime("1923182777")


def test_collect_empty_200_is_pending(client, transport):
    transport.add("ssl_collect_empty")
    with pytest.raises(ScmPending) as info:
        client.collect_ssl(655043)
    assert info.value.status == 200 and info.value.scm_code is None


@pytest.mark.parametrize("body, code, description", [
    ({"code": "-36", "description": "bad term"}, -36, "bad term"),
    ({"description": "Bad request", "details": "term", "items": ["term must be 365"]}, None, "Bad request; term; term must be 365"),
    ([1, 2], None, None),
    ({"code": True}, None, None),
])
def test_factory_tolerates_odd_bodies(body, code, description):
    err = error_from_response(400, json.dumps(body), method="GET", url=f"{BASE}/ssl/v1/1", path="/ssl/v1/1")
    assert isinstance(err, ScmRequestError) and (err.scm_code, err.description) == (code, description)


def test_factory_auth_code_without_401():
    err = error_from_response(400, b'{"code":-970,"description":"Incorrect login credentials."}', method="GET", url=BASE)
    assert isinstance(err, ScmAuthError)


def test_verify_credentials_refused(client, transport):
    transport.add("error_auth")
    with pytest.raises(ScmAuthError, match="Invalid auth data"):
        client.verify_credentials()
    with pytest.raises(ValueError):
        client.verify_credentials(kind="codesign")


def test_redirect_is_not_followed(client, transport):
    transport.add("redirect")
    with pytest.raises(ScmError, match="redirected GET /ssl/v1/types to https://cert-manager.example/api/ssl/v1/types") as info:
        client.list_ssl_types()
    assert client.requests_sent == 1 and info.value.status == 301 and "x=1" not in str(info.value)


def test_json_expected_but_html_received(client, transport):
    transport.add("html_login_page")
    with pytest.raises(ScmError, match="not JSON.*check base_url"):
        client.list_ssl_types()


def test_post_answer_without_id_may_have_reached(client, transport):
    transport.add("ssl_enroll", json={"renewId": "x"})
    with pytest.raises(ScmError, match="without sslId") as info:
        client.enroll_ssl(org_id=1, csr=CSR, cert_type=2, term=3)
    assert info.value.may_have_reached is True


def test_count_without_header(client, transport):
    transport.add("ssl_count", headers={})
    with pytest.raises(ScmError, match="X-Total-Count"):
        client.count_ssl()


# --------------------------------------------------------------------------- retries (urllib3's Retry on the session's adapter)

def test_429_retry_after_seconds_is_honoured(client, transport, sleeps):
    transport.add("rate_limited").add("ssl_types")
    assert client.list_ssl_types() == load("ssl_types")["json"]
    assert sleeps == [7.0] and client.requests_sent == 2 and len(transport.requests) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_get_retried_honouring_retry_after_then_answered(client, transport, sleeps, status):
    transport.add("rate_limited", status=status, headers={"Retry-After": "3"}).add("rate_limited", status=status, headers={"Retry-After": "1"})
    transport.add("ssl_details")
    assert client.get_ssl(655043)["status"] == "Issued"
    assert sleeps == [3.0, 1.0] and [r.method for r in transport.requests] == ["GET"] * 3


def test_retry_after_is_capped(transport, sleeps):
    client = make_client(transport, sleeps, max_retry_after=30)
    transport.add("rate_limited", headers={"Retry-After": "600"}).add("ssl_types")
    client.list_ssl_types()
    assert sleeps == [30.0]


def test_retry_after_http_date(client, transport, sleeps):
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    transport.add("rate_limited", headers={"Retry-After": future}).add("error_unavailable", headers={"Retry-After": past}).add("ssl_types")
    client.list_ssl_types()
    assert sleeps == [120.0, 0.0]


@pytest.mark.parametrize("value", ["soon", "2.5", "-3", ""])
def test_unusable_retry_after_means_backoff(client, transport, sleeps, value):
    transport.add("rate_limited", headers={"Retry-After": value}).add("ssl_types")
    client.list_ssl_types()
    assert sleeps == [0.375]


def test_5xx_backoff_then_success(client, transport, sleeps):
    transport.add("error_unavailable").add("error_internal").add("ssl_details")
    assert client.get_ssl(655043)["status"] == "Issued"
    # backoff_factor 0.5 doubling, jitter factor 0.75
    assert sleeps == [0.375, 0.75] and client.requests_sent == 3


def test_retries_exhausted(transport, sleeps):
    client = make_client(transport, sleeps, max_retries=2)
    for _attempt in range(3):
        transport.add("error_bad_gateway_html")
    with pytest.raises(ScmServerError, match=r"HTTP 502, 3 attempts") as info:
        client.get_ssl(655043)
    assert client.requests_sent == 3 and len(sleeps) == 2 and info.value.status == 502


def test_no_retries_when_disabled(transport, sleeps):
    client = make_client(transport, sleeps, max_retries=0)
    transport.add("error_unavailable")
    with pytest.raises(ScmServerError):
        client.list_ssl_types()
    assert client.requests_sent == 1 and sleeps == []


def test_backoff_is_capped(transport, sleeps):
    client = make_client(transport, sleeps, backoff_factor=100, max_retry_after=5, rand=lambda: 1.0, max_retries=1)
    transport.add("error_unavailable").add("ssl_types")
    client.list_ssl_types()
    assert sleeps == [5.0]


@pytest.mark.parametrize("exc", [connection_reset(), remote_disconnected(), read_timeout(), connect_refused(), connect_timeout()],
                         ids=["reset", "disconnected", "read_timeout", "refused", "connect_timeout"])
def test_get_connection_errors_are_retried(client, transport, sleeps, exc):
    transport.fail(exc).add("ssl_list")
    items, total = client.list_ssl(common_name="www.example.edu")
    assert len(items) == 2 and total == 42 and client.requests_sent == 2 and sleeps == [0.375]


def test_get_connection_errors_exhausted(client, transport, sleeps):
    for _attempt in range(5):
        transport.fail(connect_refused())
    with pytest.raises(ScmConnectionError, match="after 5 attempts.*Connection refused") as info:
        client.get_ssl(1)
    assert client.requests_sent == 5 and len(sleeps) == 4 and info.value.status is None
    assert "object at 0x" not in str(info.value)


def test_a_get_whose_body_is_cut_off_is_reported_not_retried(client, transport, sleeps):
    # The answer's headers came, then the connection dropped: past urllib3's retries (requests reads the body after).
    transport.add("ssl_details", broken=True)
    with pytest.raises(ScmConnectionError) as info:
        client.get_ssl(655043)
    assert info.value.may_have_reached is False and len(transport.requests) == 1 and sleeps == []


def test_head_is_retried(client, transport, sleeps):
    transport.add("rate_limited").add("ssl_count")
    assert client.count_ssl() == 42 and sleeps == [7.0]


POSTS = [
    lambda c: c.enroll_ssl(org_id=4242, csr=CSR, cert_type=17141, term=365),
    lambda c: c.renew_ssl(655043),
    lambda c: c.replace_ssl(655043, csr=CSR, reason="rekey"),
    lambda c: c.enroll_smime(org_id=1, csr=CSR, cert_type=2, term=365, email="a@b.c", first_name="A", last_name="B"),
    lambda c: c.renew_smime_by_order("1923182777"),
    lambda c: c.revoke_ssl(655043, reason="superseded", reason_code=4),
]
POST_IDS = ["enroll_ssl", "renew_ssl", "replace_ssl", "enroll_smime", "renew_smime", "revoke_ssl"]


@pytest.mark.parametrize("post", POSTS, ids=POST_IDS)
@pytest.mark.parametrize("fault", [read_timeout(), connection_reset(), remote_disconnected(), "broken"],
                         ids=["read_timeout", "reset_after_send", "disconnected", "body_cut_off"])
def test_post_never_retried_once_it_may_have_left(client, transport, sleeps, post, fault):
    if fault == "broken":
        transport.add("ssl_enroll", broken=True)
    else:
        transport.fail(fault)
    with pytest.raises(ScmConnectionError) as info:
        post(client)
    assert info.value.may_have_reached is True and "may have reached SCM" in str(info.value)
    assert len(transport.requests) == 1 and client.requests_sent == 1 and sleeps == []


@pytest.mark.parametrize("post", POSTS, ids=POST_IDS)
@pytest.mark.parametrize("fixture", ["error_internal", "error_bad_gateway_html", "error_unavailable"])
def test_post_5xx_not_retried(client, transport, sleeps, post, fixture):
    transport.add(fixture, headers={"Retry-After": "1"})
    with pytest.raises(ScmServerError) as info:
        post(client)
    assert info.value.may_have_reached is True and len(transport.requests) == 1 and client.requests_sent == 1 and sleeps == []


def test_post_429_not_retried(client, transport, sleeps):
    transport.add("rate_limited")
    with pytest.raises(ScmServerError) as info:
        client.enroll_ssl(org_id=4242, csr=CSR, cert_type=17141, term=365)
    assert (info.value.status, info.value.may_have_reached) == (429, False)
    assert client.requests_sent == 1 and sleeps == []


@pytest.mark.parametrize("exc", [connect_refused(), connect_timeout()], ids=["refused", "connect_timeout"])
def test_post_retried_when_the_connection_never_opened(client, transport, sleeps, exc):
    transport.fail(exc).add("ssl_enroll")
    assert client.enroll_ssl(org_id=4242, csr=CSR, cert_type=17141, term=365)["sslId"] == 655043
    assert client.requests_sent == 2 and sleeps == [0.375]
    assert body_of(transport.requests[0]) == body_of(transport.requests[1])


def test_post_connect_failures_exhausted(client, transport, sleeps):
    for _attempt in range(5):
        transport.fail(connect_refused())
    with pytest.raises(ScmConnectionError) as info:
        client.renew_ssl(655043)
    assert info.value.may_have_reached is False and client.requests_sent == 5 and len(sleeps) == 4


def test_a_report_post_only_reads_and_is_retried_like_a_get(client, transport, sleeps):
    transport.add("error_unavailable").fail(connection_reset()).add("rate_limited").add("report_ssl")
    assert client.report_ssl_certificates({"certificateStatus": 0}) == load("report_ssl")["json"]["reports"]
    assert [r.method for r in transport.requests] == ["POST"] * 4 and sleeps == [0.375, 0.75, 7.0]


def test_a_report_that_failed_says_so(client, transport):
    transport.add("report_ssl", json={"statusCode": -1, "reports": []})
    with pytest.raises(ScmError, match="statusCode -1") as info:
        client.report_ssl_certificates({})
    assert info.value.may_have_reached is False


def test_certificate_verification_failure_is_not_retried(client, transport, sleeps):
    transport.fail(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    with pytest.raises(ScmConnectionError, match="scm_ca_cert") as info:
        client.list_ssl_types()
    assert client.requests_sent == 1 and sleeps == [] and info.value.may_have_reached is False


def test_attempts_are_counted_per_thread(client, transport, sleeps):
    import threading  # pylint: disable=import-outside-toplevel

    transport.add("error_unavailable").add("ssl_types")
    client.list_ssl_types()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(client.transport.attempts.last))
    worker.start()
    worker.join()
    assert client.transport.attempts.last == 2 and seen == [1] and client.requests_sent == 2


# --------------------------------------------------------------------------- secrets

def _all_text(err: ScmError) -> str:
    return " ".join([str(err), repr(err), repr(vars(err)), repr(err.args)])


def test_password_never_in_errors_or_repr(client, transport):
    assert PASSWORD not in repr(client) and "api-user" in repr(client)
    transport.add("error_auth", json={"code": -16, "description": f"Unknown user api-user/{PASSWORD}"})
    with pytest.raises(ScmAuthError) as info:
        client.list_ssl_types()
    assert PASSWORD not in _all_text(info.value) and "<redacted>" in str(info.value)
    transport.fail(OSError(f"proxy said {PASSWORD}"))
    with pytest.raises(ScmConnectionError) as info:
        client.enroll_ssl(org_id=1, csr=CSR, cert_type=2, term=3)
    assert PASSWORD not in _all_text(info.value)


def test_csr_echo_is_redacted(client, transport):
    transport.add("error_term", json={"code": -10, "description": f"Error while decoding CSR: {CSR}"})
    with pytest.raises(ScmRequestError) as info:
        client.enroll_ssl(org_id=1, csr=CSR, cert_type=2, term=3)
    assert "BEGIN CERTIFICATE REQUEST" not in _all_text(info.value) and "MIIB" not in _all_text(info.value)


def test_invalid_header_value_is_not_quoted(transport, sleeps):
    client = make_client(transport, sleeps, password="line\nbreak-secret")
    with pytest.raises(ScmConnectionError) as info:
        client.list_ssl_types()
    assert "break-secret" not in _all_text(info.value) and transport.requests == []


def test_error_attributes_hold_no_query(client, transport):
    transport.add("error_internal", status=400)
    with pytest.raises(ScmRequestError) as info:
        client.list_ssl(common_name="secret-project.example.edu")
    assert info.value.url == "https://cert-manager.com/api/ssl/v1" and "secret-project" not in _all_text(info.value)


# --------------------------------------------------------------------------- paging and counting

def _page(n: int, start: int = 0) -> list[dict]:
    return [{"sslId": start + i, "commonName": "www.example.edu"} for i in range(n)]


def test_iter_pages_until_a_short_page(client, transport):
    transport.add("ssl_list", json=_page(2)).add("ssl_list", json=_page(2, 2)).add("ssl_list", json=_page(1, 4))
    items = list(client.iter_ssl(page_size=2, common_name="www.example.edu"))
    assert [i["sslId"] for i in items] == [0, 1, 2, 3, 4]
    assert [query_of(r)["position"] for r in transport.requests] == ["0", "2", "4"]
    assert {query_of(r)["size"] for r in transport.requests} == {"2"}
    assert {query_of(r)["commonName"] for r in transport.requests} == {"www.example.edu"}


def test_iter_default_page_size_is_200(client, transport):
    transport.add("smime_list", json=[{"id": i} for i in range(200)]).add("smime_list", json=[])
    assert len(list(client.iter_smime(email="ada@example.edu"))) == 200
    assert [(query_of(r)["size"], query_of(r)["position"]) for r in transport.requests] == [("200", "0"), ("200", "200")]


def test_iter_stops_on_first_short_page(client, transport):
    transport.add("ssl_list")
    assert len(list(client.iter_ssl())) == 2 and client.requests_sent == 1


def test_iter_is_lazy_but_checks_filters_at_call(client):
    with pytest.raises(TypeError, match="commonname"):
        client.iter_ssl(commonname="x")
    client.iter_ssl(common_name="x")  # not consumed: no request
    assert client.requests_sent == 0


@pytest.mark.parametrize("call", [lambda c: c.list_ssl(common_nam="x"), lambda c: c.count_smime(common_name="x"),
                                  lambda c: c.list_smime(ssl_type_id=1), lambda c: c.count_ssl(commonName="x")])
def test_unknown_filters_raise_type_error(client, call):
    with pytest.raises(TypeError):
        call(client)
    assert client.requests_sent == 0


@pytest.mark.parametrize("header, total", [("42", 42), (" 7 ", 7), (None, None), ("many", None)])
def test_total_count_parsing(client, transport, header, total):
    headers = {"Content-Type": "application/json"} if header is None else {"X-Total-Count": header}
    transport.add("ssl_list", headers=headers)
    assert client.list_ssl()[1] == total
    assert parse_total_count(header) == total


# --------------------------------------------------------------------------- what the client leaves to _lifecycle/request

def test_an_empty_id_is_refused_before_any_request(client):
    with pytest.raises(ValueError) as info:
        client.get_ssl("")
    assert info.value.field == "id" and client.requests_sent == 0


def test_values_are_sent_as_given(client, transport):
    # The rules (reason length, reason codes, formats) are _lifecycle/request's; the client shapes the wire only.
    transport.add("no_content").add("ssl_collect_x509co")
    client.revoke_ssl(1, reason="x" * 600, reason_code=3)
    assert body_of(transport.requests[0]) == {"reason": "x" * 600, "reasonCode": 3}
    client.collect_ssl(1, "PEMco")
    assert query_of(transport.last) == {"format": "PEMco"}


# --------------------------------------------------------------------------- import without requests

def test_module_imports_without_requests(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)
    monkeypatch.setitem(sys.modules, "requests.adapters", None)
    spec = importlib.util.spec_from_file_location("scm_transport_without_requests", _scm_transport.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HAS_REQUESTS is False and "requests" in module.REQUESTS_IMPORT_ERROR
    monkeypatch.setattr(_scm_client, "HAS_REQUESTS", False)
    with pytest.raises(ScmError, match="requests"):
        ScmClient(BASE, "InCommon", "api-user", PASSWORD)
