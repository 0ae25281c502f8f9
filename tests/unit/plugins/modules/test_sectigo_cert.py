"""sectigo_cert as Ansible runs it: arguments, result shape, check mode, diff and failures."""
from __future__ import annotations

from ansible_collections.sectigo.vault_pki.plugins.modules import sectigo_cert

WEB01 = {"config": "prod", "name": "web01", "common_name": "web01.example.com", "subject_alt_names": ["www.example.com"]}


def test_enroll_result_shape_without_the_key(bed, ssl_config):
    result = bed.run(sectigo_cert, WEB01)
    assert result["changed"] is True and result["action"] == "enrolled"
    cert = result["cert"]
    assert cert["status"] == "Issued" and "private_key" not in cert and "pending" not in cert
    assert result["vault_path"] == f"sectigo-vault-pki/certs/prod/{cert['cert_unique_id']}"
    assert isinstance(result["days_remaining"], int) and result["days_remaining"] >= 364
    assert "diff" not in result
    again = bed.run(sectigo_cert, WEB01)
    assert (again["changed"], again["action"]) == (False, "none")
    assert bed.scm.calls.count("enroll_ssl") == 1


def test_return_private_key_is_opt_in(bed, ssl_config):
    result = bed.run(sectigo_cert, dict(WEB01, return_private_key=True))
    assert result["cert"]["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_check_mode_predicts_and_touches_nothing(bed, ssl_config):
    writes = bed.store.writes
    result = bed.run(sectigo_cert, WEB01, check_mode=True, diff=True)
    assert (result["changed"], result["action"]) == (True, "enrolled")
    assert result["diff"]["before"] == {} and result["diff"]["after"]["domain"] == "web01.example.com"
    assert bed.store.writes == writes and bed.scm.calls == []


def test_diff_holds_public_facts_only(bed, ssl_config):
    result = bed.run(sectigo_cert, dict(WEB01, return_private_key=True), diff=True)
    text = repr(result["diff"])
    assert "PRIVATE KEY" not in text and result["diff"]["after"]["status"] == "Issued"


def test_aliases_of_the_vault_plugin_are_accepted(bed, ssl_config):
    result = bed.run(sectigo_cert, {"config_name": "prod", "name": "web02", "sectigo_csr_domain": "web02.example.com",
                                    "sectigo_ssl_cert_validity": 365, "sectigo_ssl_cert_type": 101})
    assert result["cert"]["domain"] == "web02.example.com"


def test_bad_option_fails_naming_it_before_any_io(bed, ssl_config):
    writes = bed.store.writes
    result = bed.run(sectigo_cert, dict(WEB01, expiry_window="soon"))
    assert result["failed"] is True and result["field"] == "expiry_window" and "expiry_window" in result["msg"]
    assert bed.store.writes == writes and bed.scm.calls == []


def test_argspec_choices_are_refused_by_ansible(bed, ssl_config):
    result = bed.run(sectigo_cert, dict(WEB01, state="gone"))
    assert result["failed"] is True and "state" in result["msg"] and "present" in result["msg"]


def test_unknown_config_names_the_option(bed):
    result = bed.run(sectigo_cert, dict(WEB01, config="nope"))
    assert result["failed"] is True and result["field"] == "config" and "sectigo_config" in result["msg"]


def test_scm_refusal_carries_the_scm_code(bed, ssl_config):
    bed.scm.refuse_enroll = -36
    result = bed.run(sectigo_cert, WEB01)
    assert result["failed"] is True and result["scm_code"] == -36 and result["msg"].startswith("Failed to manage the certificate")
