"""Unit tests of the order budget (_estate/budget): at most max_orders orders, the closest to expiry first."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from lifecycle_fakes import FakeScm, FakeStore
from test_fleet import Clock, Locked

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.budget import check_max_orders, run_with_budget
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, build_requests

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
          "defaults": {"cert_type": 101, "term": 365, "loop_period": 5, "expiry_window": 30, "renewal_spread": 0}}
NAMES = [{"name": f"web{i:02d}", "common_name": f"web{i:02d}.example.com"} for i in range(10)]


@pytest.fixture
def bed():
    lock = threading.RLock()
    store, scm, clock = FakeStore(), FakeScm(), Clock()
    locked_store, locked_scm = Locked(store, lock), Locked(scm, lock)
    locked_store.base_path = store.base_path

    def fleet(check_mode=False):
        return Fleet(locked_store, CONFIG, lambda: locked_scm, concurrency=4, check_mode=check_mode,
                     sleep=clock.sleep, monotonic=clock.monotonic, rand=lambda: 0.5)
    assert all(o.error is None for o in fleet().run(build_requests(NAMES, {"config": "prod"})))
    # Every certificate inside its window, web09 closest to expiry, web00 farthest.
    now = rec.utc_now()
    for path, (record, version) in list(store.data.items()):
        if path.startswith("certs/prod/") and record.get("status") == rec.ISSUED:
            position = int(record["name"][3:])
            record["not_before"] = rec.iso(now - timedelta(days=300))
            record["not_after"] = rec.iso(now + timedelta(days=20 - position))
            store.data[path] = (record, version)
    scm.calls.clear()
    return store, scm, fleet


def run(fleet, max_orders, check_mode=False):
    return run_with_budget(fleet(check_mode), build_requests([{"name": n["name"]} for n in NAMES], {"config": "prod"}),
                           max_orders, lambda: fleet(True))


def test_at_most_max_orders_the_closest_to_expiry_first_the_rest_deferred(bed):
    _store, scm, fleet = bed
    outcomes, deferred = run(fleet, 4)
    assert scm.calls.count("renew_ssl") == 4
    renewed = sorted(o.name for o in outcomes if o.result and o.result.action == "renewed")
    assert renewed == ["web06", "web07", "web08", "web09"]
    assert [row["name"] for row in deferred] == ["web05", "web04", "web03", "web02", "web01", "web00"]
    assert all(row["renew_after"] <= rec.iso(rec.utc_now()) and row["not_after"] for row in deferred)
    assert [o.result.action for o in outcomes if o.name in ("web00", "web05")] == ["deferred", "deferred"]
    assert not any(o.result.changed for o in outcomes if o.result.action == "deferred")

    # The next run orders the next four; the renewed ones are not due any more.
    scm.calls.clear()
    outcomes, deferred = run(fleet, 4)
    assert scm.calls.count("renew_ssl") == 4
    assert sorted(o.name for o in outcomes if o.result.action == "renewed") == ["web02", "web03", "web04", "web05"]
    assert [row["name"] for row in deferred] == ["web01", "web00"]


def test_check_mode_predicts_the_same_split_and_orders_nothing(bed):
    store, scm, fleet = bed
    writes = store.writes
    outcomes, deferred = run(fleet, 3, check_mode=True)
    assert scm.calls == [] and store.writes == writes
    assert sorted(o.name for o in outcomes if o.result.action == "renewed") == ["web07", "web08", "web09"]
    assert len(deferred) == 7
    real, real_deferred = run(fleet, 3)
    assert sorted(o.name for o in real if o.result.action == "renewed") == ["web07", "web08", "web09"]
    assert real_deferred == deferred


def test_no_budget_orders_everything_and_zero_orders_nothing(bed):
    _store, scm, fleet = bed
    _outcomes, deferred = run(fleet, 0)
    assert scm.calls.count("renew_ssl") == 0 and len(deferred) == 10
    outcomes, deferred = run(fleet, None)
    assert scm.calls.count("renew_ssl") == 10 and deferred == []
    assert all(o.result.action == "renewed" for o in outcomes)


@pytest.mark.parametrize("value", [-1, True, "3", 1.5])
def test_max_orders_is_checked(value):
    with pytest.raises(InputError) as err:
        check_max_orders(value)
    assert err.value.field == "max_orders"
