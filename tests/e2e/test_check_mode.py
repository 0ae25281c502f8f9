"""Under ``ansible-playbook --check`` no module, lookup or role of the collection sends a POST to SCM or writes to Vault;
the lookup does not collect a pending order that SCM has issued.

Checked by independent routes: the simulator's request counters (every POST it received) and Vault's HTTP API
(every entry of the run's KV path, with its version, before and after).
"""
from __future__ import annotations

import os
import tempfile

import pytest
import requests
from playbook_runner import finish, orders_for, sim, start_playbook, vault_read

pytestmark = pytest.mark.live

KV_PATH = "e2e-check-mode"


def _posts(bed) -> int:
    return sum(count for route, count in sim(bed, "stats")["requests"].items() if route.startswith("POST "))


def _vault_versions(bed) -> dict[str, int]:
    """Every entry under the run's KV path with its current version, read with the root token."""
    env = bed.env()
    headers = {"X-Vault-Token": env["VAULT_TOKEN"]}
    found: dict[str, int] = {}
    pending = [""]
    while pending:
        prefix = pending.pop()
        reply = requests.request("LIST", f"{env['VAULT_ADDR']}/v1/secret/metadata/{KV_PATH}/{prefix}", headers=headers, timeout=10)
        if reply.status_code == 404:
            continue
        reply.raise_for_status()
        for key in reply.json()["data"]["keys"]:
            if key.endswith("/"):
                pending.append(prefix + key)
            else:
                meta = requests.get(f"{env['VAULT_ADDR']}/v1/secret/metadata/{KV_PATH}/{prefix}{key}", headers=headers, timeout=10)
                found[prefix + key] = meta.json()["data"]["current_version"]
    return found


def test_check_mode_sends_no_post_and_writes_nothing(testbed):
    sim(testbed, "config", {"backdate_days": 1})
    try:
        finish(start_playbook(testbed, "check_mode.yml", kv_path=KV_PATH, phase="setup"))
    finally:
        sim(testbed, "config", {"backdate_days": 0})
    posts, versions = _posts(testbed), _vault_versions(testbed)
    assert "names/cm/cm01" in versions and "configs/cm" in versions
    with tempfile.TemporaryDirectory() as scratch:
        recap = finish(start_playbook(testbed, "check_mode.yml", options=("--check",), kv_path=KV_PATH, phase="check", scratch=scratch))
        assert os.listdir(scratch) == []  # neither role wrote a file
    assert recap["failed"] == 0 and recap["changed"] >= 3
    assert _posts(testbed) == posts
    assert _vault_versions(testbed) == versions
    # The pending order that SCM issued meanwhile was read, not collected: SCM has it issued, Vault still has it Applied.
    assert [order["status"] for order in orders_for(testbed, "cm04.example.com")] == ["Issued"]
    pending = vault_read(testbed, f"{KV_PATH}/names/cm/cm04")
    assert pending and vault_read(testbed, f"{KV_PATH}/certs/cm/{pending['cert_unique_id']}")["status"] == "Applied"
