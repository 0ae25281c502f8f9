"""Unit tests of the fleet path (_fleet): many certificates, a bounded pool, one polling loop, one deadline."""
from __future__ import annotations

import threading
import time

import pytest

from lifecycle_fakes import FakeScm, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import fleet as fleet_module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import (Fleet, FleetOutcome, _Wait, _Waits, build_requests,
                                                                                      widen_pool)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
          "defaults": {"cert_type": 101, "term": 365, "loop_period": 5}}


class Locked:
    """The fakes are not thread-safe; the fleet calls them from its pool. Every call goes through one lock."""

    def __init__(self, inner, lock):
        self._inner = inner
        self._lock = lock

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            with self._lock:
                result = value(*args, **kwargs)
                return list(result) if hasattr(result, "__next__") else result
        return call


class Clock:
    """A monotonic clock that the fleet's sleep advances; the pool's own waits take real (short) time."""

    def __init__(self):
        self.now = 0.0
        self.lock = threading.Lock()

    def monotonic(self):
        with self.lock:
            return self.now

    def sleep(self, seconds):
        with self.lock:
            self.now += seconds


@pytest.fixture
def bed():
    lock = threading.RLock()
    store, scm, clock = FakeStore(), FakeScm(), Clock()
    locked_store, locked_scm = Locked(store, lock), Locked(scm, lock)
    locked_store.base_path = store.base_path

    def fleet(check_mode=False, concurrency=4, max_timeout=None, config=None):
        return Fleet(locked_store, config or CONFIG, lambda: locked_scm, concurrency=concurrency, max_timeout=max_timeout, check_mode=check_mode,
                     sleep=clock.sleep, monotonic=clock.monotonic, rand=lambda: 0.5)
    return store, scm, clock, fleet


def names(count):
    return [{"name": f"web{i:02d}", "common_name": f"web{i:02d}.example.com"} for i in range(count)]


def test_enroll_many_then_rerun_without_scm(bed):
    store, scm, clock, fleet = bed
    scm.pending_polls = 3
    outcomes = fleet().run(build_requests(names(12), {"config": "prod"}))
    assert [o.error for o in outcomes] == [None] * 12
    assert [(o.result.changed, o.result.action, o.result.record["status"]) for o in outcomes] == [(True, "enrolled", "Issued")] * 12
    assert scm.calls.count("enroll_ssl") == 12
    assert {o.result.record["domain"] for o in outcomes} == {f"web{i:02d}.example.com" for i in range(12)}
    for outcome in outcomes:
        assert store.read(f"names/prod/{outcome.name}")[0]["cert_unique_id"] == outcome.result.record["cert_unique_id"]
    # The waits overlapped: twelve orders of four pending polls each took one order's schedule, not twelve.
    assert clock.now < 10

    calls, writes = len(scm.calls), store.writes
    again = fleet().run(build_requests(names(12), {"config": "prod"}))
    assert [(o.result.changed, o.result.action) for o in again] == [(False, "none")] * 12
    assert len(scm.calls) == calls and store.writes == writes


def test_check_mode_predicts_and_writes_nothing(bed):
    store, scm, _clock, fleet = bed
    outcomes = fleet(check_mode=True).run(build_requests(names(3), {"config": "prod"}))
    assert [(o.result.changed, o.result.action) for o in outcomes] == [(True, "enrolled")] * 3
    assert outcomes[0].result.after["domain"] == "web00.example.com"
    assert store.writes == 0 and "enroll_ssl" not in scm.calls


def test_one_failure_does_not_hide_the_others(bed):
    store, scm, _clock, fleet = bed
    enroll = scm.enroll_ssl

    def refuse_web02(**kw):
        if "web02" in crypto.csr_info(kw["csr"])["common_name"]:
            raise ScmRequestError("refused", status=400, scm_code=-7, description="Invalid domain")
        return enroll(**kw)
    scm.enroll_ssl = refuse_web02
    items = names(5) + [{"name": "bad name!", "common_name": "x.example.com"}, {"name": "web01", "common_name": "twice.example.com"}]
    outcomes = fleet().run(build_requests(items, {"config": "prod", "subject_alt_names": None}))
    failed = {o.name: o.error for o in outcomes if o.error is not None}
    assert set(failed) == {"web02", "bad name!", "web01"} and outcomes[1].error is None is not outcomes[6].error
    assert isinstance(failed["web02"], ScmRequestError)
    assert isinstance(outcomes[6].error, InputError) and "given twice" in str(outcomes[6].error)
    issued = [o for o in outcomes if o.error is None]
    assert len(issued) == 4 and all(o.result.record["status"] == "Issued" for o in issued)
    # The refused order left no claim behind: the next run orders it once.
    assert store.read("names/prod/web02")[0] is None


