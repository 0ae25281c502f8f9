"""SSL after enroll: details (SCM_API §3.5), list (§3.6), approval (§3.8), renew (§3.9), replace (§3.10), revoke (§3.11)."""
from __future__ import annotations

import datetime
import re
import time

import pytest
from cryptography import x509

US_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")


def test_details_of_an_issued_order(client):
    ssl_id = client.enroll_ssl(comments="c1", cert_type=103, term=7)["sslId"]
    details = client.details(ssl_id)
    assert details["id"] == details["sslId"] == ssl_id
    assert details["status"] == "Issued" and details["term"] == 7 and details["orgId"] == 1001
    assert details["certType"]["id"] == 103 and details["certType"]["terms"] == [1, 3, 7]
    assert details["keyType"] == "EC - P-256" and details["keyAlgorithm"] == "EC" and details["keySize"] == 256
    assert details["comments"] == "c1" and details["renewed"] is False
    for field in ("requested", "issued", "expires"):
        assert US_DATE.fullmatch(details[field]), field
    assert re.fullmatch(r"([0-9A-F]{2}:){15}[0-9A-F]{2}", details["serialNumber"])
    assert details["certificateDetails"]["subject"] == "CN=www.example.com"
    assert details["certificateDetails"]["subjectAltNames"] == "dNSName=www.example.com"
    assert details["backendCertId"] == str(details["orderNumber"])
    assert "revoked" not in details and "reasonCode" not in details


def test_details_key_type_of_an_rsa_order(client):
    details = client.details(client.enroll_ssl(key="rsa2048", cert_type=104)["sslId"])
    assert details["keyType"] == "RSA - 2048" and details["keySize"] == 2048


