"""The /__sim__ controls: stats, config, CA; and injected faults (5xx, 429, reset), before and after processing."""
from __future__ import annotations

import pytest
import requests


def test_stats_count_requests_per_route_template(client):
    ssl_id = client.enroll_ssl()["sslId"]
    for fmt in ("x509", "x509CO"):
        client.api("GET", f"/ssl/v1/collect/{ssl_id}?format={fmt}")
    client.api("GET", f"/ssl/v1/collect/{ssl_id}/pem", private=True)
    client.api("HEAD", "/ssl/v1")
    client.api("GET", "/ssl/v1/types", headers={"password": "wrong"})
    stats = client.control("GET", "stats")
    assert stats["requests"] == {
        "POST /api/ssl/v1/enroll": 1, "GET /api/ssl/v1/collect/{id}": 2, "GET /api/ssl/v1/collect/{id}/{format}": 1,
        "HEAD /api/ssl/v1": 1, "GET /api/ssl/v1/types": 1,
    }
    assert stats["total_requests"] == 6
    assert stats["faults_injected"] == {"5xx": 0, "429": 0, "reset": 0}
    client.control("GET", "config")  # controls are not counted
    assert client.control("GET", "stats")["total_requests"] == 6


def test_stats_orders(client):
    client.enroll_ssl(comments="vault_pki:one", cert_type=103, term=3)
    client.enroll_smime(comments="vault_pki:two")
    ssl, smime = client.control("GET", "stats")["orders"]
    assert {k: ssl[k] for k in ("kind", "common_name", "email", "status", "comments", "cert_type", "term")} == \
        {"kind": "ssl", "common_name": "www.example.com", "email": None, "status": "Issued", "comments": "vault_pki:one", "cert_type": 103,
         "term": 3}
    assert {k: smime[k] for k in ("kind", "common_name", "email", "status", "comments", "cert_type", "term")} == \
        {"kind": "smime", "common_name": "Alice Doe", "email": "alice@example.com", "status": "issued", "comments": "vault_pki:two",
         "cert_type": 201, "term": 365}
    assert smime["id"] == smime["order_number"] and str(smime["id"]) == smime["backend_cert_id"]


def test_stats_reset_zeroes_counters_but_keeps_orders(client):
    client.enroll_ssl()
    client.configure(fault_5xx_count=1)
    client.api("GET", "/ssl/v1/types")
    reset = client.control("POST", "stats/reset")
    assert reset["requests"] == {} and reset["total_requests"] == 0 and reset["faults_injected"] == {"5xx": 0, "429": 0, "reset": 0}
    assert len(reset["orders"]) == 1


def test_ca_control_gives_both_certificates(client):
    ca = client.control("GET", "ca")
    assert set(ca) == {"root", "intermediate"}
    assert all(pem.startswith("-----BEGIN CERTIFICATE-----\n") for pem in ca.values())


def test_config_defaults_merge_and_validation(client):
    config = client.control("GET", "config")
    assert config["issue_delay"] == 0 and config["pending_code"] == 0 and config["smime_pending_code"] == -183
    assert config["fault_5xx_rate"] == config["fault_429_rate"] == config["fault_reset_rate"] == 0
    assert config["fault_after"] is False and config["retry_after"] == 1 and config["mandatory_custom_fields"] == []
    merged = client.configure(issue_delay=2.5, retry_after=3)
    assert merged["issue_delay"] == 2.5 and merged["retry_after"] == 3 and merged["pending_code"] == 0
    for bad in ({"issue_delay": -1}, {"fault_5xx_rate": 1.5}, {"fault_reset_count": "2"}, {"fault_match": "("}, {"no_such": 1},
                {"fault_after": "yes"}, {"pending_code": 5}, {"mandatory_custom_fields": "Owner"}):
        error = client.control("POST", "config", bad, expect=400)
        assert set(error) == {"code", "description"}, bad
    assert client.control("POST", "config", ["not", "an", "object"], expect=400)["code"] == -1
    assert client.control("GET", "config")["issue_delay"] == 2.5  # a refused change changes nothing


def test_unknown_control_is_404(client):
    assert "known:" in client.control("GET", "nothing-here", expect=404)["description"]


def test_no_faults_unless_configured(client):
    for _attempt in range(30):
        assert client.api("GET", "/ssl/v1/types").status_code == 200
    assert client.control("GET", "stats")["faults_injected"] == {"5xx": 0, "429": 0, "reset": 0}


