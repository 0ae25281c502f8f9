"""Injected faults for /api requests: server errors, 429 with Retry-After, and connection resets.

SCM documents none of these (docs/scm-protocol.md "Retries"), but clients must survive them: GETs are retried, POSTs
are not and must be reconciled. Nothing is injected unless the runtime config asks for it.
Deterministic budgets (``fault_<kind>_count``) are used before probabilities (``fault_<kind>_rate``);
with several budgets set, resets come first, then 429s, then 5xx. A fault strikes before the request is processed,
or after it (the order exists, its answer is lost) with ``fault_after`` or at ``fault_after_rate``.
"""
from __future__ import annotations

import random
import re
import threading

from scm_simulator.config import RuntimeConfig

KINDS = ("reset", "429", "5xx")


class FaultInjector:
    """Decides, per request, whether and which fault to inject, and counts what it injected."""

    def __init__(self, config: RuntimeConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self.injected = {kind: 0 for kind in ("5xx", "429", "reset")}
        self.injected_after = 0

    def choose(self, request_line: str) -> str | None:
        """``"reset"``, ``"429"``, ``"5xx"`` or None for a request such as ``"POST /api/ssl/v1/enroll"``."""
        pattern = self.config["fault_match"]
        if pattern and not re.search(pattern, request_line):
            return None
        chosen = next((kind for kind in KINDS if self.config.take(f"fault_{kind}_count")), None)
        if chosen is None:
            with self._lock:
                chosen = next((kind for kind in KINDS if self.rng.random() < float(self.config[f"fault_{kind}_rate"])), None)
        if chosen is not None:
            with self._lock:
                self.injected[chosen] += 1
        return chosen

    def after(self) -> bool:
        """Whether a fault just chosen (a 5xx or a reset; a 429 always comes first) strikes after the request took
        effect: always with ``fault_after``, else at ``fault_after_rate``. Counted, so a test knows how many answers
        were lost after SCM acted."""
        with self._lock:
            late = bool(self.config["fault_after"]) or self.rng.random() < float(self.config["fault_after_rate"])
            self.injected_after += late
            return late

    def after_count(self) -> int:
        with self._lock:
            return self.injected_after

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.injected)

    def reset_counts(self) -> None:
        with self._lock:
            self.injected = {kind: 0 for kind in self.injected}
            self.injected_after = 0
