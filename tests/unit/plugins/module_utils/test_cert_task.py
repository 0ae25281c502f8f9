"""_cert_task.run_in_worker: one sectigo_cert task run in the calling process (Ansible's worker) as the module runs it:
the same service, reads and result; failures as the module reports them; each task its own claim owner."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _cert_task
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import claims as claims_mod
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs
from ansible_collections.sectigo.vault_pki.tests.unit.plugins.module_utils.lifecycle_fakes import vault_with_one_certificate

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "base_url": "https://scm.example.com/api",
          "login": "api", "password": "pw", "defaults": {"cert_type": 101, "term": 365, "loop_period": 1}}


def params(**given):
    out = {option: None for option in _cert_task.ARGUMENT_SPEC}
    out.update(config="prod", state="present", return_private_key=False, rotate_key_on_renew=True, run_in_worker=True)
    out.update(given)
    return out


@pytest.fixture
def vault(monkeypatch):
    store, scm = vault_with_one_certificate(CONFIG)
    monkeypatch.setattr(_module, "connect_store", lambda p: store)
    monkeypatch.setattr(configs, "scm_client_for", lambda config, timeout=30: scm)
    return store, scm


def run(given, *, check_mode=False, diff=False):
    return _cert_task.run_in_worker(params(**given), check_mode=check_mode, diff=diff)


def test_a_noop_reads_the_name_the_config_and_the_record(vault, monkeypatch):
    store, scm = vault
    writes, calls = store.writes, list(scm.calls)
    reads = []
    real_read = store.read
    monkeypatch.setattr(store, "read", lambda path: reads.append(path) or real_read(path))
    out = run({"name": "web01", "common_name": "web01.example.com"}, diff=True)
    assert out["changed"] is False and out["action"] == "none" and out["cert"]["domain"] == "web01.example.com"
    assert "private_key" not in out["cert"] and out["diff"]["before"] == out["diff"]["after"]
    assert store.writes == writes and scm.calls == calls
    assert sorted(reads[:2]) == ["configs/prod", "names/prod/web01"] and len(reads) == 3 and reads[2].startswith("certs/prod/")


def test_a_renewal_due_is_renewed_once(vault):
    store, scm = vault
    path = next(p for p in store.data if p.startswith("certs/"))
    record, version = store.read(path)
    now = datetime.datetime.now(datetime.timezone.utc)
    record["not_before"] = (now - datetime.timedelta(days=363)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["not_after"] = (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.write(path, record, cas=version)
    # Check mode predicts it and changes nothing; the task then renews once, and a second task finds nothing to do.
    writes = store.writes
    assert run({"name": "web01"}, check_mode=True)["changed"] is True and store.writes == writes and "renew_ssl" not in scm.calls
    assert run({"name": "web01"})["action"] == "renewed" and scm.calls.count("renew_ssl") == 1
    assert run({"name": "web01"})["changed"] is False and scm.calls.count("renew_ssl") == 1


def test_a_claim_an_earlier_task_of_this_worker_left_is_taken_over_at_once(vault, monkeypatch):
    # A loop's earlier item died of a defect while its claim was out (its process, the worker, lives on): the next
    # task knows the claim is dead without waiting for it to go stale, finds no order in SCM for it, and orders once.
    store, scm = vault
    real_enroll = scm.enroll_ssl

    def broken(**kwargs):
        raise KeyError("a defect before the POST")
    monkeypatch.setattr(scm, "enroll_ssl", broken)
    with pytest.raises(KeyError):
        run({"name": "web05", "common_name": "web05.example.com"})
    left = store.read("names/prod/web05")[0]["claim"]
    assert left.get("outcome") != "unknown" and not claims_mod.owner_is_dead(left["owner"])  # as long as its task runs
    monkeypatch.setattr(scm, "enroll_ssl", real_enroll)
    monkeypatch.setattr(claims_mod, "CLAIM_WAIT_SECONDS", 0)  # waiting for it would fail the test
    out = run({"name": "web05", "common_name": "web05.example.com"})
    assert out["action"] == "enrolled" and out["cert"]["status"] == "Issued"


def test_a_failure_comes_back_as_the_modules_fields(vault):
    _store, scm = vault
    scm.refuse_enroll = -7
    out = run({"name": "web06", "common_name": "web06.example.com"})
    assert out["failed"] is True and out["scm_code"] == -7


def test_bad_input_names_the_field(vault):
    out = run({"name": "web07", "common_name": "web07.example.com", "key_algo": "DSA"})
    assert out["failed"] is True and out["field"] == "key_algo" and "DSA" in out["msg"]


def test_a_defect_is_raised_as_the_module_would(monkeypatch):
    def broken(params):
        raise KeyError("oops")
    monkeypatch.setattr(_module, "connect_store", broken)
    with pytest.raises(KeyError):
        run({"name": "web01"})