def test_one_deadline_for_the_batch_saves_every_order(bed):
    store, scm, clock, fleet = bed
    scm.pending_polls = 10 ** 6
    outcomes = fleet(max_timeout=20).run(build_requests(names(6), {"config": "prod"}))
    assert all(isinstance(o.error, OperationError) for o in outcomes)
    assert all(o.error.result["status"] == "TimeoutStateSaved" for o in outcomes)
    assert "max_timeout=20s" in str(outcomes[0].error)
    assert 20 <= clock.now < 21
    assert scm.calls.count("enroll_ssl") == 6
    assert scm.calls.count("collect_ssl") <= 6 * 12
    uid = outcomes[0].error.result["cert"]["cert_unique_id"]
    assert store.read(f"certs/prod/{uid}")[0]["status"] == "TimeoutStateSaved"

    # The next run collects the same orders: no new one.
    scm.pending_polls = 0
    for order in scm.orders.values():
        order["polls_left"] = 0
    again = fleet(max_timeout=20).run(build_requests(names(6), {"config": "prod"}))
    assert [(o.error, o.result.action) for o in again] == [(None, "collected")] * 6
    assert scm.calls.count("enroll_ssl") == 6


def test_build_requests_merges_shared_options():
    built = build_requests([{"name": "a", "term": 730}, {"name": "b", "common_name": "b.example.com"}],
                           {"config": "prod", "term": 365, "common_name": None, "key_algo": "EC"})
    (name_a, lazy_a), (name_b, lazy_b) = built
    # Each item is made into its CertRequest when it starts; until then it holds only the options it was given.
    assert lazy_a.item == {"name": "a", "term": 730} and lazy_a.shared is lazy_b.shared
    a, b = lazy_a.build(), lazy_b.build()
    assert (name_a, a.term, a.key_algo, a.common_name) == ("a", 730, "EC", None)
    assert (name_b, b.term, b.common_name) == ("b", 365, "b.example.com")
    assert isinstance(a, CertRequest)


def test_widen_pool_keeps_retry_settings():
    requests = pytest.importorskip("requests")
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = requests.Session()
    retry = Retry(total=3)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    widen_pool(session, 32)
    adapter = session.get_adapter("http://")
    assert adapter._pool_maxsize == 32 and adapter.max_retries.total == 3


def test_widen_pool_keeps_a_client_certificate_context():
    pytest.importorskip("requests")
    import ssl

    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.transport import Attempts, ScmAdapter

    context = ssl.create_default_context()
    session = __import__("requests").Session()
    adapter = ScmAdapter(Attempts(), context, max_retries=0)
    session.mount("https://", adapter)
    widen_pool(session, 32)
    assert session.get_adapter("https://") is adapter and adapter._pool_maxsize == 32
    assert adapter.poolmanager.connection_pool_kw["ssl_context"] is context


class TimedScm(FakeScm):
    """Orders issued ``delay(n)`` seconds (fake clock) after the n-th was placed; records when each was first seen issued."""

    def __init__(self, clock, delay):
        super().__init__()
        self.clock, self.delay = clock, delay
        self.placed, self.seen, self.requests = {}, {}, {}

    def _new(self, **order):
        oid = super()._new(**order)
        self.orders[oid]["polls_left"] = 10 ** 9
        self.placed[oid] = self.clock.monotonic()
        return oid

    def _ready(self, order):
        self.requests[order["id"]] = self.requests.get(order["id"], 0) + 1
        number = sorted(self.placed).index(order["id"])
        if order["status"] == "Applied" and self.clock.monotonic() >= self.placed[order["id"]] + self.delay(number):
            order["polls_left"] = 0
            self.seen.setdefault(order["id"], self.clock.monotonic())

    def _collect(self, oid):
        self._ready(self.orders[int(oid)])
        return super()._collect(oid)

    def _details_poll(self, order):
        self._ready(order)
        super()._details_poll(order)


def timed_fleet(delay, max_timeout=120):
    lock = threading.RLock()
    store, clock = FakeStore(), Clock()
    scm = TimedScm(clock, delay)
    locked_store, locked_scm = Locked(store, lock), Locked(scm, lock)
    locked_store.base_path = store.base_path
    fleet = Fleet(locked_store, CONFIG, lambda: locked_scm, concurrency=4, max_timeout=max_timeout,
                  sleep=clock.sleep, monotonic=clock.monotonic, rand=lambda: 0.5)
    return fleet, scm


def test_the_batch_learns_the_issuance_time_from_its_first_order():
    fleet, scm = timed_fleet(lambda number: 5.0)
    outcomes = fleet.run(build_requests(names(12), {"config": "prod"}))
    assert [o.error for o in outcomes] == [None] * 12 and all(o.result.record["status"] == "Issued" for o in outcomes)
    assert 4.0 <= fleet.learned <= 6.25
    # Every order is stored within 1.25 x the issuance time, and only the scout polled its way there.
    assert all(scm.seen[oid] - scm.placed[oid] <= 1.25 * 5.0 for oid in scm.placed)
    scout = min(scm.requests, key=lambda oid: -scm.requests[oid])
    assert scm.requests[scout] >= 4
    assert all(scm.requests[oid] <= 4 for oid in scm.placed if oid != scout), scm.requests


