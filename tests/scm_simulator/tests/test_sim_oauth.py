"""The OAuth2 token endpoint and Bearer authentication on the Admin API paths."""
from __future__ import annotations

import base64
from typing import Any, Iterator

import pytest
import requests

from scm_simulator.oauth import TOKEN_PATH, OAuthServer
from scm_simulator.server import served
from scm_simulator.simulator import Simulator


TIMEOUT = 10
CLIENT_ID = "api-client-7"
CLIENT_SECRET = "a-client-secret-for-tests"


@pytest.fixture
def oauth_client(shared_ca, keys, client_class) -> Iterator[Any]:
    sim = Simulator.create(ca=shared_ca, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_lifetime=60)
    with served(sim) as server:
        yield client_class(server.root_url, keys)


def grant(client: Any, **form: str) -> requests.Response:
    body = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    body.update(form)
    return requests.post(f"{client.root}{TOKEN_PATH}", data={k: v for k, v in body.items() if v is not None}, timeout=TIMEOUT)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_endpoint_issues_an_expiring_bearer_token(oauth_client):
    answer = grant(oauth_client)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 60 and len(body["access_token"]) >= 32
    assert answer.headers["Cache-Control"] == "no-store"
    assert oauth_client.control("GET", "stats")["tokens_issued"] == 1


@pytest.mark.parametrize("form, error", [
    ({"client_secret": "wrong"}, "invalid_client"),
    ({"client_id": "someone-else"}, "invalid_client"),
    ({"client_secret": None}, "invalid_client"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
])
def test_token_endpoint_refuses_wrong_grants(oauth_client, form, error):
    answer = grant(oauth_client, **form)
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == error
    assert CLIENT_SECRET not in answer.text


def test_token_endpoint_takes_http_basic_credentials(oauth_client):
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    answer = requests.post(f"{oauth_client.root}{TOKEN_PATH}", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"}, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.json()["access_token"]


def test_bearer_token_opens_the_admin_api_paths_without_legacy_headers(oauth_client):
    token = grant(oauth_client).json()["access_token"]
    assert oauth_client.api("GET", "/ssl/v1/types", auth=False, headers=bearer(token)).status_code == 200
    enrolled = oauth_client.api("POST", "/ssl/v1/enroll", auth=False, headers=bearer(token), json=oauth_client.ssl_body())
    assert enrolled.status_code == 200 and enrolled.json()["sslId"]
    collected = oauth_client.api("GET", f"/ssl/v1/collect/{enrolled.json()['sslId']}?format=x509CO", auth=False, headers=bearer(token))
    assert collected.status_code == 200 and b"BEGIN CERTIFICATE" in collected.content
    smime = oauth_client.api("POST", "/smime/v2/enroll", auth=False, headers=bearer(token), json=oauth_client.smime_body())
    assert smime.status_code == 200 and smime.json()["backendCertId"]
    assert oauth_client.api("GET", "/smime/v2/types", auth=False, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("authorization", ["Bearer not-a-token-issued-here", "Bearer ", "Basic ZGVtbzpkZW1v"])
def test_unknown_bearer_tokens_are_refused_with_www_authenticate(oauth_client, authorization):
    answer = oauth_client.api("GET", "/ssl/v1/types", auth=False, headers={"Authorization": authorization})
    assert answer.status_code == 401 and answer.json()["code"] == -16
    if authorization.startswith("Bearer") and authorization.strip() != "Bearer":
        assert "invalid_token" in answer.headers["WWW-Authenticate"]


def test_expired_tokens_are_refused(oauth_client):
    token = grant(oauth_client).json()["access_token"]
    assert oauth_client.control("POST", "oauth/expire") == {"expired": 1}
    assert oauth_client.api("GET", "/ssl/v1/types", auth=False, headers=bearer(token)).status_code == 401


def test_bearer_is_not_accepted_on_the_private_api(oauth_client):
    token = grant(oauth_client).json()["access_token"]
    answer = oauth_client.api("GET", "/ssl/v1/types", auth=False, private=True, headers=bearer(token))
    assert answer.status_code == 401


def test_a_simulator_without_client_credentials_refuses_every_grant(client):
    answer = requests.post(f"{client.root}{TOKEN_PATH}", data={"grant_type": "client_credentials", "client_id": "", "client_secret": ""},
                           timeout=TIMEOUT)
    assert answer.status_code == 401


def test_token_lifetime_follows_the_clock():
    now = [1000.0]
    server = OAuthServer("id", "secret", lifetime=10, clock=lambda: now[0])
    status, _headers, body = server.token("application/x-www-form-urlencoded", b"grant_type=client_credentials&client_id=id&client_secret=secret",
                                          None)
    assert status == 200
    token = __import__("json").loads(body)["access_token"]
    assert server.check(f"Bearer {token}")
    now[0] += 9.9
    assert server.check(f"bearer {token}")
    now[0] += 0.2
    assert not server.check(f"Bearer {token}")


def test_token_endpoint_wants_a_form(oauth_client):
    answer = requests.post(f"{oauth_client.root}{TOKEN_PATH}", json={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
