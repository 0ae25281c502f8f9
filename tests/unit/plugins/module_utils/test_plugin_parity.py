"""Revoking superseded certificates, cancelling pending orders, ``absent`` by id, superseded listings,
the Vault plugin's names in config defaults, and mandatory custom fields checked before any claim."""
from __future__ import annotations

import json

import pytest

from lifecycle_fakes import FakeScm, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertQuery, query_certificates
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, custom_fields, validate_defaults
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.revoke import RevokeService

SSL = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001, "defaults": {"cert_type": 101, "term": 365}}
CLIENT = dict(SSL, name="people", config_type="client_cert", defaults={"cert_type": 201, "term": 365})


@pytest.fixture
def bed():
    store, scm = FakeStore(), FakeScm()
    store.write("configs/prod", SSL, cas=0)

    def service(config=None, check_mode=False):
        return CertificateService(store, config or SSL, lambda: scm, check_mode=check_mode, sleep=lambda _s: None)

    def revoker(config=None, check_mode=False):
        return RevokeService(store, config or SSL, lambda: scm, check_mode=check_mode)
    return store, scm, service, revoker


def web01(**kw):
    return CertRequest(**dict({"config": "prod", "name": "web01", "common_name": "web01.example.com"}, **kw))


# ---- revocation of superseded certificates ------------------------------------------------------------


def test_renewed_predecessor_is_revoked_by_id_serial_and_ssl_id(bed):
    store, scm, service, revoker = bed
    first = service().ensure(web01()).record
    service().ensure(web01(state="renewed"))
    old, _v = store.read(f"certs/prod/{first['cert_unique_id']}")
    assert old["status"] == "Renewed"
    assert revoker(check_mode=True).revoke(reason="retired", cert_unique_id=first["cert_unique_id"]).action == "revoked"
    result = revoker().revoke(reason="retired", reason_code="superseded", cert_unique_id=first["cert_unique_id"])
    assert (result.changed, result.action, result.record["status"]) == (True, "revoked", "Revoked")
    assert scm.orders[first["ssl_id"]]["status"] == "Revoked"
    # By the other identities: already revoked, no SCM call.
    calls = len(scm.calls)
    assert not revoker().revoke(reason="again", ssl_id=first["ssl_id"]).changed
    assert not revoker().revoke(reason="again", serial_number=first["serial_number"]).changed
    assert len(scm.calls) == calls
    # The name still reads its current certificate, and an old id still leads to it.
    current = service().ensure(CertRequest(config="prod", cert_unique_id=first["cert_unique_id"])).record
    assert current["status"] == "Issued" and current["cert_unique_id"] != first["cert_unique_id"]


def test_replaced_client_predecessor_can_be_revoked(bed):
    store, scm, service, revoker = bed
    bob = CertRequest(config="people", name="bob", email="bob@example.com", first_name="Bob", last_name="Builder")
    first = service(CLIENT).ensure(bob).record
    service(CLIENT).ensure(CertRequest(config="people", name="bob", state="replaced", reason="rotate"))
    old, _v = store.read(f"certs/people/{first['cert_unique_id']}")
    assert old.get("replaced_to") and old["status"] == "Issued"
    result = revoker(CLIENT).revoke(reason="", order_number=first["order_number"])
    assert result.action == "revoked" and scm.orders[first["order_number"]]["status"] == "Revoked"


def test_expired_certificate_is_refused_naming_the_date(bed):
    store, _scm, service, revoker = bed
    record = service().ensure(web01()).record
    record["not_after"] = "2020-01-01T00:00:00Z"
    store.write(f"certs/prod/{record['cert_unique_id']}", record, cas=store.read(f"certs/prod/{record['cert_unique_id']}")[1])
    with pytest.raises(InputError, match="expired on 2020-01-01"):
        revoker().revoke(reason="late", name="web01")


# ---- cancelling pending orders -------------------------------------------------------------------------


