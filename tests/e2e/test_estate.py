"""Adopting an estate and syncing it, as a user would (docs/inventory.md): one ansible-playbook run against the test bed."""
from __future__ import annotations

import json
import uuid

import pytest
from cryptography import x509
from playbook_runner import run_playbook, sim, vault_read

pytestmark = pytest.mark.live


def test_adopt_an_estate_then_a_revocation_outside_is_synced_and_refused(testbed, tmp_path):
    prefix = f"est{uuid.uuid4().hex[:6]}"
    kv_path = f"e2e-{prefix}"
    ssl = sim(testbed, "seed", {"kind": "ssl", "count": 8, "common_name": f"{prefix}-{{n}}.example.com"})["ids"]
    clients = sim(testbed, "seed", {"kind": "smime", "count": 12, "common_name": f"{prefix}{{n}}@example.com"})["ids"]
    out = tmp_path / "result.json"
    run_playbook(testbed, "estate.yml", prefix=prefix, kv_path=kv_path, out=str(out), revoke_id=ssl[2],
                 revoked_name=f"{prefix}-3.example.com")
    result = json.loads(out.read_text())
    first, second = result["imported"]["results"], result["again"]["results"]
    assert [r["summary"]["imported"] for r in first] == [8, 12] and [r["summary"]["import_failed"] for r in first] == [0, 0]
    assert first[1]["scm_requests"] > 3  # the client list came in pages of five
    assert [r["changed"] for r in second] == [False, False] and [r["imported"] for r in second] == [[], []]

    intermediate = x509.load_pem_x509_certificate(sim(testbed, "ca")["intermediate"].encode())
    orders = {o["id"]: o for o in sim(testbed, "stats")["orders"]}
    for oid in ssl[:3] + clients[:3]:
        record = vault_read(testbed, f"{kv_path}/certs/{'web' if oid in ssl else 'people'}/{oid}_demo")
        x509.load_pem_x509_certificate(record["certificate"].encode()).verify_directly_issued_by(intermediate)
        assert record["serial_number"] == orders[oid]["serial_number"] and record["private_key_held"] is False

    synced = result["synced"]["results"]
    assert [c["cert_unique_id"] for c in synced[0]["changed_outside"]] == [f"{ssl[2]}_demo"]
    assert vault_read(testbed, f"{kv_path}/certs/web/{ssl[2]}_demo")["status"] == "Revoked"
    assert f"{ssl[2]}_demo" in result["lookup_failure"] and "revoked in SCM outside the collection" in result["lookup_failure"]
