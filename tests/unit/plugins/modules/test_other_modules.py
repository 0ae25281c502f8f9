"""sectigo_config, sectigo_cert_info and sectigo_revoke as Ansible runs them."""
from __future__ import annotations

from ansible_collections.sectigo.vault_pki.plugins.modules import sectigo_cert, sectigo_cert_info, sectigo_config, sectigo_revoke

CONFIG = {"name": "new", "config_type": "ssl_cert", "base_url": "https://scm.example.com/api", "customer_uri": "acme",
          "login": "api", "password": "never-shown-pw", "org_id": 1001, "defaults": {"cert_type": 101, "term": 365}}


def test_config_never_returns_the_password(bed):
    result = bed.run(sectigo_config, CONFIG, diff=True)
    assert result["changed"] is True and result["config"]["password_set"] is True
    assert "never-shown-pw" not in repr(result)
    assert result["vault_path"] == "sectigo-vault-pki/configs/new"
    assert bed.run(sectigo_config, CONFIG)["changed"] is False


def test_config_check_mode_writes_nothing(bed):
    result = bed.run(sectigo_config, CONFIG, check_mode=True)
    assert result["changed"] is True and bed.store.writes == 0


def test_config_bad_default_is_refused(bed):
    result = bed.run(sectigo_config, dict(CONFIG, defaults={"term": "forever"}))
    assert result["failed"] is True and result["field"] == "defaults.term" and bed.store.writes == 0


def test_cert_info_lists_without_keys(bed, ssl_config):
    bed.run(sectigo_cert, {"config": "prod", "name": "web01", "common_name": "web01.example.com"})
    listing = bed.run(sectigo_cert_info, {"config": "prod"})
    assert listing["changed"] is False
    assert [c["name"] for c in listing["certificates"]] == ["web01"]
    one = bed.run(sectigo_cert_info, {"config": "prod", "name": "web01"})
    assert "private_key" not in one["certificate"] and one["certificates"][0]["status"] == "Issued"


def test_revoke_check_mode_then_real(bed, ssl_config):
    bed.run(sectigo_cert, {"config": "prod", "name": "web01", "common_name": "web01.example.com"})
    calls = len(bed.scm.calls)
    predicted = bed.run(sectigo_revoke, {"config": "prod", "name": "web01", "reason": "test"}, check_mode=True)
    assert (predicted["changed"], predicted["action"]) == (True, "revoked") and len(bed.scm.calls) == calls
    done = bed.run(sectigo_revoke, {"config": "prod", "name": "web01", "reason": "test", "reason_code": "superseded"})
    assert done["cert"]["status"] == "Revoked" and done["cert"]["revoked"]["reason_code"] == 4
    assert bed.run(sectigo_revoke, {"config": "prod", "name": "web01", "reason": "test"})["changed"] is False


def test_revoke_needs_exactly_one_identity(bed, ssl_config):
    result = bed.run(sectigo_revoke, {"config": "prod", "name": "a", "ssl_id": 1, "reason": "x"})
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


def test_cert_info_and_cert_share_one_name_for_the_key(bed, ssl_config):
    bed.run(sectigo_cert, {"config": "prod", "name": "web01", "common_name": "web01.example.com"})
    for option in ("return_private_key", "include_private_key"):
        one = bed.run(sectigo_cert_info, {"config": "prod", "name": "web01", option: True})
        assert one["certificate"]["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
        again = bed.run(sectigo_cert, {"config": "prod", "name": "web01", option: True})
        assert again["cert"]["private_key"] == one["certificate"]["private_key"]
