"""The store rides over a Vault cluster's election: transient failures are sent again within a bounded time, and a
write whose first attempt was applied (its answer lost) is recognised as its own (docs/scale.md "A Vault cluster").

The requests go through the real VaultClient (hvac on a requests.Session); only the transport adapter is scripted, so
Vault's statuses become hvac's own exceptions and connection failures requests' own, as on the wire. The live
counterpart is tests/live/test_raft_cluster.py (a real three-node OpenBao cluster losing its leader).
"""
from __future__ import annotations

import socket

import hvac.exceptions
import pytest
import requests
import urllib3
from lifecycle_fakes import Ticking
from vault_fakes import scripted, store_for

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.auth import LoginResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import RenewalRefused
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import (
    ELECTION_WINDOW, VaultAuthError, VaultCasConflict, VaultConnectionError, VaultError, transient)

ADDR = "http://127.0.0.1:8200"
CAS = (400, {}, {"errors": ["check-and-set parameter did not match the current version"]})
NO_LEADER = (500, {}, {"errors": ["local node not active but active cluster node not found"]})


class _Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port


def refused(host="127.0.0.1", port=8200):
    """requests' error for a connection refused by host:port, built as requests builds it (urllib3 retries spent)."""
    reason = urllib3.exceptions.NewConnectionError(_Conn(host, port), "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/v1/x", reason))


def unresolved(host="vault.invalid"):
    reason = urllib3.exceptions.NameResolutionError(host, _Conn(host, 443), socket.gaierror(-2, "Name or service not known"))
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/v1/x", reason))


TIMEOUT = requests.exceptions.ReadTimeout("HTTPConnectionPool(host='127.0.0.1', port=8200): Read timed out. (read timeout=30)")
CONNECT_TIMEOUT = requests.exceptions.ConnectTimeout("connect timed out")
RESET = requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))


def read_reply(data, version):
    return 200, {}, {"data": {"data": data, "metadata": {"version": version}}}


def hvac_error(status):
    """The hvac exception the client raises for ``status`` (its adapter adds the status)."""
    client, _sent = scripted([(status, {}, {"errors": ["x"]})])
    with pytest.raises(hvac.exceptions.VaultError) as err:
        client.request("GET", "/v1/secret/data/x")
    return err.value


@pytest.mark.parametrize("status, kind, expected", [
    (500, hvac.exceptions.InternalServerError, True), (502, hvac.exceptions.BadGateway, True),
    (503, hvac.exceptions.VaultDown, True), (504, hvac.exceptions.UnexpectedError, True),
    (400, hvac.exceptions.InvalidRequest, False), (403, hvac.exceptions.Forbidden, False), (404, hvac.exceptions.InvalidPath, False),
    (429, hvac.exceptions.RateLimitExceeded, False),
])
def test_which_statuses_are_transient(status, kind, expected):
    error = hvac_error(status)
    assert isinstance(error, kind) and error.status == status
    assert transient(error, ADDR) is expected


@pytest.mark.parametrize("exc, expected", [
    (TIMEOUT, True), (CONNECT_TIMEOUT, True), (RESET, True),
    (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionError("closed"))), True),
    (refused(), False), (unresolved(), False),
    (requests.exceptions.SSLError("certificate verify failed"), False), (requests.exceptions.ProxyError("proxy refused"), False),
    (RenewalRefused("Vault would not renew the token (HTTP 500)", 500), False),
    (ValueError("not a Vault error"), False),
])
def test_what_else_is_transient(exc, expected):
    assert transient(exc, ADDR) is expected


def test_a_refused_redirect_to_another_node_is_transient():
    # A standby redirects to the leader it last knew; during an election that node is gone.
    assert transient(refused("127.0.0.1", 8300), "http://127.0.0.1:8200") is True
    assert transient(refused("127.0.0.1", 8200), "http://127.0.0.1:8200") is False
    assert transient(refused("vault.example.com", 443), "https://vault.example.com") is False
    assert transient(refused("VAULT.example.com", 443), "https://vault.example.com:443") is False


def test_a_read_is_sent_again_until_the_cluster_answers():
    clock = Ticking()
    client, sent = scripted([NO_LEADER, TIMEOUT, RESET, read_reply({"a": 1}, 3)])
    assert store_for(client, clock).read("x") == ({"a": 1}, 3)
    assert len(sent) == 4 and clock.sleeps == [0.25, 0.5, 1.0]


