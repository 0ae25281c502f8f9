"""Whole playbooks against the live test bed: what SPEC "Done when" asks, run as a user would.

Each test runs ``ansible-playbook`` in a subprocess with the test bed's environment, and checks the
results through independent routes: the simulator's request counters and orders, and Vault's HTTP API.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from testbed.testbed import collections_path

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, "playbooks")
BIN = os.path.dirname(sys.executable)

pytestmark = pytest.mark.live


def playbook_env(bed) -> dict[str, str]:
    env = dict(os.environ, **bed.env())
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=collections_path("e2e"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return env


def start_playbook(bed, name: str, **extra_vars) -> subprocess.Popen:
    command = [os.path.join(BIN, "ansible-playbook"), os.path.join(PLAYBOOKS, name), "-e", json.dumps(extra_vars)]
    return subprocess.Popen(command, env=playbook_env(bed), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def recap(out: str) -> dict[str, int]:
    """The PLAY RECAP counters of localhost, e.g. {"ok": 7, "changed": 1, "failed": 0, ...}."""
    match = re.search(r"^localhost\s+:\s+(.*)$", out, re.MULTILINE)
    assert match, f"no PLAY RECAP in:\n{out[-3000:]}"
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def finish(proc: subprocess.Popen, timeout: float = 300) -> dict[str, int]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"ansible-playbook failed ({proc.returncode}):\n{out[-6000:]}\n{err[-3000:]}"
    return recap(out)


def run_playbook(bed, name: str, **extra_vars) -> dict[str, int]:
    return finish(start_playbook(bed, name, **extra_vars))


def sim(bed, path: str, payload: dict | None = None) -> dict:
    url = f"{bed.env()['SCM_SIM_URL']}/__sim__/{path}"
    response = requests.post(url, json=payload, timeout=10) if payload is not None else requests.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


def vault_read(bed, path: str) -> dict | None:
    env = bed.env()
    response = requests.get(f"{env['VAULT_ADDR']}/v1/secret/data/{path}", headers={"X-Vault-Token": env["VAULT_TOKEN"]}, timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()["data"]["data"]


def orders_for(bed, common_name: str) -> list[dict]:
    return [o for o in sim(bed, "stats")["orders"] if o.get("common_name") == common_name]


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
