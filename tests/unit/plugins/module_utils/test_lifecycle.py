"""Unit tests of CertificateService with an in-memory Vault and a fake SCM that signs real certificates."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from lifecycle_fakes import FakeScm, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import CLAIM_STALE_SECONDS, CLAIM_WAIT_SECONDS
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import iso, utc_now
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import MARKER_PREFIX
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict

SSL_CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
              "defaults": {"cert_type": 101, "term": 365, "max_timeout": 30, "loop_period": 5}}
CLIENT_CONFIG = dict(SSL_CONFIG, name="people", config_type="client_cert", defaults={"cert_type": 201, "term": 365})


def dead_pid() -> int:
    """The pid of a process of this host that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def bed():
    store, scm, clock = FakeStore(), FakeScm(), FakeTime()

    def service(config=None, check_mode=False):
        return CertificateService(store, config or SSL_CONFIG, lambda: scm, check_mode=check_mode, sleep=clock.sleep, monotonic=clock.monotonic,
                                  rand=lambda: 0.5)
    return store, scm, clock, service


def web01(**kw):
    params = {"config": "prod", "name": "web01", "common_name": "web01.example.com", "subject_alt_names": "www.example.com"}
    params.update(kw)
    return CertRequest(**params)


def test_enroll_then_idempotent_with_zero_scm_calls(bed):
    store, scm, _clock, service = bed
    result = service().ensure(web01())
    assert (result.changed, result.action) == (True, "enrolled")
    record = result.record
    assert record["status"] == "Issued"
    assert [s["status"] for s in record["state"]] == ["Requested", "Applied", "Issued"]
    assert record["cert_unique_id"] == f"{record['ssl_id']}_acme"
    assert record["private_key"].startswith("-----BEGIN PRIVATE KEY")
    assert sorted(record["subject_alt_names"]) == ["web01.example.com", "www.example.com"]
    assert len(record["chain"]) == 1
    assert store.read("names/prod/web01")[0]["cert_unique_id"] == record["cert_unique_id"]
    assert MARKER_PREFIX in scm.orders[record["ssl_id"]]["comments"]

    calls = len(scm.calls)
    writes = store.writes
    again = service().ensure(web01())
    assert (again.changed, again.action) == (False, "none")
    assert len(scm.calls) == calls and store.writes == writes
    bare = service().ensure(CertRequest(config="prod", name="web01"))
    assert not bare.changed and len(scm.calls) == calls


def test_check_mode_touches_nothing(bed):
    store, scm, _clock, service = bed
    result = service(check_mode=True).ensure(web01())
    assert (result.changed, result.action) == (True, "enrolled")
    assert result.after["domain"] == "web01.example.com"
    assert store.writes == 0
    assert not [c for c in scm.calls if not c.startswith("list_")]


def test_bad_term_refused_before_any_order(bed):
    store, scm, _clock, service = bed
    with pytest.raises(InputError) as err:
        service().ensure(web01(term=999))
    assert err.value.field == "term" and "365, 730" in str(err.value)
    assert "enroll_ssl" not in scm.calls
    assert store.read("names/prod/web01") == (None, 0)


def test_key_type_not_in_profile_refused(bed):
    _store, scm, _clock, service = bed
    with pytest.raises(InputError) as err:
        service().ensure(web01(cert_type=104, key_algo="EC"))
    assert err.value.field == "key_algo"
    assert "enroll_ssl" not in scm.calls


@pytest.mark.parametrize("params, field", [
    ({"name": "../x"}, "name"),
    ({"state": "replaced"}, "reason"),
    ({"reason": ""}, "reason"),
    ({"format_type": "pkcs12"}, "format_type"),
    ({"key_algo": "RSA", "key_size": 256}, "key_size"),
])
def test_bad_input_names_the_field(bed, params, field):
    store, scm, _clock, service = bed
    base = {"config": "prod", "name": "web01", "common_name": "web01.example.com"}
    base.update(params)
    with pytest.raises(ValueError) as err:
        service().ensure(CertRequest(**base))
    assert err.value.field == field
    assert store.writes == 0 and scm.calls == []


def test_timeout_saves_order_and_next_run_collects_it(bed):
    store, scm, clock, service = bed
    scm.pending_polls = 10 ** 6
    with pytest.raises(OperationError) as err:
        service().ensure(web01(max_timeout=20, loop_period=5))
    saved = err.value.result["cert"]
    assert err.value.result["status"] == "TimeoutStateSaved"
    assert max(clock.slept) <= 5 and clock.slept[0] <= 1.5
    record, _version = store.read(f"certs/prod/{saved['cert_unique_id']}")
    assert record["status"] == "TimeoutStateSaved" and record["ssl_id"] == saved["ssl_id"]

    scm.orders[saved["ssl_id"]]["polls_left"] = 0
    result = service().ensure(web01())
    assert (result.changed, result.action) == (True, "collected")
    assert result.record["ssl_id"] == saved["ssl_id"]
    assert scm.calls.count("enroll_ssl") == 1