def test_the_backoff_doubles_up_to_four_seconds():
    clock = Ticking()
    client, _sent = scripted([(503, {}, {"errors": ["Vault is sealed"]})] * 8 + [read_reply({"a": 1}, 1)])
    store_for(client, clock).read("x")
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_retries_stop_after_the_window_with_the_last_error():
    clock = Ticking()
    client, _sent = scripted([(503, {}, {"errors": ["no active node"]})] * 100, clock=clock, cost=1.0)
    with pytest.raises(VaultError) as info:
        store_for(client, clock).read("x")
    assert info.value.status == 503
    assert clock.now <= ELECTION_WINDOW + 2 + 4  # the window, one request and at most one backoff past it


@pytest.mark.parametrize("failure, kind", [(refused(), VaultConnectionError), (unresolved(), VaultConnectionError),
                                           ((403, {}, {"errors": ["permission denied"]}), VaultAuthError)])
def test_a_refusal_by_vault_addr_a_bad_name_or_a_4xx_fails_at_once(failure, kind):
    clock = Ticking()
    client, sent = scripted([failure, read_reply({}, 1), read_reply({}, 1)])
    with pytest.raises(kind):
        store_for(client, clock).read("x")
    assert clock.sleeps == [] and sent[0] == ("GET", "secret/data/base/x")


def test_a_conflict_is_not_retried():
    clock = Ticking()
    client, sent = scripted([CAS])
    with pytest.raises(VaultCasConflict):
        store_for(client, clock).write("x", {"a": 1}, cas=2)
    assert clock.sleeps == [] and len(sent) == 1


def test_a_write_applied_before_its_answer_was_lost_is_its_own():
    # 1st attempt: applied (version 3) but the answer timed out; 2nd: refused by check-and-set; the read shows our data.
    clock = Ticking()
    client, sent = scripted([TIMEOUT, CAS, read_reply({"a": 1}, 3)])
    assert store_for(client, clock).write("x", {"a": 1}, cas=2) == 3
    assert [m for m, _p in sent] == ["POST", "POST", "GET"]


def test_a_write_that_lost_to_another_writer_during_retries_is_a_conflict():
    clock = Ticking()
    client, _sent = scripted([TIMEOUT, CAS, read_reply({"a": "theirs"}, 3)])
    with pytest.raises(VaultCasConflict):
        store_for(client, clock).write("x", {"a": 1}, cas=2)


def test_a_write_sent_again_after_a_500_succeeds():
    clock = Ticking()
    client, sent = scripted([NO_LEADER, (200, {}, {"data": {"version": 3}})])
    assert store_for(client, clock).write("x", {"a": 1}, cas=2) == 3
    assert [m for m, _p in sent] == ["POST", "POST"] and clock.sleeps == [0.25]


# --- a token past its max TTL is not an election ---------------------------------------------------------------

def test_a_renew_self_500_logs_in_again_without_election_retries():
    # Vault answers renew-self for a token past its max TTL with HTTP 500: a new login, then the read; no backoff.
    clock = Ticking()
    logins = []

    def login(hvac_client, _options):
        logins.append(clock.now)
        hvac_client.token = f"token-{len(logins)}"
        return LoginResult("approle", renewable=True, lease_duration=30, can_relogin=True)

    client, sent = scripted([(500, {}, {"errors": ["past the max TTL"]}), read_reply({"a": 1}, 1)], login=login, method="approle")
    client._monotonic = clock.monotonic  # pylint: disable=protected-access
    client.log_in()
    clock.now += 25
    assert store_for(client, clock).read("x") == ({"a": 1}, 1)
    assert [path for _m, path in sent] == ["auth/token/renew-self", "secret/data/base/x"]
    assert len(logins) == 2 and clock.sleeps == []


def test_a_renew_self_500_without_a_new_login_fails_at_once():
    clock = Ticking()

    def login(hvac_client, _options):
        hvac_client.token = "given"
        return LoginResult("token", renewable=True, lease_duration=30, can_relogin=False)

    client, sent = scripted([(500, {}, {"errors": ["past the max TTL"]})] * 10, login=login)
    client._monotonic = clock.monotonic  # pylint: disable=protected-access
    client.log_in()
    clock.now += 25
    with pytest.raises(VaultAuthError) as err:
        store_for(client, clock).read("x")
    # The store then tells a dead token from a policy (lookup-self): the renewal is refused again, the token is dead.
    assert "expired or revoked" in str(err.value)
    assert [path for _m, path in sent] == ["auth/token/renew-self", "auth/token/renew-self"] and clock.sleeps == []
