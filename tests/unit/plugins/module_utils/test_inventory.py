"""sectigo_inventory and sectigo_tidy logic without servers: names, filters, report bodies, retention rules."""
from __future__ import annotations

import datetime

import pytest

from lifecycle_fakes import FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import inventory as inv
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import tidy
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm import report_api as reports
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmRequestError

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)
# One entry of POST /report/v1/ssl-certificates as SCM documents it (docs/scm-protocol.md "Reports").
SSL_ITEM = {"id": 10042, "commonName": "*.example.com", "orgId": 1001, "status": "Issued", "typeId": 101,
            "serialNumber": "0A1B2C", "comments": "", "requested": "2026-01-02T03:04:05.000Z"}


def test_default_names_turn_wildcards_and_addresses_into_valid_names():
    assert inv.render_name("{common_name}", {"common_name": "*.example.com"}) == "wildcard.example.com"
    assert inv.render_name("{email}", {"email": "a.b@example.com"}) == "a.b_at_example.com"
    assert inv.render_name("web-{id}", {"id": 7}) == "web-7"


@pytest.mark.parametrize("template", ["certs/{common_name}", "{nope}", "{common_name", "}{id}", " {id}"])
def test_a_template_that_cannot_give_a_valid_name_is_refused(template):
    with pytest.raises(InputError) as info:
        inv.check_template(template)
    assert info.value.field == "name_template"


@pytest.mark.parametrize("options, field", [({"status": ["nope"]}, "status"), ({"requested_since": "07.12.2026"}, "requested_since"),
                                            ({"name_collision": "overwrite"}, "name_collision"), ({"page_size": 500}, "page_size"),
                                            ({"concurrency": 0}, "concurrency"), ({"concurrency": 65}, "concurrency"),
                                            ({"config": "bad/name"}, "config")])
def test_bad_options_name_the_option(options, field):
    req = inv.InventoryRequest(**dict({"config": "web"}, **options))
    with pytest.raises(InputError) as info:
        req.validate("ssl_cert")
    assert info.value.field == field


def test_default_template_per_kind():
    ssl, client = inv.InventoryRequest(config="a"), inv.InventoryRequest(config="b")
    ssl.validate("ssl_cert")
    client.validate("client_cert")
    assert (ssl.name_template, client.name_template) == ("{common_name}", "{email}")


def test_entries_from_a_report_and_a_list_page():
    entry = inv.ssl_entry(SSL_ITEM)
    assert (entry.order_id, entry.status, entry.serial_number, entry.profile_id) == (10042, "issued", "0A:1B:2C", 101)
    row = {"id": 20001, "state": "issued", "orderNumber": 1900000003, "backendCertId": "1900000003", "serialNumber": "AB:CD",
           "certificateDetails": {"subject": "CN=Ann Example, E=ann@example.com"}, "comments": "vault_pki:abc"}
    smime = inv.smime_entry(row)
    assert (smime.order_id, smime.email, smime.common_name, smime.status) == (1900000003, "ann@example.com", "Ann Example", "issued")


def test_known_by_order_or_marker_and_collision_rules():
    entries = [inv.ssl_entry(dict(SSL_ITEM, id=1, commonName="a.example.com")),
               inv.ssl_entry(dict(SSL_ITEM, id=2, commonName="a.example.com")),
               inv.ssl_entry(dict(SSL_ITEM, id=3, commonName="b.example.com", comments="vault_pki:0123")),
               inv.ssl_entry(dict(SSL_ITEM, id=4, commonName="taken.example.com"))]
    inv.mark_known(entries, {"1_demo"}, "demo")
    assert [e.known for e in entries] == ["order", None, "marker", None]
    unknown = [e for e in entries if e.known is None]
    taken = {"taken.example.com"}
    named = inv.choose_names(unknown, "{common_name}", taken.__contains__, "suffix")
    assert [n for _e, n in named] == ["a.example.com", "taken.example.com-4"]
    skipped = inv.choose_names(unknown, "{common_name}", taken.__contains__, "skip")
    assert [n for _e, n in skipped] == ["a.example.com", None]
    twice = inv.choose_names(unknown[:1] * 2, "{common_name}", lambda _n: False, "suffix")
    assert [n for _e, n in twice] == ["a.example.com", "a.example.com-2"]


def test_report_bodies():
    assert reports.report_body(status="revoked", date_attribute="revoked", since="2026-12-01", organization_ids=[1001]) == {
        "certificateStatus": 3, "certificateDateAttribute": 2, "from": "2026-12-01", "organizationIds": [1001],
        "serialNumberFormat": "HEXWithLeadingZeros"}
    assert reports.report_body(status="pending_download", client=True) == {"certificateStatus": 5}
    with pytest.raises(InputError, match="date_attribute"):
        reports.report_body(since="2026-12-01")
    with pytest.raises(InputError, match="since must be a date"):
        reports.report_body(date_attribute="issued", since="yesterday")


