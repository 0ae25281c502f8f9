"""The store rides over a Vault cluster's election: transient failures are sent again within a bounded time, and a
write whose first attempt was applied (its answer lost) is recognised as its own (docs/scale.md "A Vault cluster")."""
from __future__ import annotations

import pytest
import urllib3

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import VaultHttpError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import (
    ELECTION_WINDOW, VaultCasConflict, VaultConnectionError, VaultError, VaultStore, transient)

MOUNT_OK = {"data": {"type": "kv", "options": {"version": "2"}}}
CAS_ERROR = VaultHttpError(400, ["check-and-set parameter did not match the current version"], {})


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now


class ScriptedClient:
    """Answers each request with the next item of ``script`` (an exception is raised); the mount check always passes."""

    base_uri = "http://127.0.0.1:8200"
    token = "s.token-value"

    def __init__(self, script, clock=None, cost=0.0):
        self.script = list(script)
        self.sent = []
        self.clock = clock
        self.cost = cost

    def request(self, method, path, json_body=None):
        if path.startswith("/v1/sys/internal/ui/mounts/"):
            return MOUNT_OK
        self.sent.append((method, path, json_body))
        if self.clock is not None:
            self.clock.now += self.cost
        answer = self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def store_for(client, clock):
    return VaultStore(client, "secret", "base", sleep=clock.sleep, monotonic=clock.monotonic)


def read_reply(data, version):
    return {"data": {"data": data, "metadata": {"version": version}}}


TIMEOUT = urllib3.exceptions.ReadTimeoutError(None, "/v1/x", "read timed out")
RESET = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
REFUSED = urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused")


@pytest.mark.parametrize("exc, expected", [
    (VaultHttpError(500, ["local node not active but active cluster node not found"], {}), True),
    (VaultHttpError(502, [], {}), True), (VaultHttpError(503, ["Vault is sealed"], {}), True), (VaultHttpError(504, [], {}), True),
    (TIMEOUT, True), (RESET, True), (urllib3.exceptions.MaxRetryError(None, "/v1/x", TIMEOUT), True),
    (REFUSED, False), (urllib3.exceptions.MaxRetryError(None, "/v1/x", REFUSED), False),
    (VaultHttpError(400, ["check-and-set parameter did not match the current version"], {}), False),
    (VaultHttpError(403, ["permission denied"], {}), False), (VaultHttpError(404, [], {}), False),
])
def test_what_is_transient(exc, expected):
    assert transient(exc) is expected


def test_a_read_is_sent_again_until_the_cluster_answers():
    clock = Clock()
    client = ScriptedClient([VaultHttpError(500, ["local node not active but active cluster node not found"], {}), TIMEOUT,
                             read_reply({"a": 1}, 3)])
    assert store_for(client, clock).read("x") == ({"a": 1}, 3)
    assert len(client.sent) == 3 and clock.sleeps == [0.25, 0.5]


def test_retries_stop_after_the_window_with_the_last_error():
    clock = Clock()
    client = ScriptedClient([VaultHttpError(503, ["no active node"], {})] * 100, clock=clock, cost=1.0)
    with pytest.raises(VaultError) as info:
        store_for(client, clock).read("x")
    assert info.value.status == 503
    assert clock.now <= ELECTION_WINDOW + 2 + 4  # the window, one request and at most one backoff past it


def test_a_refused_connection_fails_at_once():
    clock = Clock()
    client = ScriptedClient([REFUSED])
    with pytest.raises(VaultConnectionError):
        store_for(client, clock).read("x")
    assert clock.sleeps == [] and len(client.sent) == 1


def test_a_conflict_or_a_refusal_is_not_retried():
    clock = Clock()
    client = ScriptedClient([CAS_ERROR])
    with pytest.raises(VaultCasConflict):
        store_for(client, clock).write("x", {"a": 1}, cas=2)
    assert clock.sleeps == []


def test_a_write_applied_before_its_answer_was_lost_is_its_own():
    # 1st attempt: applied (version 3) but the answer timed out; 2nd: refused by check-and-set; the read shows our data.
    clock = Clock()
    client = ScriptedClient([TIMEOUT, CAS_ERROR, read_reply({"a": 1}, 3)])
    assert store_for(client, clock).write("x", {"a": 1}, cas=2) == 3
    assert [m for m, _p, _b in client.sent] == ["POST", "POST", "GET"]


def test_a_write_that_lost_to_another_writer_during_retries_is_a_conflict():
    clock = Clock()
    client = ScriptedClient([TIMEOUT, CAS_ERROR, read_reply({"a": "theirs"}, 3)])
    with pytest.raises(VaultCasConflict):
        store_for(client, clock).write("x", {"a": 1}, cas=2)


def test_a_write_that_lost_without_a_retry_is_a_conflict_without_a_read():
    clock = Clock()
    client = ScriptedClient([CAS_ERROR])
    with pytest.raises(VaultCasConflict):
        store_for(client, clock).write("x", {"a": 1}, cas=2)
    assert len(client.sent) == 1


class _Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port


def test_a_refused_redirect_to_another_node_is_transient():
    # A standby redirects to the leader it last knew; during an election that node is gone.
    elsewhere = urllib3.exceptions.NewConnectionError(_Conn("127.0.0.1", 8300), "[Errno 111] Connection refused")
    here = urllib3.exceptions.NewConnectionError(_Conn("127.0.0.1", 8200), "[Errno 111] Connection refused")
    assert transient(elsewhere, "http://127.0.0.1:8200") is True
    assert transient(here, "http://127.0.0.1:8200") is False
    assert transient(urllib3.exceptions.NewConnectionError(_Conn("vault.example.com", 443), "refused"), "https://vault.example.com") is False
