"""A slow or failing CA, or an unreachable Vault, must never cost an order or a key (SPEC §9).

Real faults against the live test bed: the simulator answers with server errors, 429 with Retry-After
or refuses before acting; SCM or Vault is not listening at all. Each test checks by independent routes
(the simulator's orders and fault counters, Vault's HTTP API) that exactly one order exists in the end
and that what Vault holds tells the next run what to do.
"""
from __future__ import annotations

import pytest
from playbook_runner import orders_for, run_failing_playbook, run_playbook, sim, start_playbook, finish, vault_read
from testbed.testbed import free_port

pytestmark = pytest.mark.live

NO_FAULTS = {"fault_5xx_count": 0, "fault_429_count": 0, "fault_reset_count": 0, "fault_match": "", "fault_after": False}


@pytest.fixture
def faults(testbed):
    """Configure faults for one test; they are switched off and their counters zeroed afterwards, whatever happens."""
    sim(testbed, "stats/reset", {})

    def configure(**settings):
        sim(testbed, "config", dict(NO_FAULTS, **settings))

    yield configure
    sim(testbed, "config", NO_FAULTS)


def test_collection_rides_out_server_errors_and_rate_limits(testbed, faults):
    faults(fault_5xx_count=2, fault_429_count=1, fault_match="^GET /api/ssl/v1/collect/")
    run_playbook(testbed, "fleet.yml", kv_path="e2e-f-collect", hosts_list=["bumpy"])
    injected = sim(testbed, "stats")["faults_injected"]
    assert injected["5xx"] == 2 and injected["429"] == 1
    name = vault_read(testbed, "e2e-f-collect/names/fleet/bumpy")
    assert vault_read(testbed, f"e2e-f-collect/certs/fleet/{name['cert_unique_id']}")["status"] == "Issued"
    assert len(orders_for(testbed, "bumpy.example.com")) == 1


def test_order_refused_with_a_server_error_is_reconciled_not_resent(testbed, faults):
    """A 503 to the enroll POST leaves open whether SCM ordered: the run looks, records that it does not know, and stops."""
    faults(fault_5xx_count=1, fault_match="^POST /api/ssl/v1/enroll$")
    _recap, out = run_failing_playbook(testbed, "fleet.yml", kv_path="e2e-f-lost", hosts_list=["lost"])
    assert "the answer to the order was lost" in out and "looks again before ordering" in out
    assert sim(testbed, "stats")["faults_injected"]["5xx"] == 1
    assert orders_for(testbed, "lost.example.com") == []
    claim = vault_read(testbed, "e2e-f-lost/names/fleet/lost")["claim"]
    assert claim["outcome"] == "unknown" and claim["request_id"]
    run_playbook(testbed, "fleet.yml", kv_path="e2e-f-lost", hosts_list=["lost"])
    assert len(orders_for(testbed, "lost.example.com")) == 1
    assert "claim" not in vault_read(testbed, "e2e-f-lost/names/fleet/lost")


def test_order_placed_but_answer_lost_is_adopted(testbed, faults):
    """SCM orders, then answers 503: the order is found by its marker and collected in the same run."""
    faults(fault_5xx_count=1, fault_match="^POST /api/ssl/v1/enroll$", fault_after=True)
    run_playbook(testbed, "fleet.yml", kv_path="e2e-f-adopt", hosts_list=["adopted"])
    orders = orders_for(testbed, "adopted.example.com")
    assert len(orders) == 1 and orders[0]["status"] == "Issued"
    name = vault_read(testbed, "e2e-f-adopt/names/fleet/adopted")
    record = vault_read(testbed, f"e2e-f-adopt/certs/fleet/{name['cert_unique_id']}")
    assert record["ssl_id"] == orders[0]["id"] and record["status"] == "Issued"


def test_scm_down_leaves_issued_certificates_alone_and_orders_nothing(testbed):
    run_playbook(testbed, "fleet.yml", kv_path="e2e-f-down", hosts_list=["steady"])
    down = {"SECTIGO_CM_BASE_URL": f"http://127.0.0.1:{free_port()}/api"}
    # The config now points at a closed port: "steady" needs no SCM call; the new name cannot be ordered.
    proc = start_playbook(testbed, "fleet.yml", env=down, kv_path="e2e-f-down", hosts_list=["steady", "fresh"])
    out, _err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert "ok: [localhost] => (item=steady)" in out and "Could not complete POST /ssl/v1/enroll with SCM" in out
    assert vault_read(testbed, "e2e-f-down/names/fleet/fresh") is None  # the claim was given up: nothing reached SCM
    assert orders_for(testbed, "fresh.example.com") == []
    finish(start_playbook(testbed, "fleet.yml", kv_path="e2e-f-down", hosts_list=["steady", "fresh"]))
    assert len(orders_for(testbed, "fresh.example.com")) == 1 and len(orders_for(testbed, "steady.example.com")) == 1


def test_vault_down_fails_clearly_before_any_scm_call(testbed):
    before = sim(testbed, "stats")["total_requests"]
    closed = f"http://127.0.0.1:{free_port()}"
    proc = start_playbook(testbed, "fleet.yml", env={"VAULT_ADDR": closed}, kv_path="e2e-f-vault", hosts_list=["never"])
    out, _err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert f"cannot reach Vault at {closed}" in out
    assert sim(testbed, "stats")["total_requests"] == before
    assert vault_read(testbed, "e2e-f-vault/configs/fleet") is None
