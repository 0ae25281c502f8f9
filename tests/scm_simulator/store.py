"""Orders, runtime configuration and request counters; saved to ``state_dir`` on every change."""
from __future__ import annotations

import json
import os
import random
import string
import tempfile
import threading
import time
from typing import Any, Callable

DEFAULT_CONFIG: dict[str, Any] = {
    "issue_delay": 0.0,
    "pending_code": 0,
    "smime_pending_code": -183,
    "backdate_days": 0,
    "mandatory_custom_fields": [],
    "fault_5xx_rate": 0.0, "fault_429_rate": 0.0, "fault_reset_rate": 0.0,
    "fault_5xx_count": 0, "fault_429_count": 0, "fault_reset_count": 0,
    "fault_match": "", "fault_after": False, "retry_after": 1,
}
PENDING_DESCRIPTIONS = {0: "Being processed by Sectigo", -183: "Certificate is not collectable.",
                        -1400: "The request is being processed by Sectigo.", -109: "Certificate is not available now, please try again later."}


class Store:
    """Thread-safe state. Orders are dicts keyed by id (sslId for SSL, orderNumber for S/MIME)."""

    def __init__(self, state_dir: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.clock = clock
        self.orders: dict[int, dict[str, Any]] = {}
        self.persons: dict[str, int] = {}
        self.config: dict[str, Any] = dict(DEFAULT_CONFIG)
        self.requests: dict[str, int] = {}
        self.total_requests = 0
        self.faults = {"5xx": 0, "429": 0, "reset": 0}
        self.next_ssl_id = 5000
        self.next_order_number = 900000
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
            self._load()

    # ---- persistence ------------------------------------------------------------------------------

    @property
    def _path(self) -> str:
        return os.path.join(self.state_dir or "", "state.json")

    def _load(self) -> None:
        if not os.path.exists(self._path):
            return
        with open(self._path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.orders = {int(k): v for k, v in data.get("orders", {}).items()}
        self.persons = data.get("persons", {})
        self.config.update(data.get("config", {}))
        self.next_ssl_id = data.get("next_ssl_id", self.next_ssl_id)
        self.next_order_number = data.get("next_order_number", self.next_order_number)

    def save(self) -> None:
        if not self.state_dir:
            return
        with self.lock:
            data = {"orders": self.orders, "persons": self.persons, "config": self.config, "next_ssl_id": self.next_ssl_id,
                    "next_order_number": self.next_order_number}
            fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, self._path)

    # ---- orders -----------------------------------------------------------------------------------

    def new_order(self, kind: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            if kind == "ssl":
                self.next_ssl_id += 1
                oid = self.next_ssl_id
                fields["renew_id"] = "".join(random.choices(string.ascii_letters + string.digits, k=20))
            else:
                self.next_order_number += 1
                oid = self.next_order_number
            order = {"id": oid, "kind": kind, "status": "Requested", "requested_at": self.clock(), "applied_at": None, "cert": None,
                     "serial": None, "renewed": False, "revoked": None, "comments": "", "approved": False}
            order.update(fields)
            self.orders[oid] = order
            self.save()
            return order

    def apply(self, order: dict[str, Any]) -> None:
        order["status"] = "Applied"
        order["applied_at"] = self.clock()

    def get(self, oid: Any, kind: str) -> dict[str, Any] | None:
        try:
            order = self.orders.get(int(oid))
        except (TypeError, ValueError):
            return None
        return order if order and order["kind"] == kind else None

    def find_serial(self, serial: str, kind: str) -> dict[str, Any] | None:
        wanted = serial.replace(":", "").upper().lstrip("0")
        for order in self.orders.values():
            if order["kind"] == kind and order.get("serial") and order["serial"].replace(":", "").upper().lstrip("0") == wanted:
                return order
        return None

    def ready(self, order: dict[str, Any]) -> bool:
        """Applied orders become issuable ``issue_delay`` seconds after they were applied."""
        return order["status"] == "Applied" and self.clock() >= (order["applied_at"] or 0) + float(self.config["issue_delay"])

    # ---- counters ---------------------------------------------------------------------------------

    def count(self, key: str, api: bool) -> None:
        with self.lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            if api:
                self.total_requests += 1

    def reset_stats(self) -> None:
        with self.lock:
            self.requests.clear()
            self.total_requests = 0
            self.faults = {"5xx": 0, "429": 0, "reset": 0}

    def take_fault(self, request_line: str) -> str | None:
        """The fault to inject for this /api request, if any: counts first, then rates."""
        import re  # pylint: disable=import-outside-toplevel

        with self.lock:
            pattern = self.config.get("fault_match") or ""
            if pattern and not re.search(pattern, request_line):
                return None
            for kind in ("reset", "429", "5xx"):
                key = f"fault_{kind}_count"
                if int(self.config.get(key) or 0) > 0:
                    self.config[key] = int(self.config[key]) - 1
                    self.faults[kind] += 1
                    return kind
            for kind in ("reset", "429", "5xx"):
                rate = float(self.config.get(f"fault_{kind}_rate") or 0)
                if rate > 0 and random.random() < rate:
                    self.faults[kind] += 1
                    return kind
        return None

    def stats(self) -> dict[str, Any]:
        with self.lock:
            orders = [{"id": o["id"], "kind": o["kind"], "common_name": o.get("common_name"), "email": o.get("email"), "status": o["status"],
                       "comments": o.get("comments", ""), "cert_type": o.get("cert_type"), "term": o.get("term"),
                       "renewed_from": o.get("renewed_from")} for o in self.orders.values()]
            return {"requests": dict(self.requests), "total_requests": self.total_requests, "faults_injected": dict(self.faults), "orders": orders}
