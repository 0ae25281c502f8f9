"""S/MIME (SCM_API §5): enroll, collect, details, list, renew and revoke."""
from __future__ import annotations

import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _record(client, backend_cert_id: str) -> dict:
    items = client.api("GET", f"/smime/v2?backendCertId={backend_cert_id}").json()
    assert len(items) == 1
    return items[0]


def test_enroll_answers_order_number_and_backend_cert_id(client):
    answer = client.enroll_smime(comments="vault_pki:s1")
    assert set(answer) == {"orderNumber", "backendCertId"}
    assert isinstance(answer["orderNumber"], int) and answer["backendCertId"] == str(answer["orderNumber"])
    second = client.enroll_smime(email="bob@example.com")
    assert second["orderNumber"] == answer["orderNumber"] + 1


def test_collect_formats_and_the_leaf(client, keys):
    number = client.enroll_smime(secondaryEmails=["alice.doe@example.com"], middleName="Q")["backendCertId"]
    ca = client.control("GET", "ca")
    root, inter = (x509.load_pem_x509_certificate(ca[k].encode()) for k in ("root", "intermediate"))
    leaf = client.collect(f"/smime/v1/collect/{number}?format=x509CO")[0]
    assert client.collect(f"/smime/v1/collect/{number}/X509R") == [leaf, inter, root]
    assert client.collect(f"/smime/v1/collect/{number}?format=pem") == [root, inter, leaf]
    default = client.api("GET", f"/smime/v1/collect/{number}")
    assert default.content.startswith(b"-----BEGIN PKCS7-----") and set(pkcs7.load_pem_pkcs7_certificates(default.content)) == {leaf, inter, root}
    assert default.headers["Content-Disposition"].endswith('.p7b"')
    assert leaf.public_key().public_numbers() == keys.get("ec256").public_key().public_numbers()
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.RFC822Name) == \
        ["alice@example.com", "alice.doe@example.com"]
    assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Alice Q Doe"
    assert client.api("GET", f"/smime/v1/collect/{number}?format=p12").json()["code"] == -1450


def test_collect_before_issuance_is_minus_183_by_default(client):
    client.configure(issue_delay=60)
    number = client.enroll_smime(cert_type=202, term=3)["backendCertId"]
    response = client.api("GET", f"/smime/v1/collect/{number}")
    assert response.status_code == 400 and response.json() == {"code": -183, "description": "Certificate is not collectable."}
    client.configure(smime_pending_code=0)
    assert client.api("GET", f"/smime/v1/collect/{number}").json() == {"code": 0, "description": "Being processed by Sectigo"}
    assert _record(client, number)["state"] == "requested"


def test_collect_an_unknown_order_is_404(client):
    assert client.api("GET", "/smime/v1/collect/1234").status_code == 404


def test_list_item_shape_filters_and_count(client):
    alice = client.enroll_smime(comments="marker-1")
    bob = client.enroll_smime(email="bob@example.com", cert_type=202, term=3)
    item = _record(client, alice["backendCertId"])
    assert set(item) == {"id", "state", "certificateDetails", "serialNumber", "orderNumber", "backendCertId", "expires", "comments"}
    assert item["state"] == "issued" and item["comments"] == "marker-1" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["expires"])
    assert item["certificateDetails"]["subject"] == "E=alice@example.com,CN=Alice Doe"
    assert item["id"] != item["orderNumber"]  # the record id is SCM's own, not the backend's

    def numbers(query: str) -> list[int]:
        response = client.api("GET", f"/smime/v2?{query}")
        assert response.headers["X-Total-Count"] == str(len(response.json()))
        return [i["orderNumber"] for i in response.json()]

    assert numbers("email=BOB@example.com") == [bob["orderNumber"]]
    assert numbers("certTypeId=201") == [alice["orderNumber"]]
    assert numbers("state=issued") == [alice["orderNumber"], bob["orderNumber"]]
    assert numbers(f"serialNumber={item['serialNumber']}") == [alice["orderNumber"]]
    page = client.api("GET", "/smime/v2?size=1&position=1")
    assert [i["orderNumber"] for i in page.json()] == [bob["orderNumber"]] and page.headers["X-Total-Count"] == "2"
    head = client.api("HEAD", "/smime/v2?state=issued")
    assert head.status_code == 200 and head.headers["X-Total-Count"] == "2"


