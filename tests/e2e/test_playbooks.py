"""Whole playbooks against the live test bed: what SPEC "Done when" asks, run as a user would.

Each test runs ``ansible-playbook`` in a subprocess with the test bed's environment, and checks the
results through independent routes: the simulator's request counters and orders, and Vault's HTTP API.
"""
from __future__ import annotations

import os
import signal
import time

import pytest
from playbook_runner import finish, orders_for, run_playbook, sim, start_playbook, vault_read

pytestmark = pytest.mark.live


def test_vault_plugin_operations_as_tasks(testbed):
    stats = run_playbook(testbed, "plugin_cli_table.yml")
    assert stats["failed"] == 0 and stats["changed"] >= 10


def test_second_run_changes_nothing_and_calls_scm_zero_times(testbed):
    first = run_playbook(testbed, "fleet.yml", kv_path="e2e-idem")
    assert first["changed"] == 2  # the config task and the loop of certificates
    record = vault_read(testbed, "e2e-idem/names/fleet/web01")
    assert record and record["cert_unique_id"]
    before = sim(testbed, "stats")["total_requests"]
    second = run_playbook(testbed, "fleet.yml", kv_path="e2e-idem")
    assert second["changed"] == 0 and second["ok"] == 3
    assert sim(testbed, "stats")["total_requests"] == before


def test_killed_while_polling_then_rerun_collects_the_same_order(testbed):
    sim(testbed, "config", {"issue_delay": 3600})
    try:
        proc = start_playbook(testbed, "fleet.yml", kv_path="e2e-kill", hosts_list=["killme"])
        deadline = time.monotonic() + 120
        name = None
        while time.monotonic() < deadline and proc.poll() is None:
            name = vault_read(testbed, "e2e-kill/names/fleet/killme")
            if name and name.get("cert_unique_id"):
                break
            time.sleep(0.5)
        assert name and name.get("cert_unique_id"), "the order id was not saved in Vault while polling"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        record = vault_read(testbed, f"e2e-kill/certs/fleet/{name['cert_unique_id']}")
        assert record["status"] == "Applied" and record["ssl_id"]
    finally:
        sim(testbed, "config", {"issue_delay": 0})
    run_playbook(testbed, "fleet.yml", kv_path="e2e-kill", hosts_list=["killme"])
    record = vault_read(testbed, f"e2e-kill/certs/fleet/{name['cert_unique_id']}")
    assert record["status"] == "Issued"
    assert len(orders_for(testbed, "killme.example.com")) == 1


def test_timeout_state_saved_then_collected(testbed):
    sim(testbed, "config", {"issue_delay": 3600})
    try:
        proc = start_playbook(testbed, "fleet.yml", kv_path="e2e-timeout", hosts_list=["slowpoke"], max_timeout=3)
        out, _err = proc.communicate(timeout=300)
        assert proc.returncode != 0
        assert "TimeoutStateSaved" in out
    finally:
        sim(testbed, "config", {"issue_delay": 0})
    name = vault_read(testbed, "e2e-timeout/names/fleet/slowpoke")
    assert vault_read(testbed, f"e2e-timeout/certs/fleet/{name['cert_unique_id']}")["status"] == "TimeoutStateSaved"
    run_playbook(testbed, "fleet.yml", kv_path="e2e-timeout", hosts_list=["slowpoke"])
    assert vault_read(testbed, f"e2e-timeout/certs/fleet/{name['cert_unique_id']}")["status"] == "Issued"
    assert len(orders_for(testbed, "slowpoke.example.com")) == 1


def test_two_playbooks_together_place_one_order(testbed):
    sim(testbed, "config", {"issue_delay": 2})
    try:
        # Three runs of the same playbook race for the config entry and for each new name.
        procs = [start_playbook(testbed, "fleet.yml", kv_path="e2e-race", hosts_list=["twin", "triplet"]) for _attempt in range(3)]
        for proc in procs:
            finish(proc)
    finally:
        sim(testbed, "config", {"issue_delay": 0})
    assert len(orders_for(testbed, "twin.example.com")) == 1
    assert len(orders_for(testbed, "triplet.example.com")) == 1
