"""The sectigo_cert action plugin: a task the module would run on the controller runs in the worker, through the module's
own code, with the module's results and failures; everything else runs the module; no-log values stay masked."""
from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible_collections.sectigo.vault_pki.plugins.action import sectigo_cert as action_plugin
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import claims, configs
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultError
from ansible_collections.sectigo.vault_pki.tests.unit.plugins.module_utils.lifecycle_fakes import vault_with_one_certificate

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "base_url": "https://scm.example.com/api",
          "login": "api", "password": "pw", "defaults": {"cert_type": 101, "term": 365}}
TOKEN = "s.sekret-token-value"


@pytest.fixture
def fakes(monkeypatch):
    store, scm = vault_with_one_certificate(CONFIG)
    monkeypatch.setattr(_module, "connect_store", lambda params: store)
    monkeypatch.setattr(configs, "scm_client_for", lambda config, timeout=30: scm)
    return store, scm


def make_action(args, *, transport="local", become=False, environment=None, async_val=0, timeout=0, check_mode=False):
    task = MagicMock(args=args, async_val=async_val, environment=environment if environment is not None else [{}],
                     timeout=timeout, check_mode=check_mode, diff=False)
    connection = MagicMock(transport=transport, has_native_async=False)
    action = action_plugin.ActionModule(task, connection, MagicMock(become=become), loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(return_value={"changed": True, "ran": "module"})  # pylint: disable=protected-access
    action._remove_tmp_path = MagicMock()  # pylint: disable=protected-access
    return action


ARGS = {"config": "prod", "name": "web01", "common_name": "web01.example.com", "vault_addr": "http://127.0.0.1:1", "vault_token": TOKEN}


def ran_in_worker(action):
    return not action._execute_module.called  # pylint: disable=protected-access


def test_a_noop_runs_in_the_worker_and_writes_nothing(fakes):
    store, scm = fakes
    writes, orders = store.writes, len(scm.orders)
    action = make_action(dict(ARGS))
    result = action.run(task_vars={})
    assert ran_in_worker(action)
    assert result["changed"] is False and result["action"] == "none" and result["cert"]["domain"] == "web01.example.com"
    assert store.writes == writes and len(scm.orders) == orders
    assert TOKEN not in repr(result) and result["invocation"]["module_args"]["vault_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize("args, action_taken, call", [
    (dict(ARGS, name="web02", common_name="web02.example.com"), "enrolled", "enroll_ssl"),
    (dict(ARGS, common_name="changed.example.com"), "replaced", "replace_ssl"),
])
def test_an_order_is_placed_from_the_worker(fakes, args, action_taken, call):
    store, scm = fakes
    scm.calls.clear()
    action = make_action(args)
    result = action.run(task_vars={})
    assert ran_in_worker(action)
    assert result["changed"] is True and result["action"] == action_taken and result["cert"]["status"] == "Issued"
    assert scm.calls.count(call) == 1
    assert store.read(f"names/prod/{args['name']}")[0]["cert_unique_id"] == result["cert"]["cert_unique_id"]
    assert "private_key" not in result["cert"] and TOKEN not in repr(result)


def test_check_mode_in_the_worker_predicts_and_writes_nothing(fakes):
    store, scm = fakes
    writes, orders = store.writes, len(scm.orders)
    action = make_action(dict(ARGS, name="web03", common_name="web03.example.com"), check_mode=True)
    result = action.run(task_vars={})
    assert ran_in_worker(action) and result["changed"] is True
    assert store.writes == writes and len(scm.orders) == orders


def test_a_failure_is_the_modules_failure(fakes):
    _store, scm = fakes
    scm.refuse_enroll = -7
    action = make_action(dict(ARGS, name="web04", common_name="web04.example.com"))
    result = action.run(task_vars={})
    assert ran_in_worker(action)
    assert result["failed"] is True and result["scm_code"] == -7 and "refused" in result["msg"] and TOKEN not in repr(result)


@pytest.mark.parametrize("args, kwargs", [
    (dict(ARGS, key_size="huge"), {}),                      # bad input: the module reports it
    (dict(ARGS, run_in_worker=False), {}),                  # asked for
    (dict(ARGS), {"transport": "ssh"}),                     # the module would run elsewhere
    (dict(ARGS), {"become": True}),
    (dict(ARGS), {"environment": [{"VAULT_ADDR": "http://elsewhere:8200"}]}),
    (dict(ARGS), {"async_val": 30}),
    (dict(ARGS), {"timeout": 60}),                          # the timeout cuts Ansible's wait, not the service
])
def test_anything_else_runs_the_module(fakes, args, kwargs):
    store, _scm = fakes
    writes = store.writes
    action = make_action(args, **kwargs)
    result = action.run(task_vars={})
    assert result["ran"] == "module" and not ran_in_worker(action)
    assert store.writes == writes


def test_a_library_missing_here_runs_the_module_which_names_it(fakes, monkeypatch):
    monkeypatch.setattr(_module, "libraries_missing", lambda need_scm: ["hvac"])
    action = make_action(dict(ARGS))
    assert action.run(task_vars={})["ran"] == "module"


def test_vault_refusing_is_reported_as_the_module_reports_it(monkeypatch):
    def refuse(params):
        raise VaultError("permission denied")
    monkeypatch.setattr(_module, "connect_store", refuse)
    action = make_action(dict(ARGS))
    result = action.run(task_vars={})
    assert ran_in_worker(action)
    assert result["failed"] is True and result["msg"] == "Failed to manage the certificate: permission denied"


def test_a_defect_fails_the_task_with_no_log_values_masked(monkeypatch):
    def broken(params):
        raise RuntimeError(f"broken near {params['vault_token']}")
    monkeypatch.setattr(_module, "connect_store", broken)
    action = make_action(dict(ARGS))
    result = action.run(task_vars={})
    assert ran_in_worker(action) and result["failed"] is True
    assert "RuntimeError" in result["msg"] and "broken near" in result["exception"]
    assert TOKEN not in repr(result)


def test_a_defect_never_carries_a_private_key(monkeypatch):
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"

    def broken(params):
        raise RuntimeError(f"cannot parse {key}")
    monkeypatch.setattr(_module, "connect_store", broken)
    result = make_action(dict(ARGS)).run(task_vars={})
    assert result["failed"] is True and "PRIVATE KEY" not in repr(result) and "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in repr(result)


def test_each_task_in_the_worker_is_a_new_claim_owner(fakes):
    """A claim a failed earlier task of this worker left behind is dead to the next task; its own claims are alive."""
    left = claims.owner()
    assert not claims.owner_is_dead(left)
    make_action(dict(ARGS)).run(task_vars={})
    assert claims.owner_is_dead(left) and not claims.owner_is_dead(claims.owner())


def test_warnings_stay_in_the_result_as_a_module_returns_them(fakes):
    action = make_action(dict(ARGS, expiry_window="100%"))
    result = action.run(task_vars={})
    assert ran_in_worker(action)
    assert result["changed"] is False and any("expiry_window" in warning for warning in result["warnings"])
