"""The pure decisions on a sectigo_cert task: option resolution, validation, desired subject, drift."""
from __future__ import annotations

from dataclasses import fields

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import SmimeKind, SslKind
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import (
    CERT_OPTIONS, DEFAULTABLE_OPTIONS, PLUGIN_NAMES, CertRequest, apply_csr, cert_options, desired_subject, drift, key_and_csr,
    resolve_option, validate_defaults, validate_request,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError

SSL = SslKind(lambda: None, "acme")
SMIME = SmimeKind(lambda: None, "acme")
CONFIG = {"name": "prod", "config_type": "ssl_cert", "defaults": {"term": "730", "loop_period": 5, "expiry_window": "20%"}}
EC_KEY = crypto.generate_private_key(crypto.normalize_key_spec("EC", key_curve="P-256"))


def stored_record(**changes):
    """A record as enrollment leaves it: subject, SANs and key facts read from its CSR."""
    record = {"cert_unique_id": "1_acme"}
    csr = crypto.build_csr(EC_KEY, common_name="www.example.com", organization="Example", subject_alt_names=["alt.example.com"])
    apply_csr(record, EC_KEY, csr, {"sans": ["alt.example.com"]})
    record.update(changes)
    return record


@pytest.mark.parametrize("given, key, expected", [
    ({}, "term", 730),                       # config default, a templated string made a number
    ({"term": 365}, "term", 365),            # the task wins
    ({}, "max_timeout", 600),                # built-in default
    ({}, "loop_period", 5),
    ({}, "expiry_window", "20%"),
    ({}, "cert_type", None),                 # nothing anywhere
])
def test_resolve_option_precedence(given, key, expected):
    assert resolve_option(CertRequest(config="prod", name="web", **given), CONFIG, key) == expected


@pytest.mark.parametrize("given, field", [
    ({"state": "gone"}, "state"),
    ({"name": "bad name"}, "name"),
    ({"name": None}, "name"),
    ({"state": "replaced"}, "reason"),
    ({"reason": "x" * 513}, "reason"),
    ({"format_type": "der"}, "format_type"),
    ({"max_timeout": -1}, "max_timeout"),
    ({"key_algo": "DSA"}, "key_algo"),
    ({"csr": "not a csr"}, "csr"),
    ({"first_name": "a" * 40, "last_name": "b" * 40}, "first_name"),
    ({"custom_fields": [{"name": "x"}]}, "custom_fields"),
])
def test_validate_request_names_the_field(given, field):
    params = {"config": "prod", "name": "web"}
    params.update(given)
    with pytest.raises(InputError) as err:
        validate_request(CertRequest(**params), CONFIG, SSL)
    assert err.value.field == field


def test_desired_subject_task_over_record_and_key_from_csr():
    record = stored_record()
    kept = desired_subject(CertRequest(config="prod", name="web"), record)
    assert (kept["common_name"], kept["sans"], kept["spec"].algo) == ("www.example.com", ["alt.example.com"], "EC")
    assert kept["subject"]["organization"] == "Example"
    rsa_csr = crypto.build_csr(crypto.generate_private_key(crypto.normalize_key_spec("RSA", 2048)), common_name="new.example.com")
    changed = desired_subject(CertRequest(config="prod", name="web", csr=rsa_csr, organization="Other"), record)
    assert (changed["spec"].algo, changed["spec"].size, changed["subject"]["organization"]) == ("RSA", 2048, "Other")


@pytest.mark.parametrize("given, expected", [
    ({}, []),                                                                   # omitted options never drift
    ({"common_name": "www.example.com", "subject_alt_names": ["alt.example.com"]}, []),
    ({"subject_alt_names": "alt.example.com"}, []),                            # a string is one SAN
    ({"common_name": "other.example.com"}, ["common_name"]),
    ({"subject_alt_names": ["alt.example.com", "b.example.com"]}, ["subject_alt_names"]),
    ({"organization": "Else"}, ["organization"]),
    ({"key_algo": "RSA"}, ["key spec"]),
    ({"key_algo": "EC", "key_curve": "P-256"}, []),
    ({"cert_type": 104, "term": 365}, []),                                    # order options are not drift
])
def test_drift_table(given, expected):
    assert drift(CertRequest(config="prod", name="web", **given), stored_record(), SSL) == expected


def test_drift_of_a_brought_key_and_client_email():
    other_key = crypto.generate_private_key(crypto.normalize_key_spec("EC", key_curve="P-256"))
    assert drift(CertRequest(config="prod", name="web", private_key=other_key), stored_record(), SSL) == ["private_key"]
    assert drift(CertRequest(config="prod", name="web", private_key=EC_KEY), stored_record(), SSL) == []
    client = stored_record(email="a@example.com")
    assert drift(CertRequest(config="prod", name="me", email="b@example.com"), client, SMIME) == ["email"]
    assert drift(CertRequest(config="prod", name="me", email="b@example.com"), client, SSL) == []


def test_key_and_csr_rotates_or_keeps_the_key():
    record = stored_record()
    desired = desired_subject(CertRequest(config="prod", name="web"), record)
    kept_key, kept_csr = key_and_csr(CertRequest(config="prod", name="web"), desired, SSL, rotate=False, record=record)
    new_key, new_csr = key_and_csr(CertRequest(config="prod", name="web"), desired, SSL, rotate=True, record=record)
    assert kept_key == EC_KEY and new_key != EC_KEY
    crypto.check_key_matches_csr(kept_key, kept_csr)
    crypto.check_key_matches_csr(new_key, new_csr)
    assert crypto.csr_info(new_csr)["subject_alt_names"] == crypto.csr_info(kept_csr)["subject_alt_names"]
    only_csr = CertRequest(config="prod", name="web", csr=kept_csr)
    assert key_and_csr(only_csr, desired, SSL, rotate=True, record=record) == (None, kept_csr)


# ---- the option table (CERT_OPTIONS): one source of the certificate options of sectigo_cert and sectigo_certs ----


def test_cert_options_are_the_fields_of_a_request():
    assert set(CERT_OPTIONS) == {f.name for f in fields(CertRequest)} - {"config"}


def test_cert_option_names_and_aliases_are_unique():
    names = list(CERT_OPTIONS) + [alias for entry in CERT_OPTIONS.values() for alias in entry.get("aliases", [])]
    assert len(names) == len(set(names))


def test_cert_options_are_copies_without_the_excluded_ones():
    spec = cert_options(("name", "wait"), defaults=False)
    assert "name" not in spec and "wait" not in spec and set(spec) == set(CERT_OPTIONS) - {"name", "wait"}
    assert "default" not in spec["state"] and "default" not in spec["rotate_key_on_renew"]
    spec["state"]["choices"].append("gone")
    spec["common_name"]["aliases"].clear()
    assert CERT_OPTIONS["state"] == {"type": "str", "choices": ["present", "renewed", "replaced", "absent"], "default": "present"}
    assert "sectigo_csr_domain" in CERT_OPTIONS["common_name"]["aliases"]
    assert cert_options() == CERT_OPTIONS
    with pytest.raises(KeyError, match="nmae"):
        cert_options(("nmae",))


def test_custom_fields_option_takes_the_plugins_json_text():
    # type raw: Ansible passes the JSON text through; the rule checks it, for a task and a config default alike.
    assert CERT_OPTIONS["custom_fields"]["type"] == "raw"
    req = CertRequest(config="prod", name="web", custom_fields='[{"name": "cost", "value": "12"}]')
    assert resolve_option(req, CONFIG, "custom_fields") == [{"name": "cost", "value": "12"}]


def test_plugin_names_of_defaults_are_the_option_aliases():
    for option in DEFAULTABLE_OPTIONS:
        assert PLUGIN_NAMES.get(option, ()) == tuple(CERT_OPTIONS.get(option, {}).get("aliases", ()))
        for alias in PLUGIN_NAMES.get(option, ()):
            assert list(validate_defaults({alias: None})) == [option]
