"""Orders, persons and id counters, indexed in memory; with a state directory, each change is written to SQLite.

Identifiers (docs/scm-protocol.md "Enroll", "S/MIME certificates", "Test controls"): SSL orders have a sequential ``sslId`` and a 20-character
``renewId``; S/MIME orders have an internal record ``id`` and an ``orderNumber`` whose digits are
also the ``backendCertId``. The ranges never overlap, so any id names at most one order.

Persistence (docs/scm-simulator.md "State"): ``state.sqlite3`` in the state directory holds one row per order,
person and counter; ``save(order)`` writes that one row, so a change costs the same at 10 orders and at 10,000.
Every order is also kept in memory with indexes (order number, renewId, serial, common name, status, pending
orders, expiry times), so no request scans all orders to find one.
"""
from __future__ import annotations

import contextlib
import dataclasses
import heapq
import json
import os
import secrets
import sqlite3
import string
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from scm_simulator.ca import serial_from_text
from scm_simulator.profiles import SSL

STATE_FILE = "state.json"  # the whole-file format of earlier versions: read once, then kept in DB_FILE
DB_FILE = "state.sqlite3"
STATE_VERSION = 1
DB_VERSION = 2
_FIRST_IDS = {"ssl_id": 10000, "smime_id": 20000, "order_number": 1900000000, "person_id": 500}
_RENEW_ID_ALPHABET = string.ascii_letters + string.digits
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS persons (email TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)


class StateError(Exception):
    """The state cannot be used (unreadable, or written by an incompatible version)."""


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
    requester: str | None = None  # None: the API account; another admin for orders placed "in the web UI"
    requested_via: str | None = None  # None: "REST API"
    custom_fields: list[dict[str, str]] = dataclasses.field(default_factory=list)
    requested_at: float = 0.0
    applied_at: float | None = None
    approved_at: float | None = None
    declined_at: float | None = None
    issued_at: float | None = None
    replaced_at: float | None = None
    revoked_at: float | None = None
    renewed_at: float | None = None
    downloaded_at: float | None = None
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


