"""Runtime settings: what ``POST /__sim__/config`` changes while the simulator runs.

Settings are not persisted with ``--state-dir``: a restart starts from the command line again, so
an injected fault can never outlive the test that configured it.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Callable


def _number(minimum: float, maximum: float | None = None) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(f"must be between {minimum} and {maximum}" if maximum is not None else f"must be at least {minimum}")
        return value
    return check


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value > 0:
        raise ValueError("must be an SCM error code: 0 or a negative whole number")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("must be a list of custom field names")
    return list(value)


def _regex(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a regular expression (a string)")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression: {exc}") from None
    return value


def _server_error(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
        raise ValueError("must be an HTTP status from 500 to 599")
    return value


# name -> (default, check). The check returns the normalised value or raises ValueError.
SETTINGS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "issue_delay": (0.0, _number(0)),
    "pending_code": (0, _code),
    "smime_pending_code": (-183, _code),
    "backdate_days": (0, _number(0)),
    "mandatory_custom_fields": ([], _names),
    "fault_5xx_rate": (0.0, _number(0, 1)),
    "fault_429_rate": (0.0, _number(0, 1)),
    "fault_reset_rate": (0.0, _number(0, 1)),
    "fault_5xx_count": (0, _count),
    "fault_429_count": (0, _count),
    "fault_reset_count": (0, _count),
    "fault_5xx_status": (503, _server_error),
    "fault_match": ("", _regex),
    "fault_after": (False, _flag),
    "fault_after_rate": (0.0, _number(0, 1)),
    "retry_after": (1, _number(0)),
}


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


class ConfigError(ValueError):
    pass


class RuntimeConfig:
    """Thread-safe settings with validation; ``merge`` is all-or-nothing."""

    def __init__(self, **overrides: Any) -> None:
        self._lock = threading.Lock()
        self._values = {name: _copy(spec[0]) for name, spec in SETTINGS.items()}
        self.merge(overrides)

    def __getitem__(self, name: str) -> Any:
        with self._lock:
            return self._values[name]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {name: _copy(value) for name, value in self._values.items()}

    def merge(self, changes: Any) -> dict[str, Any]:
        if not isinstance(changes, dict):
            raise ConfigError("the body must be a JSON object of settings")
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
        checked = {}
        for name, value in changes.items():
            try:
                checked[name] = SETTINGS[name][1](value)
            except ValueError as exc:
                raise ConfigError(f"{name} {exc}; got {value!r}") from None
        with self._lock:
            self._values.update(checked)
        return self.snapshot()

    def take(self, name: str) -> bool:
        """Use up one of a ``fault_*_count`` budget; True when one was left."""
        with self._lock:
            if self._values[name] > 0:
                self._values[name] -= 1
                return True
            return False