def test_pending_order_needs_cancel_pending_then_is_declined(bed):
    store, scm, service, revoker = bed
    scm.pending_polls = 100
    pending = service().ensure(web01(wait=False)).record
    assert pending["status"] == "Applied"
    with pytest.raises(InputError) as err:
        revoker().revoke(reason="wrong profile", name="web01")
    assert err.value.field == "cancel_pending"
    assert revoker(check_mode=True).revoke(reason="wrong profile", name="web01", cancel_pending=True).action == "cancelled"
    assert "decline_ssl" not in scm.calls
    result = revoker().revoke(reason="wrong profile", name="web01", cancel_pending=True)
    assert (result.changed, result.action) == (True, "cancelled")
    saved, _v = store.read(f"certs/prod/{pending['cert_unique_id']}")
    assert saved["status"] == "Cancelled" and saved["cancelled"]["reason"] == "wrong profile"
    assert scm.orders[pending["ssl_id"]]["status"] == "Declined"
    assert not revoker().revoke(reason="again", name="web01", cancel_pending=True).changed
    # state=present enrolls anew under the name; the lookup (allow_enroll=False) only reports.
    looked = service().ensure(CertRequest(config="prod", name="web01"), allow_enroll=False)
    assert looked.action == "none"
    scm.pending_polls = 0
    again = service().ensure(web01())
    assert again.action == "enrolled" and again.record["cert_unique_id"] != pending["cert_unique_id"]


def test_pending_client_order_is_withdrawn_by_revoking_the_order(bed):
    store, scm, service, revoker = bed
    scm.pending_polls = 100
    bob = CertRequest(config="people", name="bob", email="bob@example.com", first_name="Bob", last_name="Builder", wait=False)
    pending = service(CLIENT).ensure(bob).record
    result = revoker(CLIENT).revoke(reason="", name="bob", cancel_pending=True)
    assert result.action == "cancelled" and "revoke_smime" in scm.calls
    assert store.read(f"certs/people/{pending['cert_unique_id']}")[0]["status"] == "Cancelled"


def pending_web01(bed, scm_status):
    """web01 ordered and left Applied in Vault (wait=false), while SCM shows the order as ``scm_status``."""
    _store, scm, service, _revoker = bed
    scm.pending_polls = 100
    pending = service().ensure(web01(wait=False)).record
    scm.orders[pending["ssl_id"]]["status"] = scm_status
    return pending


def test_order_scm_rejected_is_cancelled_without_a_decline(bed):
    store, scm, service, revoker = bed
    pending = pending_web01(bed, "Rejected")
    with pytest.raises(Exception, match="Rejected"):
        service().ensure(web01())
    assert store.read(f"certs/prod/{pending['cert_unique_id']}")[0]["status"] == "ErrorCode"
    calls = len(scm.calls)
    result = revoker().revoke(reason="rejected by the CA", name="web01", cancel_pending=True)
    assert (result.changed, result.action) == (True, "cancelled")
    # One status read, no decline SCM would refuse.
    assert scm.calls[calls:] == ["get_ssl"]
    assert store.read(f"certs/prod/{pending['cert_unique_id']}")[0]["status"] == "Cancelled"


def test_cancel_that_scm_refuses_is_reported(bed):
    revoker = bed[3]
    pending_web01(bed, "Issued-elsewhere")
    with pytest.raises(Exception, match="not approvable"):
        revoker().revoke(reason="too late", name="web01", cancel_pending=True)


# ---- state=absent by id, and listings of superseded records ---------------------------------------------


def test_absent_by_cert_unique_id_removes_the_name_too(bed):
    store, _scm, service, _revoker = bed
    record = service().ensure(web01()).record
    result = service().ensure(CertRequest(config="prod", cert_unique_id=record["cert_unique_id"], state="absent"))
    assert result.action == "deleted"
    assert store.read("names/prod/web01")[0] is None
    assert query_certificates(store, CertQuery(config="prod"))["certificates"] == []


def test_absent_of_a_superseded_id_keeps_the_name(bed):
    store, _scm, service, _revoker = bed
    first = service().ensure(web01()).record
    service().ensure(web01(state="renewed"))
    service().ensure(CertRequest(config="prod", cert_unique_id=first["cert_unique_id"], state="absent"))
    assert store.read("names/prod/web01")[0]["cert_unique_id"] != first["cert_unique_id"]