class Database:
    """The SQLite file of a state directory: one row per order, person and counter, written one change at a time."""

    def __init__(self, state_dir: str) -> None:
        self.path = os.path.join(state_dir, DB_FILE)
        try:
            # One connection shared by the server's threads; the store's lock serialises every use of it.
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self.conn.execute(statement)
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.Error as exc:
            raise StateError(f"cannot read {self.path}: {exc}") from None
        if row is None:
            self.conn.execute("INSERT INTO meta (key, value) VALUES ('version', ?)", (str(DB_VERSION),))
        elif row[0] != str(DB_VERSION):
            raise StateError(f"{self.path} was not written by this simulator (state version {DB_VERSION}); use another --state-dir")
        self._pending: list[tuple[str, tuple[Any, ...]]] | None = None

    def load(self) -> tuple[list[Order], dict[str, dict[str, Any]], dict[str, int]]:
        orders = [Order.from_json(json.loads(data)) for (data,) in self.conn.execute("SELECT data FROM orders ORDER BY id")]
        persons = {email: json.loads(data) for email, data in self.conn.execute("SELECT email, data FROM persons")}
        counters = dict(self.conn.execute("SELECT name, value FROM counters").fetchall())
        return orders, persons, counters

    def is_empty(self) -> bool:
        return self.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0

    def write(self, statements: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
        """Run the statements in one transaction, or queue them while a ``batch`` is open."""
        if self._pending is not None:
            self._pending.extend(statements)
            return
        with self.conn:
            self.conn.execute("BEGIN")
            for sql, args in statements:
                self.conn.execute(sql, args)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes in one transaction (seeding thousands of orders)."""
        if self._pending is not None:
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            self.write(pending)

    def close(self) -> None:
        self.conn.close()


def _order_row(order: Order) -> tuple[str, tuple[Any, ...]]:
    return "INSERT OR REPLACE INTO orders (id, kind, data) VALUES (?, ?, ?)", (order.id, order.kind, json.dumps(order.to_json()))


def _counter_row(name: str, value: int) -> tuple[str, tuple[Any, ...]]:
    return "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value)


def _person_row(key: str, person: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    return "INSERT OR REPLACE INTO persons (email, data) VALUES (?, ?)", (key, json.dumps(person))


def _read_state_file(path: str) -> dict[str, Any]:
    """The whole-file state of earlier versions (``state.json``), to carry over into the database."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise StateError(f"{path} was not written by this simulator (state version {STATE_VERSION}); use another --state-dir")
    return data


class Store:
    """All orders and persons. Callers hold ``lock`` across a read-modify-``save`` sequence."""

    def __init__(self, state_dir: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.clock = clock
        self.orders: dict[int, Order] = {}
        self.persons: dict[str, dict[str, Any]] = {}
        self.counters = dict(_FIRST_IDS)
        self.index = Index()
        self.db: Database | None = None
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
            self._open(state_dir)

    def _open(self, state_dir: str) -> None:
        legacy = os.path.join(state_dir, STATE_FILE)
        old = _read_state_file(legacy) if os.path.exists(legacy) else None
        self.db = Database(state_dir)
        if old is not None and self.db.is_empty():
            orders = [Order.from_json(item) for item in old.get("orders") or []]
            persons = dict(old.get("persons") or {})
            with self.db.batch():
                self.db.write([_order_row(o) for o in orders] + [_person_row(k, p) for k, p in persons.items()]
                              + [_counter_row(k, int(v)) for k, v in (old.get("counters") or {}).items()])
            os.replace(legacy, legacy + ".migrated")
        orders, self.persons, counters = self.db.load()
        self.counters.update(counters)
        for order in orders:
            self.orders[order.id] = order
            self.index.update(order)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()

    @property
    def path(self) -> str | None:
        return self.db.path if self.db else None

    # ---- persistence

    def save(self, *orders: Order) -> None:
        """Index the changed orders again and write each one's row (one transaction; nothing else is rewritten)."""
        with self.lock:
            for order in orders:
                self.index.update(order)
            if self.db is not None and orders:
                self.db.write([_order_row(order) for order in orders])

    def batch(self) -> contextlib.AbstractContextManager[None]:
        return self.db.batch() if self.db is not None else contextlib.nullcontext()

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
            counter = "ssl_id" if kind == SSL else "smime_id"
            order = Order(kind=kind, id=oid, order_number=self._next("order_number"), requested_at=self.clock(), **fields)
            self.orders[oid] = order
            self.index.update(order)
            if self.db is not None:
                self.db.write([_counter_row(counter, self.counters[counter]), _counter_row("order_number", self.counters["order_number"]),
                               _order_row(order)])
            return order

    def person(self, email: str, **names: Any) -> dict[str, Any]:
        """The person with this e-mail address, created on first enroll (docs/scm-protocol.md "S/MIME certificates" leaves this open)."""
        with self.lock:
            key = email.lower()
            person = self.persons.get(key)
            before = dict(person or {})
            if person is None:
                person = {"personId": self._next("person_id"), "email": email}
                self.persons[key] = person
            person.update({k: v for k, v in names.items() if v})
            if self.db is not None and person != before:
                self.db.write([_counter_row("person_id", self.counters["person_id"]), _person_row(key, person)])
            return person

    # ---- finding

    def all(self, kind: str) -> list[Order]:
        """Every order of ``kind`` by id (the index keeps them in that order)."""
        with self.lock:
            return [self.orders[oid] for oid in self.index.ids(kind)]

    def __iter__(self) -> Iterator[Order]:
        with self.lock:
            return iter(sorted(self.orders.values(), key=lambda o: o.id))

    def __len__(self) -> int:
        return len(self.orders)

    def by_id(self, kind: str, oid: Any) -> Order | None:
        number = _as_int(oid)
        order = self.orders.get(number) if number is not None else None
        return order if order is not None and order.kind == kind else None

    def by_order_number(self, kind: str, number: Any) -> Order | None:
        order = self.orders.get(self.index.by_number.get(_as_int(number), -1))
        return order if order is not None and order.kind == kind else None

    def by_renew_id(self, renew_id: str) -> Order | None:
        return self.orders.get(self.index.by_renew_id.get(renew_id, -1))

    def by_serial(self, kind: str, serial: str) -> Order | None:
        wanted = serial_from_text(serial)
        order = self.orders.get(self.index.by_serial.get((kind, wanted), -1)) if wanted is not None else None
        # A replaced order's earlier serial stays indexed; only the current one finds it.
        return order if order is not None and serial_from_text(order.serial_number or "") == wanted else None

    def with_common_name(self, kind: str, common_name: str) -> list[Order]:
        return [self.orders[oid] for oid in sorted(self.index.by_cn.get((kind, common_name.lower()), ()))]

    def with_status(self, kind: str, status: str) -> list[Order]:
        return [self.orders[oid] for oid in sorted(self.index.by_status.get((kind, status), ()))]

    def find_any(self, oid: Any) -> Order | None:
        """An order by sslId, S/MIME record id or S/MIME order number (the test controls take any of them)."""
        number = _as_int(oid)
        if number is None:
            return None
        return self.orders.get(number) or self.orders.get(self.index.by_number.get(number, -1))


class Index:
    """Where to find orders without looking at all of them; ``update`` after every change of an order."""

    def __init__(self) -> None:
        self._ids: dict[str, list[int]] = {}
        self._sorted: dict[str, bool] = {}
        self.by_number: dict[int, int] = {}
        self.by_renew_id: dict[str, int] = {}
        self.by_serial: dict[tuple[str, int], int] = {}
        self.by_cn: dict[tuple[str, str], set[int]] = {}
        self.by_status: dict[tuple[str, str], set[int]] = {}
        self.applied: set[int] = set()
        self.expiry: list[tuple[float, int]] = []
        self._keys: dict[int, tuple[Any, ...]] = {}

    def ids(self, kind: str) -> list[int]:
        ids = self._ids.setdefault(kind, [])
        if not self._sorted.get(kind, True):
            ids.sort()
            self._sorted[kind] = True
        return ids

    def update(self, order: Order) -> None:
        serial = serial_from_text(order.serial_number) if order.serial_number else None
        keys = ((order.kind, order.common_name.lower()), (order.kind, order.status), serial, order.not_after)
        old = self._keys.get(order.id)
        if old == keys:
            return
        if old is None:
            ids = self._ids.setdefault(order.kind, [])
            if ids and ids[-1] > order.id:
                self._sorted[order.kind] = False
            ids.append(order.id)
            self.by_number[order.order_number] = order.id
            if order.renew_id:
                self.by_renew_id[order.renew_id] = order.id
        else:
            self.by_cn.get(old[0], set()).discard(order.id)
            self.by_status.get(old[1], set()).discard(order.id)
        self.by_cn.setdefault(keys[0], set()).add(order.id)
        self.by_status.setdefault(keys[1], set()).add(order.id)
        if serial is not None:
            self.by_serial[(order.kind, serial)] = order.id
        if order.status == "Applied":
            self.applied.add(order.id)
        else:
            self.applied.discard(order.id)
        if order.status == "Issued" and order.not_after is not None:
            heapq.heappush(self.expiry, (order.not_after, order.id))
        self._keys[order.id] = keys

    def due_to_expire(self, now: float) -> list[int]:
        """Ids whose certificate ended by ``now`` (possibly stale: the caller checks the order)."""
        due = []
        while self.expiry and self.expiry[0][0] <= now:
            due.append(heapq.heappop(self.expiry)[1])
        return due


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value), 10)
    except ValueError:
        return None
