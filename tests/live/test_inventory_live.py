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


def test_a_certificate_revoked_outside_is_not_handed_out(estate):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

    sim, store, prefix = estate
    ids = sim.control("POST", "seed", {"kind": "ssl", "count": 1, "common_name": f"{prefix}-x{{n}}.example.com"})["ids"]
    name = f"{prefix}-x1.example.com"
    inventory(store, "web").run(InventoryRequest(config="web", common_name=f"{prefix}-x*", do_import=True))
    sim.control("POST", f"revoke/{ids[0]}", {})
    inventory(store, "web").run(InventoryRequest(config="web", sync=True))
    service = CertificateService.for_config(store, "web")
    for allow_enroll in (True, False):  # sectigo_cert state=present, and the lookup
        with pytest.raises(OperationError, match=f"{ids[0]}_{sim.customer_uri}.*revoked in SCM outside the collection"):
            service.ensure(CertRequest(config="web", name=name), allow_enroll=allow_enroll)
    before = sim.stats()["total_requests"]
    with pytest.raises(OperationError):
        service.ensure(CertRequest(config="web", name=name))
    assert sim.stats()["total_requests"] == before  # no order placed
    result = service.ensure(CertRequest(config="web", name=name, common_name=name, cert_type=101, term=365,
                                        replace_revoked_outside=True))
    assert result.changed and result.record["cert_unique_id"] != f"{ids[0]}_{sim.customer_uri}"
    assert result.record["status"] == "Issued"


def test_tidy_removes_what_ended_and_keeps_current_certificates(estate):
    import datetime  # pylint: disable=import-outside-toplevel

    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.tidy import Tidy, TidyRequest
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

    sim, store, prefix = estate
    ids = sim.control("POST", "seed", {"kind": "ssl", "count": 3, "common_name": f"{prefix}-t{{n}}.example.com"})["ids"]
    inventory(store, "web").run(InventoryRequest(config="web", common_name=f"{prefix}-t*", do_import=True))
    sim.control("POST", f"renew/{ids[0]}", {})
    sim.control("POST", f"revoke/{ids[1]}", {})
    inventory(store, "web").run(InventoryRequest(config="web", sync=True))
    name2 = f"{prefix}-t2.example.com"
    CertificateService.for_config(store, "web").ensure(CertRequest(config="web", name=name2, common_name=name2, cert_type=101,
                                                                   term=365, replace_revoked_outside=True))
    records = CertRecords(store, "web")

    def later():
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=800)

    kinds = {"superseded": True, "revoked": True, "expired": True, "cancelled": True}
    soon = Tidy(store, "web", check_mode=True).run(TidyRequest(config="web", kinds=kinds))
    assert soon["total"] == 0  # nothing ended yet: the safety buffer counts from the certificate's end
    predicted = Tidy(store, "web", check_mode=True, clock=later).run(TidyRequest(config="web", kinds=kinds))
    gone = {f"{ids[0]}_{sim.customer_uri}": "superseded", f"{ids[1]}_{sim.customer_uri}": "revoked"}
    assert {r["cert_unique_id"]: r["tidy_kind"] for r in predicted["removed"]} == gone
    assert all(records.read(uid)[0] is not None for uid in gone)
    done = Tidy(store, "web", clock=later).run(TidyRequest(config="web", kinds=kinds, pause_duration="0"))
    assert done["counts"] == predicted["counts"] and done["superseded"] == 1 and done["revoked"] == 1
    for uid in gone:
        assert store.read_metadata(f"certs/web/{uid}") is None
    for name in records.names():  # every name's current certificate still reads (the expired ones included)
        record, _v = records.resolve(name, None)
        assert record is not None and record.get("certificate"), name
    status, _v = store.read("tidy/web")
    assert status["state"] == "Finished" and status["counts"] == done["counts"]