def test_wait_false_returns_after_saving_the_order(bed):
    store, scm, _clock, service = bed
    result = service().ensure(web01(wait=False))
    assert (result.changed, result.action) == (True, "pending")
    assert result.record["status"] == "Applied"
    assert "collect_ssl" not in scm.calls
    assert store.read(f"certs/prod/{result.record['cert_unique_id']}")[0]["ssl_id"] == result.record["ssl_id"]


def test_lost_enroll_answer_is_reconciled_not_reordered(bed):
    _store, scm, _clock, service = bed
    scm.fail_next_post_after_processing = True
    result = service().ensure(web01())
    assert result.record["status"] == "Issued"
    assert scm.calls.count("enroll_ssl") == 1
    assert len(scm.orders) == 1


def test_refused_enroll_leaves_no_claim(bed):
    store, scm, _clock, service = bed
    scm.refuse_enroll = -36
    with pytest.raises(ScmRequestError):
        service().ensure(web01())
    assert store.read("names/prod/web01") == (None, 0)


def test_stale_claim_with_order_in_scm_is_adopted(bed):
    store, scm, _clock, service = bed
    scm.fail_next_post_after_processing = True
    # A run that died right after its POST: the claim is there, the order id is not.
    first = service()
    first.life.kind.find = lambda record, request_id: None  # this run's look-up misses the order (SCM slow to list it)
    with pytest.raises(OperationError):
        first.ensure(web01())
    entry, _version = store.read("names/prod/web01")
    assert entry["claim"]["outcome"] == "unknown"
    result = service().ensure(web01())
    assert result.record["status"] == "Issued"
    assert scm.calls.count("enroll_ssl") == 1


def claim_of_a_run_that_died(store, scm, service):
    """A run that wrote its enroll claim and died before its order reached SCM; the name entry it left."""

    class Died(BaseException):
        pass

    def die(**_kw):
        raise Died()

    first = service()
    first.life.kind.scm.enroll_ssl, real_enroll = die, scm.enroll_ssl
    with pytest.raises(Died):
        first.ensure(web01())
    scm.enroll_ssl = real_enroll
    return store.read("names/prod/web01")


def test_claim_of_a_run_that_died_before_ordering_is_taken_over_once(bed):
    store, scm, clock, service = bed

    entry, version = claim_of_a_run_that_died(store, scm, service)
    assert entry["claim"]["owner"]["pid"] == os.getpid()
    # The owner's process is gone: on this host that is seen at once, without waiting for the claim to age.
    entry["claim"]["owner"]["pid"] = dead_pid()
    store.write("names/prod/web01", entry, cas=version)
    result = service().ensure(web01())
    assert result.record["status"] == "Issued"
    assert clock.now == 0
    assert scm.calls.count("enroll_ssl") == 1 and len(scm.orders) == 1
    assert "claim" not in store.read("names/prod/web01")[0]


def test_a_fresh_claim_of_a_live_run_is_never_taken_over(bed):
    store, scm, clock, service = bed
    claim = {"kind": "enroll", "request_id": "r1", "claimed_at": iso(utc_now()), "owner": {"host": socket.gethostname(), "pid": 1},
             "record": {"name": "web01", "domain": "web01.example.com"}}
    store.write("names/prod/web01", {"name": "web01", "config_name": "prod", "claim": claim}, cas=0)
    with pytest.raises(OperationError) as err:
        service().ensure(web01())
    assert "still ordering" in str(err.value) and "pid 1" in str(err.value)
    assert clock.now >= CLAIM_WAIT_SECONDS and scm.calls == []


def test_a_claim_from_another_host_not_refreshed_is_taken_over(bed):
    store, scm, clock, service = bed

    entry, version = claim_of_a_run_that_died(store, scm, service)
    entry["claim"]["owner"] = {"host": "elsewhere", "pid": 42}
    entry["claim"]["claimed_at"] = iso(utc_now() - timedelta(seconds=CLAIM_STALE_SECONDS + 1))
    store.write("names/prod/web01", entry, cas=version)
    result = service().ensure(web01())
    assert result.record["status"] == "Issued" and scm.calls.count("enroll_ssl") == 1 and clock.now == 0


