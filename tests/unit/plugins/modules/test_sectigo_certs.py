"""sectigo_certs (the fleet path) run in-process: one result per item, check mode, diff per item, partial failure.

One worker: the fakes are not thread-safe; test_fleet covers the pool.
"""
from __future__ import annotations

import json

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _module
from ansible_collections.sectigo.vault_pki.plugins.modules import sectigo_certs

ITEMS = [{"name": f"web{i}", "common_name": f"web{i}.example.com"} for i in range(3)]


def test_enroll_then_idempotent(bed, ssl_config):
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "key_algo": "EC", "concurrency": 1})
    assert result["changed"] and not result.get("failed")
    assert [(c["name"], c["action"], c["cert"]["status"]) for c in result["certificates"]] == [(f"web{i}", "enrolled", "Issued") for i in range(3)]
    assert all("private_key" not in c["cert"] for c in result["certificates"])
    assert result["summary"] == {"total": 3, "changed": 3, "failed": 0, "actions": {"enrolled": 3}}
    assert bed.scm.calls.count("enroll_ssl") == 3

    calls = len(bed.scm.calls)
    again = bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "key_algo": "EC", "concurrency": 1})
    assert not again["changed"] and [c["action"] for c in again["certificates"]] == ["none"] * 3
    assert len(bed.scm.calls) == calls


def test_check_mode_and_diff_per_item(bed, ssl_config):
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "concurrency": 1}, check_mode=True, diff=True)
    assert result["changed"] and [c["action"] for c in result["certificates"]] == ["enrolled"] * 3
    assert [d["after_header"] for d in result["diff"]] == ["web0", "web1", "web2"]
    assert result["diff"][1]["after"]["domain"] == "web1.example.com"
    assert "private_key" not in str(result["diff"])
    assert bed.store.writes == 1  # the config written by the fixture only


def test_a_failed_item_does_not_hide_the_others(bed, ssl_config):
    items = ITEMS + [{"name": "bad", "common_name": "bad.example.com", "term": 0}]
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": items, "concurrency": 1})
    assert result["failed"] and "1 of 4 certificates: bad" in result["msg"]
    by_name = {c["name"]: c for c in result["certificates"]}
    assert by_name["bad"]["failed"] and by_name["bad"]["field"] == "term" and "term" in by_name["bad"]["msg"]
    assert [by_name[f"web{i}"]["action"] for i in range(3)] == ["enrolled"] * 3
    assert bed.scm.calls.count("enroll_ssl") == 3


def test_concurrency_is_bounded(bed, ssl_config):
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "concurrency": 0})
    assert result["failed"] and "concurrency" in result["msg"]


def test_names_maintain_existing_certificates(bed, ssl_config):
    bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "concurrency": 1})
    calls = len(bed.scm.calls)
    result = bed.run(sectigo_certs, {"config": ssl_config, "names": ["web2", "web0"], "concurrency": 1})
    assert [(c["name"], c["action"]) for c in result["certificates"]] == [("web2", "none"), ("web0", "none")]
    assert len(bed.scm.calls) == calls


def test_certificates_or_names_is_required(bed, ssl_config):
    result = bed.run(sectigo_certs, {"config": ssl_config})
    assert result["failed"] and "certificates" in result["msg"] and "names" in result["msg"]


# ---- the forms and names sectigo_cert takes (one option table) ------------------------------------------------

COST = [{"name": "cost center", "value": "42"}]


def test_items_take_custom_fields_as_json_text_and_the_plugins_names(bed, ssl_config):
    bed.scm.custom_fields = [{"id": 1, "name": "cost center", "mandatory": True}]
    items = [
        {"name": "web0", "sectigo_csr_domain": "web0.example.com", "sectigo_ssl_cert_custom_fields": json.dumps(COST)},
        {"name": "web1", "common_name": "web1.example.com", "custom_fields": json.dumps(COST), "sectigo_csr_key_algo": "EC",
         "sectigo_ssl_cert_validity": "365"},
        {"name": "web2", "common_name": "web2.example.com", "custom_fields": COST},
    ]
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": items, "concurrency": 1})
    assert not result.get("failed"), result
    by_name = {c["name"]: c for c in result["certificates"]}
    assert [c["action"] for c in result["certificates"]] == ["enrolled"] * 3
    assert by_name["web0"]["cert"]["domain"] == "web0.example.com"
    assert by_name["web1"]["cert"]["key_algo"] == "EC"
    for name in ("web0", "web1", "web2"):
        assert bed.store.read(f"certs/prod/{by_name[name]['cert']['cert_unique_id']}")[0]["custom_fields"] == COST


