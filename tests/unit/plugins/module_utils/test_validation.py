"""One validator for every option: bad values are refused before any Vault write or SCM request, naming the option.

Each case runs against the real services with an in-memory Vault and a fake SCM that record every call,
so a value that slips through validation shows up as a write or an SCM call.
"""
from __future__ import annotations

import pytest

from lifecycle_fakes import FakeScm, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import request as req_mod
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.revoke import RevokeService

SSL_CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
              "defaults": {"cert_type": 101, "term": 365}}
CLIENT_CONFIG = dict(SSL_CONFIG, name="people", config_type="client_cert", defaults={"cert_type": 201, "term": 365})
GOOD_CONFIG = {"name": "cfg", "config_type": "ssl_cert", "base_url": "https://scm.example.com/api", "customer_uri": "acme",
               "login": "api", "password": "pw", "org_id": 1001}


def _ensure(config, **given):
    store, scm = FakeStore(), FakeScm()
    service = CertificateService(store, config, lambda: scm, sleep=lambda s: None)
    params = {"config": config["name"], "name": "web01", "common_name": "web01.example.com"}
    params.update(given)
    with pytest.raises(InputError) as err:
        service.ensure(CertRequest(**params))
    return err.value, store, scm


TASK_CASES = [
    ({"expiry_window": "soon"}, "expiry_window"),
    ({"expiry_window": "-3"}, "expiry_window"),
    ({"expiry_window": -3}, "expiry_window"),
    ({"common_name": "a" * 76}, "common_name"),
    ({"ssl_id": -5}, "ssl_id"),
    ({"ssl_id": 0}, "ssl_id"),
    ({"order_number": 12}, "order_number"),
    ({"external_requester": ("x" * 300) + "@example.com," + ("y" * 300) + "@example.com"}, "external_requester"),
    ({"external_requester": "not-an-email"}, "external_requester"),
    ({"comments": "c" * 1000}, "comments"),
    ({"comments": "two\nlines"}, "comments"),
    ({"cert_unique_id": "../../etc", "name": None}, "cert_unique_id"),
    ({"name": "../etc"}, "name"),
    ({"term": 0}, "term"),
    ({"cert_type": -1}, "cert_type"),
    ({"max_timeout": -1}, "max_timeout"),
    ({"loop_period": "often"}, "loop_period"),
    ({"num_servers": -2}, "num_servers"),
    ({"country": "USA"}, "country"),
    ({"organization": "o" * 65}, "organization"),
    ({"subject_alt_names": ["bad name with spaces"]}, "subject_alt_names"),
    ({"custom_fields": [{"name": "x"}]}, "custom_fields"),
    ({"custom_fields": "not json"}, "custom_fields"),
    ({"format_type": "der"}, "format_type"),
    ({"state": "replaced"}, "reason"),
    ({"reason": "r" * 513, "state": "replaced"}, "reason"),
    ({"cert_unique_id": "1001_acme"}, "cert_unique_id"),
    ({"email": "bob@example.com"}, "email"),
    ({"first_name": "Bob"}, "first_name"),
    ({"common_name": "web01.example.com\nwww.example.com"}, "common_name"),
    ({"common_name": "['a.example.com', 'b.example.com']"}, "common_name"),
    ({"email_address": "not an address"}, "email_address"),
    ({"subject_alt_names": ["www.example.com", ""]}, "subject_alt_names"),
    ({"loop_period": 0}, "loop_period"),
    ({"expiry_window": "150%"}, "expiry_window"),
]


@pytest.mark.parametrize("given, field", TASK_CASES, ids=[c[1] + "-" + str(i) for i, c in enumerate(TASK_CASES)])
def test_bad_task_option_touches_nothing(given, field):
    error, store, scm = _ensure(SSL_CONFIG, **given)
    assert error.field == field and field in str(error)
    assert store.writes == 0 and scm.calls == []


CLIENT_CASES = [
    ({"email": "x" * 300 + "@example.com"}, "email"),
    ({"email": "not an address"}, "email"),
    ({"ssl_id": 5}, "ssl_id"),
    ({"first_name": "a" * 40, "last_name": "b" * 40}, "first_name"),
]