def test_renew_creates_new_order_and_links_records(bed):
    store, scm, _clock, service = bed
    first = service().ensure(web01()).record
    renewed = service().ensure(web01(state="renewed"))
    assert (renewed.changed, renewed.action) == (True, "renewed")
    new = renewed.record
    assert new["ssl_id"] != first["ssl_id"] and new["renewed_from"] == first["cert_unique_id"]
    assert new["private_key"] != first["private_key"]
    old, _version = store.read(f"certs/prod/{first['cert_unique_id']}")
    assert old["status"] == "Renewed" and old["renewed_to"] == new["cert_unique_id"]
    assert store.read("names/prod/web01")[0]["cert_unique_id"] == new["cert_unique_id"]
    # Addressed by its old id, read_renewed_cert follows renewed_to.
    followed = service().ensure(CertRequest(config="prod", cert_unique_id=first["cert_unique_id"]))
    assert followed.record["cert_unique_id"] == new["cert_unique_id"] and not followed.changed


def test_san_drift_replaces_with_same_order(bed):
    _store, scm, _clock, service = bed
    first = service().ensure(web01()).record
    result = service().ensure(web01(subject_alt_names="www.example.com, api.example.com"))
    assert (result.changed, result.action) == (True, "replaced")
    assert result.record["ssl_id"] == first["ssl_id"]
    assert result.record["serial_number"] != first["serial_number"]
    assert "api.example.com" in result.record["subject_alt_names"]
    assert scm.calls.count("replace_ssl") == 1
    again = service().ensure(web01(subject_alt_names="api.example.com,www.example.com"))
    assert not again.changed


def test_key_spec_drift_replaces(bed):
    _store, scm, _clock, service = bed
    service().ensure(web01())
    result = service().ensure(web01(key_algo="EC", key_size=384))
    assert result.action == "replaced"
    assert (result.record["key_algo"], result.record["key_size"]) == ("EC", 384)


def test_inside_expiry_window_renews(bed):
    _store, scm, _clock, service = bed
    scm.backdate = 300
    first = service().ensure(web01()).record
    scm.backdate = 0
    assert not service().ensure(web01(expiry_window="30")).changed
    # 65 days left: inside a 150-day window past its renewal time at the default spread (at most 75 days in).
    result = service().ensure(web01(expiry_window="150"))
    assert result.action == "renewed" and result.record["ssl_id"] != first["ssl_id"]


def test_window_as_long_as_lifetime_warns(bed):
    _store, _scm, _clock, service = bed
    service().ensure(web01())
    svc = service()
    result = svc.ensure(web01(expiry_window="100%"))
    assert not result.changed
    assert svc.warnings


def test_absent_removes_record_and_name(bed):
    store, _scm, _clock, service = bed
    record = service().ensure(web01()).record
    assert service(check_mode=True).ensure(CertRequest(config="prod", name="web01", state="absent")).changed
    assert store.read("names/prod/web01")[0] is not None
    result = service().ensure(CertRequest(config="prod", name="web01", state="absent"))
    assert (result.changed, result.action) == (True, "deleted")
    assert store.read("names/prod/web01") == (None, 0)
    assert store.read(f"certs/prod/{record['cert_unique_id']}") == (None, 0)
    assert not service().ensure(CertRequest(config="prod", name="web01", state="absent")).changed


