"""The "not issued yet" wait and the renewal window (SPEC §4 "Collection and renewal"); no I/O in here.

Polling starts fast and backs off with jitter up to ``loop_period``, within ``max_timeout``. This
is an application loop with a deadline, not a transport retry (those live in the SCM client).
"""
from __future__ import annotations

import math
import random
import re
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# A loop_period below this counts as this, so that polling never spins.
MIN_DELAY = 0.1
# Float noise left after sleeping exactly up to the deadline; less than this counts as none left.
_EPSILON = 1e-6
DEFAULT_EXPIRY_WINDOW_DAYS = 7
_WINDOW_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


class PollTimeout(Exception):
    """The schedule ran out before ``check`` reported a result."""

    def __init__(self, max_timeout: float, attempts: int) -> None:
        super().__init__(f"not done within {max_timeout:g} s ({attempts} attempts)")
        self.max_timeout = max_timeout
        self.attempts = attempts


class PollSchedule:
    """Delays between polls: ``first_delay``, then times ``factor``, each within ±``jitter`` of that,
    never above ``loop_period`` and never past ``max_timeout`` seconds from creation."""

    def __init__(self, max_timeout: float, loop_period: float, *, first_delay: float = 1.0, factor: float = 2.0,
                 jitter: float = 0.2, clock: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random) -> None:
        self.max_timeout = max(0.0, float(max_timeout))
        self.cap = max(MIN_DELAY, float(loop_period))
        self.factor = max(1.0, float(factor))
        self.jitter = min(max(0.0, float(jitter)), 1.0)
        self._clock = clock
        self._rand = rand
        self._base = max(MIN_DELAY, min(float(first_delay), self.cap))
        self.deadline = clock() + self.max_timeout

    def remaining(self) -> float:
        """Seconds left before the deadline (0 once it has passed)."""
        return max(0.0, self.deadline - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self.deadline

    def next_delay(self) -> float | None:
        """The next sleep in seconds, trimmed to land on the deadline; None once the deadline has passed."""
        remaining = self.deadline - self._clock()
        if remaining <= _EPSILON:
            return None
        spread = self.jitter * (2.0 * self._rand() - 1.0)
        delay = min(self.cap, max(MIN_DELAY, self._base * (1.0 + spread)))
        self._base = min(self.cap, self._base * self.factor)
        return min(delay, remaining)


def poll(check: Callable[[], T | None], schedule: PollSchedule, sleep: Callable[[float], Any] = time.sleep) -> T:
    """Call ``check`` now and after each delay of ``schedule`` until it returns something other than None.

    Raises ``PollTimeout`` when the schedule runs out; the last check happens at the deadline.
    """
    attempts = 1
    result = check()
    while result is None:
        delay = schedule.next_delay()
        if delay is None:
            raise PollTimeout(schedule.max_timeout, attempts)
        sleep(delay)
        attempts += 1
        result = check()
    return result


def _fmt(days: float) -> str:
    return f"{days:.2f}".rstrip("0").rstrip(".")


def parse_expiry_window(value: Any, lifetime_days: float) -> tuple[float, str | None]:
    """``(window_days, warning)`` for ``expiry_window``: days (``7``) or a share of the lifetime (``'33%'``).

    When the window is not shorter than the lifetime, one third of the lifetime is used and the
    warning says so: otherwise a short-lived certificate would be renewed on every read.
    """
    if value is None:
        value = DEFAULT_EXPIRY_WINDOW_DAYS
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, percent = float(value), False
        valid = math.isfinite(number) and number >= 0
    else:
        match = _WINDOW_RE.match(value) if isinstance(value, str) else None
        valid = match is not None
        number, percent = (float(match.group(1)), bool(match.group(2))) if match else (0.0, False)
    if not valid:
        raise ValueError(f"expiry_window must be a number of days or a percentage such as 33%; got {value!r}")
    window = lifetime_days * number / 100.0 if percent else number
    if lifetime_days > 0 and window >= lifetime_days:
        third = lifetime_days / 3.0
        return third, (f"expiry_window {value} is not shorter than the certificate's lifetime of {_fmt(lifetime_days)} days; "
                       f"using one third of the lifetime ({_fmt(third)} days)")
    return window, None
