"""Unit tests of the renewal spread (_lifecycle/schedule, _estate/plan): deterministic renewal times inside the window."""
from __future__ import annotations

import collections
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import schedule
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import validate_defaults
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import plan

ISSUED_ON = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
CONFIG = {"name": "prod", "config_type": "ssl_cert", "defaults": {"expiry_window": 30}}


def _fleet(count=300):
    """``count`` records issued on one day for a year, with distinct ids and serial numbers."""
    return [{"cert_unique_id": f"{1000 + i}_acme", "serial_number": f"{0x5A000 + i:X}", "status": rec.ISSUED,
             "not_before": rec.iso(ISSUED_ON + timedelta(minutes=i)), "not_after": rec.iso(ISSUED_ON + timedelta(days=365, minutes=i))}
            for i in range(count)]


def _times(config, records):
    return [plan.renew_after(config, r) for r in records]


def test_300_certificates_of_one_day_renew_over_at_least_ten_days_none_over_15_percent():
    times = _times(CONFIG, _fleet())
    per_day = collections.Counter(t.date() for t in times)
    assert len(per_day) >= 10
    assert max(per_day.values()) <= 0.15 * 300
    for record, moment in zip(_fleet(), times):
        not_after = rec.parse_iso(record["not_after"])
        assert not_after - timedelta(days=30) <= moment < not_after - timedelta(days=30 * (1 - schedule.DEFAULT_SPREAD)) + timedelta(seconds=1)


def test_renewal_times_are_the_same_on_a_second_run_and_in_a_second_process():
    first = [rec.iso(t) for t in _times(CONFIG, _fleet())]
    assert first == [rec.iso(t) for t in _times(CONFIG, _fleet())]
    code = ("import json, sys\n"
            "from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import schedule\n"
            "idents = json.load(sys.stdin)\n"
            "print(json.dumps([schedule.fraction(i) for i in idents]))\n")
    idents = [schedule.identity("prod", r) for r in _fleet()]
    import json
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(idents), capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": ":".join(sys.path), "PYTHONHASHSEED": "random"})
    assert json.loads(out.stdout) == [schedule.fraction(i) for i in idents]


def test_spread_zero_is_the_window_start():
    config = {"name": "prod", "defaults": {"expiry_window": 30, "renewal_spread": 0}}
    for record, moment in zip(_fleet(20), _times(config, _fleet(20))):
        assert moment == rec.parse_iso(record["not_after"]) - timedelta(days=30)


def test_a_new_serial_gives_a_new_renewal_time_and_other_configs_differ():
    record = _fleet(1)[0]
    renewed = dict(record, serial_number="ABCDEF")
    assert plan.renew_after(CONFIG, record) != plan.renew_after(CONFIG, renewed)
    assert plan.renew_after(CONFIG, record) != plan.renew_after(dict(CONFIG, name="test"), record)


def test_short_lifetime_guard_bounds_the_window():
    # 10-day certificate, window 30 days: the guard uses one third of the lifetime, the spread stays inside it.
    record = {"cert_unique_id": "1_acme", "serial_number": "01", "status": rec.ISSUED,
              "not_before": rec.iso(ISSUED_ON), "not_after": rec.iso(ISSUED_ON + timedelta(days=9))}
    moment = plan.renew_after(CONFIG, record)
    assert ISSUED_ON + timedelta(days=6) <= moment <= ISSUED_ON + timedelta(days=7.5)


def test_no_renewal_time_without_auto_renew_or_dates():
    config = {"name": "prod", "defaults": {"auto_renew": False}}
    assert plan.renew_after(config, _fleet(1)[0]) is None
    assert plan.renew_after(CONFIG, {"status": rec.APPLIED}) is None
    summary = {}
    plan.annotate(CONFIG, summary, _fleet(1)[0])
    assert summary["renew_after"].endswith("Z")


@pytest.mark.parametrize("value,expected", [(0, 0.0), (0.5, 0.5), ("25%", 0.25), ("0.9", 0.9), (0.9, 0.9)])
def test_spread_rule_accepts_shares_and_percentages(value, expected):
    assert schedule.renewal_spread(value) == expected
    assert validate_defaults({"renewal_spread": value}) == {"renewal_spread": expected}


@pytest.mark.parametrize("value", [-0.1, 0.95, "95%", "half", True, float("nan"), [1]])
def test_spread_rule_names_the_option_and_the_range(value):
    with pytest.raises(InputError) as err:
        validate_defaults({"renewal_spread": value})
    assert err.value.field == "defaults.renewal_spread"
    assert "0 to 0.9" in str(err.value)


def test_fraction_is_uniform_enough():
    values = [schedule.fraction(f"id-{i}") for i in range(2000)]
    assert all(0 <= v < 1 for v in values)
    buckets = collections.Counter(int(v * 10) for v in values)
    assert min(buckets.values()) > 150


def test_state_present_renews_from_the_renewal_time_on_and_cert_info_shows_it():
    """The decision of sectigo_cert, the lookup and the fleet (CertificateService) renews from renew_after, not before."""
    from lifecycle_fakes import FakeScm, FakeStore

    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertQuery, query_certificates
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

    config = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
              "defaults": {"cert_type": 101, "term": 365, "loop_period": 5, "expiry_window": 30, "renewal_spread": 0.9}}
    store, scm = FakeStore(), FakeScm()
    store.data[rec.config_path("prod")] = (config, 1)
    moment = {"now": rec.utc_now()}

    def service():
        return CertificateService(store, config, lambda: scm, clock=lambda: moment["now"], sleep=lambda s: None, rand=lambda: 0.5)
    first = service().ensure(CertRequest(config="prod", name="web01", common_name="web01.example.com")).record
    due = plan.renew_after(config, first)
    window_start = rec.parse_iso(first["not_after"]) - timedelta(days=30)
    assert window_start <= due <= window_start + timedelta(days=27)
    listing = query_certificates(store, CertQuery(config="prod"), annotate=plan.annotate)
    assert listing["certificates"][0]["renew_after"] == rec.iso(due)

    scm.calls.clear()
    moment["now"] = due - timedelta(seconds=1)
    assert service().ensure(CertRequest(config="prod", name="web01")).action == "none"
    assert scm.calls == []
    moment["now"] = due + timedelta(seconds=1)
    assert service().ensure(CertRequest(config="prod", name="web01")).action == "renewed"
