"""The Vault plugin's vocabulary and read semantics, live: a playbook written with the plugin's parameter names only,
and renew-on-read by three playbooks started together (one renewal).

Checked by independent routes: Vault's HTTP API and the simulator's orders and counters.
"""
from __future__ import annotations

import json
import os
import tempfile

import pytest
from playbook_runner import finish, orders_for, run_playbook, sim, start_playbook, vault_read

pytestmark = pytest.mark.live


def test_playbook_with_the_plugins_names_only(testbed):
    with tempfile.TemporaryDirectory() as tmp:
        results_file = os.path.join(tmp, "ids.json")
        try:
            stats = run_playbook(testbed, "plugin_names.yml", results_file=results_file)
        finally:
            sim(testbed, "config", {"mandatory_custom_fields": []})
        with open(results_file, encoding="utf-8") as handle:
            ids = json.load(handle)
    assert stats["failed"] == 0
    first, renewed, replaced = (vault_read(testbed, f"e2e-plugin-names/certs/pn-ssl/{uid}") for uid in ids["ssl"])
    assert first["status"] == "Revoked" and first["renewed_to"] == renewed["cert_unique_id"]
    assert renewed["cert_unique_id"] == replaced["cert_unique_id"] and replaced["status"] == "Revoked"
    assert first["subject"]["country"] == "CA" and first["org_id"] == 1002
    scm = {o["id"]: o for o in sim(testbed, "stats")["orders"]}
    assert scm[first["ssl_id"]]["status"] == "Revoked" and scm[first["ssl_id"]]["org_id"] == 1002
    carol, carol_renewed, carol_replaced = (vault_read(testbed, f"e2e-plugin-names/certs/pn-client/{uid}") for uid in ids["client"])
    assert carol["status"] == "Renewed" and carol_renewed["status"] == "Revoked" and carol_replaced["status"] == "Revoked"
    # No order for the refused client enrollment; the others carry the mandatory field.
    assert not [o for o in sim(testbed, "stats")["orders"] if o.get("email") == "dave@plugin.example.com"]
    assert vault_read(testbed, "e2e-plugin-names/names/pn-client/dave") is None
    assert vault_read(testbed, "e2e-plugin-names/names/pn-ssl/fetched") is None


def test_three_playbooks_reading_through_the_lookup_renew_once(testbed):
    """A certificate with two days left, read five times by each of three playbooks started together."""
    kv = "e2e-lookup-race"
    sim(testbed, "config", {"backdate_days": 363})
    try:
        run_playbook(testbed, "lookup_reader.yml", kv_path=kv, cert_name="racer", phase="setup")
    finally:
        sim(testbed, "config", {"backdate_days": 0})
    name = vault_read(testbed, f"{kv}/names/readers/racer")
    before = vault_read(testbed, f"{kv}/certs/readers/{name['cert_unique_id']}")
    assert before["status"] == "Issued"
    procs = [start_playbook(testbed, "lookup_reader.yml", kv_path=kv, cert_name="racer", phase="read") for _reader in range(3)]
    for proc in procs:
        finish(proc)
    orders = orders_for(testbed, "racer.example.com")
    assert len(orders) == 2 and len([o for o in orders if o.get("renewed_from")]) == 1
    old = vault_read(testbed, f"{kv}/certs/readers/{before['cert_unique_id']}")
    assert old["status"] == "Renewed"
    assert vault_read(testbed, f"{kv}/names/readers/racer")["cert_unique_id"] == old["renewed_to"]
