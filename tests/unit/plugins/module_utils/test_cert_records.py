"""Records and names in Vault (check-and-set on every write)."""
from __future__ import annotations

from datetime import datetime, timezone

from lifecycle_fakes import FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import iso

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


def test_a_new_order_record_is_created_in_one_write_and_an_existing_one_overwritten():
    store = FakeStore()
    repo = CertRecords(store, "prod", clock=lambda: NOW)
    reads = []
    real_read = store.read
    store.read = lambda path: reads.append(path) or real_read(path)
    assert repo.create_or_overwrite({"cert_unique_id": "2_acme", "status": "Applied"}) == 1
    assert reads == [] and store.writes == 1
    # Stored already (an order adopted again): read, then written on its version.
    assert repo.create_or_overwrite({"cert_unique_id": "2_acme", "status": "Applied", "ssl_id": 2}) == 2
    assert reads == ["certs/prod/2_acme"] and repo.read("2_acme")[0]["ssl_id"] == 2


def test_follow_renewals_to_the_newest_and_stops_on_a_loop():
    repo = records()
    repo.write({"cert_unique_id": "1_a", "status": "Renewed", "renewed_to": "2_a"}, 0)
    repo.write({"cert_unique_id": "2_a", "status": "Renewed", "renewed_to": "3_a"}, 0)
    repo.write({"cert_unique_id": "3_a", "status": "Issued"}, 0)
    newest, _version = repo.follow_renewals(*repo.read("1_a"))
    assert newest["cert_unique_id"] == "3_a"
    repo.write({"cert_unique_id": "4_a", "status": "Renewed", "renewed_to": "4_a"}, 0)
    assert repo.follow_renewals(*repo.read("4_a"))[0]["cert_unique_id"] == "4_a"


def test_a_new_order_record_is_written_in_one_request_and_an_existing_one_on_its_version():
    store = FakeStore()
    sent = []
    real_read, real_write = store.read, store.write
    store.read = lambda path: sent.append(("read", path)) or real_read(path)
    store.write = lambda path, value, cas: sent.append(("write", path, cas)) or real_write(path, value, cas)
    repo = CertRecords(store, "prod", clock=lambda: NOW)
    # An order id Vault has never seen: created with cas=0, nothing read first.
    assert repo.create_or_overwrite({"cert_unique_id": "1_acme", "status": "Applied"}) == 1
    assert sent == [("write", "certs/prod/1_acme", 0)]
    # An id Vault holds already (an earlier import): the creation is refused, then it is written on the version read.
    sent.clear()
    assert repo.create_or_overwrite({"cert_unique_id": "1_acme", "status": "Applied"}) == 2
    assert sent == [("write", "certs/prod/1_acme", 0), ("read", "certs/prod/1_acme"), ("write", "certs/prod/1_acme", 1)]
    assert repo.read("1_acme")[0]["status"] == "Applied"
