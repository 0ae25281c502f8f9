"""Unit tests of the expiry report (_estate/report, _estate/report_render): facts, the four files, the gate."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from lifecycle_fakes import FakeScm, FakeStore
from test_fleet import Clock, Locked

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import report, report_render
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, build_requests

import matplotlib.image as matplotlib_image  # noqa: E402  pylint: disable=wrong-import-position
import prometheus_client.parser as prometheus_parser  # noqa: E402  pylint: disable=wrong-import-position


def _config(name):
    return {"name": name, "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
            "defaults": {"cert_type": 101, "term": 365, "loop_period": 5, "expiry_window": 30}}


@pytest.fixture(scope="module")
def store():
    """Two configs: prod with web00..web05 (web00 expires in 3 days, web01 in 8), test with api0..api2 (api0 pending)."""
    store, scm, clock = FakeStore(), FakeScm(), Clock()
    lock = threading.RLock()
    locked_store, locked_scm = Locked(store, lock), Locked(scm, lock)
    locked_store.base_path = store.base_path
    for config, prefix, count in (("prod", "web", 6), ("test", "api", 3)):
        store.data[rec.config_path(config)] = (_config(config), 1)
        fleet = Fleet(locked_store, _config(config), lambda: locked_scm, concurrency=4, sleep=clock.sleep, monotonic=clock.monotonic)
        items = [{"name": f"{prefix}{i}" if prefix == "api" else f"{prefix}{i:02d}", "common_name": f"{prefix}{i}.example.com"} for i in range(count)]
        assert all(o.error is None for o in fleet.run(build_requests(items, {"config": config})))
    now = rec.utc_now()
    for path, (record, version) in list(store.data.items()):
        if path.startswith("certs/") and record.get("name") in ("web00", "web01", "api0"):
            days = {"web00": 3, "web01": 8, "api0": 2}[record["name"]]
            record["not_after"] = rec.iso(now + timedelta(days=days))
            if record["name"] == "api0":
                record["status"] = rec.APPLIED
            store.data[path] = (record, version)
    return store


def test_facts_name_every_certificate_with_its_renewal_time(store):
    rows = report.gather(store, ["prod", "test"])
    assert sorted(r["name"] for r in rows) == ["api0", "api1", "api2"] + [f"web0{i}" for i in range(6)]
    facts = report.build(rows, ["prod", "test"], None)
    assert facts["counts"] == {"prod": {"Issued": 6}, "test": {"Issued": 2, "Applied": 1}}
    assert sum(facts["renewal_load"].values()) == 8
    assert all(r["renew_after"] for r in rows if r["status"] == "Issued")
    assert facts["gate"]["failing"] == []


def test_gate_fails_for_issued_certificates_within_n_days_without_a_pending_renewal(store):
    rows = report.gather(store, ["prod", "test"])
    assert [f["name"] for f in report.build(rows, ["prod", "test"], 5)["gate"]["failing"]] == ["web00"]
    assert sorted(f["name"] for f in report.build(rows, ["prod", "test"], 10)["gate"]["failing"]) == ["web00", "web01"]
    assert report.build(rows, ["prod", "test"], 2)["gate"]["failing"] == []
    pending = [dict(r, pending_renewal=True) if r["name"] == "web00" else r for r in rows]
    assert [f["name"] for f in report.build(pending, ["prod", "test"], 5)["gate"]["failing"]] == []


def test_four_files_parse_and_a_second_run_writes_nothing(store, tmp_path):
    facts = report.build(report.gather(store, ["prod", "test"]), ["prod", "test"], 5)
    dest = tmp_path / "out"
    assert report.write_report(str(dest), facts, check_mode=True) is True
    assert not dest.exists()
    assert report.write_report(str(dest), facts, check_mode=False) is True
    assert sorted(p.name for p in dest.iterdir()) == sorted(report.FILES)
    page = (dest / "report.html").read_text()
    for name in ["api0", "api1", "api2"] + [f"web0{i}" for i in range(6)]:
        assert f"<td>{name}</td>" in page
    assert page.count('src="data:image/png;base64,') == 2
    png = (dest / "expiry.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert matplotlib_image.imread(str(dest / "expiry.png")).shape[0] > 100
    families = {f.name: f for f in prometheus_parser.text_string_to_metric_families((dest / "metrics.prom").read_text())}
    assert {"x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired", "x509_cert_renew_after",
            "x509_cert_pending_renewal", "x509_cert_status"} <= set(families)
    not_after = {s.labels["name"]: s.value for s in families["x509_cert_not_after"].samples}
    assert len(not_after) == 9 and set(families["x509_cert_not_after"].samples[0].labels) >= {"subject_CN", "serial_number", "config"}
    assert {s.labels["status"] for s in families["x509_cert_status"].samples} == {"Issued", "Applied"}
    document = json.loads((dest / "report.json").read_text())
    assert document["gate"]["failing"][0]["name"] == "web00" and len(document["certificates"]) == 9
    mtime = (dest / "report.html").stat().st_mtime_ns
    assert report.write_report(str(dest), facts, check_mode=False) is False
    assert (dest / "report.html").stat().st_mtime_ns == mtime


def test_a_missing_library_is_named(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(OperationError) as err:
        report_render.expiry_png({"configs": [], "expiry_by_week": {}})
    assert "'matplotlib' is not installed" in str(err.value) and "requirements-report.txt" in str(err.value)


def test_no_config_or_an_unknown_one_is_refused(store):
    with pytest.raises(InputError):
        report.gather(store, [])
    with pytest.raises(InputError) as err:
        report.gather(store, ["nope"])
    assert err.value.field == "config"
