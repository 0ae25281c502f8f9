"""sectigo_inventory's logic against a real OpenBao and the SCM simulator: list, import, a second run, a sync."""
from __future__ import annotations

import uuid

import pytest
from cryptography import x509

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.inventory import Inventory, InventoryRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import open_store

pytestmark = pytest.mark.live


@pytest.fixture
def estate(testbed):
    sim = testbed.simulator
    store = open_store(VaultOptions.from_mapping({"vault_addr": testbed.openbao.addr, "vault_token": testbed.openbao.token,
                                                  "kv_path": f"inv-{uuid.uuid4().hex[:8]}"}))
    prefix = uuid.uuid4().hex[:8]
    service = configs.ConfigService(store)
    for name, kind in (("web", "ssl_cert"), ("people", "client_cert")):
        service.ensure_present({"name": name, "config_type": kind, "base_url": sim.base_url, "customer_uri": sim.customer_uri,
                                "login": sim.login, "password": sim.password, "org_id": 1001})
    return sim, store, prefix


def inventory(store, name, check_mode=False):
    config = configs.ConfigService(store).require(name)
    return Inventory(store, config, lambda: configs.scm_client_for(config), check_mode=check_mode)


def test_an_estate_ordered_outside_is_imported_once_and_synced(estate):
    sim, store, prefix = estate
    ids = sim.control("POST", "seed", {"kind": "ssl", "count": 12, "common_name": f"{prefix}-{{n}}.example.com"})["ids"]
    pattern = f"{prefix}-*.example.com"
    listed = inventory(store, "web").run(InventoryRequest(config="web", common_name=pattern))
    assert sorted(u["id"] for u in listed["unknown"]) == ids and listed["scm_requests"] == 1
    predicted = inventory(store, "web", check_mode=True).run(InventoryRequest(config="web", common_name=pattern, do_import=True))
    assert len(predicted["imported"]) == 12 and CertRecords(store, "web").ids() == set()
    done = inventory(store, "web").run(InventoryRequest(config="web", common_name=pattern, do_import=True, concurrency=4))
    assert done["changed"] and done["summary"]["imported"] == 12 and done["summary"]["import_failed"] == 0, done["imported"]
    again = inventory(store, "web").run(InventoryRequest(config="web", common_name=pattern, do_import=True))
    assert not again["changed"] and again["imported"] == [] and again["summary"]["known"] == 12 and again["scm_requests"] == 1
    records = CertRecords(store, "web")
    ca = sim.ca()
    intermediate = x509.load_pem_x509_certificate(ca["intermediate"].encode())
    for item in done["imported"]:
        record, _v = records.read(item["cert_unique_id"])
        assert record["name"] == f"{prefix}-{item['id'] - ids[0] + 1}.example.com" and record["status"] == "Issued"
        assert record["private_key_held"] is False and not record.get("private_key")
        leaf = x509.load_pem_x509_certificate(record["certificate"].encode())
        leaf.verify_directly_issued_by(intermediate)
        assert record["serial_number"] == item["serial_number"]

    sim.control("POST", f"revoke/{ids[3]}", {"reason": "incident"})
    first = inventory(store, "web").run(InventoryRequest(config="web", sync=True))
    revoked = [c for c in first["changed_outside"] if c["change"] == "revoked"]
    assert [c["cert_unique_id"] for c in revoked] == [f"{ids[3]}_{sim.customer_uri}"] and revoked[0]["source"] == "scm"
    record, _v = records.read(f"{ids[3]}_{sim.customer_uri}")
    assert record["status"] == "Revoked" and record["state"][-1]["source"] == "scm"
    assert first["scm_requests"] <= 5
    second = inventory(store, "web").run(InventoryRequest(config="web", sync=True))
    assert second["changed_outside"] == [] and not second["changed"]


def test_renewed_outside_moves_the_name(estate):
    sim, store, prefix = estate
    ids = sim.control("POST", "seed", {"kind": "ssl", "count": 2, "common_name": f"{prefix}-r{{n}}.example.com"})["ids"]
    inventory(store, "web").run(InventoryRequest(config="web", common_name=f"{prefix}-r*", do_import=True))
    new = sim.control("POST", f"renew/{ids[0]}", {})
    result = inventory(store, "web").run(InventoryRequest(config="web", sync=True))
    renewed = [c for c in result["changed_outside"] if c["change"] == "renewed"]
    assert renewed and renewed[0]["renewed_to"] == f"{new['id']}_{sim.customer_uri}"
    records = CertRecords(store, "web")
    entry, _v = records.read_name(f"{prefix}-r1.example.com")
    assert entry["cert_unique_id"] == f"{new['id']}_{sim.customer_uri}"
    old, _v = records.read(f"{ids[0]}_{sim.customer_uri}")
    assert old["status"] == "Renewed" and old["renewed_to"] == entry["cert_unique_id"]


def test_client_certificates_are_paged(estate):
    sim, store, prefix = estate
    numbers = sim.control("POST", "seed", {"kind": "smime", "count": 7, "common_name": f"{prefix}{{n}}@example.com"})["ids"]
    result = inventory(store, "people").run(InventoryRequest(config="people", common_name=f"*{prefix}*", page_size=3))
    assert sorted(u["id"] for u in result["unknown"]) == numbers
    assert result["scm_requests"] >= 3  # more than one page


@pytest.mark.parametrize("options, field", [
    ({"status": ["bogus"]}, "status"), ({"requested_since": "2026-13-01"}, "requested_since"),
    ({"name_template": "certs/{common_name}"}, "name_template"), ({"name_template": "{nope}"}, "name_template"),
])
def test_bad_input_is_refused_before_scm(estate, options, field):
    _sim, store, _prefix = estate
    calls = []
    config = configs.ConfigService(store).require("web")
    service = Inventory(store, config, lambda: calls.append(1))
    with pytest.raises(InputError) as info:
        service.run(InventoryRequest(config="web", **options))
    assert info.value.field == field and calls == []


def test_an_unknown_config_is_refused(estate):
    _sim, store, _prefix = estate
    with pytest.raises(InputError, match="config 'nope' does not exist"):
        configs.ConfigService(store).require("nope")