def test_a_slow_scout_does_not_hold_the_others_back_for_long():
    # The first order is never issued; the others are issued after 5 s.
    fleet, scm = timed_fleet(lambda number: 10 ** 6 if number == 0 else 5.0, max_timeout=60)
    outcomes = fleet.run(build_requests(names(6), {"config": "prod"}))
    stuck = sorted(scm.placed)[0]
    failed = [o for o in outcomes if o.error is not None]
    assert len(failed) == 1 and failed[0].error.result["status"] == "TimeoutStateSaved"
    assert failed[0].error.result["cert"]["ssl_id"] == stuck
    assert all(scm.seen[oid] - scm.placed[oid] <= 2 * 5.0 + 1 for oid in scm.placed if oid != stuck), (scm.seen, scm.placed)
    assert stuck not in scm.seen


class Counting:
    """The fleet's monotonic clock, counting how often the batch's loop reads it (about twice per turn of the loop)."""

    def __init__(self, clock):
        self.clock, self.reads = clock, 0

    def __call__(self):
        self.reads += 1
        return self.clock.monotonic()


class Slow:
    """Every call of ``inner`` takes ``seconds`` of real time first."""

    def __init__(self, inner, seconds):
        self._inner, self._seconds = inner, seconds

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            time.sleep(self._seconds)
            return value(*args, **kwargs)
        return call


class RealClock:
    """Real time, for the test where waits fall due while the workers are busy."""

    monotonic = staticmethod(time.monotonic)


def test_a_full_pool_is_waited_for_not_polled():
    # Two workers, SCM answers taking 5 ms, orders issued 50 ms after they were placed, in real time: waits fall due while
    # both workers are busy. The loop then waits for a worker instead of turning without pause: it turns about once per
    # finished task, however long the tasks take.
    lock = threading.RLock()
    store = FakeStore()
    scm = TimedScm(RealClock(), lambda number: 0.05)
    slow_scm = Slow(Locked(scm, lock), 0.005)
    locked_store = Locked(store, lock)
    locked_store.base_path = store.base_path
    counting = Counting(RealClock())
    finished = []
    fleet = Fleet(locked_store, CONFIG, lambda: slow_scm, concurrency=2, max_timeout=120, monotonic=counting, rand=lambda: 0.5,
                  finish=finished.append)
    outcomes = fleet.run(build_requests(names(30), {"config": "prod"}))
    assert [o.error for o in outcomes] == [None] * 30
    tasks = 30 + sum(scm.requests.values())
    assert counting.reads < 8 * tasks, (counting.reads, tasks)
    # Each outcome was handed to finish once, when it was final.
    assert sorted(o.index for o in finished) == list(range(30)) and all(o.result is not None for o in finished)


def test_the_waits_heap_takes_the_earliest_due_and_skips_what_moved():
    waits = _Waits()
    items = [_Wait(FleetOutcome(i, f"n{i}"), None, None, None, due) for i, due in enumerate((5.0, 1.0, 3.0))]
    for item in items:
        waits.add(item)
    assert waits.next_due() == 1.0 and waits.take_due(0.5) is None
    first = waits.take_due(1.0)
    assert first is items[1] and 1 in waits.busy
    waits.schedule(items[2], 6.0)  # moved later: its entry at 3.0 is stale
    waits.schedule(items[1], 0.5)  # busy: not taken until its check has ended
    assert waits.next_due() == 5.0
    waits.busy.discard(1)
    waits.schedule(items[1], 2.0)
    assert [waits.take_due(10.0).outcome.index for _turn in range(3)] == [1, 0, 2]
    waits.pop(0)
    assert waits.take_due(10.0) is None and waits.next_due() is None


class SlowWrites:
    """A store whose writes take time on the fake clock: ``cost(path)`` seconds each."""

    def __init__(self, inner, clock, cost):
        self._inner, self._clock, self._cost = inner, clock, cost

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def write(self, path, value, cas):
        self._clock.sleep(self._cost(path))
        return self._inner.write(path, value, cas)


def test_an_orders_age_counts_from_scms_answer_not_from_the_vault_writes_after_it(monkeypatch):
    # The Vault writes after an order take 0.1 s for some certificates and 1.5 s for others (fake clock): each wait's
    # schedule starts when SCM answered the order, not when its certificate's writes were done, so every order is as old
    # when issued and the issuance time the batch learns is not blurred by the writes.
    lock = threading.RLock()
    store, clock = FakeStore(), Clock()
    scm = TimedScm(clock, lambda number: 5.0)
    slow = SlowWrites(Locked(store, lock), clock, lambda path: 1.5 if path.rstrip("/")[-1] in "13579" else 0.1)
    slow.base_path = store.base_path
    starts = []

    class Recorded(fleet_module.PollSchedule):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            starts.append(self.start)

    monkeypatch.setattr(fleet_module, "PollSchedule", Recorded)
    fleet = Fleet(slow, CONFIG, lambda: Locked(scm, lock), concurrency=1, max_timeout=300, sleep=clock.sleep,
                  monotonic=clock.monotonic, rand=lambda: 0.5)
    outcomes = fleet.run(build_requests(names(6), {"config": "prod"}))
    assert [o.error for o in outcomes] == [None] * 6
    assert starts == [scm.placed[oid] for oid in sorted(scm.placed)]
    assert all(scm.seen[oid] - scm.placed[oid] >= 5.0 for oid in scm.placed)
