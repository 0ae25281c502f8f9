"""Orders, persons and id counters; with a state directory, saved atomically on every change.

Identifiers (docs/scm-protocol.md "Enroll", "S/MIME certificates", "Test controls"): SSL orders have a sequential ``sslId`` and a 20-character
``renewId``; S/MIME orders have an internal record ``id`` and an ``orderNumber`` whose digits are
also the ``backendCertId``. The ranges never overlap, so any id names at most one order.
"""
from __future__ import annotations

import dataclasses
import json
import os
import secrets
import string
import tempfile
import threading
import time
from typing import Any, Callable, Iterator

from scm_simulator.ca import serial_from_text
from scm_simulator.profiles import SSL

STATE_FILE = "state.json"
STATE_VERSION = 1
_FIRST_IDS = {"ssl_id": 10000, "smime_id": 20000, "order_number": 1900000000, "person_id": 500}
_RENEW_ID_ALPHABET = string.ascii_letters + string.digits


class StateError(Exception):
    """The state file cannot be used (unreadable, or written by an incompatible version)."""


@dataclasses.dataclass
class Order:
    """One SSL or S/MIME order. ``status`` uses the SSL words of docs/scm-protocol.md "Status values"; S/MIME views lower-case them."""

    kind: str
    id: int
    order_number: int
    profile_id: int
    term: int
    org_id: int
    csr: str
    common_name: str
    sans: list[str]
    status: str = "Requested"
    renew_id: str | None = None
    email: str | None = None
    person_id: int | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    comments: str = ""
    external_requester: str | None = None
    custom_fields: list[dict[str, str]] = dataclasses.field(default_factory=list)
    requested_at: float = 0.0
    applied_at: float | None = None
    approved_at: float | None = None
    declined_at: float | None = None
    issued_at: float | None = None
    replaced_at: float | None = None
    revoked_at: float | None = None
    renewed_at: float | None = None
    message: str | None = None
    certificate: str | None = None
    serial_number: str | None = None
    not_before: float | None = None
    not_after: float | None = None
    renewed: bool = False
    renewed_from: int | None = None
    renewed_to: int | None = None
    reason: str | None = None
    reason_code: int | None = None
    previous_serials: list[str] = dataclasses.field(default_factory=list)

    @property
    def backend_cert_id(self) -> str:
        return str(self.order_number)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


class Store:
    """All orders and persons. Callers hold ``lock`` across a read-modify-``save`` sequence."""

    def __init__(self, state_dir: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.clock = clock
        self.orders: dict[int, Order] = {}
        self.persons: dict[str, dict[str, Any]] = {}
        self.counters = dict(_FIRST_IDS)
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
            self._load()

    # ---- persistence

    @property
    def path(self) -> str | None:
        return os.path.join(self.state_dir, STATE_FILE) if self.state_dir else None

    def _load(self) -> None:
        path = self.path
        if not path or not os.path.exists(path):
            return
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise StateError(f"cannot read {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise StateError(f"{path} was not written by this simulator (state version {STATE_VERSION}); use another --state-dir")
        self.counters.update(data.get("counters") or {})
        self.persons = dict(data.get("persons") or {})
        self.orders = {}
        for item in data.get("orders") or []:
            order = Order.from_json(item)
            self.orders[order.id] = order

    def save(self) -> None:
        """Write the whole state to a temporary file and rename it over the old one: never half a file."""
        path = self.path
        if not path:
            return
        with self.lock:
            data = {"version": STATE_VERSION, "counters": self.counters, "persons": self.persons,
                    "orders": [order.to_json() for order in self.orders.values()]}
            fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, indent=1, sort_keys=True)
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    # ---- creating

    def _next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def add(self, kind: str, **fields: Any) -> Order:
        """A new order of ``kind`` with fresh identifiers, status Requested; saved."""
        with self.lock:
            if kind == SSL:
                oid = self._next("ssl_id")
                fields["renew_id"] = "".join(secrets.choice(_RENEW_ID_ALPHABET) for _pos in range(20))
            else:
                oid = self._next("smime_id")
            order = Order(kind=kind, id=oid, order_number=self._next("order_number"), requested_at=self.clock(), **fields)
            self.orders[oid] = order
            self.save()
            return order

    def person(self, email: str, **names: Any) -> dict[str, Any]:
        """The person with this e-mail address, created on first enroll (docs/scm-protocol.md "S/MIME certificates" leaves this open)."""
        with self.lock:
            key = email.lower()
            person = self.persons.get(key)
            if person is None:
                person = {"personId": self._next("person_id"), "email": email}
                self.persons[key] = person
            person.update({k: v for k, v in names.items() if v})
            return person

    # ---- finding

    def all(self, kind: str) -> list[Order]:
        with self.lock:
            return sorted((o for o in self.orders.values() if o.kind == kind), key=lambda o: o.id)

    def __iter__(self) -> Iterator[Order]:
        with self.lock:
            return iter(sorted(self.orders.values(), key=lambda o: o.id))

    def by_id(self, kind: str, oid: Any) -> Order | None:
        number = _as_int(oid)
        order = self.orders.get(number) if number is not None else None
        return order if order is not None and order.kind == kind else None

    def by_order_number(self, kind: str, number: Any) -> Order | None:
        wanted = _as_int(number)
        return next((o for o in self.orders.values() if o.kind == kind and o.order_number == wanted), None) if wanted is not None else None

    def by_renew_id(self, renew_id: str) -> Order | None:
        return next((o for o in self.orders.values() if o.renew_id == renew_id), None)

    def by_serial(self, kind: str, serial: str) -> Order | None:
        wanted = serial_from_text(serial)
        if wanted is None:
            return None
        return next((o for o in self.orders.values()
                     if o.kind == kind and o.serial_number and serial_from_text(o.serial_number) == wanted), None)

    def find_any(self, oid: Any) -> Order | None:
        """An order by sslId, S/MIME record id or S/MIME order number (the test controls take any of them)."""
        number = _as_int(oid)
        if number is None:
            return None
        return self.orders.get(number) or next((o for o in self.orders.values() if o.order_number == number), None)


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value), 10)
    except ValueError:
        return None
