# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many certificates of one config in one process: the fleet path of ``sectigo_certs`` (docs/lifecycle.md "The fleet path").

Private to this collection: no compatibility is promised to code outside it.

Each certificate is decided by its own ``CertificateService`` exactly as a ``sectigo_cert`` task would be:
claimed in Vault, ordered once, persisted before any poll, reconciled when an answer was lost. What
the fleet adds is how the work is scheduled:

- at most ``concurrency`` certificates are worked on at a time, on a pool of threads that share one
  Vault client and one SCM client (their HTTP connection pools widened to the pool's size), the
  config read once, and the SCM profiles read once per batch;
- the waits overlap: an order's service does not sleep; its wait is handed to the one polling loop
  of the batch, which checks every pending order on its own ``PollSchedule`` (docs/lifecycle.md
  "Waiting for issuance") and sends the due checks to the same pool;
- the batch learns how long issuance takes: its first order scouts (checked on its own schedule), the others
  wait for what it shows, and every later order is first checked at the issuance time the batch has seen
  (docs/lifecycle.md "The fleet path"), so a batch of orders of one profile costs few checks each;
- one deadline, ``max_timeout`` seconds after the batch started, ends every wait: an order not
  issued by then is saved as ``TimeoutStateSaved`` (the next run collects it), and a certificate
  not even started by then fails without ordering anything.

One certificate's failure is its own outcome; the others go on.
"""
from __future__ import annotations

import heapq
import random
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import BUILTIN_DEFAULTS, CertRequest, resolve_option
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import OrderWatch, PollSchedule, TerminalStatus
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.steps import Deferred
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
# Before the batch has seen an order issued, an order other than the scout is first checked at the scout's age when
# it was placed (at least HOLD_FIRST s), then each time its age doubles: should the scout be far slower than the rest, they
# are still seen at about twice their issuance time at worst (docs/lifecycle.md "The fleet path").
HOLD_GROWTH = 1.0
HOLD_FIRST = 2.0


@dataclass
class FleetOutcome:
    """What became of one certificate of the batch: a result, or the exception that ended it."""

    index: int
    name: str | None
    result: CertResult | None = None
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    service: CertificateService | None = None
    # What the caller's ``finish`` made of the outcome once it was final (sectigo_certs: the item's result).
    reported: Any = None


@dataclass
class _Wait:
    """A pending order in the batch's polling loop."""

    outcome: FleetOutcome
    deferred: Deferred
    watch: OrderWatch
    schedule: PollSchedule
    due: float
    expired: bool = False
    # The order's age at its latest check that found it not issued (-1: not checked yet).
    checked_age: float = -1.0
    # Which entry of the waits' heap holds ``due`` (older entries of this wait are stale).
    stamp: int = 0

    def age(self, now: float) -> float:
        """Seconds since the order was placed."""
        return now - self.schedule.start


class ItemRequest:
    """One item's options over the shared ones, made into a ``CertRequest`` only when the item starts: a batch holds one
    small dict per item instead of one ``CertRequest`` (about 1.7 kB) per item (docs/bench.md "One controller's ceiling")."""

    __slots__ = ("item", "shared")

    def __init__(self, item: dict[str, Any], shared: dict[str, Any]) -> None:
        self.item = item
        self.shared = shared

    def build(self) -> CertRequest:
        params = dict(self.shared)
        params.update(self.item)
        return CertRequest.from_params(params)


def build_requests(items: list[dict[str, Any]], shared: dict[str, Any]) -> list[tuple[str | None, ItemRequest | BaseException]]:
    """One request per item: the item's options over the ``shared`` ones (None counts as not given).

    A name given twice would claim its own name twice; the second one is refused as that item's outcome.
    """
    seen: set[str] = set()
    common = {k: v for k, v in shared.items() if v is not None}
    out: list[tuple[str | None, ItemRequest | BaseException]] = []
    for position, item in enumerate(items):
        given = {k: v for k, v in (item or {}).items() if v is not None}
        name = given.get("name", common.get("name"))
        if name is not None and name in seen:
            out.append((name, InputError("certificates", f"certificates[{position}]: name '{name}' is given twice in one batch")))
            continue
        if name is not None:
            seen.add(name)
        out.append((name, ItemRequest(given, common)))
    return out


class _SharedProfiles:
    """One ``Profiles`` for every service of the batch: each profile is read (or downloaded) once, under a lock."""

    def __init__(self, profiles: Any) -> None:
        self._profiles = profiles
        self._lock = threading.Lock()
        self._cache: dict[int, Any] = {}
        self._fields: list[Any] = []

    def for_order(self, profile_id: int) -> Any:
        with self._lock:
            if profile_id not in self._cache:
                self._cache[profile_id] = self._profiles.for_order(profile_id)
            return self._cache[profile_id]

    def custom_fields(self) -> Any:
        """SCM's custom-field list of the config, read (or downloaded) once for the batch."""
        with self._lock:
            if not self._fields:
                self._fields.append(self._profiles.custom_fields())
            return self._fields[0]


def shared_factory(factory: Callable[[], Any], pool_size: int) -> Callable[[], Any]:
    """``factory`` called at most once, from any thread; the client's connection pool widened to ``pool_size``."""
    lock = threading.Lock()
    built: list[Any] = []

    def get() -> Any:
        with lock:
            if not built:
                client = factory()
                widen_pool(getattr(client, "session", None), pool_size)
                built.append(client)
            return built[0]
    return get


def widen_pool(session: Any, size: int) -> None:
    """Let a ``requests.Session`` keep ``size`` connections per host.

    The adapters stay the same objects, so whatever they carry stays too: the retry settings, and the TLS context
    of a client certificate given as PEM (``_scm_client``'s adapter passes it to every pool it builds).
    """
    if session is None or not hasattr(session, "get_adapter"):
        return
    from requests.adapters import HTTPAdapter  # pylint: disable=import-outside-toplevel

    for prefix in ("https://", "http://"):
        try:
            adapter = session.get_adapter(prefix)
        except Exception:  # pylint: disable=broad-exception-caught
            continue
        if isinstance(adapter, HTTPAdapter) and getattr(adapter, "_pool_maxsize", 0) < size:
            adapter.init_poolmanager(getattr(adapter, "_pool_connections", 4), size, block=getattr(adapter, "_pool_block", False))


class _Waits:
    """The batch's pending orders, and a heap of when each is next due: the loop takes the due ones without walking
    every wait, so a batch of 10,000 costs what 200 do per order (docs/bench.md "One controller's ceiling").

    A wait with a check in flight is ``busy`` and not taken again. Each ``schedule`` pushes a new heap entry; an entry
    whose wait has been scheduled again since, has ended, or is busy is dropped when it comes up.
    """

    def __init__(self) -> None:
        self.items: dict[int, _Wait] = {}
        self.busy: set[int] = set()
        # Waits checked at least once and found not issued (what ``Fleet._learn`` moves when the issuance time holds).
        self.checked: set[int] = set()
        self._heap: list[tuple[float, int, int]] = []
        self._stamps = 0

    def __bool__(self) -> bool:
        return bool(self.items)

    def get(self, index: int | None) -> _Wait | None:
        return self.items.get(index) if index is not None else None

    def values(self) -> list[_Wait]:
        return list(self.items.values())

    def add(self, item: _Wait) -> None:
        self.items[item.outcome.index] = item
        self.schedule(item, item.due)

    def pop(self, index: int) -> None:
        self.items.pop(index, None)
        self.checked.discard(index)

    def schedule(self, item: _Wait, due: float) -> None:
        """``item`` is next due at ``due``."""
        self._stamps += 1
        item.due, item.stamp = due, self._stamps
        heapq.heappush(self._heap, (due, item.stamp, item.outcome.index))

    def _head(self) -> tuple[float, int, int] | None:
        while self._heap:
            _due, stamp, index = self._heap[0]
            item = self.items.get(index)
            if item is not None and item.stamp == stamp and index not in self.busy:
                return self._heap[0]
            heapq.heappop(self._heap)
        return None

    def next_due(self) -> float | None:
        """When the earliest idle wait is due (None: none is idle)."""
        head = self._head()
        return head[0] if head is not None else None

    def take_due(self, now: float) -> _Wait | None:
        """The earliest idle wait due by ``now``, marked busy (None: none)."""
        head = self._head()
        if head is None or head[0] > now:
            return None
        heapq.heappop(self._heap)
        self.busy.add(head[2])
        return self.items[head[2]]

    def reschedule_idle(self) -> None:
        """Give every idle wait a heap entry again (a safety net: each should always have one)."""
        for index, item in self.items.items():
            if index not in self.busy:
                self.schedule(item, item.due)


class Fleet:
    """Ensure many certificates of one config (see the module docstring)."""

    def __init__(self, store: KvStore, config: dict[str, Any], scm_factory: Callable[[], Any], *, concurrency: int = DEFAULT_CONCURRENCY,
                 max_timeout: int | None = None, check_mode: bool = False, clock: Callable[[], datetime] = rec.utc_now,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random, finish: Callable[[FleetOutcome], None] | None = None) -> None:
        self.store = store
        self.config = config
        self.concurrency = max(1, min(MAX_CONCURRENCY, int(concurrency)))
        # One kept Vault connection per thread (the store's client is _vault_client.VaultClient), and as many to SCM.
        set_pool_size = getattr(getattr(store, "client", None), "set_pool_size", None)
        if set_pool_size is not None:
            set_pool_size(self.concurrency)
        self.scm_factory = shared_factory(scm_factory, self.concurrency)
        self.max_timeout = max_timeout
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.rand = rand
        # Called (on the loop's thread) with each outcome once it is final: the caller keeps what it needs of it in
        # ``outcome.reported`` and may let go of the rest (its service, its record), so that a batch does not hold every
        # certificate it has done (docs/bench.md "One controller's ceiling").
        self.finish = finish
        self._profiles: _SharedProfiles | None = None
        self._lock = threading.Lock()
        self._deadline = float("inf")
        # What the batch learned about issuance (seconds from an order to its certificate) and the order that scouts
        # until then (index into the batch). An order seen issued after a check that found it waiting brackets its
        # issuance time between the two ages: the latest lower and the earliest upper bound are kept.
        self.learned: float | None = None
        self._bounds: tuple[float, float] | None = None
        self._scout: int | None = None

    # ---- one certificate -----------------------------------------------------------------------------

    def service(self) -> CertificateService:
        service = CertificateService(self.store, self.config, self.scm_factory, check_mode=self.check_mode, clock=self.clock,
                                     sleep=self.sleep, monotonic=self.monotonic, rand=self.rand)
        with self._lock:
            if self._profiles is None:
                self._profiles = _SharedProfiles(service.life.profiles)
        service.life.profiles = self._profiles  # type: ignore[assignment]
        service.life.defer_collect = True
        return service

    def _ensure(self, outcome: FleetOutcome, req: CertRequest | ItemRequest) -> None:
        outcome.service = self.service()
        outcome.warnings = outcome.service.warnings
        outcome.result = outcome.service.ensure(req.build() if isinstance(req, ItemRequest) else req)

    def _check(self, item: _Wait) -> CertResult | None:
        """One check of a pending order; stores it once issued. Raises OperationError when SCM refuses it."""
        collector = item.outcome.service.life.collector  # type: ignore[union-attr]
        deferred = item.deferred
        try:
            pems = item.watch.check()
        except (TerminalStatus, ScmError) as exc:
            return collector.refused(deferred.record, deferred.version, exc)
        if pems is None:
            return None
        stored = collector.store(deferred.record, deferred.version, pems, action=deferred.action, before=deferred.before)
        stored.changed = stored.changed or deferred.action != "collected"
        return stored

    def _timed_out(self, item: _Wait) -> CertResult:
        """The batch's deadline passed before the order was issued: TimeoutStateSaved, raised as OperationError."""
        collector = item.outcome.service.life.collector  # type: ignore[union-attr]
        return collector.timed_out(item.deferred.record, item.deferred.version, self.batch_timeout)

    # ---- the batch -----------------------------------------------------------------------------------

    @property
    def batch_timeout(self) -> float:
        if self.max_timeout is not None:
            return float(self.max_timeout)
        value = resolve_option(CertRequest(config=self.config.get("name") or ""), self.config, "max_timeout")
        return float(BUILTIN_DEFAULTS["max_timeout"] if value is None else value)

    def run(self, requests: list[tuple[str | None, CertRequest | ItemRequest | BaseException]]) -> list[FleetOutcome]:
        """Ensure every ``(name, request)``; an exception in place of a request is that certificate's outcome."""
        outcomes = [FleetOutcome(index, name) for index, (name, _req) in enumerate(requests)]
        todo: deque[int] = deque()
        for index, (_name, req) in enumerate(requests):
            if isinstance(req, BaseException):
                outcomes[index].error = req
                self._done(outcomes[index])
            else:
                todo.append(index)
        self._deadline = self.monotonic() + self.batch_timeout
        waits = _Waits()
        in_flight: dict[Future, tuple[str, int]] = {}
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="sectigo-fleet") as pool:
            while todo or in_flight or waits:
                now = self.monotonic()
                if now >= self._deadline:
                    self._not_started(todo, outcomes)
                # Due checks first (they keep the waits short), then certificates not started yet.
                while len(in_flight) < self.concurrency:
                    item = waits.take_due(now)
                    if item is None:
                        break
                    task = self._timed_out if item.expired else self._check
                    in_flight[pool.submit(task, item)] = ("wait", item.outcome.index)
                while todo and len(in_flight) < self.concurrency:
                    index = todo.popleft()
                    in_flight[pool.submit(self._ensure, outcomes[index], requests[index][1])] = ("ensure", index)  # type: ignore[arg-type]
                # A due wait can start only on a free worker: with none free, wait for a task to end.
                due = waits.next_due() if len(in_flight) < self.concurrency else None
                timeout = None if due is None else max(0.0, due - self.monotonic())
                if in_flight:
                    done, _pending = wait(list(in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
                    for future in done:
                        what, index = in_flight.pop(future)
                        waits.busy.discard(index)
                        self._settle(what, future, outcomes[index], waits)
                elif timeout is not None:
                    self.sleep(timeout)
                elif waits:
                    waits.reschedule_idle()
        return outcomes

    def _not_started(self, todo: deque[int], outcomes: list[FleetOutcome]) -> None:
        """The batch's deadline passed: every certificate not started yet fails without ordering anything."""
        while todo:
            index = todo.popleft()
            outcomes[index].error = OperationError(
                f"Failed to ensure certificate '{outcomes[index].name}': not started within the batch's "
                f"max_timeout={self.batch_timeout:g}s; nothing was ordered, the next run does it")
            self._done(outcomes[index])

    def _done(self, outcome: FleetOutcome) -> None:
        if self.finish is not None:
            self.finish(outcome)

    def _settle(self, what: str, future: Future, outcome: FleetOutcome, waits: _Waits) -> None:
        """Take in a finished task: an outcome, a new wait, or the next due time of a wait."""
        index = outcome.index
        error = future.exception()
        now = self.monotonic()
        if error is not None:
            outcome.error = error
            waits.pop(index)
            self._scout_ended(index, waits, now)
            self._done(outcome)
            return
        if what == "ensure":
            deferred = outcome.service.life.deferred if outcome.service else None  # type: ignore[union-attr]
            if deferred is None:
                self._done(outcome)
                return
            collector = outcome.service.life.collector  # type: ignore[union-attr]
            # An order's age counts from SCM's answer to it: the Vault writes after it take longer for some orders than
            # for others, and would blur the issuance time the batch learns. One deadline for the batch: the wait of an
            # order ends when the batch's does.
            start = min(now, deferred.ordered_at) if deferred.ordered_at is not None else now
            schedule = PollSchedule(max(0.0, self._deadline - start), deferred.waiting.loop_period, clock=self.monotonic,
                                    rand=self.rand, start=start)
            item = _Wait(outcome, deferred, collector.watch(deferred.record, start=start), schedule, now)
            if self.learned is None and self._scout is None:
                self._scout = index  # checked at once and on its own schedule
            elif self.learned is None:
                scout = waits.get(self._scout)
                scout_age = scout.age(start) if scout is not None else 0.0
                item.due = min(start + max(HOLD_FIRST, scout_age), self._deadline)
            else:
                item.due = self._first_due(item, now)
            waits.add(item)
            return
        result = future.result()
        item = waits.items[index]
        if result is not None:
            waits.pop(index)
            outcome.result = result
            self._learn(item, now, waits)
            self._scout_ended(index, waits, now)
            self._done(outcome)
            return
        item.checked_age = item.age(now)
        waits.checked.add(index)
        delay = item.schedule.next_delay()
        if delay is None:
            item.expired = True
            waits.schedule(item, now)
        elif self.learned is None and index != self._scout:
            waits.schedule(item, min(now + max(delay, min(item.schedule.cap, HOLD_GROWTH * item.age(now))), self._deadline))
        else:
            waits.schedule(item, max(now + delay, self._first_due(item, now)))

    def _first_due(self, item: _Wait, now: float) -> float:
        """When an order that does not scout is first worth checking (docs/lifecycle.md "The fleet path")."""
        if self.learned is None:
            return min(item.schedule.start + item.schedule.min_delay, self._deadline)
        return min(max(now, item.schedule.start + self.learned), self._deadline)

    def _learn(self, issued: _Wait, now: float, waits: _Waits) -> None:
        """``issued`` was seen issued now: refine the batch's issuance time and move the waits not checked at it yet.

        Only a wait already checked can have been checked below the issuance time when that time stays the same; when it
        changes, any wait may have to move.
        """
        age = issued.age(now)
        if issued.checked_age >= 0:
            low, high = self._bounds or (issued.checked_age, age)
            self._bounds = (max(low, issued.checked_age), min(high, age))
            low, high = self._bounds
            learned = (low + high) / 2 if low < high else high
        elif self.learned is None:
            learned = age  # issued at its first check: at most this long
        else:
            return  # checked first at the learned time and found issued: nothing new
        before, self.learned = self.learned, max(0.0, learned)
        candidates = waits.values() if self.learned != before else [waits.items[i] for i in waits.checked]
        for item in candidates:
            if not item.expired and item.checked_age < self.learned and item.outcome.index != self._scout:
                due = self._first_due(item, now)
                if due != item.due:
                    waits.schedule(item, due)

    def _scout_ended(self, index: int, waits: _Waits, now: float) -> None:
        """The scout got its answer (or an error) before the batch learned anything: the oldest waiting order scouts next."""
        if index != self._scout:
            return
        self._scout = None
        if self.learned is not None:
            return
        waiting = [item for item in waits.values() if not item.expired]
        if waiting:
            scout = min(waiting, key=lambda item: item.schedule.start)
            self._scout = scout.outcome.index
            waits.schedule(scout, min(scout.due, now))
