"""Unit tests of the poll schedule (_collector) and the renewal window (_cert_request) with a fake clock and a fake sleep (no real time passes)."""
from __future__ import annotations

import random

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import parse_expiry_window
from ansible_collections.sectigo.vault_pki.plugins.module_utils._collector import MIN_DELAY, PollSchedule, PollTimeout, poll


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
    (600, 30, {}, [1, 2, 4, 8, 16] + [30] * 18 + [29]),
    (10, 30, {}, [1, 2, 4, 3]),
    (20, 5, {}, [1, 2, 4, 5, 5, 3]),
    (7, 0.5, {}, [0.5] * 14),
    (6, 30, {"first_delay": 2, "factor": 3}, [2, 4]),
    (9, 30, {"factor": 1}, [1] * 9),
    (0, 30, {}, []),
    (0.3, 0, {}, [MIN_DELAY] * 3),
])
def test_schedule_without_jitter(max_timeout, loop_period, kw, expected):
    fake = FakeTime()
    delays = _delays(_schedule(fake, max_timeout, loop_period, **kw), fake)
    assert delays == pytest.approx(expected)
    assert sum(delays) == pytest.approx(max_timeout)


@pytest.mark.parametrize("rand, first, capped", [(0.0, 0.8, 24.0), (1.0, 1.2, 30.0), (0.5, 1.0, 30.0)])
def test_jitter_bounds_and_cap(rand, first, capped):
    fake = FakeTime()
    delays = _delays(_schedule(fake, 600, 30, rand=rand), fake)
    assert delays[0] == pytest.approx(first)
    assert max(delays) <= 30
    assert delays[10] == pytest.approx(capped)


@pytest.mark.parametrize("seed", range(20))
def test_random_schedules_stay_within_bounds(seed):
    rng = random.Random(seed)
    fake = FakeTime()
    max_timeout, loop_period = rng.uniform(0.5, 900), rng.uniform(0.5, 60)
    schedule = PollSchedule(max_timeout, loop_period, clock=fake.clock, rand=rng.random)
    delays = _delays(schedule, fake)
    assert delays and all(0 < d <= loop_period + 1e-9 for d in delays)
    assert delays[0] <= min(1.2, loop_period)
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


def test_first_delay_never_above_loop_period():
    fake = FakeTime()
    assert _schedule(fake, 60, 0.4, first_delay=5).next_delay() == pytest.approx(0.4)


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
    ([None, None, "done"], "done", [1, 2]),
    ([None, []], [], [1]),
    ([None, 0], 0, [1]),
])
def test_poll_returns_first_result(results, expected, slept):
    fake = FakeTime()
    check = Check(fake, results)
    assert poll(check, _schedule(fake, 600, 30), sleep=fake.sleep) == expected
    assert fake.slept == slept


def test_poll_times_out_after_a_last_check_at_the_deadline():
    fake = FakeTime(start=0.0)
    check = Check(fake, [])
    with pytest.raises(PollTimeout) as excinfo:
        poll(check, _schedule(fake, 10, 30), sleep=fake.sleep)
    assert check.times == [0, 1, 3, 7, 10]
    assert excinfo.value.max_timeout == 10 and excinfo.value.attempts == 5
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
        poll(check, _schedule(fake, 600, 30), sleep=fake.sleep)
    assert fake.slept == [1]


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
    ("150%", 30, 10.0),
    ("3", 1, 1 / 3),
])
def test_window_not_shorter_than_lifetime_uses_a_third(value, lifetime, expected):
    window, warning = parse_expiry_window(value, lifetime)
    assert window == pytest.approx(expected)
    assert warning and "one third" in warning and str(value) in warning


@pytest.mark.parametrize("value", ["abc", "-1", -1, "7d", "%", "", True, [7], "33%%", float("nan"), float("inf")])
def test_expiry_window_errors(value):
    with pytest.raises(ValueError) as excinfo:
        parse_expiry_window(value, 365)
    assert str(excinfo.value).startswith("expiry_window must be a number of days (0 or more) or a percentage of the lifetime such as 33%; got ")