class _Client:
    """An ScmClient stand-in for the report endpoints (their transport, retries included, is test_scm_client's)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.bodies = []

    def _answer(self, body):
        self.bodies.append(body)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    report_ssl_certificates = _answer
    report_client_certificates = _answer


def test_a_report_is_asked_with_the_body_its_criteria_make_and_counted():
    client = _Client([SSL_ITEM], [])
    api = reports.ReportApi(client)
    assert api.ssl_certificates(status="revoked", date_attribute="revoked", since="2026-12-01") == [SSL_ITEM]
    assert api.client_certificates(status="pending_download") == []
    assert client.bodies == [reports.report_body(status="revoked", date_attribute="revoked", since="2026-12-01"),
                             {"certificateStatus": 5}]
    assert api.requests == 2


def test_a_refused_report_is_reported_and_counted_once():
    api = reports.ReportApi(_Client(ScmRequestError("bad", status=400)))
    with pytest.raises(ScmRequestError):
        api.ssl_certificates()
    assert api.requests == 1


def test_pages_stop_at_a_short_page():
    calls = []

    def page(size, position):
        calls.append(position)
        data = list(range(7))[position:position + size]
        return data, 7

    counter = [0]
    assert list(reports.pages(page, 3, counter)) == list(range(7)) and calls == [0, 3, 6] and counter == [3]


@pytest.mark.parametrize("value, seconds", [("72h", 259200), ("3d", 259200), ("90m", 5400), ("30s", 30), ("3600", 3600), (0, 0)])
def test_durations(value, seconds):
    assert tidy.parse_duration(value, "safety_buffer") == seconds


@pytest.mark.parametrize("value", ["-1h", "3 weeks", "1.5h", True])
def test_bad_durations_name_the_option(value):
    with pytest.raises(InputError) as info:
        tidy.parse_duration(value, "safety_buffer")
    assert info.value.field == "safety_buffer"


def _record(uid, status="Issued", days=-10, **extra):
    not_after = (NOW + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict({"cert_unique_id": uid, "name": uid, "status": status, "not_after": not_after, "certificate": "PEM",
                 "state": [{"status": status, "time_stamp": "2026-01-01T00:00:00Z"}]}, **extra)


def _tidy_store():
    store = FakeStore()
    store.write("configs/web", {"name": "web"}, 0)
    records = {"1_demo": _record("1_demo", "Renewed", renewed_to="2_demo"), "2_demo": _record("2_demo"),
               "3_demo": _record("3_demo", "Revoked"), "4_demo": _record("4_demo", "Revoked", days=-1),
               "5_demo": _record("5_demo", "Issued", days=-30), "6_demo": _record("6_demo", "Issued", days=30, imported=True),
               "7_demo": dict(_record("7_demo", "Cancelled"), not_after=None), "8_demo": _record("8_demo", "Revoked")}
    for uid, record in records.items():
        store.write(f"certs/web/{uid}", record, 0)
    store.write("names/web/a", {"name": "a", "cert_unique_id": "2_demo"}, 0)
    store.write("names/web/b", {"name": "b", "cert_unique_id": "8_demo"}, 0)  # a revoked current certificate stays
    return store


def test_tidy_kinds_buffer_and_current_certificates():
    store = _tidy_store()
    kinds = {"superseded": True, "revoked": True, "expired": True, "cancelled": True, "imported_unused": True}
    planned = tidy.Tidy(store, "web", clock=lambda: NOW).plan(_validated(kinds))
    assert {p["cert_unique_id"]: p["tidy_kind"] for p in planned} == {
        "1_demo": "superseded", "3_demo": "revoked", "5_demo": "expired", "7_demo": "cancelled"}
    only_revoked = tidy.Tidy(store, "web", clock=lambda: NOW).plan(_validated({"revoked": True}, "1h"))
    assert [p["cert_unique_id"] for p in only_revoked] == ["3_demo", "4_demo"]


def _validated(kinds, buffer="72h"):
    req = tidy.TidyRequest(config="web", kinds=kinds, safety_buffer=buffer)
    req.validate()
    return req


def test_tidy_check_mode_counts_and_the_real_run_removes_with_pauses():
    store = _tidy_store()
    kinds = {"superseded": True, "revoked": True, "expired": True, "cancelled": True}
    pauses = []
    predicted = tidy.Tidy(store, "web", check_mode=True, clock=lambda: NOW).run(tidy.TidyRequest(config="web", kinds=kinds))
    assert store.read("certs/web/1_demo")[0] is not None and store.read("tidy/web")[0] is None
    done = tidy.Tidy(store, "web", clock=lambda: NOW, sleep=pauses.append).run(
        tidy.TidyRequest(config="web", kinds=kinds, pause_duration="2s"))
    assert done["counts"] == predicted["counts"] == {"superseded": 1, "revoked": 1, "expired": 1, "cancelled": 1, "imported_unused": 0}
    assert pauses == [2.0, 2.0, 2.0] and store.read("certs/web/1_demo")[0] is None and store.read("certs/web/2_demo")[0] is not None
    assert store.read("tidy/web")[0]["state"] == "Finished"
    again = tidy.Tidy(store, "web", clock=lambda: NOW).run(tidy.TidyRequest(config="web", kinds=kinds))
    assert not again["changed"] and again["total"] == 0


def test_tidy_refuses_an_unknown_config_before_reading_records():
    with pytest.raises(InputError) as info:
        tidy.Tidy(FakeStore(), "nope").run(tidy.TidyRequest(config="nope", kinds={"revoked": True}))
    assert info.value.field == "config"
