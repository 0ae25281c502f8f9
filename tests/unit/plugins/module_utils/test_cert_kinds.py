"""What differs between SSL and client certificates, asked of the kind objects (and nowhere else)."""
from __future__ import annotations

import pytest

from lifecycle_fakes import FakeScm

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import (
    MARKER_LENGTH, SmimeKind, SslKind, kind_for, marker, with_marker,
)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError


def kinds(scm=None):
    return SslKind(lambda: scm, "acme"), SmimeKind(lambda: scm, "acme")


def test_kind_for_reads_config_type_and_defaults_to_ssl():
    assert isinstance(kind_for({"config_type": "client_cert", "customer_uri": "a"}, lambda: None), SmimeKind)
    assert isinstance(kind_for({"customer_uri": "a"}, lambda: None), SslKind)


def test_scm_is_built_on_first_use_only():
    built = []
    kind = SslKind(lambda: built.append(1) or FakeScm(), "acme")
    assert built == []
    kind.scm.list_ssl_types()
    kind.scm.list_ssl_types()
    assert built == [1]


@pytest.mark.parametrize("kind, attrs", [
    (SslKind, {"id_option": "ssl_id", "other_id_option": "order_number", "reason_min": 1, "renew_takes_csr": True,
               "replace_in_place": True, "scm_area": "ssl"}),
    (SmimeKind, {"id_option": "order_number", "other_id_option": "ssl_id", "reason_min": 0, "renew_takes_csr": False,
                 "replace_in_place": False, "scm_area": "smime"}),
])
def test_the_rules_of_each_kind(kind, attrs):
    obj = kind(lambda: None, "acme")
    assert {k: getattr(obj, k) for k in attrs} == attrs


def test_identity_needed_to_enroll():
    ssl, smime = kinds()
    ssl.check_identity({"csr": "x"})
    with pytest.raises(InputError) as err:
        ssl.check_identity({})
    assert err.value.field == "common_name"
    smime.check_identity({"email": "a@example.com", "first_name": "A", "last_name": "B"})
    with pytest.raises(InputError) as err:
        smime.check_identity({"email": "a@example.com", "first_name": "A"})
    assert err.value.field == "last_name"


def test_ids_and_common_name_of_the_csr():
    ssl, smime = kinds()
    assert ssl.order_id({"ssl_id": 7}) == 7 and ssl.uid({"ssl_id": 7}) == "7_acme"
    assert smime.order_id({"order_number": 9, "backend_cert_id": "b9"}) == "b9" and smime.uid({"order_number": 9}) == "9_acme"
    assert ssl.csr_common_name(None, "a@example.com") is None
    assert smime.csr_common_name(None, "a@example.com") == "a@example.com"


def test_only_client_certificates_drift_on_email():
    ssl, smime = kinds()
    req = CertRequest(config="c", name="n", email="new@example.com")
    record = {"email": "old@example.com"}
    assert ssl.drift(req, record) == [] and smime.drift(req, record) == ["email"]


def test_marker_fits_the_comment_budget():
    assert len(marker("0" * 32)) + 1 == MARKER_LENGTH
    assert with_marker(None, "r") == "vault_pki:r" and with_marker("hello", "r") == "hello vault_pki:r"


def test_find_renewal_takes_the_one_newer_unknown_order():
    scm = FakeScm()
    ssl, _smime = kinds(scm)
    scm.orders.update({
        5: {"id": 5, "kind": "ssl", "cn": "web.example.com"}, 6: {"id": 6, "kind": "ssl", "cn": "web.example.com"},
        7: {"id": 7, "kind": "ssl", "cn": "other.example.com"},
    })
    record = {"cert_unique_id": "5_acme", "ssl_id": 5, "domain": "web.example.com"}
    assert ssl.find_renewal(record, known={"5_acme"}) == {"ssl_id": 6}
    assert ssl.find_renewal(record, known={"5_acme", "6_acme"}) is None
    scm.orders[8] = {"id": 8, "kind": "ssl", "cn": "web.example.com"}
    with pytest.raises(OperationError) as err:
        ssl.find_renewal(record, known={"5_acme"})
    assert "several" in str(err.value) and "ssl_id" in str(err.value)


class RevokingScm:
    def __init__(self, status):
        self.status = status
        self.calls = []

    def revoke_ssl(self, oid, reason, reason_code):
        self.calls.append(("revoke_ssl", oid, reason_code))
        if self.status == "Revoked":
            raise ScmRequestError("not issued", status=400, scm_code=-102)

    def revoke_ssl_by_serial(self, serial, reason, reason_code):
        self.calls.append(("revoke_ssl_by_serial", serial, reason_code))

    def get_ssl(self, oid):
        return {"status": self.status}


def test_revoke_is_idempotent_when_scm_already_revoked():
    scm = RevokingScm("Revoked")
    ssl = SslKind(lambda: scm, "acme")
    assert ssl.revoke(5, None, "gone", 1) is False
    scm = RevokingScm("Issued")
    ssl = SslKind(lambda: scm, "acme")
    assert ssl.revoke(None, "0A:1B", "gone", 4) is True and scm.calls == [("revoke_ssl_by_serial", "0A:1B", 4)]
