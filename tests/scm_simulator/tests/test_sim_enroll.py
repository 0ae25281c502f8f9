"""Enroll (SCM_API §3.3, §5.3): what is accepted, and the SCM code of every refusal."""
from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def _tampered_csr(client):
    """A CSR whose signature no longer matches its body: the subject was changed after signing."""
    csr = x509.load_pem_x509_csr(client.ssl_body()["csr"].encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[der.find(b"www.example.com")] = ord("x")
    body = base64.b64encode(bytes(der)).decode()
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + \
        "\n-----END CERTIFICATE REQUEST-----\n"


@pytest.mark.parametrize("change, code", [
    ({"term": 999}, -36),
    ({"term": 1}, -36),
    ({"certType": 999}, -39),
    ({"orgId": 4242}, -639),
    ({"csr": "not a CSR!"}, -9),
    ({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"}, -10),
    ({"orgId": None}, -7),
    ({"csr": ""}, -7),
    ({"certType": None}, -7),
    ({"term": None}, -7),
    ({"term": "a year"}, -1601),
    ({"subjAltNames": 42}, -1601),
    ({"comments": "x" * 1025}, -1601),
])
def test_ssl_enroll_refusals(client, change, code):
    body = client.ssl_body()
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = client.api("POST", "/ssl/v1/enroll", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert client.control("GET", "stats")["orders"] == []


def test_bad_csr_signature_is_minus_138(client):
    response = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(csr=_tampered_csr(client)))
    assert response.status_code == 400 and response.json() == {"code": -138, "description": "Invalid CSR."}


@pytest.mark.parametrize("key, cert_type, code", [
    ("ec256", 102, -11),     # EV takes RSA only: the algorithm is refused
    ("ed25519", 101, -11),   # no profile takes Ed25519
    ("rsa3072", 104, -13),   # legacy takes RSA 2048 only: the size is refused
    ("ec384", 104, -11),
])
def test_key_not_allowed_by_profile(client, key, cert_type, code):
    response = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(key=key, cert_type=cert_type))
    assert response.status_code == 400 and response.json()["code"] == code


def test_mandatory_custom_field_is_minus_62(client):
    client.configure(mandatory_custom_fields=["Cost Center"])
    response = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(customFields=[{"name": "Owner", "value": "me"}]))
    assert response.status_code == 400 and response.json() == {"code": -62, "description": "Missing mandatory custom field!"}
    blank = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(customFields=[{"name": "Cost Center", "value": " "}]))
    assert blank.json()["code"] == -62
    ok = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(customFields=[{"name": "Cost Center", "value": "42"}]))
    assert ok.status_code == 200
    assert client.details(ok.json()["sslId"])["customFields"] == [{"name": "Cost Center", "value": "42"}]


def test_smime_mandatory_custom_field(client):
    client.configure(mandatory_custom_fields=["Owner"])
    response = client.api("POST", "/smime/v1/enroll", json=client.smime_body())
    assert response.status_code == 400 and response.json()["code"] == -62


def test_ssl_enroll_answer_and_what_it_records(client):
    answer = client.enroll_ssl(sans=("www.example.com", "api.example.com"), subjAltNames="cdn.example.com, 192.0.2.7",
                               comments="vault_pki:abc", externalRequester="ops@example.com", numberServers=1, serverType=-1)
    assert set(answer) == {"sslId", "renewId"}
    assert isinstance(answer["sslId"], int) and len(answer["renewId"]) == 20 and answer["renewId"].isalnum()
    details = client.details(answer["sslId"])
    assert details["commonName"] == "www.example.com"
    assert details["subjectAlternativeNames"] == ["www.example.com", "api.example.com", "cdn.example.com", "192.0.2.7"]
    assert details["comments"] == "vault_pki:abc" and details["externalRequester"] == "ops@example.com"
    leaf = client.collect(f"/ssl/v1/collect/{answer['sslId']}?format=x509CO")[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "api.example.com", "cdn.example.com"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.7"]


def test_ids_are_sequential_and_strings_are_taken_for_numbers(client):
    first = client.enroll_ssl()["sslId"]
    second = client.enroll_ssl(orgId="1002", certType="103", term="7")["sslId"]
    assert second == first + 1
    assert client.details(second)["orgId"] == 1002 and client.details(second)["term"] == 7


def test_csr_without_pem_armour_is_accepted(client):
    pem = client.ssl_body()["csr"]
    bare = "".join(line for line in pem.splitlines() if "-----" not in line)
    response = client.api("POST", "/ssl/v1/enroll", json=client.ssl_body(csr=bare))
    assert response.status_code == 200, response.text


def test_invalid_json_is_400(client):
    response = client.api("POST", "/ssl/v1/enroll", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == -1601


@pytest.mark.parametrize("change, code", [
    ({"certType": 101}, -172),
    ({"term": 3}, -36),
    ({"email": None}, -7),
    ({"email": "not-an-address"}, -1601),
    ({"firstName": None}, -7),
    ({"lastName": ""}, -7),
    ({"firstName": "A" * 30, "middleName": "B" * 20, "lastName": "C" * 14}, -1601),  # 30+1+20+1+14 = 66 > 64
    ({"phone": "call me"}, -1601),
    ({"orgId": 7}, -639),
])
def test_smime_enroll_refusals(client, change, code):
    body = client.smime_body()
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = client.api("POST", "/smime/v1/enroll", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_smime_names_of_exactly_64_characters_are_accepted(client):
    client.enroll_smime(firstName="A" * 30, middleName="B" * 20, lastName="C" * 12)  # 30+1+20+1+12 = 64
