"""Request counters of the /api side, per method and route template (``GET /__sim__/stats``)."""
from __future__ import annotations

import threading


class RequestStats:
    """Counts requests such as ``"GET /api/ssl/v1/collect/{id}"``; the test controls are not counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, int] = {}
        self._total = 0
        self._collects: dict[str, int] = {}

    def count(self, key: str, path: str | None = None) -> None:
        """Count one request; ``path``, when given, counts collects per order too (``collects_per_order``)."""
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            self._total += 1
            if path is not None and "/collect/" in key:
                order = path.split("/collect/", 1)[1].split("/", 1)[0]
                self._collects[order] = self._collects.get(order, 0) + 1

    def collects_per_order(self) -> dict[str, int]:
        """Collect requests per order id since the last reset."""
        with self._lock:
            return dict(self._collects)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    def requests(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._requests.items()))

    def reset(self) -> None:
        with self._lock:
            self._requests = {}
            self._total = 0
            self._collects = {}
