"""Claims: taken with check-and-set, kept fresh, judged stale, waited for, and one order sent under them."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from datetime import datetime, timedelta, timezone

from lifecycle_fakes import FakeStore, Ticking

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import (
    CLAIM_POLL_SECONDS, CLAIM_STALE_SECONDS, CLAIM_WAIT_SECONDS, Claims, claim_is_stale, name_claim, order_under_claim,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import iso
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmConnectionError, ScmRequestError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def records():
    return CertRecords(FakeStore(), "prod", clock=lambda: NOW)


def claims_of(repo, interval=None, **kwargs):
    return Claims(repo, clock=repo.clock, heartbeat=interval, **kwargs)


def test_one_claim_on_a_record_wins_until_it_goes_stale():
    repo = records()
    repo.write({"cert_unique_id": "1_a", "status": "Issued"}, 0)
    mine, my_version = repo.read("1_a")
    theirs, their_version = repo.read("1_a")
    claim = {"kind": "renew", "claimed_at": iso(NOW)}
    assert claims_of(repo).take_record(mine, my_version, dict(claim)) == 2
    assert claims_of(repo).take_record(theirs, their_version, dict(claim)) is None          # lost the check-and-set
    fresh, fresh_version = repo.read("1_a")
    assert claims_of(repo).take_record(fresh, fresh_version, dict(claim)) is None          # held and fresh
    old = {"kind": "renew", "claimed_at": iso(NOW - timedelta(seconds=CLAIM_STALE_SECONDS))}
    assert claims_of(repo).stale(old) and claims_of(repo).stale({"claimed_at": iso(NOW), "outcome": "unknown"}) and not claims_of(repo).stale(claim)
    fresh["pending"] = old
    assert claims_of(repo).take_record(fresh, fresh_version, dict(claim)) == 3              # a stale claim is taken over


def test_names_point_at_records_and_claims_are_dropped():
    repo = records()
    repo.write_name("web", {"name": "web", "claim": {"kind": "enroll"}}, 0)
    entry, version = repo.read_name("web")
    claims_of(repo).drop_name("web", entry, version)
    assert repo.read_name("web") == (None, 0)                                   # nothing to keep: deleted
    repo.point_name("web", "1_a", 0)
    entry, version = repo.read_name("web")
    repo.write_name("web", dict(entry, claim={"kind": "enroll"}), version)
    claims_of(repo).drop_name("web", *repo.read_name("web"))
    assert repo.read_name("web")[0] == {"name": "web", "config_name": "prod", "cert_unique_id": "1_a"}


def test_a_keeper_refreshes_the_claim_while_its_owner_works():
    store = FakeStore()
    ticks = iter(NOW + timedelta(seconds=s) for s in range(1, 1000))
    repo = CertRecords(store, "prod", clock=lambda: next(ticks))
    entry = {"name": "web01", "claim": claims_of(repo).new("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    with claims_of(repo, 0.01).keep(lambda doc, v: repo.write_name("web01", doc, v), entry, entry["claim"], version) as keeper:
        deadline = time.monotonic() + 5
        while keeper.version < version + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    stored, stored_version = store.read("names/prod/web01")
    assert keeper.version == stored_version >= version + 3 and not keeper.lost
    assert stored["claim"]["claimed_at"] > iso(NOW) and stored["claim"]["owner"]["pid"] == os.getpid()


def test_a_keeper_that_loses_its_claim_stops_and_says_so():
    store = FakeStore()
    repo = CertRecords(store, "prod", clock=lambda: NOW)
    entry = {"name": "web01", "claim": claims_of(repo).new("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    store.write("names/prod/web01", {"name": "web01", "claim": {"taken": "over"}}, cas=version)  # another run took it over
    with claims_of(repo, 0.01).keep(lambda doc, v: repo.write_name("web01", doc, v), entry, entry["claim"], version) as keeper:
        deadline = time.monotonic() + 5
        while not keeper.lost and time.monotonic() < deadline:
            time.sleep(0.01)
    assert keeper.lost and store.read("names/prod/web01")[0]["claim"] == {"taken": "over"}


def claimed_name(interval=None):
    """A name entry with this run's claim, and a keeper for it (no heartbeat thread unless ``interval``)."""
    store = FakeStore()
    repo = CertRecords(store, "prod", clock=lambda: NOW)
    entry = {"name": "web01", "claim": claims_of(repo).new("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    return store, claims_of(repo, interval).keep(lambda doc, v: repo.write_name("web01", doc, v), entry, entry["claim"], version), version


def test_an_order_under_a_claim_is_sent_once_and_looked_up_only_when_its_answer_may_be_lost():
    looked = []

    def look_up(found):
        return lambda: looked.append(1) or found

    def fail(error):
        def post():
            raise error
        return post

    _store, keeper, version = claimed_name()
    ordered = order_under_claim(keeper, lambda: {"ssl_id": 7}, look_up(None))
    assert (ordered.version, ordered.answer, ordered.failure) == (version, {"ssl_id": 7}, None) and looked == []
    lost_answer = ScmConnectionError("reset", may_have_reached=True)
    ordered = order_under_claim(claimed_name()[1], fail(lost_answer), look_up({"ssl_id": 7}))
    assert (ordered.answer, ordered.error, ordered.failure) == ({"ssl_id": 7}, lost_answer, None) and looked == [1]
    ordered = order_under_claim(claimed_name()[1], fail(lost_answer), look_up(None))
    assert ordered.failure is lost_answer and looked == [1, 1]
    refused = ScmRequestError("refused")
    ordered = order_under_claim(claimed_name()[1], fail(refused), look_up({"ssl_id": 7}))
    assert ordered.failure is refused and ordered.answer is None and looked == [1, 1]      # nothing reached SCM: no look-up
    # A POST that answers nothing (a replacement) is an order all the same; a look-up that says False is none.
    assert order_under_claim(claimed_name()[1], lambda: None, look_up(None)).failure is None
    assert order_under_claim(claimed_name()[1], fail(lost_answer), look_up(False)).failure is lost_answer


def test_an_order_whose_claim_is_taken_over_meanwhile_says_so_and_writes_nothing():
    store, keeper, _version = claimed_name(interval=0.01)
    taken = {"name": "web01", "claim": {"taken": "over"}}

    def post():
        while True:  # another run judged the claim abandoned and wrote its own (on whatever the keeper wrote last)
            try:
                store.write("names/prod/web01", taken, cas=store.read("names/prod/web01")[1])
                break
            except VaultCasConflict:
                continue
        deadline = time.monotonic() + 5
        while not keeper.lost and time.monotonic() < deadline:
            time.sleep(0.01)
        raise ScmRequestError("refused")

    assert order_under_claim(keeper, post, lambda: pytest.fail("nothing reached SCM: no look-up")) is None
    assert keeper.lost and store.read("names/prod/web01")[0] == taken   # the claim is not given up over the other run's


def test_a_claim_of_an_exited_process_on_this_host_is_stale_at_once():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    repo = CertRecords(FakeStore(), "prod", clock=lambda: NOW)
    fresh = {"kind": "renew", "claimed_at": iso(NOW), "owner": {"host": socket.gethostname(), "pid": proc.pid}}
    assert claims_of(repo).stale(fresh)
    assert not claims_of(repo).stale(dict(fresh, owner={"host": socket.gethostname(), "pid": os.getpid()}))
    assert not claims_of(repo).stale(dict(fresh, owner={"host": "another-host", "pid": proc.pid}))


def test_staleness_is_one_judgement_at_the_time_it_is_given():
    claim = {"kind": "renew", "claimed_at": iso(NOW), "owner": {"host": "another-host", "pid": 1}}
    assert not claim_is_stale(claim, NOW + timedelta(seconds=CLAIM_STALE_SECONDS - 1))
    assert claim_is_stale(claim, NOW + timedelta(seconds=CLAIM_STALE_SECONDS))
    assert claim_is_stale(claim, NOW + timedelta(seconds=5), stale_after=5)
    assert claim_is_stale(dict(claim, outcome="unknown"), NOW)


def test_with_vault_times_the_age_of_a_claim_is_on_vault_clock_alone():
    claim = {"kind": "renew", "claimed_at": iso(NOW), "owner": {"host": "another-host", "pid": 1}}
    # The judge's clock 10 minutes off either way; Vault wrote the claim's version 5 s (fresh) or 25 s (dead) ago.
    assert not claim_is_stale(claim, NOW + timedelta(seconds=5), refreshed_at=NOW)
    assert claim_is_stale(dict(claim, claimed_at=iso(NOW + timedelta(minutes=10))), NOW + timedelta(seconds=25), refreshed_at=NOW)
    assert claim_is_stale(dict(claim, outcome="unknown"), NOW, refreshed_at=NOW)


class ClockedStore(FakeStore):
    """A FakeStore that, like VaultStore, tells when Vault wrote each version and Vault's now (``vault``)."""

    def __init__(self):
        super().__init__()
        self.vault = NOW
        self.stamps = {}

    def write(self, path, value, cas):
        version = super().write(path, value, cas)
        self.stamps[(path, version)] = self.vault
        return version

    def written_at(self, path, version):
        return self.stamps.get((path, version))

    def vault_now(self):
        return self.vault


@pytest.mark.parametrize("skew", [timedelta(minutes=10), -timedelta(minutes=10)])
def test_a_controller_clock_minutes_off_neither_takes_a_live_claim_nor_waits_on_a_dead_one(skew):
    store = ClockedStore()
    owner = CertRecords(store, "prod", clock=lambda: NOW)                        # the owner's clock is right
    judge = CertRecords(store, "prod", clock=lambda: NOW + skew)                 # the judge's is 10 minutes off
    claim = Claims(owner, clock=owner.clock, heartbeat=None).new("enroll", "r1", owner={"host": "another-host", "pid": 1})
    version = owner.write_name("web01", {"name": "web01", "claim": claim}, 0)
    ticking = Ticking()
    claims = Claims(judge, clock=judge.clock, heartbeat=None, monotonic=lambda: ticking.now, sleep=ticking.sleep)
    entry, version = judge.read_name("web01")

    store.vault = NOW + timedelta(seconds=CLAIM_STALE_SECONDS - 1)               # refreshed 19 s ago on Vault's clock: live
    assert not claims.stale(claim, judge.written_at(name="web01", version=version))
    store.vault = NOW + timedelta(seconds=CLAIM_STALE_SECONDS)                   # 20 s: dead
    assert claims.stale(claim, judge.written_at(name="web01", version=version))

    # Waiting: the owner refreshes once (a new version Vault stamps later), then dies; the judge takes over 20 s after
    # that refresh by Vault's clock, whatever its own clock says.
    store.vault = NOW + timedelta(seconds=10)
    owner.write_name("web01", {"name": "web01", "claim": dict(claim)}, version)

    def read():
        store.vault += timedelta(seconds=CLAIM_POLL_SECONDS)
        return judge.read_name("web01")

    document, _version, stale = claims.wait(entry, version, name_claim, read, "enroll certificate 'web01'",
                                            lambda v: judge.written_at(name="web01", version=v))
    assert stale and document["claim"]["request_id"] == "r1"
    assert store.vault - (NOW + timedelta(seconds=10)) == timedelta(seconds=CLAIM_STALE_SECONDS)


def test_a_store_without_vault_times_judges_by_claimed_at_and_the_callers_clock():
    repo = records()
    assert repo.written_at("1_a", version=1) is None
    claim = {"kind": "renew", "claimed_at": iso(NOW - timedelta(seconds=CLAIM_STALE_SECONDS)), "owner": {"host": "h", "pid": 1}}
    assert claims_of(repo).stale(claim, None)


def test_waiting_for_a_fresh_claim_ends_when_it_is_gone_stale_or_too_long():
    repo = records()
    ticking = Ticking()
    claims = claims_of(repo, monotonic=lambda: ticking.now, sleep=ticking.sleep)
    held = {"name": "web01", "claim": claims.new("enroll", "other")}
    reads = iter([(held, 2), ({"name": "web01", "cert_unique_id": "1_a"}, 3)])
    assert claims.wait(held, 1, name_claim, lambda: next(reads), "enroll certificate 'web01'") == \
        ({"name": "web01", "cert_unique_id": "1_a"}, 3, False)
    assert ticking.sleeps == [CLAIM_POLL_SECONDS, CLAIM_POLL_SECONDS]
    assert claims.wait(held, 1, name_claim, lambda: (None, 0), "x") == (None, 0, False)        # deleted meanwhile
    dead = {"name": "web01", "claim": dict(held["claim"], outcome="unknown")}
    assert claims.wait(dead, 4, name_claim, lambda: pytest.fail("no wait"), "x") == (dead, 4, True)
    with pytest.raises(OperationError, match=rf"Failed to enroll certificate 'web01': another run .* after {CLAIM_WAIT_SECONDS} s"):
        claims.wait(held, 1, name_claim, lambda: (held, 1), "enroll certificate 'web01'")
    checking = claims_of(repo, check_mode=True, sleep=lambda s: pytest.fail("check mode does not wait"))
    assert checking.wait(held, 1, name_claim, lambda: pytest.fail("no read"), "x") == (held, 1, False)


def test_a_failed_first_order_gives_its_claim_up_or_keeps_it_for_a_look_up():
    def fail(error):
        def post():
            raise error
        return post

    repo = records()
    claims = claims_of(repo)
    entry = {"name": "web01", "claim": claims.new("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    refused = claims.order_on_name("web01", entry, version, fail(ScmRequestError("refused")), lambda: None)
    assert refused.failure is not None and repo.read_name("web01") == (None, 0)                # nothing reached SCM
    entry = {"name": "web01", "claim": claims.new("enroll", "r2")}
    version = repo.write_name("web01", entry, 0)
    lost = claims.order_on_name("web01", entry, version, fail(ScmConnectionError("reset", may_have_reached=True)), lambda: None)
    stored, stored_version = repo.read_name("web01")
    assert lost.failure.may_have_reached and stored["claim"]["outcome"] == "unknown" and stored_version == lost.version


def test_an_order_on_a_record_is_claimed_first_and_a_held_claim_orders_nothing():
    repo = records()
    claims = claims_of(repo)
    repo.write({"cert_unique_id": "1_a", "status": "Issued"}, 0)
    record, version = repo.read("1_a")
    ordered = claims.order_on_record(record, version, claims.new("renew", "r1"), lambda: {"ssl_id": 2}, lambda: None)
    assert ordered.answer == {"ssl_id": 2} and repo.read("1_a")[0]["pending"]["request_id"] == "r1"
    again, again_version = repo.read("1_a")
    assert claims.order_on_record(again, again_version, claims.new("renew", "r2"), lambda: pytest.fail("ordered twice"),
                                  lambda: None) is None
    del again["pending"]
    version = repo.write(again, again_version)
    failed = claims.order_on_record(again, version, claims.new("renew", "r3"),
                                    lambda: (never for never in ()).throw(ScmRequestError("refused")), lambda: None)
    assert failed.failure is not None and "pending" not in repo.read("1_a")[0]                  # given up: nothing reached SCM
