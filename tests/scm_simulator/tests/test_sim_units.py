"""The simulator's parts without HTTP: settings, faults, formats, dates, serials, validation, persistence, CA files."""
from __future__ import annotations

import json
import random

import pytest

from scm_simulator import errors, formats, validation, views
from scm_simulator.ca import CaError, CertificateAuthority, colon_hex, key_type, serial_from_text
from scm_simulator.config import ConfigError, RuntimeConfig
from scm_simulator.faults import FaultInjector
from scm_simulator.store import StateError, Store


@pytest.mark.parametrize("given, expected", [("x509co", "x509CO"), ("X509IOR", "x509IOR"), (" pem ", "pem"), ("BASE64", "base64"),
                                             ("p12", None), ("", None)])
def test_format_names_are_case_insensitive(given, expected):
    assert formats.canonical(given) == expected


def test_every_documented_format_is_known():
    assert set(formats.FORMATS) == {"x509", "x509CO", "x509IO", "x509IOR", "x509R", "base64", "bin", "pem", "pemco", "pemia"}


@pytest.mark.parametrize("name, smime, fmt, expected", [
    ("www.example.com", False, "x509", "www_example_com_cert.cer"),
    ("www.example.com", False, "base64", "www_example_com_cert.cer"),
    ("Alice Doe", True, "base64", "Alice_Doe.p7b"),
    ("Alice Doe", True, "x509CO", "Alice_Doe.cer"),
])
def test_download_file_names(name, smime, fmt, expected):
    assert formats.filename(name, fmt, smime) == expected


@pytest.mark.parametrize("given, expected", [(None, "%m/%d/%Y"), ("US", "%m/%d/%Y"), ("iso", "%Y-%m-%d"), ("ISO_HMS", "%Y-%m-%d %H:%M:%S"),
                                             ("eu", "%d.%m.%Y"), ("dd.MM.yyyy", "%d.%m.%Y"), ("yyyy/MM/dd HH:mm", "%Y/%m/%d %H:%M"),
                                             ("100%", None)])
def test_date_formats(given, expected):
    if expected is None:
        with pytest.raises(errors.ApiError):
            views.date_format(given, "%m/%d/%Y")
    else:
        assert views.date_format(given, "%m/%d/%Y") == expected


def test_serial_numbers_in_scm_form():
    assert colon_hex(0x0A1B2C) == "0A:1B:2C"
    assert serial_from_text("0a:1b:2c") == serial_from_text("0A1B2C") == 0x0A1B2C
    assert serial_from_text("not hex") is None and serial_from_text("") is None


def test_config_merge_is_all_or_nothing():
    config = RuntimeConfig(issue_delay=1)
    with pytest.raises(ConfigError, match="fault_429_rate"):
        config.merge({"issue_delay": 5, "fault_429_rate": 2})
    assert config["issue_delay"] == 1
    assert config.merge({"fault_match": "enroll$", "mandatory_custom_fields": ["Owner"]})["fault_match"] == "enroll$"
    snapshot = config.snapshot()
    snapshot["mandatory_custom_fields"].append("mutated")
    assert config["mandatory_custom_fields"] == ["Owner"]


def test_config_counts_are_used_up():
    config = RuntimeConfig(fault_429_count=2)
    assert [config.take("fault_429_count") for _attempt in range(3)] == [True, True, False]


def test_fault_rates_follow_the_random_source():
    config = RuntimeConfig(fault_5xx_rate=0.5)
    injector = FaultInjector(config, random.Random(7))
    chosen = [injector.choose("GET /api/ssl/v1/types") for _attempt in range(200)]
    assert 60 < chosen.count("5xx") < 140 and set(chosen) == {"5xx", None}
    assert injector.counts()["5xx"] == chosen.count("5xx")


def test_fault_budgets_come_before_rates_and_respect_the_match():
    config = RuntimeConfig(fault_reset_count=1, fault_5xx_count=1, fault_match="enroll")
    injector = FaultInjector(config, random.Random(1))
    assert injector.choose("GET /api/ssl/v1/types") is None
    assert [injector.choose("POST /api/ssl/v1/enroll") for _attempt in range(3)] == ["reset", "5xx", None]


@pytest.mark.parametrize("body, expected", [
    ({"reason": "x", "reasonCode": 1}, ("x", 1)),
    ({"reason": "x", "reasonCode": "5"}, ("x", 5)),
    ({"reason": "x"}, ("x", 0)),
])
def test_revocation_bodies(body, expected):
    assert validation.revocation(body, reason_required=True) == expected


@pytest.mark.parametrize("body", [{"reasonCode": 1}, {"reason": "x", "reasonCode": True}, {"reason": "x", "reasonCode": 6}, "text"])
def test_revocation_refusals(body):
    with pytest.raises(errors.ApiError):
        validation.revocation(body, reason_required=True)


def test_smime_revocation_may_have_no_reason():
    assert validation.revocation(None, reason_required=False) == ("", 0)


def test_state_survives_a_new_store(tmp_path, keys, make_csr):
    store = Store(str(tmp_path))
    order = store.add("ssl", profile_id=101, term=365, org_id=1001, csr=make_csr(keys.get()), common_name="a.example.com",
                      sans=["a.example.com"], comments="hello")
    store.person("x@example.com", firstName="X")
    again = Store(str(tmp_path))
    assert again.by_id("ssl", order.id) == order
    assert again.by_renew_id(order.renew_id or "") == order
    assert again.person("X@example.com")["personId"] == store.person("x@example.com")["personId"]
    assert again.add("smime", profile_id=201, term=365, org_id=1001, csr=order.csr, common_name="X", sans=[]).order_number == \
        order.order_number + 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".state-")] == []  # no temporary files left behind


def test_a_foreign_state_file_is_refused(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"version": 99}))
    with pytest.raises(StateError, match="not written by this simulator"):
        Store(str(tmp_path))
    (tmp_path / "state.json").write_text("{broken")
    with pytest.raises(StateError, match="cannot read"):
        Store(str(tmp_path))


def test_ca_files_are_made_once_and_reused(tmp_path):
    first = CertificateAuthority.load_or_create(str(tmp_path))
    second = CertificateAuthority.load_or_create(str(tmp_path))
    assert first.root_pem == second.root_pem and first.intermediate_pem == second.intermediate_pem
    (tmp_path / "ca" / "intermediate.key").unlink()
    with pytest.raises(CaError, match="incomplete CA"):
        CertificateAuthority.load_or_create(str(tmp_path))


def test_key_types_in_profile_words(keys):
    assert key_type(keys.get("ec256").public_key()) == ("EC", "P-256")
    assert key_type(keys.get("rsa2048").public_key()) == ("RSA", "2048")
