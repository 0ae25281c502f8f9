"""The sectigo_cert action plugin: a re-run that changes nothing is answered on the controller, everything else runs the
module; no-log values stay masked in what it returns."""
from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible_collections.sectigo.vault_pki.plugins.action import sectigo_cert as action_plugin
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.tests.unit.plugins.module_utils.lifecycle_fakes import vault_with_one_certificate

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "base_url": "https://scm.example.com/api",
          "login": "api", "password": "pw", "defaults": {"cert_type": 101, "term": 365}}
TOKEN = "s.sekret-token-value"


@pytest.fixture
def store(monkeypatch):
    store, scm = vault_with_one_certificate(CONFIG)
    monkeypatch.setattr(_module, "connect_store", lambda params: store)
    return store


def make_action(args, *, transport="local", become=False, environment=None, async_val=0):
    task = MagicMock(args=args, async_val=async_val, environment=environment if environment is not None else [{}],
                     check_mode=False, diff=False)
    connection = MagicMock(transport=transport, has_native_async=False)
    action = action_plugin.ActionModule(task, connection, MagicMock(become=become), loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(return_value={"changed": True, "ran": "module"})  # pylint: disable=protected-access
    action._remove_tmp_path = MagicMock()  # pylint: disable=protected-access
    return action


ARGS = {"config": "prod", "name": "web01", "common_name": "web01.example.com", "vault_addr": "http://127.0.0.1:1", "vault_token": TOKEN}


def test_a_noop_is_answered_without_the_module(store):
    writes = store.writes
    action = make_action(dict(ARGS))
    result = action.run(task_vars={})
    assert result["changed"] is False and result["action"] == "none" and result["cert"]["domain"] == "web01.example.com"
    assert not action._execute_module.called  # pylint: disable=protected-access
    assert store.writes == writes
    assert TOKEN not in repr(result) and result["invocation"]["module_args"]["vault_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize("args, kwargs", [
    (dict(ARGS, common_name="changed.example.com"), {}),   # a replacement
    (dict(ARGS, name="web02", common_name="web02.example.com"), {}),  # an enrollment
    (dict(ARGS, state="absent"), {}),
    (dict(ARGS, key_size="huge"), {}),                      # bad input: the module reports it
    (dict(ARGS), {"transport": "ssh"}),                     # the module would run elsewhere
    (dict(ARGS), {"become": True}),
    (dict(ARGS), {"environment": [{"VAULT_ADDR": "http://elsewhere:8200"}]}),
    (dict(ARGS), {"async_val": 30}),
])
def test_anything_else_runs_the_module(store, args, kwargs):
    writes = store.writes
    action = make_action(args, **kwargs)
    result = action.run(task_vars={})
    assert result["ran"] == "module" and action._execute_module.called  # pylint: disable=protected-access
    assert store.writes == writes


def test_vault_trouble_runs_the_module_which_reports_it(monkeypatch):
    def refuse(params):
        raise RuntimeError(f"permission denied for {params['vault_token']}")
    monkeypatch.setattr(_module, "connect_store", refuse)
    action = make_action(dict(ARGS))
    assert action.run(task_vars={})["ran"] == "module"


def test_warnings_stay_in_the_result_as_a_module_returns_them(store):
    action = make_action(dict(ARGS, expiry_window="100%"))
    result = action.run(task_vars={})
    assert not action._execute_module.called  # pylint: disable=protected-access
    assert result["changed"] is False and any("expiry_window" in warning for warning in result["warnings"])