def test_details_date_format(client):
    ssl_id = client.enroll_ssl()["sslId"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", client.api("GET", f"/ssl/v1/{ssl_id}?dateFormat=iso").json()["requested"])
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", client.api("GET", f"/ssl/v1/{ssl_id}?dateFormat=dd.MM.yyyy").json()["requested"])
    assert client.api("GET", f"/ssl/v1/{ssl_id}?dateFormat=nonsense").status_code == 400


def test_details_of_an_unknown_id_is_404(client):
    for oid in ("4242", "abc"):
        response = client.api("GET", f"/ssl/v1/{oid}")
        assert response.status_code == 404 and response.json() == {"code": -5101, "description": f"Certificate not found. {oid}"}


def test_list_paging_total_count_and_head(client):
    ids = [client.enroll_ssl(common_name=f"host{i}.example.com")["sslId"] for i in range(5)]
    page = client.api("GET", "/ssl/v1?size=2&position=1")
    assert page.headers["X-Total-Count"] == "5"
    assert [item["sslId"] for item in page.json()] == ids[1:3]
    assert set(page.json()[0]) == {"sslId", "commonName", "subjectAlternativeNames", "serialNumber"}
    assert [item["sslId"] for item in client.api("GET", "/ssl/v1?size=2&position=4").json()] == ids[4:]
    assert client.api("GET", "/ssl/v1?position=5").json() == []
    head = client.api("HEAD", "/ssl/v1?commonName=host2.example.com")
    assert head.status_code == 200 and head.headers["X-Total-Count"] == "1" and head.content == b""
    assert client.api("GET", "/ssl/v1?size=200").status_code == 200
    for bad in ("size=201", "size=-1", "position=-1", "size=ten"):
        response = client.api("GET", f"/ssl/v1?{bad}")
        assert response.status_code == 400 and response.json()["code"] == -1601, bad


def test_list_filters(client):
    first = client.enroll_ssl(common_name="a.example.com", sans=("alt.example.com",), externalRequester="x@example.com,y@example.com")
    second = client.enroll_ssl(key="rsa2048", common_name="b.example.com", cert_type=104, orgId=1002)
    serial = client.details(first["sslId"])["serialNumber"]

    def ids(query: str) -> list[int]:
        response = client.api("GET", f"/ssl/v1?{query}")
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == str(len(response.json()))
        return [item["sslId"] for item in response.json()]

    assert ids("commonName=A.example.com") == [first["sslId"]]
    assert ids("subjectAlternativeName=alt.example.com") == [first["sslId"]]
    assert ids("status=Issued") == [first["sslId"], second["sslId"]]
    assert ids("status=Revoked") == []
    assert ids("sslTypeId=104") == [second["sslId"]]
    assert ids("orgId=1002") == [second["sslId"]]
    assert ids(f"serialNumber={serial}") == [first["sslId"]]
    assert ids(f"serialNumber={serial.replace(':', '').lower()}") == [first["sslId"]]
    assert ids("externalRequester=y@example.com") == [first["sslId"]]
    assert ids("keyAlgorithm=RSA") == [second["sslId"]]
    assert ids("requester=demo&orgId=1001") == [first["sslId"]]


def test_status_filter_accepts_both_spellings_of_sa_approved(client):
    ssl_id = client.enroll_ssl(key="rsa2048", cert_type=102)["sslId"]
    client.control("POST", f"status/{ssl_id}", {"status": "SA Approved"})
    for spelling in ("SAApproved", "SA%20Approved"):
        assert [i["sslId"] for i in client.api("GET", f"/ssl/v1?status={spelling}").json()] == [ssl_id]


def test_profile_102_waits_for_approval(client):
    ssl_id = client.enroll_ssl(key="rsa2048", cert_type=102)["sslId"]
    assert client.details(ssl_id)["status"] == "Requested"
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").json()["code"] == 0
    assert client.api("POST", f"/ssl/v1/approve/{ssl_id}", json={}).json()["code"] == -7  # message is required
    assert client.api("POST", f"/ssl/v1/approve/{ssl_id}", json={"message": "ok"}).status_code == 204
    again = client.api("POST", f"/ssl/v1/approve/{ssl_id}", json={"message": "ok"})
    assert again.status_code == 400 and again.json()["code"] == -1112
    details = client.details(ssl_id)
    assert details["status"] == "Issued" and US_DATE.fullmatch(details["approved"])
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO").status_code == 200


def test_approval_through_the_control(client):
    ssl_id = client.enroll_ssl(key="rsa2048", cert_type=102)["sslId"]
    assert client.control("POST", f"approve/{ssl_id}")["status"] == "Issued"
    assert client.control("POST", f"approve/{ssl_id}", expect=400)["code"] == -1112
    assert client.control("POST", "approve/4242", expect=404)["code"] == -5101


def test_decline(client):
    ssl_id = client.enroll_ssl(key="rsa2048", cert_type=102)["sslId"]
    assert client.api("POST", f"/ssl/v1/decline/{ssl_id}", json={"message": "no"}).status_code == 204
    assert client.details(ssl_id)["status"] == "Declined"
    assert client.api("POST", f"/ssl/v1/approve/{ssl_id}", json={"message": "yes"}).json()["code"] == -1112
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").status_code == 400


@pytest.mark.parametrize("body", [None, "", {}, {"dcvMode": "EMAIL"}])
def test_renew_by_id_with_an_empty_body(client, body):
    old = client.enroll_ssl(comments="vault_pki:r1")["sslId"]
    response = client.api("POST", f"/ssl/v1/renewById/{old}", json=body) if body is not None else client.api("POST", f"/ssl/v1/renewById/{old}")
    assert response.status_code == 200, response.text
    new = response.json()["sslId"]
    assert set(response.json()) == {"sslId"} and new != old
    assert client.details(old)["renewed"] is True and client.details(new)["renewed"] is False
    assert client.details(new)["commonName"] == "www.example.com" and client.details(new)["comments"] == "vault_pki:r1"
    old_leaf = client.collect(f"/ssl/v1/collect/{old}?format=x509CO")[0]
    new_leaf = client.collect(f"/ssl/v1/collect/{new}?format=x509CO")[0]
    assert new_leaf.serial_number != old_leaf.serial_number
    assert new_leaf.public_key().public_numbers() == old_leaf.public_key().public_numbers()  # the original CSR is reused
    renewed_from = {o["id"]: o.get("renewed_from") for o in client.control("GET", "stats")["orders"]}
    assert renewed_from == {old: None, new: old}


def test_renew_by_id_with_a_new_csr(client, keys, make_csr):
    old = client.enroll_ssl()["sslId"]
    response = client.api("POST", f"/ssl/v1/renewById/{old}", json={"csr": make_csr(keys.get("ec384"))})
    assert response.status_code == 200
    leaf = client.collect(f"/ssl/v1/collect/{response.json()['sslId']}?format=x509CO")[0]
    assert leaf.public_key().public_numbers() == keys.get("ec384").public_key().public_numbers()


def test_renew_what_is_not_issued_is_minus_130(client):
    client.configure(issue_delay=60)
    ssl_id = client.enroll_ssl()["sslId"]
    response = client.api("POST", f"/ssl/v1/renewById/{ssl_id}", json={})
    assert response.status_code == 400 and response.json() == {"code": -130, "description": "SSL state is not 'ISSUED': Applied"}
    assert client.api("POST", "/ssl/v1/renewById/4242", json={}).status_code == 404


def test_renew_by_renew_id_answers_204_and_places_a_new_order(client):
    order = client.enroll_ssl()
    response = client.api("POST", f"/ssl/v1/renew/{order['renewId']}", json={})
    assert response.status_code == 204 and response.content == b""
    assert [o["id"] for o in client.control("GET", "stats")["orders"]] == [order["sslId"], order["sslId"] + 1]
    unknown = client.api("POST", "/ssl/v1/renew/nosuchrenewid0000000", json={})
    assert unknown.status_code == 400 and unknown.json()["code"] == -123


def test_replace_keeps_the_id_and_issues_a_new_serial(client, keys, make_csr):
    ssl_id = client.enroll_ssl()["sslId"]
    first = client.details(ssl_id)["serialNumber"]
    new_csr = make_csr(keys.get("ec384"), "www.example.com")
    assert client.api("POST", f"/ssl/v1/replace/{ssl_id}", json={"csr": new_csr}).json()["code"] == -7  # reason is required
    assert client.api("POST", f"/ssl/v1/replace/{ssl_id}", json={"reason": "rekey"}).json()["code"] == -7  # and so is the CSR
    client.configure(issue_delay=60)
    body = {"csr": new_csr, "reason": "rekey", "commonName": "new.example.com", "subjectAlternativeNames": ["new.example.com", "x.example.com"]}
    response = client.api("POST", f"/ssl/v1/replace/{ssl_id}", json=body)
    assert response.status_code == 204 and response.content == b""
    pending = client.details(ssl_id)
    assert pending["status"] == "Applied" and "serialNumber" not in pending and US_DATE.fullmatch(pending["replaced"])
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").status_code == 400
    client.configure(issue_delay=0)
    after = client.details(ssl_id)
    assert after["status"] == "Issued" and after["serialNumber"] != first and after["commonName"] == "new.example.com"
    leaf = client.collect(f"/ssl/v1/collect/{ssl_id}?format=x509CO")[0]
    assert leaf.public_key().public_numbers() == keys.get("ec384").public_key().public_numbers()
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == \
        ["new.example.com", "x.example.com"]


def test_replace_checks_the_key_against_the_profile(client, keys, make_csr):
    ssl_id = client.enroll_ssl(key="rsa2048", cert_type=104)["sslId"]
    response = client.api("POST", f"/ssl/v1/replace/{ssl_id}", json={"csr": make_csr(keys.get("ec256")), "reason": "rekey"})
    assert response.status_code == 400 and response.json()["code"] == -11


@pytest.mark.parametrize("reason_code", [0, 1, 3, 4, 5, "4"])
def test_revoke_by_id_with_every_allowed_reason_code(client, reason_code):
    ssl_id = client.enroll_ssl()["sslId"]
    response = client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "test", "reasonCode": reason_code})
    assert response.status_code == 204 and response.content == b""
    details = client.details(ssl_id)
    assert details["status"] == "Revoked" and details["reasonCode"] == int(reason_code) and US_DATE.fullmatch(details["revoked"])