def test_shared_options_take_custom_fields_as_json_text_and_the_plugins_names(bed, ssl_config):
    bed.scm.custom_fields = [{"id": 1, "name": "cost center", "mandatory": True}]
    result = bed.run(sectigo_certs, {"config_name": ssl_config, "certificates": ITEMS[:2], "concurrency": 1,
                                     "sectigo_client_cert_custom_fields": json.dumps(COST), "sectigo_csr_key_algo": "EC",
                                     "sectigo_ssl_cert_validity": "365", "include_private_key": True})
    assert not result.get("failed"), result
    for item in result["certificates"]:
        assert item["cert"]["key_algo"] == "EC" and item["cert"]["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
        assert bed.store.read(f"certs/prod/{item['cert']['cert_unique_id']}")[0]["custom_fields"] == COST


def test_custom_fields_text_that_is_not_the_list_fails_its_item_only(bed, ssl_config):
    items = ITEMS[:1] + [{"name": "bad", "common_name": "bad.example.com", "custom_fields": "cost center=42"}]
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": items, "concurrency": 1})
    by_name = {c["name"]: c for c in result["certificates"]}
    assert result["failed"] and by_name["bad"]["failed"] and by_name["bad"]["field"] == "custom_fields"
    assert by_name["web0"]["action"] == "enrolled" and bed.scm.calls.count("enroll_ssl") == 1


@pytest.mark.parametrize("args, field", [
    ({"concurrency": 0}, "concurrency"),
    ({"max_orders": -1}, "max_orders"),
    ({"shard": {"index": 4, "count": 4}}, "shard.index"),
    ({"shard": {"index": 0, "count": 0}}, "shard.count"),
    ({"item_results": "brief", "return_private_key": True}, "item_results"),
])
def test_bad_batch_options_are_refused_before_vault_is_reached(bed, ssl_config, monkeypatch, args, field):
    def no_vault(params):
        raise AssertionError("Vault was reached before the batch options were checked")

    monkeypatch.setattr(_module, "connect_store", no_vault)
    out = bed.run(sectigo_certs, dict({"config": ssl_config, "names": ["web01"]}, **args))
    assert out["failed"] and out["field"] == field, out


# ---- item_results: full, brief, and auto by the number of items --------------------------------------------------

BRIEF_KEYS = {"name", "changed", "failed", "action", "status", "not_after", "days_remaining", "vault_path"}


def sent_arguments(result, otherwise):
    """The items of ``certificates`` that the module sent back (``invocation``), or ``otherwise`` when this ansible-core's
    module side sends none."""
    if "invocation" not in result:
        return otherwise
    return result["invocation"]["module_args"]["certificates"]


def test_brief_results_hold_no_record(bed, ssl_config):
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "concurrency": 1, "item_results": "brief"})
    assert not result.get("failed"), result
    for item in result["certificates"]:
        assert set(item) == BRIEF_KEYS, item
        assert item["action"] == "enrolled" and item["status"] == "Issued" and item["not_after"].endswith("Z")
        record = bed.store.read(item["vault_path"].split("/", 1)[1])[0]
        assert record["not_after"] == item["not_after"] and record["status"] == "Issued"
    assert result["summary"] == {"total": 3, "changed": 3, "failed": 0, "actions": {"enrolled": 3}}
    # The arguments sent back with the result list of each item only what it sets (ansible-core 2.19 and older send them
    # from the module: `invocation`; newer releases add them on the controller, from the same compacted arguments).
    assert sent_arguments(result, ITEMS) == ITEMS
    again = bed.run(sectigo_certs, {"config": ssl_config, "certificates": ITEMS, "concurrency": 1, "item_results": "brief"})
    assert [(c["action"], set(c)) for c in again["certificates"]] == [("none", BRIEF_KEYS)] * 3


def test_a_failed_item_of_brief_results_keeps_its_message_and_status(bed, ssl_config):
    items = ITEMS[:1] + [{"name": "bad", "common_name": "bad.example.com", "term": 0}]
    result = bed.run(sectigo_certs, {"config": ssl_config, "certificates": items, "concurrency": 1, "item_results": "brief"})
    bad = {c["name"]: c for c in result["certificates"]}["bad"]
    assert result["failed"] and bad["failed"] and bad["field"] == "term" and "cert" not in bad


@pytest.mark.parametrize("given, private_key, brief", [
    ({}, False, True), ({"item_results": "auto"}, True, False), ({"item_results": "full"}, False, False)])
def test_auto_results_are_brief_above_the_threshold(bed, ssl_config, monkeypatch, given, private_key, brief):
    monkeypatch.setattr(sectigo_certs, "AUTO_FULL_UP_TO", 2)
    args = dict({"config": ssl_config, "certificates": ITEMS, "concurrency": 1, "return_private_key": private_key}, **given)
    result = bed.run(sectigo_certs, args)
    assert not result.get("failed"), result
    assert all(("cert" in c) is not brief and ("not_after" in c) is brief for c in result["certificates"])
    assert all(("key_size" in item) is not brief for item in sent_arguments(result, []))
    # Up to the threshold, auto keeps the full results.
    assert all("cert" in c for c in bed.run(sectigo_certs, dict(args, certificates=ITEMS[:2]))["certificates"])
