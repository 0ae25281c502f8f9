"""sectigo_profile, sectigo_tidy and sectigo_inventory as Ansible runs them: modules that work inside one config
(``_module.run_config_module``: the ``config`` option, then a task built from a ``ConfigTask``)."""
from __future__ import annotations

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.plugins.modules import sectigo_inventory, sectigo_profile, sectigo_tidy


def test_profile_is_downloaded_once_with_a_diff_and_removed(bed, ssl_config):
    stored = bed.run(sectigo_profile, {"config": ssl_config, "profile_id": 101}, diff=True)
    assert stored["changed"] is True and stored["profile"]["id"] == 101
    assert stored["diff"] == {"before": {}, "after": stored["profile"]}
    calls = len(bed.scm.calls)
    again = bed.run(sectigo_profile, {"config": ssl_config, "profile_id": 101})
    assert again["changed"] is False and "diff" not in again and len(bed.scm.calls) == calls
    gone = bed.run(sectigo_profile, {"config": ssl_config, "profile_id": 101, "state": "absent"})
    assert gone["changed"] is True and gone["profile"] == {} and len(bed.scm.calls) == calls


def test_profile_of_a_config_vault_does_not_hold_is_refused_without_scm(bed):
    out = bed.run(sectigo_profile, {"config": "nope", "profile_id": 101})
    assert out["failed"] is True and out["field"] == "config" and bed.scm.calls == []


def test_tidy_in_check_mode_writes_nothing(bed, ssl_config):
    out = bed.run(sectigo_tidy, {"config": ssl_config, "tidy_revoked": True}, check_mode=True)
    assert out["changed"] is False and out["total"] == 0 and bed.store.writes == 1  # the config's own write


def _no_vault(params):
    raise AssertionError("Vault was reached before the options were checked")


@pytest.mark.parametrize("module, args, field", [
    (sectigo_inventory, {"requested_since": "07.12.2026"}, "requested_since"),
    (sectigo_inventory, {"name_template": "certs/{common_name}"}, "name_template"),
    (sectigo_inventory, {"name_template": "{nope}"}, "name_template"),
    (sectigo_inventory, {"page_size": 500}, "page_size"),
    (sectigo_inventory, {"concurrency": 0}, "concurrency"),
    (sectigo_inventory, {"config": "bad/name"}, "config"),
    (sectigo_tidy, {"safety_buffer": "soon"}, "safety_buffer"),
    (sectigo_tidy, {"pause_duration": "-1"}, "pause_duration"),
    (sectigo_tidy, {"config": "bad/name"}, "config"),
], ids=lambda value: value.__name__.rsplit(".", 1)[-1] if hasattr(value, "__name__") else None)
def test_bad_options_are_refused_before_vault_or_scm_is_reached(bed, monkeypatch, module, args, field):
    monkeypatch.setattr(_module, "connect_store", _no_vault)
    out = bed.run(module, dict({"config": "prod"}, **args))
    assert out["failed"] is True and out["field"] == field, out
    assert bed.scm.calls == [] and bed.store.writes == 0