@pytest.mark.parametrize("body, code", [
    ({"reasonCode": 1}, -7),                       # SSL needs a reason
    ({"reason": "", "reasonCode": 1}, -7),
    ({"reason": "x" * 513, "reasonCode": 1}, -1601),
    ({"reason": "x", "reasonCode": 2}, -1601),     # 2 and 6 are not allowed
    ({"reason": "x", "reasonCode": "six"}, -1601),
])
def test_revoke_refusals(client, body, code):
    ssl_id = client.enroll_ssl()["sslId"]
    response = client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json=body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert client.details(ssl_id)["status"] == "Issued"


def test_revoke_twice_is_minus_102(client):
    ssl_id = client.enroll_ssl()["sslId"]
    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "one", "reasonCode": 1}).status_code == 204
    again = client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "two", "reasonCode": 1})
    assert again.status_code == 400 and again.json() == {"code": -102, "description": "Only issued certificates could be revoked."}


def test_revoke_what_is_not_issued_is_minus_102(client):
    client.configure(issue_delay=60)
    ssl_id = client.enroll_ssl()["sslId"]
    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "x", "reasonCode": 0}).json()["code"] == -102


def test_revoke_by_serial_in_any_spelling(client):
    first, second = client.enroll_ssl()["sslId"], client.enroll_ssl()["sslId"]
    serial = client.details(first)["serialNumber"]
    assert client.api("POST", f"/ssl/v1/revoke/serial/{serial}", json={"reason": "done", "reasonCode": 5}).status_code == 204
    assert client.details(first)["status"] == "Revoked" and client.details(second)["status"] == "Issued"
    plain = client.details(second)["serialNumber"].replace(":", "").lower()
    assert client.api("POST", f"/ssl/v1/revoke/serial/{plain}", json={"reason": "done", "reasonCode": 0}).status_code == 204
    unknown = client.api("POST", "/ssl/v1/revoke/serial/AB:CD", json={"reason": "x", "reasonCode": 0})
    assert unknown.status_code == 400 and unknown.json()["code"] == -166


