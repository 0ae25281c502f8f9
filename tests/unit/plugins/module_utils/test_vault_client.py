"""_vault_client.VaultClient's redirects, on a recorded pool (the live tests follow a real 307 against OpenBao)."""
from __future__ import annotations

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import VaultClient, VaultHttpError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions


class _Reply:
    def __init__(self, status, location=None, data=b""):
        self.status = status
        self.headers = {"Location": location} if location else {}
        self.data = data


class _Pool:
    """Answers each request with the next reply and records where it went and whether the token went with it."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs["headers"].get("X-Vault-Token")))
        return self.replies.pop(0)


def client_on(addr, replies):
    client = VaultClient(VaultOptions.from_mapping({"vault_addr": addr, "vault_token": "s3cret-token"}))
    client.token = "s3cret-token"
    client._pool = _Pool(replies)  # pylint: disable=protected-access
    return client


def test_a_307_is_followed_with_the_token_and_the_method():
    client = client_on("https://standby:8200", [_Reply(307, "https://active:8200/v1/secret/data/x"), _Reply(200, data=b'{"data": 1}')])
    assert client.request("POST", "/v1/secret/data/x", json_body={"data": {}}) == {"data": 1}
    assert client._pool.sent == [("POST", "https://standby:8200/v1/secret/data/x", "s3cret-token"),  # pylint: disable=protected-access
                                 ("POST", "https://active:8200/v1/secret/data/x", "s3cret-token")]


def test_a_redirect_from_https_to_http_is_refused_and_the_token_stays():
    client = client_on("https://vault:8200", [_Reply(307, "http://vault:8200/v1/secret/data/x")])
    with pytest.raises(VaultHttpError) as err:
        client.request("GET", "/v1/secret/data/x")
    assert "plain http" in err.value.errors[0] and "s3cret-token" not in str(err.value.errors)
    assert len(client._pool.sent) == 1  # pylint: disable=protected-access


def test_a_301_is_followed_for_reads_only():
    moved = [_Reply(301, "/v1/elsewhere"), _Reply(200, data=b"{}")]
    assert client_on("http://vault:8200", moved).request("GET", "/v1/x") == {}
    with pytest.raises(VaultHttpError) as err:
        client_on("http://vault:8200", [_Reply(301, "/v1/elsewhere")]).request("POST", "/v1/x", json_body={})
    assert err.value.status == 301


def test_a_redirect_loop_stops_after_five_hops():
    client = client_on("http://vault:8200", [_Reply(307, "/v1/again")] * 7)
    with pytest.raises(VaultHttpError) as err:
        client.request("GET", "/v1/x")
    assert "more than 5 redirects" in err.value.errors[0]
    assert len(client._pool.sent) == 6  # pylint: disable=protected-access
