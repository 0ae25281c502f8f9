"""The Vault requests that make a re-run and a lookup cheap, counted at the requests adapter against a real OpenBao.

A no-op ``sectigo_cert`` (in a module process or in Ansible's worker) and a lookup of one name each read the config, the
name entry and the record: three requests, no login (token auth), no write, nothing to SCM; a new certificate costs
nine Vault requests and two SCM requests. docs/bench.md shows the same counts for whole playbooks; these pin them.
"""
from __future__ import annotations

import uuid

import pytest
from requests.adapters import HTTPAdapter

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sectigo.vault_pki.plugins.lookup import sectigo_cert as lookup_plugin
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _cert_task
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import argument_spec, connect_store
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import open_store

pytestmark = pytest.mark.live

NAME = "count01"
# Vault requests of a new certificate's task (docs/bench.md "A new certificate: where the time goes").
NEW_CERT_VAULT_REQUESTS = 9


@pytest.fixture(scope="module")
def issued(openbao, scm_simulator):
    """One issued certificate in its own kv_path; the Vault options a task gives."""
    vault = {"vault_addr": openbao.addr, "vault_token": openbao.token, "kv_path": f"counts-{uuid.uuid4().hex[:10]}"}
    store = open_store(VaultOptions.from_mapping(vault))
    ConfigService(store).ensure_present({
        "name": "counts", "config_type": "ssl_cert", "org_id": 1001, "base_url": scm_simulator.base_url, "login": scm_simulator.login,
        "password": scm_simulator.password, "customer_uri": scm_simulator.customer_uri, "defaults": {"cert_type": 101, "term": 365}})
    result = CertificateService.for_config(store, "counts").ensure(CertRequest.from_params(
        {"config": "counts", "name": NAME, "common_name": f"{NAME}.example.com", "key_algo": "EC"}))
    assert result.record["status"] == "Issued"
    return vault


@pytest.fixture
def sent(monkeypatch, openbao, scm_simulator):
    """Every request that leaves through a requests adapter: (method, path) to Vault, and how many to SCM."""
    seen = {"vault": [], "scm": 0}
    real_send = HTTPAdapter.send

    def send(self, request, *args, **kwargs):
        if request.url.startswith(openbao.addr):
            seen["vault"].append((request.method, request.url[len(openbao.addr):].split("?")[0]))
        elif request.url.startswith(scm_simulator.base_url.split("/api")[0]):
            seen["scm"] += 1
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return seen


def task_params(vault, **given):
    args = dict(vault, config="counts", name=NAME, common_name=f"{NAME}.example.com", key_algo="EC")
    args.update(given)
    checked = ArgumentSpecValidator(argument_spec(_cert_task.ARGUMENT_SPEC), **_cert_task.CONSTRAINTS).validate(args)
    assert not checked.error_messages, checked.error_messages
    return checked.validated_parameters


def reads(kv_path, *names):
    return [("GET", f"/v1/secret/data/{kv_path}/configs/counts")] + [("GET", f"/v1/secret/data/{kv_path}/{name}") for name in names]


def test_a_noop_sectigo_cert_module_sends_three_reads(issued, sent):
    params = task_params(issued)
    service = CertificateService.for_config(connect_store(params), "counts")  # what the module's run_task does
    out, result = _cert_task.task_output(service, params, diff=False)
    assert not result.changed and out["action"] == "none"
    record = f"certs/counts/{result.record['cert_unique_id']}"
    assert sent["vault"] == reads(issued["kv_path"], f"names/counts/{NAME}", record) and sent["scm"] == 0


def test_a_noop_in_the_worker_sends_the_same_three_reads(issued, sent):
    out = _cert_task.run_in_worker(task_params(issued), check_mode=False, diff=False)
    assert out["changed"] is False and out["action"] == "none"
    record = f"certs/counts/{out['cert']['cert_unique_id']}"
    assert sent["vault"] == reads(issued["kv_path"], f"names/counts/{NAME}", record) and sent["scm"] == 0


def test_a_new_certificate_in_the_worker(issued, sent):
    # Reads: the config, the name entry, the profile and the custom-field list kept for the config, the mount (once
    # before the first write); writes: the claim on the name, the record Applied (created with cas=0), the name
    # pointing at it, the record Issued. SCM: the order and one collect (the simulator issues at once).
    out = _cert_task.run_in_worker(task_params(issued, name="count98", common_name="count98.example.com"), check_mode=False, diff=False)
    assert out["changed"] is True and out["action"] == "enrolled" and out["cert"]["status"] == "Issued"
    methods = [method for method, _path in sent["vault"]]
    assert len(sent["vault"]) == NEW_CERT_VAULT_REQUESTS, sent["vault"]
    assert methods.count("POST") + methods.count("PUT") == 4 and sent["scm"] == 2


def test_a_lookup_of_one_name_sends_three_reads_and_a_second_none(issued, sent, monkeypatch):
    options = dict(issued, config="counts")
    monkeypatch.setattr(lookup_plugin.LookupModule, "set_options", lambda self, var_options=None, direct=None: None)
    monkeypatch.setattr(lookup_plugin.LookupModule, "get_option", lambda self, name, hostvars=None: options.get(name))
    monkeypatch.setattr(lookup_plugin, "_CACHE", {})
    monkeypatch.setattr(lookup_plugin, "_SESSIONS", {})
    [record] = lookup_plugin.LookupModule().run([NAME])
    assert record["status"] == "Issued" and record["private_key"]
    record_path = f"certs/counts/{record['cert_unique_id']}"
    assert sent["vault"] == reads(issued["kv_path"], f"names/counts/{NAME}", record_path) and sent["scm"] == 0
    lookup_plugin.LookupModule().run([NAME])  # the same run: memoised
    assert len(sent["vault"]) == 3
