"""Unit tests of the poll schedule and the order watch (_collector) and the renewal window (_cert_request).

A fake clock and a fake sleep: no real time passes.
"""
from __future__ import annotations

import random

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import parse_expiry_window
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import (
    MIN_DELAY, OrderWatch, PollSchedule, PollTimeout, TerminalStatus, poll,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmPending

from lifecycle_fakes import FakeCA

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto

_CA = FakeCA()
ROOT = _CA.root_pem
LEAF = _CA.sign(crypto.build_csr(crypto.generate_private_key(crypto.normalize_key_spec("EC", key_curve="P-256")),
                                 common_name="web01.example.com"), 365)


class FakeTime:
    def __init__(self, start=1000.0):
        self.now = start
        self.slept: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.slept.append(seconds)
        self.now += seconds


def _delays(schedule, fake, limit=1000):
    """Every delay of ``schedule``, sleeping each on ``fake``."""
    out = []
    while len(out) < limit:
        delay = schedule.next_delay()
        if delay is None:
            return out
        out.append(delay)
        fake.sleep(delay)
    raise AssertionError("schedule never ends")


def _schedule(fake, max_timeout, loop_period, rand=0.5, **kw):
    return PollSchedule(max_timeout, loop_period, clock=fake.clock, rand=lambda: rand, **kw)


@pytest.mark.parametrize("max_timeout, loop_period, kw, expected", [
    (3, 30, {}, [1.0] * 3),
    (8, 30, {}, [1.0] * 6 + [1.2, 0.8]),
    (10, 30, {"min_delay": 2}, [2, 2, 2, 2, 2]),
    (10, 30, {"growth": 0}, [1.0] * 10),
    (7, 0.3, {}, [0.3] * 23 + [0.1]),
    (0, 30, {}, []),
    (0.3, 0, {}, [MIN_DELAY] * 3),
])
def test_schedule_without_jitter(max_timeout, loop_period, kw, expected):
    fake = FakeTime()
    delays = _delays(_schedule(fake, max_timeout, loop_period, rand=0.0, **kw), fake)
    assert delays == pytest.approx(expected)
    assert sum(delays) == pytest.approx(max_timeout)


def test_each_check_within_growth_of_the_time_since_the_start():
    fake = FakeTime(start=0.0)
    schedule = _schedule(fake, 600, 30, rand=0.0)
    times = [0.0]
    for delay in _delays(schedule, fake):
        times.append(times[-1] + delay)
    for previous, following in zip(times, times[1:]):
        assert following - previous <= max(1.0, 0.2 * previous) + 1e-9
        assert following - previous <= 30 + 1e-9
    assert times[-1] == pytest.approx(600)


@pytest.mark.parametrize("rand, factor", [(0.0, 1.0), (1.0, 0.75), (0.5, 0.875)])
def test_jitter_only_shortens(rand, factor):
    fake = FakeTime(start=0.0)
    schedule = _schedule(fake, 600, 30, rand=rand)
    assert schedule.next_delay() == pytest.approx(1.0 * factor)
    fake.now = 100.0
    assert schedule.next_delay() == pytest.approx(20.0 * factor)
    fake.now = 400.0
    assert schedule.next_delay() == pytest.approx(30.0 * factor)


@pytest.mark.parametrize("seed", range(20))
def test_random_schedules_stay_within_bounds(seed):
    rng = random.Random(seed)
    fake = FakeTime()
    max_timeout, loop_period = rng.uniform(0.5, 900), rng.uniform(0.5, 60)
    schedule = PollSchedule(max_timeout, loop_period, clock=fake.clock, rand=rng.random)
    delays = _delays(schedule, fake)
    assert delays and all(0 < d <= loop_period + 1e-9 for d in delays)
    assert delays[0] <= min(1.0, loop_period)
    assert sum(delays) == pytest.approx(max_timeout)
    assert schedule.expired() and schedule.remaining() == 0


def test_remaining_and_expired():
    fake = FakeTime()
    schedule = _schedule(fake, 10, 5)
    assert schedule.remaining() == 10 and not schedule.expired()
    fake.now += 4
    assert schedule.remaining() == 6
    fake.now += 7
    assert schedule.remaining() == 0 and schedule.expired()
    assert schedule.next_delay() is None


def test_zero_timeout_means_no_polling():
    fake = FakeTime()
    schedule = _schedule(fake, 0, 30)
    assert schedule.next_delay() is None and schedule.expired()


def test_min_delay_never_above_loop_period():
    fake = FakeTime()
    assert _schedule(fake, 60, 0.4, rand=0.0, min_delay=5).next_delay() == pytest.approx(0.4)


def test_a_given_start_counts_from_then():
    fake = FakeTime(start=50.0)
    schedule = PollSchedule(60, 30, clock=fake.clock, rand=lambda: 0.0, start=10.0)
    assert schedule.remaining() == pytest.approx(20)
    assert schedule.next_delay() == pytest.approx(8.0)


# ---- an order issued after D seconds: time to see it and collect requests, with a fake clock ----------


class FakeKind:
    """SCM as the watch sees it: an order issued ``delay`` seconds after ``start``; every request takes ``latency``."""

    def __init__(self, fake, delay, *, latency=0.05, lag=None, status_after=None):
        self.fake = fake
        self.issued_at = fake.now + delay
        self.latency = latency
        self.lag = lag  # collect stays pending this long after the details say Issued
        self.status_after = status_after
        self.collects = 0
        self.details = 0

    def order_id(self, record):
        return 7

    def status(self, oid):
        self.details += 1
        self.fake.now += self.latency
        if self.status_after and self.fake.now >= self.status_after[0]:
            return self.status_after[1]
        return "Issued" if self.fake.now >= self.issued_at else "Applied"

    def fetch(self, oid, fmt):
        self.collects += 1
        self.fake.now += self.latency
        ready = self.issued_at + (self.lag or 0)
        if self.fake.now < ready:
            raise ScmPending("pending", status=400, scm_code=0, description="Being processed by Sectigo")
        return (LEAF + ROOT).encode()


def _wait_for(delay, *, max_timeout=600, loop_period=30, seed=1, **kw):
    fake = FakeTime(start=0.0)
    kind = FakeKind(fake, delay, **kw)
    watch = OrderWatch(kind, {"ssl_id": 7, "ssl_format": "x509"}, monotonic=fake.clock)
    schedule = PollSchedule(max_timeout, loop_period, clock=fake.clock, rand=random.Random(seed).random, start=watch.start)
    try:
        pems = poll(watch.check, schedule, sleep=fake.sleep)
    except PollTimeout:
        pems = None
    return fake.now, pems, kind, watch


@pytest.mark.parametrize("delay", [0, 5, 20, 60])
@pytest.mark.parametrize("seed", range(5))
def test_issued_after_delay_is_seen_within_a_quarter_more(delay, seed):
    seen, pems, kind, watch = _wait_for(delay, seed=seed)
    assert pems and pems[0] == LEAF
    assert seen <= 1.25 * delay + 0.2
    assert kind.collects == watch.collects <= 2


@pytest.mark.parametrize("delay", [x / 2 for x in range(10, 1200, 7)])
def test_time_to_seen_over_a_range_of_delays(delay):
    seen, pems, kind, _watch = _wait_for(delay, seed=int(delay))
    assert pems
    assert seen <= 1.25 * delay
    assert kind.collects <= 12


@pytest.mark.parametrize("lag", [1, 30, 10 ** 6])
def test_at_most_twelve_collects_when_the_details_run_ahead(lag):
    _seen, pems, kind, _watch = _wait_for(3, lag=lag)
    assert kind.collects <= 12
    assert bool(pems) == (lag < 600)


def test_a_terminal_status_ends_the_wait():
    with pytest.raises(TerminalStatus, match="order 7 is Declined"):
        _wait_for(10 ** 6, status_after=(4.0, "Declined"))


def test_an_unknown_status_lets_collects_through_doubling_the_wait():
    # Without a status that says "not yet", collects are spaced by doubling: seen within twice the delay.
    seen, pems, kind, _watch = _wait_for(8, status_after=(0.0, "Being checked"))
    assert pems and seen <= 2 * 8 + 1 and kind.collects <= 12


# ---- poll -------------------------------------------------------------------------------------------


class Check:
    def __init__(self, fake, results):
        self.fake = fake
        self.results = list(results)
        self.times: list[float] = []

    def __call__(self):
        self.times.append(self.fake.now)
        if not self.results:
            return None
        item = self.results.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


@pytest.mark.parametrize("results, expected, slept", [
    (["done"], "done", []),
    ([None, None, "done"], "done", [1.0, 1.0]),
    ([None, []], [], [1.0]),
    ([None, 0], 0, [1.0]),
])
def test_poll_returns_first_result(results, expected, slept):
    fake = FakeTime()
    check = Check(fake, results)
    assert poll(check, _schedule(fake, 600, 30, rand=0.0), sleep=fake.sleep) == expected
    assert fake.slept == slept


def test_poll_times_out_after_a_last_check_at_the_deadline():
    fake = FakeTime(start=0.0)
    check = Check(fake, [])
    with pytest.raises(PollTimeout) as excinfo:
        poll(check, _schedule(fake, 10, 30, rand=0.0), sleep=fake.sleep)
    assert check.times[:4] == pytest.approx([0, 1.0, 2.0, 3.0]) and check.times[-1] == pytest.approx(10)
    assert excinfo.value.max_timeout == 10 and excinfo.value.attempts == len(check.times) == 10
    assert "10 s" in str(excinfo.value)


def test_poll_with_zero_timeout_checks_once():
    fake = FakeTime()
    check = Check(fake, [])
    with pytest.raises(PollTimeout):
        poll(check, _schedule(fake, 0, 30), sleep=fake.sleep)
    assert len(check.times) == 1 and fake.slept == []


def test_poll_propagates_errors_of_check():
    fake = FakeTime()
    check = Check(fake, [None, RuntimeError("SCM said no")])
    with pytest.raises(RuntimeError, match="SCM said no"):
        poll(check, _schedule(fake, 600, 30, rand=0.0), sleep=fake.sleep)
    assert fake.slept == [1.0]


# ---- expiry window ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, lifetime, expected", [
    (7, 365, 7.0),
    ("7", 365, 7.0),
    (" 10 ", 90, 10.0),
    ("2.5", 30, 2.5),
    (1.5, 30, 1.5),
    (0, 365, 0.0),
    (None, 365, 7.0),
    ("33%", 90, 29.7),
    ("50 %", 10, 5.0),
    ("0%", 10, 0.0),
    ("99%", 100, 99.0),
])
def test_expiry_window_without_warning(value, lifetime, expected):
    window, warning = parse_expiry_window(value, lifetime)
    assert window == pytest.approx(expected) and warning is None


@pytest.mark.parametrize("value, lifetime, expected", [
    (7, 3, 1.0),
    (7, 7, 7 / 3),
    ("100%", 30, 10.0),
    ("3", 1, 1 / 3),
])
def test_window_not_shorter_than_lifetime_uses_a_third(value, lifetime, expected):
    window, warning = parse_expiry_window(value, lifetime)
    assert window == pytest.approx(expected)
    assert warning and "one third" in warning and str(value) in warning


@pytest.mark.parametrize("value", ["abc", "-1", -1, "7d", "%", "", True, [7], "33%%", float("nan"), float("inf"), "150%"])
def test_expiry_window_errors(value):
    with pytest.raises(ValueError) as excinfo:
        parse_expiry_window(value, 365)
    assert str(excinfo.value).startswith("expiry_window must be a number of days (0 or more) or a percentage of the lifetime (0 to 100%) such as 33%; got ")
