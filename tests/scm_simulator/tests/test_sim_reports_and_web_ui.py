"""The Report API (SCM_API §6.5), the web-UI controls (seed, revoke, replace, renew) and the SQLite state."""
from __future__ import annotations

import datetime
import sqlite3
import time

from scm_simulator.simulator import Simulator
from scm_simulator.store import DB_FILE, Store

TODAY = datetime.date.today()
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()
YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()


def report(client, kind="ssl-certificates", **body):
    response = client.api("POST", f"/report/v1/{kind}?output_type=buffered", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["statusCode"] == 0
    return answer["reports"]


def test_seed_places_orders_of_someone_else(client):
    seeded = client.control("POST", "seed", {"kind": "ssl", "count": 5, "common_name": "web-{n}.example.com"})
    assert seeded["count"] == 5 and len(seeded["ids"]) == 5
    entries = report(client)
    assert [e["commonName"] for e in entries] == [f"web-{n}.example.com" for n in range(1, 6)]
    first = entries[0]
    assert first["status"] == "Issued" and first["requester"] != "demo" and first["requestedVia"] == "Client Admin"
    assert ":" in first["serialNumber"]  # colon hex unless serialNumberFormat asks otherwise
    details = client.details(first["id"])
    assert details["requester"] == first["requester"] and details["status"] == "Issued"
    smime = client.control("POST", "seed", {"kind": "smime", "count": 3})
    clients = report(client, "client-certificates")
    assert [c["orderNumber"] for c in clients] == smime["ids"] and clients[0]["email"] == "user1@example.com"


def test_seed_refuses_bad_input(client):
    assert "kind" in client.control("POST", "seed", {"kind": "code"}, expect=400)["description"]
    assert "count" in client.control("POST", "seed", {"count": 0}, expect=400)["description"]
    assert "status" in client.control("POST", "seed", {"status": "Bogus"}, expect=400)["description"]


def test_ssl_report_filters(client):
    client.control("POST", "seed", {"count": 3, "common_name": "a-{n}.example.com"})
    client.control("POST", "seed", {"count": 2, "common_name": "b-{n}.example.org", "org_id": 1002, "status": "Revoked"})
    client.control("POST", "seed", {"count": 1, "common_name": "c-{n}.example.com", "status": "Expired"})
    assert len(report(client)) == 6
    assert len(report(client, certificateStatus=2)) == 3
    assert {e["commonName"] for e in report(client, certificateStatus=3)} == {"b-1.example.org", "b-2.example.org"}
    assert len(report(client, certificateStatus=4)) == 1
    assert len(report(client, organizationIds=[1002])) == 2
    assert len(report(client, commonName="*.example.com")) == 4
    assert len(report(client, commonName="A-%")) == 3
    assert len(report(client, commonName="a-1.example.com")) == 1
    assert len(report(client, certificateStatus=3, certificateDateAttribute=2, **{"from": YESTERDAY, "to": TOMORROW})) == 2
    assert report(client, certificateStatus=3, certificateDateAttribute=2, **{"from": TOMORROW, "to": "2999-01-01"}) == []
    assert len(report(client, certificateDateAttribute=4, **{"from": TODAY.isoformat()})) == 6
    assert len(report(client, certificateRequestSource=1)) == 6 and report(client, certificateRequestSource=12) == []
    hexed = report(client, serialNumberFormat="HEXWithLeadingZeros")[0]["serialNumber"]
    assert ":" not in hexed and len(hexed) == 32


def test_ssl_report_entry_fields(client):
    ssl_id = client.enroll_ssl(comments="vault_pki:x")["sslId"]
    entry = report(client)[0]
    assert entry["id"] == ssl_id and entry["comments"] == "vault_pki:x" and entry["requester"] == "demo"
    assert entry["typeId"] == 101 and entry["type"] == "OV Multi-Domain" and entry["organizationName"] == "Example Org"
    assert entry["publicKeyType"] == "EC - P-256" and entry["subjAltNames"] == "www.example.com"
    assert entry["requestedVia"] == "REST API" and len(entry["sha1"]) == 40 and entry["expires"].endswith("Z")


def test_report_bad_input_answers_400(client):
    for body in ({"certificateStatus": 9}, {"from": "2026-13-01", "certificateDateAttribute": 4},
                 {"from": "2026-02-02", "to": "2026-02-01", "certificateDateAttribute": 4}, {"organizationIds": "1001"},
                 {"certificateDateAttribute": 1}):
        response = client.api("POST", "/report/v1/ssl-certificates", json=body)
        assert response.status_code == 400 and response.json()["code"] == -1601, body
    assert client.api("POST", "/report/v1/client-certificates", json={"certificateStatus": 1}).status_code == 400


def test_client_report_statuses_and_download(client):
    number = client.enroll_smime()["orderNumber"]
    assert [e["orderNumber"] for e in report(client, "client-certificates", certificateStatus=5)] == [number]
    client.api("GET", f"/smime/v1/collect/{number}?format=x509CO")
    assert report(client, "client-certificates", certificateStatus=5) == []
    entry = report(client, "client-certificates", certificateStatus=2)[0]
    assert entry["downloaded"] and entry["organization"] == {"id": 1001, "name": "Example Org"}
    client.control("POST", f"revoke/{number}", {})
    revoked = report(client, "client-certificates", certificateStatus=3, certificateDateAttribute=2, **{"from": YESTERDAY})
    assert [e["orderNumber"] for e in revoked] == [number]


def test_web_ui_revoke_replace_renew(client):
    ids = client.control("POST", "seed", {"count": 3})["ids"]
    revoked = client.control("POST", f"revoke/{ids[0]}", {"reason": "incident", "reason_code": 1})
    assert revoked["status"] == "Revoked"
    assert client.details(ids[0])["reasonCode"] == 1
    before = client.details(ids[1])["serialNumber"]
    replaced = client.control("POST", f"replace/{ids[1]}", {})
    assert replaced["id"] == ids[1] and replaced["status"] == "Issued" and replaced["serial_number"] != before
    assert client.details(ids[1])["replaced"]
    renewed = client.control("POST", f"renew/{ids[2]}", {})
    assert renewed["renewed_from"] == ids[2] and renewed["id"] != ids[2] and renewed["status"] == "Issued"
    assert client.details(ids[2])["renewed"] is True
    assert client.control("POST", "revoke/999999", {}, expect=404)["code"] == -5101
    assert client.control("POST", f"revoke/{ids[0]}", {}, expect=400)["code"] == -102
    smime = client.control("POST", "seed", {"kind": "smime", "count": 1})["ids"][0]
    assert "replaced" in client.control("POST", f"replace/{smime}", {}, expect=400)["description"]
    assert client.control("POST", f"renew/{smime}", {})["renewed_from"] == smime


def test_state_is_written_one_order_at_a_time(tmp_path, keys, make_csr):
    store = Store(str(tmp_path))
    order = store.add("ssl", profile_id=101, term=365, org_id=1001, csr=make_csr(keys.get()), common_name="a.example.com",
                      sans=["a.example.com"])
    other = store.add("ssl", profile_id=101, term=365, org_id=1001, csr=order.csr, common_name="b.example.com", sans=["b.example.com"])
    order.status = "Revoked"
    store.save(order)
    db = sqlite3.connect(str(tmp_path / DB_FILE))
    rows = dict(db.execute("SELECT id, data FROM orders").fetchall())
    db.close()
    assert set(rows) == {order.id, other.id} and '"Revoked"' in rows[order.id]
    again = Store(str(tmp_path))
    assert again.by_id("ssl", order.id).status == "Revoked" and again.with_status("ssl", "Revoked") == [again.by_id("ssl", order.id)]
    assert again.with_common_name("ssl", "B.example.com")[0].id == other.id
    store.close()
    again.close()


def test_an_earlier_state_file_is_carried_over(tmp_path, keys, make_csr):
    import json  # pylint: disable=import-outside-toplevel
    order = {"kind": "ssl", "id": 10007, "order_number": 1900000007, "profile_id": 101, "term": 365, "org_id": 1001,
             "csr": make_csr(keys.get()), "common_name": "old.example.com", "sans": ["old.example.com"], "status": "Applied"}
    (tmp_path / "state.json").write_text(json.dumps({"version": 1, "counters": {"ssl_id": 10007, "order_number": 1900000007},
                                                     "persons": {}, "orders": [order]}))
    store = Store(str(tmp_path))
    assert store.by_id("ssl", 10007).common_name == "old.example.com"
    assert store.add("ssl", **{k: order[k] for k in ("profile_id", "term", "org_id", "csr", "common_name", "sans")}).id == 10008
    assert not (tmp_path / "state.json").exists() and (tmp_path / "state.json.migrated").exists()
    store.close()


def test_a_large_estate_stays_fast(tmp_path, shared_ca):
    sim = Simulator.create(state_dir=str(tmp_path), ca=shared_ca)
    started = time.monotonic()
    sim.controls.handle("POST", "seed", {"count": 1000, "status": "Issued"})
    sim.controls.handle("POST", "seed", {"count": 1000, "status": "Applied", "start": 1001})
    seeded = time.monotonic() - started
    sim.controls.handle("GET", "stats", None)  # issues the Applied ones once
    timings = {}
    for name, call in (("stats", lambda: sim.controls.handle("GET", "stats", None)),
                       ("revoke", lambda: sim.controls.handle("POST", "revoke/10005", {}))):
        started = time.monotonic()
        response = call()
        timings[name] = time.monotonic() - started
        assert response.status == 200, response.body
    assert len(sim.store) == 2000 and seeded < 60  # 10,000: make bench (tests/bench/run_sim_bench.py)
    assert timings["stats"] < 1.0 and timings["revoke"] < 0.2, timings
    sim.store.close()
