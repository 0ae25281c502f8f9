"""The sectigo_cert lookup: terms, memoisation, the key it returns, and errors, on an in-memory Vault and a fake SCM.

Option handling is Ansible's (``set_options``); these tests give the options directly and run the rest for real.
"""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleError

from ansible_collections.sectigo.vault_pki.plugins.lookup import sectigo_cert as lookup_plugin
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _config_service
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import store as _vault_store
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.tests.unit.plugins.module_utils.lifecycle_fakes import FakeScm, vault_with_one_certificate

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "base_url": "https://scm.example.com/api",
          "login": "api", "password": "pw", "defaults": {"cert_type": 101, "term": 365, "loop_period": 1}}


@pytest.fixture
def lookup(monkeypatch):
    store, scm = vault_with_one_certificate(CONFIG)
    scm.calls.clear()
    reads = {"count": 0}
    real_read = store.read

    def counting_read(path):
        reads["count"] += 1
        return real_read(path)

    store.read = counting_read
    options = {"vault_addr": "http://127.0.0.1:1", "vault_token": "t", "config": "prod"}
    logins = []
    monkeypatch.setattr(_vault_store, "connect", lambda opts: logins.append(opts) or object())
    monkeypatch.setattr(_vault_store, "VaultStore", lambda client, mount, base_path: store)
    monkeypatch.setattr(_config_service, "scm_client_for", lambda config, timeout=30: scm)
    monkeypatch.setattr(lookup_plugin.LookupModule, "set_options", lambda self, var_options=None, direct=None: None)
    monkeypatch.setattr(lookup_plugin.LookupModule, "get_option", lambda self, name, hostvars=None: options.get(name))
    monkeypatch.setattr(lookup_plugin, "_CACHE", {})
    monkeypatch.setattr(lookup_plugin, "_SESSIONS", {})
    plugin = lookup_plugin.LookupModule()
    plugin.logins = logins
    return plugin, store, scm, reads, options


def test_returns_the_record_with_its_key_and_no_claims(lookup):
    plugin, _store, scm, _reads, _options = lookup
    [record] = plugin.run(["web01"])
    assert record["status"] == "Issued" and record["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "pending" not in record and scm.calls == []


def test_a_record_id_is_read_as_one(lookup):
    plugin, _store, _scm, _reads, _options = lookup
    [by_name] = plugin.run(["web01"])
    [by_id] = plugin.run([by_name["cert_unique_id"]])
    assert by_id["serial_number"] == by_name["serial_number"]


def test_repeated_reads_are_memoised(lookup):
    plugin, _store, _scm, reads, _options = lookup
    plugin.run(["web01"])
    after_first = reads["count"]
    for _read in range(5):
        plugin.run(["web01"])
    assert reads["count"] == after_first


def test_an_unknown_name_fails_naming_term_and_config(lookup):
    plugin = lookup[0]
    with pytest.raises(AnsibleError) as err:
        plugin.run(["nope"])
    assert "nope" in str(err.value) and "prod" in str(err.value)


def test_a_bad_read_option_fails_before_any_scm_call(lookup):
    plugin, _store, scm, _reads, options = lookup
    options["expiry_window"] = "soon"
    with pytest.raises(AnsibleError) as err:
        plugin.run(["web01"])
    assert "expiry_window" in str(err.value) and scm.calls == []


def test_many_names_share_one_login_and_one_config_read(lookup):
    plugin, store, _scm, reads, _options = lookup
    CertificateService(store, CONFIG, FakeScm, sleep=lambda s: None).ensure(
        CertRequest(config="prod", name="web02", common_name="web02.example.com"))
    reads["count"] = 0
    plugin.run(["web01"])
    assert reads["count"] == 3  # config, name, record
    plugin.run(["web02"])
    assert reads["count"] == 5  # name and record only: the config entry is reused
    assert len(plugin.logins) == 1


def test_another_login_is_another_session(lookup):
    plugin, _store, _scm, _reads, options = lookup
    plugin.run(["web01"])
    options["vault_token"] = "another-token"
    lookup_plugin._CACHE.clear()  # pylint: disable=protected-access
    plugin.run(["web01"])
    assert len(plugin.logins) == 2
    assert all("another-token" not in repr(key) and "t" != key[0] for key in lookup_plugin._SESSIONS)  # pylint: disable=protected-access


def test_one_service_per_run_shows_each_term_only_its_own_warnings(lookup, monkeypatch):
    plugin, _store, _scm, _reads, _options = lookup
    [record] = plugin.run(["web01"])
    services = list(lookup_plugin._SESSIONS.values())  # pylint: disable=protected-access
    assert len(services) == 1
    service = services[0]
    service.warnings.append("left by a term that failed")
    shown = []
    monkeypatch.setattr(plugin._display, "warning", shown.append)  # pylint: disable=protected-access
    plugin.run([record["cert_unique_id"]])
    assert shown == [] and len(plugin.logins) == 1


_BY_ANSIBLE = """
import json
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader()
from ansible_collections.sectigo.vault_pki.plugins.lookup.sectigo_cert import VAULT_OPTION_NAMES
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
plugin = lookup_loader.get("sectigo.vault_pki.sectigo_cert")
plugin.set_options(var_options={"ansible_hashi_vault_role_id": "deployer"},
                   direct={"config": "prod", "url": "http://vault.example:8200", "auth_method": "kubernetes", "mount_point": "k8s"})
opts = VaultOptions.from_mapping({name: plugin.get_option(name) for name in VAULT_OPTION_NAMES})
print(json.dumps([opts.vault_addr, opts.vault_auth_method, opts.auth_mount, opts.vault_role, opts.vault_jwt]))
"""


def test_community_hashi_vault_names_reach_the_vault_options():
    """Ansible's own option handling, in a process of its own: aliases as keywords, community.hashi_vault's variables and env."""
    import json
    import os
    import subprocess
    import sys

    link_base = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, ".build", "pytest")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "ANSIBLE_HASHI_VAULT_", "ANSIBLE_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.abspath(link_base), ANSIBLE_HASHI_VAULT_KUBERNETES_TOKEN="k8s-jwt")
    proc = subprocess.run([sys.executable, "-c", _BY_ANSIBLE], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["http://vault.example:8200", "kubernetes", "k8s", "deployer", "k8s-jwt"]
