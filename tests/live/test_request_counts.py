"""The Vault requests that make a re-run and a lookup cheap, counted at the requests adapter against a real OpenBao.

A no-op ``sectigo_cert`` (module or controller) and a lookup of one name each read the config, the name entry and
the record: three requests, no login (token auth), no write, nothing to SCM; a new name costs the controller one read
(its name entry) before the module runs. docs/bench.md shows the same counts for whole playbooks; these pin them.
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


def test_a_noop_answered_on_the_controller_sends_three_reads(issued, sent):
    out = _cert_task.unchanged_on_controller(task_params(issued), check_mode=False, diff=False)
    assert out is not None and out["changed"] is False
    assert len(sent["vault"]) == 3 and all(method == "GET" for method, _path in sent["vault"]) and sent["scm"] == 0


def test_a_new_name_on_the_controller_stops_after_one_read(issued, sent):
    # The name entry is read first: a new name costs the controller that one read (two before: the config, then it).
    assert _cert_task.unchanged_on_controller(task_params(issued, name="count99", common_name="count99.example.com"),
                                              check_mode=False, diff=False) is None
    assert sent["vault"] == [("GET", f"/v1/secret/data/{issued['kv_path']}/names/counts/count99")] and sent["scm"] == 0


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
