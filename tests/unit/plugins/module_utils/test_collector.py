"""Collector: every way a poll ends, with a scripted order desk and the in-memory Vault."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lifecycle_fakes import FakeCA, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import SslKind
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import (
    Collector, TerminalStatus, Waiting, certificates_in, leaf_keys,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmServerError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
KEY = crypto.generate_private_key(crypto.normalize_key_spec("EC", key_curve="P-256"))
CSR = crypto.build_csr(KEY, common_name="web01.example.com")
CA = FakeCA()


def pending():
    return None


def issue():
    return [CA.sign(CSR, 365), CA.root_pem]


def failing(exc):
    def step():
        raise exc
    return step


class ScriptedDesk:
    """Answers collect() from a script of steps (pending, issue, failing(...)); issues once the script is used up."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = 0

    def collect(self, record, public_keys):
        self.calls += 1
        step = self.script.pop(0) if self.script else issue
        return step()


class Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def setup(desk):
    records = CertRecords(FakeStore(), "prod", clock=lambda: NOW)
    record = {"cert_unique_id": "7_acme", "name": "web01", "ssl_id": 7, "status": "Applied", "csr": CSR,
              "public_key_sha256": crypto.csr_info(CSR)["public_key_sha256"]}
    version = records.write(record, 0)
    clock = Clock()
    kind = SslKind(lambda: None, "acme")
    collector = Collector(records, kind, clock=lambda: NOW, sleep=clock.sleep, monotonic=clock.monotonic, rand=lambda: 0.5)
    collector.check = lambda watch: desk.collect(watch.record, watch.keys)
    return records, record, version, collector


def test_pending_then_issued_fills_the_record():
    desk = ScriptedDesk(pending, pending, issue)
    records, record, version, collector = setup(desk)
    result = collector.collect(record, version, Waiting(True, 60, 5), action="enrolled", before={})
    stored, _version = records.read("7_acme")
    assert (result.changed, result.action, desk.calls) == (True, "enrolled", 3)
    assert stored["status"] == "Issued" and stored["serial_number"] and stored["chain"] == [CA.root_pem]
    assert [entry["status"] for entry in stored["state"]] == ["Issued"]


def test_timeout_saves_the_status_and_keeps_the_order():
    records, record, version, collector = setup(ScriptedDesk(*[pending] * 100))
    with pytest.raises(OperationError) as err:
        collector.collect(record, version, Waiting(True, 20, 5), action="enrolled", before={})
    stored, _version = records.read("7_acme")
    assert stored["status"] == "TimeoutStateSaved" and stored["ssl_id"] == 7
    assert err.value.result["status"] == "TimeoutStateSaved" and "order 7" in str(err.value)


def test_no_wait_reports_pending_without_writing():
    records, record, version, collector = setup(ScriptedDesk(pending))
    result = collector.collect(record, version, Waiting(False, 600, 30), action="collected", before={})
    assert (result.changed, result.action) == (False, "pending") and records.read("7_acme")[1] == version
    placed = collector.collect(record, version, Waiting(False, 600, 30), action="enrolled", before={})
    assert (placed.changed, placed.action) == (True, "pending")


@pytest.mark.parametrize("failure, code", [
    (TerminalStatus(None, "order 7 is Rejected"), None),
    (ScmServerError("SCM answered 503", status=503, scm_code=-1, description=None), -1),
])
def test_scm_refusal_or_outage_records_error_code(failure, code):
    records, record, version, collector = setup(ScriptedDesk(failing(failure), failing(failure)))
    with pytest.raises(OperationError) as err:
        collector.collect(record, version, Waiting(True, 60, 5), action="collected", before={})
    stored, _version = records.read("7_acme")
    assert stored["status"] == "ErrorCode" and stored["error"]["code"] == code and stored["error"]["description"]
    assert err.value.scm_code == code
    # The same failure again writes nothing new: the status history does not grow on every re-run.
    again_version = records.read("7_acme")[1]
    with pytest.raises(OperationError):
        collector.collect(stored, again_version, Waiting(True, 60, 5), action="collected", before={})
    assert records.read("7_acme")[1] == again_version


def test_another_run_collected_first():
    records, record, version, collector = setup(ScriptedDesk(issue))
    winner = dict(record, status="Issued")
    records.write(winner, version)
    result = collector.collect(record, version, Waiting(True, 60, 5), action="collected", before={})
    assert (result.changed, result.record["status"]) == (False, "Issued")


def test_another_run_collected_first_and_renewed_since():
    records, record, version, collector = setup(ScriptedDesk(issue))
    records.write(dict(record, cert_unique_id="8_acme", status="Issued"), 0)
    records.write(dict(record, status="Renewed", renewed_to="8_acme"), version)
    result = collector.collect(record, version, Waiting(True, 60, 5), action="collected", before={})
    assert (result.changed, result.record["cert_unique_id"], result.record["status"]) == (False, "8_acme", "Issued")


def test_a_record_still_pending_but_written_meanwhile_gets_the_certificate_on_its_new_version():
    records, record, version, collector = setup(ScriptedDesk(issue))
    records.write(dict(record, note="written by another run"), version)
    result = collector.collect(record, version, Waiting(True, 60, 5), action="collected", before={})
    stored, stored_version = records.read(record["cert_unique_id"])
    assert result.changed and stored["status"] == "Issued" and stored["note"] == "written by another run"
    assert stored_version == version + 2 and stored["certificate"]


def test_leaf_keys_put_a_pending_replacement_first():
    other = crypto.build_csr(crypto.generate_private_key(crypto.normalize_key_spec("EC", key_curve="P-256")), common_name="x")
    record = {"public_key_sha256": "old", "pending": {"csr": other}}
    assert leaf_keys(record) == [crypto.csr_info(other)["public_key_sha256"], "old"]


def test_certificates_in_every_collect_format():
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    leaf, root = issue()
    bundle = f"subject=CN=web01\r\n{leaf}{KEY}{root}".replace("\n", "\r\n")
    assert certificates_in(bundle) == [leaf, root] and certificates_in(bundle.encode()) == [leaf, root]
    der = pkcs7.serialize_certificates([x509.load_pem_x509_certificate(p.encode()) for p in (leaf, root)], serialization.Encoding.DER)
    assert sorted(certificates_in(der)) == sorted([leaf, root])
    assert certificates_in(b"") == [] and certificates_in(b"  \n") == []
    with pytest.raises(crypto.CryptoInputError):
        certificates_in(leaf + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(crypto.CryptoInputError):
        certificates_in(b"<html>not a certificate</html>")
