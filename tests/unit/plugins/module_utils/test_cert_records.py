"""Records, names and claims in Vault (check-and-set on every write)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from datetime import datetime, timedelta, timezone

from lifecycle_fakes import FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_records import CLAIM_STALE_SECONDS, CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._records import iso

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


def test_a_claim_of_an_exited_process_on_this_host_is_stale_at_once():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    repo = CertRecords(FakeStore(), "prod", clock=lambda: NOW)
    fresh = {"kind": "renew", "claimed_at": iso(NOW), "owner": {"host": socket.gethostname(), "pid": proc.pid}}
    assert repo.stale(fresh)
    assert not repo.stale(dict(fresh, owner={"host": socket.gethostname(), "pid": os.getpid()}))
    assert not repo.stale(dict(fresh, owner={"host": "another-host", "pid": proc.pid}))