def test_details_by_record_id(client):
    number = client.enroll_smime(customFields=[{"name": "Owner", "value": "IT"}])["backendCertId"]
    record_id = _record(client, number)["id"]
    details = client.api("GET", f"/smime/v1/{record_id}").json()
    assert details["status"] == "issued" and details["backendCertId"] == number and details["email"] == "alice@example.com"
    assert details["certType"]["id"] == 201 and details["term"] == 365 and details["customFields"] == [{"name": "Owner", "value": "IT"}]
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", details["expires"]) and details["keyType"] == "EC - P-256"
    assert isinstance(details["personId"], int)
    assert client.api("GET", "/smime/v1/999999").status_code == 404


def test_persons_are_created_once_per_address(client):
    first = client.enroll_smime()["backendCertId"]
    second = client.enroll_smime(email="ALICE@example.com")["backendCertId"]
    other = client.enroll_smime(email="carol@example.com")["backendCertId"]
    person = {n: client.api("GET", f"/smime/v1/{_record(client, n)['id']}").json()["personId"] for n in (first, second, other)}
    assert person[first] == person[second] != person[other]


@pytest.mark.parametrize("by", ["order", "serial"])
def test_renew(client, by):
    old = client.enroll_smime(comments="keep")
    target = old["backendCertId"] if by == "order" else _record(client, old["backendCertId"])["serialNumber"]
    response = client.api("POST", f"/smime/v2/renew/{by}/{target}")
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"orderNumber", "backendCertId"} and new["orderNumber"] != old["orderNumber"]
    assert _record(client, new["backendCertId"])["comments"] == "keep"
    old_leaf = client.collect(f"/smime/v1/collect/{old['backendCertId']}?format=x509CO")[0]
    new_leaf = client.collect(f"/smime/v1/collect/{new['backendCertId']}?format=x509CO")[0]
    assert new_leaf.serial_number != old_leaf.serial_number
    assert new_leaf.public_key().public_numbers() == old_leaf.public_key().public_numbers()
    stats = {o["id"]: o for o in client.control("GET", "stats")["orders"]}
    assert stats[new["orderNumber"]]["renewed_from"] == old["orderNumber"] and stats[old["orderNumber"]]["renewed"] is True


def test_renew_what_is_not_issued_fails(client):
    client.configure(issue_delay=60)
    number = client.enroll_smime()["backendCertId"]
    response = client.api("POST", f"/smime/v2/renew/order/{number}")
    assert response.status_code == 400 and response.json()["code"] == -105


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "", "reasonCode": "1"}, {"reason": "left", "reasonCode": 3}, None])
def test_revoke_by_order_takes_an_empty_reason(client, body):
    number = client.enroll_smime()["backendCertId"]
    path = f"/smime/v1/revoke/order/{number}"
    response = client.api("POST", path, json=body) if body is not None else client.api("POST", path)
    assert response.status_code == 204
    assert _record(client, number)["state"] == "revoked"
    assert client.api("GET", f"/smime/v1/collect/{number}").json()["code"] == -110


def test_revoke_by_serial_and_twice(client):
    number = client.enroll_smime()["backendCertId"]
    serial = _record(client, number)["serialNumber"]
    assert client.api("POST", f"/smime/v1/revoke/serial/{serial}", json={"reason": "", "reasonCode": 4}).status_code == 204
    again = client.api("POST", f"/smime/v1/revoke/order/{number}", json={"reasonCode": 0})
    assert again.status_code == 400 and again.json()["code"] == -102
    assert client.api("HEAD", "/smime/v2?state=revoked").headers["X-Total-Count"] == "1"


def test_forced_smime_status_shows_in_lower_case(client):
    client.configure(issue_delay=60)
    number = client.enroll_smime()["orderNumber"]
    assert client.control("POST", f"status/{number}", {"status": "rejected"})["status"] == "rejected"
    assert _record(client, str(number))["state"] == "rejected"


def test_revoking_an_order_before_issuance_withdraws_it(client):
    client.configure(issue_delay=60)
    number = client.enroll_smime()["backendCertId"]
    assert client.api("POST", f"/smime/v1/revoke/order/{number}", json={"reason": ""}).status_code == 204
    row = _record(client, number)
    assert row["state"] == "pre_revoked"
    again = client.api("POST", f"/smime/v1/revoke/order/{number}", json={"reason": ""})
    assert again.status_code == 400 and again.json()["code"] == -102


def test_list_rows_leave_out_serial_and_expiry_before_issuance(client):
    """SCM's schema types serialNumber and expires as strings: absent before issuance, never null."""
    client.configure(issue_delay=60)
    number = client.enroll_smime()["backendCertId"]
    row = _record(client, number)
    assert "serialNumber" not in row and "expires" not in row
    assert None not in row.values()
    client.configure(issue_delay=0)
    client.control("POST", f"status/{number}", {"status": "issued"})
    issued = _record(client, number)
    assert isinstance(issued["serialNumber"], str) and isinstance(issued["expires"], str)
