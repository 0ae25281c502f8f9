"""Records, names and claims in Vault (check-and-set on every write)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from datetime import datetime, timedelta, timezone

from lifecycle_fakes import FakeStore

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CLAIM_STALE_SECONDS, CertRecords, order_under_claim
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import iso
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmConnectionError, ScmRequestError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def records():
    return CertRecords(FakeStore(), "prod", clock=lambda: NOW)


def test_write_stamps_and_checks_the_version():
    repo = records()
    version = repo.write({"cert_unique_id": "1_acme", "status": "Issued"}, 0)
    record, read_version = repo.read("1_acme")
    assert read_version == version == 1 and record["updated_at"] == iso(NOW)
    assert repo.create_or_overwrite({"cert_unique_id": "1_acme", "status": "Applied"}) == 2
    assert repo.read(None) == (None, 0) and repo.ids() == {"1_acme"}


def test_follow_renewals_to_the_newest_and_stops_on_a_loop():
    repo = records()
    repo.write({"cert_unique_id": "1_a", "status": "Renewed", "renewed_to": "2_a"}, 0)
    repo.write({"cert_unique_id": "2_a", "status": "Renewed", "renewed_to": "3_a"}, 0)
    repo.write({"cert_unique_id": "3_a", "status": "Issued"}, 0)
    newest, _version = repo.follow_renewals(*repo.read("1_a"))
    assert newest["cert_unique_id"] == "3_a"
    repo.write({"cert_unique_id": "4_a", "status": "Renewed", "renewed_to": "4_a"}, 0)
    assert repo.follow_renewals(*repo.read("4_a"))[0]["cert_unique_id"] == "4_a"


def test_one_claim_on_a_record_wins_until_it_goes_stale():
    repo = records()
    repo.write({"cert_unique_id": "1_a", "status": "Issued"}, 0)
    mine, my_version = repo.read("1_a")
    theirs, their_version = repo.read("1_a")
    claim = {"kind": "renew", "claimed_at": iso(NOW)}
    assert repo.claim_record(mine, my_version, dict(claim)) == 2
    assert repo.claim_record(theirs, their_version, dict(claim)) is None          # lost the check-and-set
    fresh, fresh_version = repo.read("1_a")
    assert repo.claim_record(fresh, fresh_version, dict(claim)) is None          # held and fresh
    old = {"kind": "renew", "claimed_at": iso(NOW - timedelta(seconds=CLAIM_STALE_SECONDS))}
    assert repo.stale(old) and repo.stale({"claimed_at": iso(NOW), "outcome": "unknown"}) and not repo.stale(claim)
    fresh["pending"] = old
    assert repo.claim_record(fresh, fresh_version, dict(claim)) == 3              # a stale claim is taken over


def test_names_point_at_records_and_claims_are_dropped():
    repo = records()
    repo.write_name("web", {"name": "web", "claim": {"kind": "enroll"}}, 0)
    entry, version = repo.read_name("web")
    repo.drop_name_claim("web", entry, version)
    assert repo.read_name("web") == (None, 0)                                   # nothing to keep: deleted
    repo.point_name("web", "1_a", 0)
    entry, version = repo.read_name("web")
    repo.write_name("web", dict(entry, claim={"kind": "enroll"}), version)
    repo.drop_name_claim("web", *repo.read_name("web"))
    assert repo.read_name("web")[0] == {"name": "web", "config_name": "prod", "cert_unique_id": "1_a"}


def test_a_keeper_refreshes_the_claim_while_its_owner_works():
    store = FakeStore()
    ticks = iter(NOW + timedelta(seconds=s) for s in range(1, 1000))
    repo = CertRecords(store, "prod", clock=lambda: next(ticks))
    entry = {"name": "web01", "claim": repo.new_claim("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    with repo.keep(lambda doc, v: repo.write_name("web01", doc, v), entry, entry["claim"], version, interval=0.01) as keeper:
        deadline = time.monotonic() + 5
        while keeper.version < version + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    stored, stored_version = store.read("names/prod/web01")
    assert keeper.version == stored_version >= version + 3 and not keeper.lost
    assert stored["claim"]["claimed_at"] > iso(NOW) and stored["claim"]["owner"]["pid"] == os.getpid()


def test_a_keeper_that_loses_its_claim_stops_and_says_so():
    store = FakeStore()
    repo = CertRecords(store, "prod", clock=lambda: NOW)
    entry = {"name": "web01", "claim": repo.new_claim("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    store.write("names/prod/web01", {"name": "web01", "claim": {"taken": "over"}}, cas=version)  # another run took it over
    with repo.keep(lambda doc, v: repo.write_name("web01", doc, v), entry, entry["claim"], version, interval=0.01) as keeper:
        deadline = time.monotonic() + 5
        while not keeper.lost and time.monotonic() < deadline:
            time.sleep(0.01)
    assert keeper.lost and store.read("names/prod/web01")[0]["claim"] == {"taken": "over"}


def claimed_name(interval=None):
    """A name entry with this run's claim, and a keeper for it (no heartbeat thread unless ``interval``)."""
    store = FakeStore()
    repo = CertRecords(store, "prod", clock=lambda: NOW)
    entry = {"name": "web01", "claim": repo.new_claim("enroll", "r1")}
    version = repo.write_name("web01", entry, 0)
    return store, repo.keep(lambda doc, v: repo.write_name("web01", doc, v), entry, entry["claim"], version, interval=interval), version


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
    store, keeper, version = claimed_name(interval=0.01)
    taken = {"name": "web01", "claim": {"taken": "over"}}

    def post():
        store.write("names/prod/web01", taken, cas=version)  # another run judged the claim abandoned
        deadline = time.monotonic() + 5
        while not keeper.lost and time.monotonic() < deadline:
            time.sleep(0.01)
        raise ScmRequestError("refused")

    assert order_under_claim(keeper, post, lambda: pytest.fail("nothing reached SCM: no look-up")) is None
    assert keeper.lost and store.read("names/prod/web01") == (taken, version + 1)   # the claim is not given up over the other run's


def test_a_claim_of_an_exited_process_on_this_host_is_stale_at_once():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    repo = CertRecords(FakeStore(), "prod", clock=lambda: NOW)
    fresh = {"kind": "renew", "claimed_at": iso(NOW), "owner": {"host": socket.gethostname(), "pid": proc.pid}}
    assert repo.stale(fresh)
    assert not repo.stale(dict(fresh, owner={"host": socket.gethostname(), "pid": os.getpid()}))
    assert not repo.stale(dict(fresh, owner={"host": "another-host", "pid": proc.pid}))
