"""Vault's clock (docs/scale.md "Claims on Vault's clock"): when Vault wrote a version, and Vault's now, without the
controller's wall clock. Through the real VaultClient on a scripted transport (vault_fakes.scripted)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lifecycle_fakes import Ticking
from vault_fakes import scripted, store_for

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultError, vault_time

WRITTEN = "2026-12-07T22:55:01.123456789Z"
AT = datetime(2026, 12, 7, 22, 55, 1, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    (WRITTEN, AT),
    ("2026-12-07T22:55:01Z", AT.replace(microsecond=0)),
    ("2026-12-07T23:55:01.5+01:00", AT.replace(microsecond=500000)),
    ("", None), (None, None), ("yesterday", None), ("2026-13-07T22:55:01Z", None),
])
def test_vault_times_are_read_to_the_microsecond(text, expected):
    assert vault_time(text) == expected


def read_reply(version, created_time=WRITTEN):
    return 200, {}, {"data": {"data": {"claim": {}}, "metadata": {"version": version, "created_time": created_time}}}


def test_the_time_a_version_was_written_comes_with_its_read_or_from_its_metadata():
    clock = Ticking()
    metadata = {"data": {"current_version": 4, "versions": {"3": {"created_time": "2026-12-07T22:50:00Z"}}}}
    client, sent = scripted([read_reply(4), (200, {}, metadata)], clock)
    store = store_for(client, clock)
    store.read("names/prod/web01")
    assert store.written_at("names/prod/web01", 4) == AT and len(sent) == 1          # known from the read: no request
    assert store.written_at("names/prod/web01", 3) == datetime(2026, 12, 7, 22, 50, tzinfo=timezone.utc)
    assert sent[-1] == ("GET", "secret/metadata/base/names/prod/web01")
    assert store.written_at("names/prod/web01", 3) is not None and len(sent) == 2     # kept for the next judgement


def test_vault_now_is_asked_once_then_moved_on_by_the_monotonic_clock():
    clock = Ticking()
    seconds = int(AT.timestamp())
    client, sent = scripted([(200, {}, {"server_time_utc": seconds, "standby": True})], clock)
    store = store_for(client, clock)
    first = store.vault_now()
    assert first == datetime.fromtimestamp(seconds, timezone.utc)
    assert sent == [("GET", "sys/health?standbyok=true&perfstandbyok=true")]       # a standby answers it too
    clock.now += 7.5
    assert store.vault_now() - first == timedelta(seconds=7.5) and len(sent) == 1


def test_a_write_gives_vault_now_without_asking():
    clock = Ticking()
    client, sent = scripted([(200, {}, {"data": {"version": 2, "created_time": WRITTEN}})], clock)
    store = store_for(client, clock)
    assert store.write("names/prod/web01", {"claim": {}}, cas=1) == 2
    clock.now += 3
    assert store.vault_now() == AT + timedelta(seconds=3) and len(sent) == 1
    assert store.written_at("names/prod/web01", 2) == AT


def test_a_vault_that_does_not_tell_its_time_says_so():
    clock = Ticking()
    client, _sent = scripted([(200, {}, {"initialized": True})], clock)
    with pytest.raises(VaultError, match="server_time_utc"):
        store_for(client, clock).vault_now()