def test_each_fault_kind_once_and_counted(client):
    client.configure(fault_5xx_count=1, fault_429_count=1, fault_reset_count=1, retry_after=2)
    with pytest.raises(requests.ConnectionError):
        client.api("GET", "/ssl/v1/types")
    limited = client.api("GET", "/ssl/v1/types")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2" and set(limited.json()) == {"code", "description"}
    failed = client.api("GET", "/ssl/v1/types")
    assert failed.status_code == 503 and set(failed.json()) == {"code", "description"}
    assert client.api("GET", "/ssl/v1/types").status_code == 200
    stats = client.control("GET", "stats")
    assert stats["faults_injected"] == {"5xx": 1, "429": 1, "reset": 1}
    assert stats["requests"]["GET /api/ssl/v1/types"] == 4 == stats["total_requests"]
    config = client.control("GET", "config")
    assert config["fault_5xx_count"] == config["fault_429_count"] == config["fault_reset_count"] == 0


def test_the_5xx_status_is_configurable(client):
    client.configure(fault_5xx_count=2, fault_5xx_status=502)
    assert client.api("GET", "/ssl/v1/types").status_code == 502
    assert client.api("POST", "/ssl/v1/enroll", json=client.ssl_body()).status_code == 502
    assert client.control("GET", "stats")["orders"] == []  # faulted before processing: no order


def test_a_reset_is_a_tcp_reset(client):
    client.configure(fault_reset_count=1)
    with pytest.raises(requests.ConnectionError) as caught:
        client.api("GET", "/organization/v1")
    assert "reset" in str(caught.value).lower() or "aborted" in str(caught.value).lower() or "closed" in str(caught.value).lower()


def test_fault_match_restricts_faults_to_matching_requests(client):
    client.configure(fault_429_count=1, fault_match=r"^GET /api/ssl/v1/collect/")
    ssl_id = client.enroll_ssl()["sslId"]
    assert client.api("GET", "/ssl/v1/types").status_code == 200
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509").status_code == 429
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509").status_code == 200


def test_rates_of_one_always_fault(client):
    client.configure(fault_429_rate=1.0)
    assert all(client.api("GET", "/ssl/v1/types").status_code == 429 for _attempt in range(5))
    client.configure(fault_429_rate=0.0)
    assert client.api("GET", "/ssl/v1/types").status_code == 200
    assert client.control("GET", "stats")["faults_injected"]["429"] == 5


def test_fault_after_places_the_order_and_loses_the_answer(client):
    client.configure(fault_reset_count=1, fault_after=True, fault_match="POST /api/ssl/v1/enroll")
    with pytest.raises(requests.ConnectionError):
        client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(common_name="lost.example.com", comments="vault_pki:abc"))
    orders = client.control("GET", "stats")["orders"]
    assert [(o["common_name"], o["comments"], o["status"]) for o in orders] == [("lost.example.com", "vault_pki:abc", "Issued")]
    # The client reconciles by listing: exactly one order to find.
    found = client.api("GET", "/ssl/v1?commonName=lost.example.com").json()
    assert [item["sslId"] for item in found] == [orders[0]["id"]]


def test_fault_after_with_a_server_error(client):
    client.configure(fault_5xx_count=1, fault_after=True)
    assert client.api("POST", "/smime/v1/enroll", json=client.smime_body()).status_code == 503
    assert len(client.control("GET", "stats")["orders"]) == 1


def test_fault_after_rate_loses_answers_after_the_orders_were_placed(client):
    """At fault_after_rate 1 every injected fault strikes after the order exists; at 0 (default) before it."""
    client.configure(fault_5xx_rate=1.0, fault_after_rate=1.0, fault_match="^POST /api/ssl/v1/enroll$")
    for _attempt in range(3):
        assert client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(common_name="late.example.com")).status_code == 503
    stats = client.control("GET", "stats")
    assert len(stats["orders"]) == 3 and stats["faults_after"] == 3 and stats["faults_injected"]["5xx"] == 3
    client.configure(fault_after_rate=0.0)
    assert client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(common_name="early.example.com")).status_code == 503
    stats = client.control("GET", "stats")
    assert len(stats["orders"]) == 3 and stats["faults_after"] == 3 and stats["faults_injected"]["5xx"] == 4
    client.control("POST", "stats/reset", {})
    assert client.control("GET", "stats")["faults_after"] == 0


def test_faults_never_hit_the_controls(client):
    client.configure(fault_reset_rate=1.0)
    for _attempt in range(3):
        client.control("GET", "stats")
    assert client.control("GET", "stats")["faults_injected"]["reset"] == 0
    client.configure(fault_reset_rate=0.0)


def test_a_rate_limit_never_strikes_after_the_request_took_effect(client):
    """A 429 is a rate limiter's answer before processing: fault_after never applies to it, so no order is made."""
    client.configure(fault_429_count=1, fault_after=True, fault_match="^POST /api/ssl/v1/enroll$")
    try:
        before = len(client.control("GET", "stats")["orders"])
        response = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body())
        assert response.status_code == 429
        assert len(client.control("GET", "stats")["orders"]) == before
    finally:
        client.configure(fault_after=False, fault_match="", fault_429_count=0)
