"""_cert_task.unchanged_on_controller: a re-run that changes nothing is answered from Vault reads alone; anything
else (a renewal due, a pending order, another run's claim, another state) is left to the module, before any write
or SCM call."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _cert_task
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.tests.unit.plugins.module_utils.lifecycle_fakes import FakeScm, FakeStore, vault_with_one_certificate

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "base_url": "https://scm.example.com/api",
          "login": "api", "password": "pw", "defaults": {"cert_type": 101, "term": 365, "loop_period": 1}}


def params(**given):
    out = {option: None for option in _cert_task.ARGUMENT_SPEC}
    out.update(config="prod", state="present", return_private_key=False, rotate_key_on_renew=True)
    out.update(given)
    return out


@pytest.fixture
def vault(monkeypatch):
    store, scm = vault_with_one_certificate(CONFIG)
    monkeypatch.setattr(_module, "connect_store", lambda p: store)
    return store, scm


def test_an_issued_certificate_is_answered_from_reads(vault):
    store, scm = vault
    writes, calls = store.writes, list(scm.calls)
    out = _cert_task.unchanged_on_controller(params(name="web01", common_name="web01.example.com"), check_mode=False, diff=True)
    assert out["changed"] is False and out["action"] == "none" and out["cert"]["domain"] == "web01.example.com"
    assert "private_key" not in out["cert"] and out["diff"]["before"] == out["diff"]["after"]
    assert store.writes == writes and scm.calls == calls


@pytest.mark.parametrize("change", [
    {"common_name": "other.example.com"},        # drift: a replacement
    {"name": "web02", "common_name": "web02.example.com"},  # no record: an enrollment
    {"state": "renewed"},
    {"state": "absent"},
])
def test_anything_that_changes_is_left_to_the_module(vault, change):
    store, scm = vault
    writes, calls = store.writes, list(scm.calls)
    given = dict({"name": "web01", "common_name": "web01.example.com"}, **change)
    assert _cert_task.unchanged_on_controller(params(**given), check_mode=False, diff=False) is None
    assert store.writes == writes and scm.calls == calls


def test_a_renewal_due_is_left_to_the_module(vault):
    store, scm = vault
    path = next(p for p in store.data if p.startswith("certs/"))
    record, version = store.read(path)
    now = datetime.datetime.now(datetime.timezone.utc)
    record["not_before"] = (now - datetime.timedelta(days=363)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["not_after"] = (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.write(path, record, cas=version)
    writes, calls = store.writes, list(scm.calls)
    assert _cert_task.unchanged_on_controller(params(name="web01"), check_mode=False, diff=False) is None
    assert store.writes == writes and scm.calls == calls
    # In check mode the service predicts the renewal (changed): the module reports the prediction.
    assert _cert_task.unchanged_on_controller(params(name="web01"), check_mode=True, diff=False) is None


def test_another_runs_claim_is_left_to_the_module(vault):
    store, _scm = vault
    path = next(p for p in store.data if p.startswith("certs/"))
    record, version = store.read(path)
    claims = CertificateService(store, CONFIG, FakeScm).claims
    record["pending"] = claims.new("renew", "other-run", csr=None, private_key=None)
    store.write(path, record, cas=version)
    writes = store.writes
    assert _cert_task.unchanged_on_controller(params(name="web01"), check_mode=False, diff=False) is None
    assert store.writes == writes


def test_the_read_only_store_refuses_changes_before_sending_them():
    store = FakeStore()
    read_only = _cert_task.ReadOnlyStore(store)
    with pytest.raises(_cert_task.CannotDecideHere):
        read_only.write("certs/prod/1_acme", {}, cas=0)
    with pytest.raises(_cert_task.CannotDecideHere):
        read_only.delete("certs/prod/1_acme")
    assert store.writes == 0 and read_only.read("nothing") == (None, 0)


def test_a_new_name_is_left_to_the_module_after_one_read(vault, monkeypatch):
    # A name Vault does not hold is an order: the controller reads the name entry first and stops there, before the
    # config, validation, key, CSR or profile work, and the module places the order.
    store, scm = vault
    reads = []
    real_read = store.read
    monkeypatch.setattr(store, "read", lambda path: reads.append(path) or real_read(path))
    for check_mode in (False, True):
        reads.clear()
        given = params(name="web09", common_name="web09.example.com", subject_alt_names=["www9.example.com"], key_algo="EC")
        assert _cert_task.unchanged_on_controller(given, check_mode=check_mode, diff=False) is None
        assert reads == ["names/prod/web09"]
    assert not scm.calls or all(call[0] != "enroll_ssl" for call in scm.calls)


def test_a_noop_reads_the_name_entry_once(vault, monkeypatch):
    # The name entry is read first; the service's own read of it is answered with that read, so a no-op still reads
    # three entries: the name, the config and the record.
    store, _scm = vault
    reads = []
    real_read = store.read
    monkeypatch.setattr(store, "read", lambda path: reads.append(path) or real_read(path))
    out = _cert_task.unchanged_on_controller(params(name="web01", common_name="web01.example.com"), check_mode=False, diff=False)
    assert out["changed"] is False
    assert reads[:2] == ["names/prod/web01", "configs/prod"] and len(reads) == 3 and reads[2].startswith("certs/prod/")


def test_a_read_ahead_answers_the_first_read_of_its_path_only():
    store = FakeStore()
    store.write("names/prod/web01", {"name": "web01", "cert_unique_id": "1_acme"}, cas=0)
    read_only = _cert_task.ReadOnlyStore(store, {"names/prod/web01": ({"name": "web01", "cert_unique_id": "ahead"}, 7)})
    assert read_only.read("names/prod/web01") == ({"name": "web01", "cert_unique_id": "ahead"}, 7)
    assert read_only.read("names/prod/web01") == ({"name": "web01", "cert_unique_id": "1_acme"}, 1)