def test_forced_statuses(client):
    client.configure(issue_delay=60)
    ssl_id = client.enroll_ssl()["sslId"]
    assert client.control("POST", f"status/{ssl_id}", {"status": "Rejected"})["status"] == "Rejected"
    assert client.details(ssl_id)["status"] == "Rejected"
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").status_code == 400
    assert client.control("POST", f"status/{ssl_id}", {"status": "issued"})["status"] == "Issued"  # signs on the spot
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO").status_code == 200
    assert client.control("POST", f"status/{ssl_id}", {"status": "Bogus"}, expect=400)["description"].startswith("unknown status")
    assert client.control("POST", f"status/{ssl_id}", {}, expect=400)["code"] == -1


def test_backdated_certificates_keep_their_term(client):
    client.configure(backdate_days=300)
    ssl_id = client.enroll_ssl()["sslId"]
    leaf = client.collect(f"/ssl/v1/collect/{ssl_id}?format=x509CO")[0]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - leaf.not_valid_before_utc) - datetime.timedelta(days=300)) < datetime.timedelta(minutes=5)
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == datetime.timedelta(days=365)
    assert client.details(ssl_id)["status"] == "Issued"


def test_a_certificate_past_its_end_is_expired_and_still_collectable(client):
    # A one-day certificate with 0.5-1.5 s left (its start is a whole second, rounded down).
    client.configure(backdate_days=1.0 - 1.5 / 86400)
    ssl_id = client.enroll_ssl(cert_type=103, term=1)["sslId"]
    assert client.details(ssl_id)["status"] == "Issued"
    time.sleep(1.6)
    assert client.details(ssl_id)["status"] == "Expired"
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO").status_code == 200
    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "x", "reasonCode": 0}).json()["code"] == -102
