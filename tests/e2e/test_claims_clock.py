"""Claims are judged on Vault's clock, not the controllers' (docs/scale.md "Claims on Vault's clock").

Two ansible-playbook runs on the live test bed share one new name; one of them runs under libfaketime with its clock 10
minutes off (Debian's ``faketime``, which shifts the wall clock of ansible-playbook and of every module process it
starts, but not OpenBao's). A proxy in front of the simulator holds the first run's order so that its claim stays
taken. Judged by the controller's clock, the run 10 minutes ahead would take over the live claim at once, and the run
10 minutes behind would wait on a dead claim until it gave up (CLAIM_WAIT_SECONDS).
"""
from __future__ import annotations

import os
import signal
import sys
import time

import pytest
import requests
from playbook_runner import finish, orders_for, start_playbook, vault_read

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "chaos"))
from proxy import HoldProxy, Rule  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import (  # noqa: E402
    CLAIM_STALE_SECONDS, CLAIM_WAIT_SECONDS)

pytestmark = pytest.mark.live

ENROLL = r"^/api/ssl/v1/enroll$"


def through_proxy(proxy):
    return {"SECTIGO_CM_BASE_URL": f"{proxy.base}/api"}


def name_entry(testbed, kv_path, name):
    env = testbed.env()
    response = requests.get(f"{env['VAULT_ADDR']}/v1/secret/data/{kv_path}/names/fleet/{name}",
                            headers={"X-Vault-Token": env["VAULT_TOKEN"]}, timeout=10)
    response.raise_for_status()
    data = response.json()["data"]
    return data["data"], data["metadata"]["version"]


def test_a_run_ten_minutes_ahead_waits_on_a_claim_another_run_keeps_fresh(testbed):
    kv_path, name = "e2e-clock-ahead", "clock-ahead"
    with HoldProxy(testbed.simulator.root_url, ttl=300, name="scm") as proxy:
        proxy.arm(Rule("POST", ENROLL, phase="response"))       # SCM places the order; its answer is held
        first = start_playbook(testbed, "fleet.yml", env=through_proxy(proxy), kv_path=kv_path, hosts_list=[name])
        assert proxy.wait_hit(120), "the first run's order never reached SCM"
        ahead = start_playbook(testbed, "fleet.yml", wrapper=("faketime", "-f", "+600s"), kv_path=kv_path, hosts_list=[name])
        # Longer than the 20 s after which a claim nobody refreshes is dead: the first run's heartbeats keep it live.
        time.sleep(CLAIM_STALE_SECONDS + 10)
        assert ahead.poll() is None, "the run 10 minutes ahead did not wait on the live claim:\n" + ahead.communicate()[0][-3000:]
        assert name_entry(testbed, kv_path, name)[0].get("claim"), "the claim was taken over"
        proxy.release()                                          # the first run's answer is lost; it looks its order up
        finish(first, timeout=240)
        finish(ahead, timeout=240)
    assert len(orders_for(testbed, f"{name}.example.com")) == 1
    entry = vault_read(testbed, f"{kv_path}/names/fleet/{name}")
    assert vault_read(testbed, f"{kv_path}/certs/fleet/{entry['cert_unique_id']}")["status"] == "Issued"


def test_a_run_ten_minutes_behind_takes_over_a_dead_claim_within_the_timeout(testbed):
    kv_path, name = "e2e-clock-behind", "clock-behind"
    with HoldProxy(testbed.simulator.root_url, ttl=300, name="scm") as proxy:
        proxy.arm(Rule("POST", ENROLL, phase="request"))        # the order never reaches SCM
        dying = start_playbook(testbed, "fleet.yml", env=through_proxy(proxy), kv_path=kv_path, hosts_list=[name])
        assert proxy.wait_hit(120), "the first run never sent its order"
        os.killpg(dying.pid, signal.SIGKILL)
        dying.communicate(timeout=30)
        proxy.release()
    # The claim it left, as a controller on another host leaves it when it dies (here a dead process would be seen at
    # once): the same claim, its owner elsewhere, written now by Vault's clock.
    entry, version = name_entry(testbed, kv_path, name)
    entry["claim"]["owner"] = {"host": "controller-b.example", "pid": 4242}
    env = testbed.env()
    requests.post(f"{env['VAULT_ADDR']}/v1/secret/data/{kv_path}/names/fleet/{name}", headers={"X-Vault-Token": env["VAULT_TOKEN"]},
                  json={"data": entry, "options": {"cas": version}}, timeout=10).raise_for_status()
    started = time.monotonic()
    behind = start_playbook(testbed, "fleet.yml", wrapper=("faketime", "-f", "-600s"), kv_path=kv_path, hosts_list=[name])
    finish(behind, timeout=CLAIM_WAIT_SECONDS - 60)              # judged by its own clock it would wait all this and fail
    waited = time.monotonic() - started
    assert waited >= CLAIM_STALE_SECONDS - 1, f"the claim was taken over after {waited:.0f} s, before it went stale"
    assert len(orders_for(testbed, f"{name}.example.com")) == 1
    entry = vault_read(testbed, f"{kv_path}/names/fleet/{name}")
    assert "claim" not in entry
    assert vault_read(testbed, f"{kv_path}/certs/fleet/{entry['cert_unique_id']}")["status"] == "Issued"