def test_client_certificate_enroll_renew_replace(bed):
    store, scm, _clock, service = bed
    req = {"config": "people", "name": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Doe"}
    first = service(CLIENT_CONFIG).ensure(CertRequest(**req)).record
    assert first["certificate_type"] == "client_cert" and first["cert_unique_id"] == f"{first['order_number']}_acme"
    assert not service(CLIENT_CONFIG).ensure(CertRequest(**req)).changed
    renewed = service(CLIENT_CONFIG).ensure(CertRequest(state="renewed", **req)).record
    assert renewed["order_number"] != first["order_number"]
    replaced = service(CLIENT_CONFIG).ensure(CertRequest(state="replaced", reason="lost", revoke_on_replace=True, **req))
    assert replaced.action == "replaced"
    old, _version = store.read(f"certs/people/{renewed['cert_unique_id']}")
    assert old["status"] == "Revoked" and old["replaced_to"] == replaced.record["cert_unique_id"]


def test_client_names_longer_than_64_refused(bed):
    _store, scm, _clock, service = bed
    with pytest.raises(InputError) as err:
        service(CLIENT_CONFIG).ensure(CertRequest(config="people", name="bob", email="b@example.com", first_name="B" * 40, last_name="C" * 30))
    assert err.value.field == "first_name" and scm.calls == []


def test_concurrent_readers_renew_once(bed):
    """While one run holds the renewal claim, another reader inside the window waits for it, orders nothing and
    follows the renewal."""
    store, scm, _clock, service = bed
    scm.backdate = 300
    service().ensure(web01())
    scm.backdate = 0
    real_renew = scm.renew_ssl
    started, release = threading.Event(), threading.Event()

    def slow_renew(ssl_id, csr=None):
        started.set()
        release.wait(10)
        return real_renew(ssl_id, csr=csr)

    scm.renew_ssl = slow_renew
    read = CertRequest(config="prod", name="web01", expiry_window="150")
    outer = {}
    owner = threading.Thread(target=lambda: outer.setdefault("result", service().ensure(read, allow_enroll=False)))
    owner.start()
    assert started.wait(10)
    waited = []

    def reader_sleep(seconds):
        waited.append(seconds)
        release.set()  # the reader is waiting on the claim: let the owner's renewal answer now
        # and finish, so that the two do not race to store the same collection (the loser of that check-and-set
        # reports action none, which is not what this test is about).
        owner.join(10)

    reader = CertificateService(store, SSL_CONFIG, lambda: scm, sleep=reader_sleep, monotonic=time.monotonic, rand=lambda: 0.5)
    inner = reader.ensure(read, allow_enroll=False)
    owner.join(10)
    assert waited and outer["result"].action == "renewed"
    assert inner.record["cert_unique_id"] == outer["result"].record["cert_unique_id"] and inner.record["status"] == "Issued"
    assert scm.calls.count("renew_ssl") == 1
    assert len([o for o in scm.orders.values() if o["kind"] == "ssl"]) == 2


def test_a_run_killed_during_a_renewal_post_is_adopted_at_once(bed):
    """SCM renewed, the owner died before saving the answer: the next run adopts the renewal, with no wait."""
    store, scm, clock, service = bed
    first = service().ensure(web01()).record

    class Died(BaseException):
        pass

    real_renew = scm.renew_ssl

    def renew_then_die(ssl_id, csr=None):
        real_renew(ssl_id, csr=csr)
        raise Died()

    scm.renew_ssl = renew_then_die
    with pytest.raises(Died):
        service().ensure(web01(state="renewed"))
    scm.renew_ssl = real_renew
    record, version = store.read(f"certs/prod/{first['cert_unique_id']}")
    assert record["pending"]["kind"] == "renew" and record["status"] == "Issued"
    record["pending"]["owner"]["pid"] = dead_pid()
    store.write(f"certs/prod/{first['cert_unique_id']}", record, cas=version)
    result = service().ensure(web01())
    assert (result.changed, result.action) == (True, "renewed") and clock.now == 0
    assert result.record["renewed_from"] == first["cert_unique_id"] and result.record["status"] == "Issued"
    assert scm.calls.count("renew_ssl") == 1
    assert store.read("names/prod/web01")[0]["cert_unique_id"] == result.record["cert_unique_id"]


def take_over_during_the_post(store, scm, post, take_over):
    """SCM's ``post`` first lets another run take this run's claim over (``take_over``), then refuses the order once this
    run's claim keeper has lost its next beat: the refusal would give the claim up, were it still this run's."""
    lost = threading.Event()
    real_write = store.write

    def write(*args, **kwargs):
        try:
            return real_write(*args, **kwargs)
        except VaultCasConflict:
            lost.set()
            raise

    def taken_over(*_args, **_kwargs):
        take_over(real_write)
        assert lost.wait(5)
        raise ScmRequestError("refused")

    store.write = write
    setattr(scm, post, taken_over)


def heartbeat_service(store, scm, clock):
    return CertificateService(store, SSL_CONFIG, lambda: scm, sleep=clock.sleep, monotonic=clock.monotonic, rand=lambda: 0.5, heartbeat=0.01)


@pytest.mark.parametrize("change, post", [({"state": "renewed"}, "renew_ssl"),
                                          ({"subject_alt_names": "www.example.com, api.example.com"}, "replace_ssl")])
def test_a_record_claim_taken_over_during_the_post_is_followed_not_written_over(bed, change, post):
    store, scm, clock, service = bed
    path = f"certs/prod/{service().ensure(web01()).record['cert_unique_id']}"
    theirs = {}

    def take_over(write):
        record, version = store.read(path)
        record.pop("pending")  # the other run took the claim over, then gave it up without an order
        theirs["record"] = (record, write(path, record, cas=version))

    take_over_during_the_post(store, scm, post, take_over)
    with pytest.raises(OperationError) as err:
        heartbeat_service(store, scm, clock).ensure(web01(**change))
    assert "another run claimed it and gave up without an order" in str(err.value)
    assert store.read(path) == theirs["record"]


def test_a_name_claim_taken_over_during_the_post_is_followed_not_written_over(bed):
    store, scm, clock, _service = bed

    def take_over(_write):
        store.delete("names/prod/web01")  # the other run took the claim over, then gave it up without an order

    take_over_during_the_post(store, scm, "enroll_ssl", take_over)
    with pytest.raises(OperationError) as err:
        heartbeat_service(store, scm, clock).ensure(web01())
    assert "has not placed an order yet" in str(err.value)
    assert store.read("names/prod/web01") == (None, 0)


def test_renewal_whose_answer_was_lost_is_adopted_not_sent_again(bed):
    store, scm, _clock, service = bed
    first = service().ensure(web01()).record
    scm.fail_next_post_after_processing = True  # SCM renews, then the connection drops
    result = service().ensure(web01(state="renewed"))
    assert (result.changed, result.action) == (True, "renewed") and scm.calls.count("renew_ssl") == 1
    assert result.record["renewed_from"] == first["cert_unique_id"] and result.record["status"] == "Issued"
    assert store.read(f"certs/prod/{first['cert_unique_id']}")[0]["status"] == "Renewed"
    # The adopted order carries the key the claim saved before the POST, not a new one.
    assert result.record["private_key"] != first["private_key"] and "pending" not in result.record
    assert crypto.private_key_info(result.record["private_key"])["public_key_sha256"] == \
        crypto.parse_certificate(result.record["certificate"])["public_key_sha256"]


def test_replacement_whose_answer_was_lost_is_collected_not_sent_again(bed):
    _store, scm, _clock, service = bed
    first = service().ensure(web01()).record
    scm.fail_next_post_after_processing = True
    result = service().ensure(web01(subject_alt_names="www.example.com, api.example.com"))
    assert (result.changed, result.action) == (True, "replaced") and scm.calls.count("replace_ssl") == 1
    assert result.record["ssl_id"] == first["ssl_id"] and "api.example.com" in result.record["subject_alt_names"]
    assert "pending" not in result.record


def test_revoked_certificate_is_enrolled_anew(bed):
    store, scm, _clock, service = bed
    first = service().ensure(web01()).record
    record, version = store.read(f"certs/prod/{first['cert_unique_id']}")
    store.write(f"certs/prod/{first['cert_unique_id']}", dict(record, status="Revoked"), cas=version)
    result = service().ensure(web01())
    assert (result.changed, result.action) == (True, "enrolled") and scm.calls.count("enroll_ssl") == 2
    assert result.record["previous"] == first["cert_unique_id"] and result.record["ssl_id"] != first["ssl_id"]
    assert store.read("names/prod/web01")[0]["cert_unique_id"] == result.record["cert_unique_id"]
    # Addressed only by its id, a revoked certificate is reported, not replaced.
    with pytest.raises(InputError) as err:
        service().ensure(CertRequest(config="prod", cert_unique_id=first["cert_unique_id"]))
    assert err.value.field == "name"


def test_import_of_an_existing_order(bed):
    store, _scm, _clock, service = bed
    placed = service().ensure(web01()).record
    result = service().ensure(CertRequest(config="prod", name="adopted", ssl_id=placed["ssl_id"]))
    assert (result.changed, result.action) == (True, "imported")
    assert store.read("names/prod/adopted")[0]["cert_unique_id"] == placed["cert_unique_id"]
    writes = store.writes
    with pytest.raises(InputError) as err:
        service().ensure(CertRequest(config="prod", name="ghost", ssl_id=999999))
    assert err.value.field == "ssl_id" and store.writes == writes and store.read("names/prod/ghost") == (None, 0)


@pytest.mark.parametrize("status", ["Revoked", "expired"])
def test_a_read_never_enrolls_for_a_revoked_or_expired_certificate(bed, status):
    store, scm, _clock, service = bed
    first = service().ensure(web01()).record
    path = f"certs/prod/{first['cert_unique_id']}"
    record, version = store.read(path)
    record.update({"status": "Revoked"} if status == "Revoked" else {"not_after": "2020-01-01T00:00:00Z"})
    store.write(path, record, cas=version)
    calls, writes = len(scm.calls), store.writes
    reader = service()
    result = reader.ensure(CertRequest(config="prod", name="web01"), allow_enroll=False)
    assert (result.changed, result.record["cert_unique_id"]) == (False, first["cert_unique_id"])
    assert len(scm.calls) == calls and store.writes == writes
    assert any("does not enroll" in warning for warning in reader.warnings)