@pytest.mark.parametrize("given, field", CLIENT_CASES)
def test_bad_client_option_touches_nothing(given, field):
    params = {"email": "me@example.com", "first_name": "Ada", "last_name": "Lovelace", "common_name": None}
    params.update(given)
    error, store, scm = _ensure(CLIENT_CONFIG, **params)
    assert error.field == field and field in str(error) and "common_name" not in str(error)
    assert store.writes == 0 and scm.calls == []


@pytest.mark.parametrize("defaults, field", [
    ({"expiry_window": "soon"}, "defaults.expiry_window"),
    ({"term": "forever"}, "defaults.term"),
    ({"wait": "maybe"}, "defaults.wait"),
    ({"format_type": "der"}, "defaults.format_type"),
    ({"colour": "blue"}, "defaults.colour"),
])
def test_a_bad_config_default_is_refused_when_stored_and_when_used(defaults, field):
    store = FakeStore()
    with pytest.raises(InputError) as err:
        ConfigService(store, scm_factory=lambda c: pytest.fail("no SCM call")).ensure_present(dict(GOOD_CONFIG, defaults=defaults))
    assert err.value.field == field and store.writes == 0
    if field != "defaults.colour":
        # A config written before this check (or by hand) is refused when a task uses the default, before any I/O.
        error, store, scm = _ensure(dict(SSL_CONFIG, defaults=dict(SSL_CONFIG["defaults"], **defaults)))
        assert error.field == field and store.writes == 0 and scm.calls == []


@pytest.mark.parametrize("change, field", [
    ({"base_url": "not a url"}, "base_url"),
    ({"base_url": "ftp://scm.example.com/api"}, "base_url"),
    ({"org_id": -1}, "org_id"),
    ({"customer_uri": "a b"}, "customer_uri"),
])
def test_bad_connection_field_is_not_saved(change, field):
    store = FakeStore()
    with pytest.raises(InputError) as err:
        ConfigService(store, scm_factory=lambda c: pytest.fail("no SCM call")).ensure_present(dict(GOOD_CONFIG, **change))
    assert err.value.field == field and store.writes == 0


def test_good_defaults_are_normalised_once():
    store = FakeStore()
    result = ConfigService(store, scm_factory=None).ensure_present(
        dict(GOOD_CONFIG, defaults={"term": "365", "wait": "no", "expiry_window": "20%", "custom_fields": '[{"name": "a", "value": "b"}]'}))
    assert result.changed
    stored = store.read("configs/cfg")[0]["defaults"]
    assert stored == {"term": 365, "wait": False, "expiry_window": "20%", "custom_fields": [{"name": "a", "value": "b"}]}


@pytest.mark.parametrize("given, field", [
    ({"serial_number": "not-hex!"}, "serial_number"),
    ({"ssl_id": -5}, "ssl_id"),
    ({"order_number": 7}, "order_number"),
    ({"cert_unique_id": "../../etc"}, "cert_unique_id"),
    ({"name": "a/b"}, "name"),
    ({"name": "web01", "reason": ""}, "reason"),
    ({"name": "web01", "reason_code": 2}, "reason_code"),
    ({"name": "web01", "ssl_id": 5}, "name"),
])
def test_bad_revoke_input_touches_nothing(given, field):
    store, scm = FakeStore(), FakeScm()
    args = {"reason": "gone", "reason_code": 0}
    args.update(given)
    with pytest.raises(InputError) as err:
        RevokeService(store, SSL_CONFIG, lambda: scm).revoke(**args)
    assert err.value.field == field and store.writes == 0 and scm.calls == []


def test_client_revocation_reason_may_be_empty():
    reason, code = RevokeService(FakeStore(), CLIENT_CONFIG, lambda: None).validate("", "superseded", {"name": "me"})
    assert (reason, code) == ("", 4)


def test_every_defaultable_option_has_one_rule():
    assert set(req_mod.DEFAULTABLE_OPTIONS) == set(req_mod.OPTION_RULES)


def test_a_client_certificate_may_carry_a_person_as_common_name():
    store, scm = FakeStore(), FakeScm()
    service = CertificateService(store, CLIENT_CONFIG, lambda: scm, sleep=lambda s: None)
    result = service.ensure(CertRequest(config="people", name="ada", common_name="Ada Lovelace", email="ada@example.com",
                                        first_name="Ada", last_name="Lovelace"))
    assert result.record["status"] == "Issued" and result.record["domain"] == "Ada Lovelace"