def test_info_lists_superseded_records_on_request(bed):
    store, _scm, service, _revoker = bed
    first = service().ensure(web01()).record
    second = service().ensure(web01(state="renewed")).record
    plain = query_certificates(store, CertQuery(config="prod"))["certificates"]
    assert [c["cert_unique_id"] for c in plain] == [second["cert_unique_id"]]
    listed = query_certificates(store, CertQuery(config="prod", include_superseded=True))["certificates"]
    assert [(c["cert_unique_id"], c["current"]) for c in listed] == [(second["cert_unique_id"], True), (first["cert_unique_id"], False)]
    renewed = query_certificates(store, CertQuery(config="prod", include_superseded=True, statuses=["Renewed"]))["certificates"]
    assert [c["name"] for c in renewed] == ["web01"]


# ---- the Vault plugin's names and forms ----------------------------------------------------------------


def test_config_defaults_take_the_plugin_names():
    stored = validate_defaults({"sectigo_ssl_cert_type": 101, "sectigo_ssl_cert_validity": "365", "sectigo_expiry_window": 30,
                                "sectigo_ssl_cert_format_type": "X509", "sectigo_client_cert_custom_fields": '[{"name": "a", "value": "b"}]'})
    assert stored == {"cert_type": 101, "term": 365, "expiry_window": 30, "format_type": "x509", "custom_fields": [{"name": "a", "value": "b"}]}
    with pytest.raises(InputError) as err:
        validate_defaults({"term": 365, "sectigo_ssl_cert_validity": 730})
    assert err.value.field == "defaults.sectigo_ssl_cert_validity"
    with pytest.raises(InputError) as err:
        validate_defaults({"sectigo_ssl_cert_validity": "a year"})
    assert err.value.field == "defaults.sectigo_ssl_cert_validity"


@pytest.mark.parametrize("value, expected", [
    ("", []),
    (json.dumps([{"name": "cost", "value": 12}]), [{"name": "cost", "value": "12"}]),
    ([{"name": "cost", "value": "12"}], [{"name": "cost", "value": "12"}]),
])
def test_custom_fields_forms(value, expected):
    assert custom_fields(value) == expected


def test_org_id_of_the_task_is_ordered_and_kept(bed):
    _store, scm, service, _revoker = bed
    record = service().ensure(web01(org_id=1002)).record
    assert record["org_id"] == 1002


# ---- mandatory custom fields, before the claim --------------------------------------------------------------


def test_missing_mandatory_custom_field_is_refused_before_the_claim(bed):
    store, scm, service, _revoker = bed
    scm.custom_fields = [{"id": 1, "name": "cost center", "mandatory": True}, {"id": 2, "name": "note", "mandatory": False}]
    with pytest.raises(InputError) as err:
        service().ensure(web01())
    assert err.value.field == "custom_fields" and "'cost center'" in str(err.value)
    assert store.read("names/prod/web01")[0] is None and "enroll_ssl" not in scm.calls
    assert store.read("custom_fields/prod")[0]["fields"][0]["name"] == "cost center"
    # The stored list is used from now on: no second download.
    downloads = scm.calls.count("list_ssl_custom_fields")
    result = service().ensure(web01(custom_fields='[{"name": "cost center", "value": "42"}]'))
    assert result.action == "enrolled" and scm.calls.count("list_ssl_custom_fields") == downloads


def test_check_mode_does_not_download_the_custom_field_list(bed):
    store, scm, service, _revoker = bed
    scm.custom_fields = [{"id": 1, "name": "cost center", "mandatory": True}]
    svc = service(check_mode=True)
    store.write("profiles/prod/101", {"id": 101, "terms": [365], "keyTypes": {"RSA": ["2048"]}}, cas=0)
    assert svc.ensure(web01()).action == "enrolled"
    assert "list_ssl_custom_fields" not in scm.calls and any("custom-field" in w for w in svc.warnings)


def test_verify_profile_false_skips_the_custom_field_check(bed):
    _store, scm, service, _revoker = bed
    scm.custom_fields = [{"id": 1, "name": "cost center", "mandatory": True}]
    assert service().ensure(web01(verify_profile=False)).action == "enrolled"
    assert "list_ssl_custom_fields" not in scm.calls
