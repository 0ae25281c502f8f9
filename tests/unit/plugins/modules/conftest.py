"""Run a module's main() in-process with an in-memory Vault and a fake SCM; return its result as JSON.

``connect_store`` (the Vault login) and ``scm_client_for`` (the SCM client a config describes) are the
two seams: everything between the argspec and the result runs for real.
"""
from __future__ import annotations

import json

import pytest

from ansible.module_utils import basic

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _config_service
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.plugins.modules import sectigo_revoke
from ansible_collections.sectigo.vault_pki.tests.unit.plugins.module_utils.lifecycle_fakes import FakeScm, FakeStore

VAULT = {"vault_addr": "http://127.0.0.1:1", "vault_token": "unit-test-token"}


def _patch_args(monkeypatch, args):
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19 and newer
    except ImportError:  # pragma: no cover - older ansible-core
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        return None
    return patch_module_args(args)


class ModuleBed:
    def __init__(self, monkeypatch, capsys):
        self.store = FakeStore()
        self.scm = FakeScm()
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        monkeypatch.setattr(_module, "connect_store", lambda params: self.store)
        # Modules that import the factory by name get the fake too: no test may reach a real SCM.
        for owner in (_config_service, sectigo_revoke):
            monkeypatch.setattr(owner, "scm_client_for", self.scm_client_for)

    def scm_client_for(self, config, timeout=30):  # pylint: disable=unused-argument
        return self.scm

    def run(self, module, args, *, check_mode=False, diff=False):
        """``module.main()`` with ``args``; returns the JSON it printed (``failed`` set when it failed)."""
        full = dict(VAULT, **args)
        if check_mode:
            full["_ansible_check_mode"] = True
        if diff:
            full["_ansible_diff"] = True
        patcher = _patch_args(self.monkeypatch, full)
        with pytest.raises(SystemExit):
            if patcher is None:
                module.main()
            else:
                with patcher:
                    module.main()
        return json.loads(self.capsys.readouterr().out)


@pytest.fixture
def bed(monkeypatch, capsys):
    return ModuleBed(monkeypatch, capsys)


@pytest.fixture
def ssl_config(bed):
    bed.store.write("configs/prod", {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
                                     "base_url": "https://scm.example.com/api", "login": "api", "password": "s3cret-pw",
                                     "defaults": {"cert_type": 101, "term": 365, "max_timeout": 30, "loop_period": 1}}, cas=0)
    return "prod"
