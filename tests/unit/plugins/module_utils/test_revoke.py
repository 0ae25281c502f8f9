"""RevokeService with the in-memory Vault and the signing SCM fake."""
from __future__ import annotations

import pytest

from lifecycle_fakes import FakeScm, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import reason_code as normalize_reason_code
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.revoke import RevokeService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "defaults": {"cert_type": 101, "term": 365}}


class RevokingScm(FakeScm):
    def revoke_ssl(self, ssl_id, *, reason, reason_code=0):
        self.calls.append("revoke_ssl")
        order = self.orders[int(ssl_id)]
        if order["status"] != "Issued":
            raise ScmRequestError("refused", status=400, scm_code=-102, description="Only issued certificates could be revoked.")
        order["status"] = "Revoked"
        order["reason_code"] = reason_code


@pytest.fixture
def issued():
    store, scm = FakeStore(), RevokingScm()
    record = CertificateService(store, CONFIG, lambda: scm).ensure(
        CertRequest(config="prod", name="web01", common_name="web01.example.com")).record
    return store, scm, record


@pytest.mark.parametrize("value, code", [("unspecified", 0), ("keyCompromise", 1), ("5", 5), (4, 4)])
def test_reason_codes(value, code):
    assert normalize_reason_code(value) == code


@pytest.mark.parametrize("value", ["2", "6", "certificateHold", None])
def test_bad_reason_code_names_allowed_values(value):
    with pytest.raises(InputError) as err:
        normalize_reason_code(value)
    assert err.value.field == "reason_code" and "keyCompromise (1)" in str(err.value)


def test_revoke_by_name_then_again(issued):
    store, scm, record = issued
    service = RevokeService(store, CONFIG, lambda: scm)
    assert RevokeService(store, CONFIG, lambda: scm, check_mode=True).revoke(reason="gone", name="web01").changed
    assert "revoke_ssl" not in scm.calls
    result = service.revoke(reason="compromised", reason_code="keyCompromise", name="web01")
    assert (result.changed, result.action) == (True, "revoked")
    saved, _version = store.read(f"certs/prod/{record['cert_unique_id']}")
    assert saved["status"] == "Revoked" and saved["revoked"]["reason_code"] == 1 and saved["private_key"]
    calls = len(scm.calls)
    again = service.revoke(reason="compromised", name="web01")
    assert not again.changed and len(scm.calls) == calls


def test_revoke_by_serial_finds_the_record(issued):
    store, scm, record = issued
    result = RevokeService(store, CONFIG, lambda: scm).revoke(reason="x", serial_number=record["serial_number"].replace(":", "").lower())
    assert result.record["cert_unique_id"] == record["cert_unique_id"] and result.record["status"] == "Revoked"


def test_revoke_order_unknown_to_vault_is_idempotent(issued):
    store, scm, record = issued
    store.delete(f"certs/prod/{record['cert_unique_id']}")
    service = RevokeService(store, CONFIG, lambda: scm)
    assert service.revoke(reason="x", ssl_id=record["ssl_id"]).changed
    assert not service.revoke(reason="x", ssl_id=record["ssl_id"]).changed


@pytest.mark.parametrize("kwargs, field", [
    ({"reason": "", "name": "web01"}, "reason"),
    ({"reason": "x" * 513, "name": "web01"}, "reason"),
    ({"reason": "x"}, "name"),
    ({"reason": "x", "name": "nope"}, "name"),
    ({"reason": "x", "order_number": 5}, "order_number"),
])
def test_bad_input(issued, kwargs, field):
    store, scm, _record = issued
    calls = len(scm.calls)
    with pytest.raises(InputError) as err:
        RevokeService(store, CONFIG, lambda: scm).revoke(**kwargs)
    assert err.value.field == field and len(scm.calls) == calls


class ChangingScm(RevokingScm):
    """While SCM revokes, another run touches the Vault record (for example it collects or annotates it)."""

    def __init__(self, store, path, rival_status=None):
        super().__init__()
        self.store, self.path, self.rival_status = store, path, rival_status

    def revoke_ssl(self, ssl_id, *, reason, reason_code=0):
        super().revoke_ssl(ssl_id, reason=reason, reason_code=reason_code)
        record, version = self.store.read(self.path)
        record["note"] = "written meanwhile"
        if self.rival_status:
            record["status"] = self.rival_status
        self.store.write(self.path, record, cas=version)


@pytest.mark.parametrize("rival_status", [None, "Revoked"])
def test_revoked_status_survives_a_concurrent_write(issued, rival_status):
    store, _scm, record = issued
    path = f"certs/prod/{record['cert_unique_id']}"
    scm = ChangingScm(store, path, rival_status)
    scm.orders = _scm.orders
    result = RevokeService(store, CONFIG, lambda: scm).revoke(reason="gone", name="web01")
    saved, _version = store.read(path)
    assert result.changed and saved["status"] == "Revoked" and saved["note"] == "written meanwhile"
