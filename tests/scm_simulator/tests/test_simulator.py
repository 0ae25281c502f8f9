"""The simulator over real HTTP: the SCM_API.md contract, its CA, faults and controls."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)


def make_csr(cn="www.example.com", sans=("www.example.com",), key=None, email=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    names = [x509.DNSName(s) for s in sans] + ([x509.RFC822Name(email)] if email else [])
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode(), key


def enroll(client, cn="www.example.com", cert_type=101, term=365, **extra):
    csr, key = make_csr(cn, (cn,))
    body = {"orgId": 1001, "csr": csr, "certType": cert_type, "term": term}
    body.update(extra)
    response = client.api("POST", "/ssl/v1/enroll", json=body)
    assert response.status_code == 200, response.text
    return response.json(), key


def pems(text: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text)


def test_listening_line_and_lifetime(tmp_path):
    proc = subprocess.Popen([sys.executable, PACKAGE, "--port", "0", "--max-lifetime", "20", "--state-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("scm-simulator listening on http://127.0.0.1:") and line.endswith("/api")
        base = line.split()[-1]
        assert requests.get(f"{base}/ssl/v1/types", headers={"login": "demo", "password": "demo", "customerUri": "demo"}, timeout=5).ok
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_bad_credentials_are_401_before_anything_else(client):
    response = client.api("GET", "/ssl/v1/collect/1/nonsense", headers={"password": "wrong"})
    assert response.status_code == 401
    assert response.json() == {"code": -16, "description": "Invalid auth data"}
    assert client.api("GET", "/ssl/v1/types", headers={"LOGIN": "demo", "CustomerUri": "demo", "PASSWORD": "demo"}, auth=False).ok


def test_private_api_needs_no_password(client):
    assert client.api("GET", "/ssl/v1/types", private=True).status_code == 200


def test_profiles_organizations_custom_fields(client):
    ssl_types = client.api("GET", "/ssl/v1/types").json()
    assert [p["id"] for p in ssl_types] == [101, 102, 103, 104]
    assert ssl_types[0]["keyTypes"]["EC"] == ["P-256", "P-384", "P-521"]
    assert [p["terms"] for p in client.api("GET", "/smime/v1/types").json()] == [[365, 730], [3]]
    assert client.api("GET", "/ssl/v1/types?organizationId=999").json() == []
    org = client.api("GET", "/organization/v1").json()[0]
    assert org["id"] == 1001 and org["departments"][0]["id"] == 1002
    assert all(not f["mandatory"] for f in client.api("GET", "/ssl/v1/customFields").json())


@pytest.mark.parametrize("change, code", [
    ({"term": 999}, -36),
    ({"certType": 999}, -39),
    ({"orgId": 4242}, -639),
    ({"csr": "not a csr!"}, -9),
    ({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"}, -10),
    ({"certType": 104}, -11),
    ({"term": None}, -7),
])
def test_enroll_validation_codes(client, change, code):
    csr, _key = make_csr()
    body = {"orgId": 1001, "csr": csr, "certType": 101, "term": 365}
    body.update(change)
    response = client.api("POST", "/ssl/v1/enroll", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_key_size_not_in_profile(client):
    csr, _key = make_csr(key=ec.generate_private_key(ec.SECP256R1()))
    response = client.api("POST", "/ssl/v1/enroll", json={"orgId": 1001, "csr": csr, "certType": 102, "term": 365})
    assert response.json()["code"] == -11
    rsa_csr, _key = make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=3072))
    response = client.api("POST", "/ssl/v1/enroll", json={"orgId": 1001, "csr": rsa_csr, "certType": 104, "term": 365})
    assert response.json()["code"] == -13


def test_mandatory_custom_field(client):
    client.control("POST", "config", {"mandatory_custom_fields": ["Cost Center"]})
    csr, _key = make_csr()
    body = {"orgId": 1001, "csr": csr, "certType": 101, "term": 365}
    assert client.api("POST", "/ssl/v1/enroll", json=body).json()["code"] == -62
    body["customFields"] = [{"name": "Cost Center", "value": "42"}]
    assert client.api("POST", "/ssl/v1/enroll", json=body).ok


def test_collect_every_format_with_documented_chain_order(client, tmp_path):
    order, key = enroll(client, subjAltNames="alt.example.com")
    ssl_id = order["sslId"]
    ca = client.control("GET", "ca")
    root = x509.load_pem_x509_certificate(ca["root"].encode())
    inter = x509.load_pem_x509_certificate(ca["intermediate"].encode())
    leaf = pems(client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO").content)
    assert len(leaf) == 1
    leaf = leaf[0]
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sorted(sans) == ["alt.example.com", "www.example.com"]
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days == 365
    expected = {"x509": [root, inter, leaf], "pem": [root, inter, leaf], "x509R": [leaf, inter, root], "pemia": [leaf, inter, root],
                "pemco": [leaf], "x509IO": [root, inter], "x509IOR": [inter, root]}
    for fmt, chain in expected.items():
        for path in (f"/ssl/v1/collect/{ssl_id}?format={fmt}", f"/ssl/v1/collect/{ssl_id}/{fmt.upper()}"):
            response = client.api("GET", path)
            assert response.headers["Content-Type"].startswith("application/octet-stream")
            assert pems(response.content) == chain, fmt
    default = client.api("GET", f"/ssl/v1/collect/{ssl_id}").content
    assert default.startswith(b"-----BEGIN PKCS7-----")
    assert set(pkcs7.load_pem_pkcs7_certificates(default)) == {root, inter, leaf}
    assert set(pkcs7.load_der_pkcs7_certificates(client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=bin").content)) == {root, inter, leaf}
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=pkcs12").json()["code"] == -1450

    for name, cert in (("root", root), ("inter", inter), ("leaf", leaf)):
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "inter.pem"),
                             str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False)
    assert "leaf.pem: OK" in result.stdout, result.stdout + result.stderr


def test_issuance_is_asynchronous_and_pending_code_configurable(client):
    client.control("POST", "config", {"issue_delay": 30})
    order, _key = enroll(client)
    response = client.api("GET", f"/ssl/v1/collect/{order['sslId']}?format=x509CO")
    assert response.status_code == 400 and response.json() == {"code": 0, "description": "Being processed by Sectigo"}
    client.control("POST", "config", {"pending_code": -1400})
    assert client.api("GET", f"/ssl/v1/collect/{order['sslId']}").json()["code"] == -1400
    details = client.api("GET", f"/ssl/v1/{order['sslId']}").json()
    assert details["status"] == "Applied" and "serialNumber" not in details
    client.control("POST", "config", {"issue_delay": 0})
    assert client.api("GET", f"/ssl/v1/collect/{order['sslId']}").ok


def test_details_and_list_paging(client):
    ids = [enroll(client, cn=f"host{i}.example.com", comments=f"c{i}")[0]["sslId"] for i in range(5)]
    details = client.api("GET", f"/ssl/v1/{ids[0]}").json()
    assert details["status"] == "Issued" and details["comments"] == "c0"
    assert details["keyType"] == "EC - P-256" and details["certType"]["id"] == 101
    assert len(details["requested"]) == 10 and details["requested"][2] == "/"
    assert len(details["serialNumber"].split(":")) > 8 and details["serialNumber"] == details["serialNumber"].upper()
    response = client.api("GET", "/ssl/v1?size=2&position=1")
    assert response.headers["X-Total-Count"] == "5"
    assert [i["sslId"] for i in response.json()] == ids[1:3]
    assert set(response.json()[0]) == {"sslId", "commonName", "subjectAlternativeNames", "serialNumber"}
    assert [i["sslId"] for i in client.api("GET", "/ssl/v1?commonName=host3.example.com").json()] == [ids[3]]
    head = client.api("HEAD", "/ssl/v1?sslTypeId=101")
    assert head.headers["X-Total-Count"] == "5" and head.content == b""
    assert client.api("GET", "/ssl/v1/999999").status_code == 404


def test_renew_replace_revoke(client):
    order, _key = enroll(client)
    ssl_id = order["sslId"]
    first_serial = client.api("GET", f"/ssl/v1/{ssl_id}").json()["serialNumber"]
    renewed = client.api("POST", f"/ssl/v1/renewById/{ssl_id}", json={}).json()["sslId"]
    assert renewed != ssl_id and client.api("GET", f"/ssl/v1/{ssl_id}").json()["renewed"] is True
    new_csr, _new_key = make_csr()
    assert client.api("POST", f"/ssl/v1/renewById/{ssl_id}", json={"csr": new_csr}).ok

    replace_csr, replace_key = make_csr("www.example.com", ("www.example.com", "new.example.com"))
    assert client.api("POST", f"/ssl/v1/replace/{ssl_id}", json={"csr": replace_csr}).json()["code"] == -7
    assert client.api("POST", f"/ssl/v1/replace/{ssl_id}", json={"csr": replace_csr, "reason": "rekey"}).status_code == 204
    after = client.api("GET", f"/ssl/v1/{ssl_id}").json()
    assert after["serialNumber"] != first_serial
    leaf = pems(client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO").content)[0]
    assert leaf.public_key().public_numbers() == replace_key.public_key().public_numbers()

    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reasonCode": 1}).json()["code"] == -7
    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "compromised", "reasonCode": "1"}).status_code == 204
    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "again", "reasonCode": 1}).json()["code"] == -102
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").json()["code"] == -110
    serial = client.api("GET", f"/ssl/v1/{renewed}").json()["serialNumber"]
    assert client.api("POST", f"/ssl/v1/revoke/serial/{serial}", json={"reason": "done", "reasonCode": 5}).status_code == 204
    assert client.api("GET", f"/ssl/v1/{renewed}").json()["status"] == "Revoked"


def test_profile_102_waits_for_approval(client):
    csr, _key = make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    ssl_id = client.api("POST", "/ssl/v1/enroll", json={"orgId": 1001, "csr": csr, "certType": 102, "term": 365}).json()["sslId"]
    assert client.api("GET", f"/ssl/v1/{ssl_id}").json()["status"] == "Requested"
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").status_code == 400
    assert client.api("POST", f"/ssl/v1/approve/{ssl_id}", json={"message": "ok"}).status_code == 204
    assert client.api("POST", f"/ssl/v1/approve/{ssl_id}", json={"message": "ok"}).json()["code"] == -1112
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").ok


def test_forced_status_and_decline(client):
    order, _key = enroll(client)
    assert client.api("GET", f"/ssl/v1/{order['sslId']}").json()["status"] == "Issued"
    client.control("POST", "config", {"issue_delay": 30})
    pending, _key = enroll(client, cn="pending.example.com")
    client.control("POST", f"status/{pending['sslId']}", {"status": "Rejected"})
    assert client.api("GET", f"/ssl/v1/{pending['sslId']}").json()["status"] == "Rejected"
    stats = client.control("GET", "stats")
    assert {o["id"]: o["status"] for o in stats["orders"]} == {order["sslId"]: "Issued", pending["sslId"]: "Rejected"}
    declined, _key = enroll(client, cn="declined.example.com")
    assert client.api("POST", f"/ssl/v1/decline/{declined['sslId']}", json={"message": "no"}).status_code == 204
    assert client.api("GET", f"/ssl/v1/{declined['sslId']}").json()["status"] == "Declined"


def test_smime_enroll_collect_renew_revoke(client):
    csr, key = make_csr("Alice", (), email="alice@example.com")
    body = {"orgId": 1001, "csr": csr, "certType": 201, "term": 365, "email": "alice@example.com", "firstName": "Alice", "lastName": "Doe"}
    assert client.api("POST", "/smime/v1/enroll", json=dict(body, lastName="x" * 70)).status_code == 400
    order = client.api("POST", "/smime/v1/enroll", json=dict(body, comments="marker-1")).json()
    assert order["backendCertId"] == str(order["orderNumber"])
    leaf = pems(client.api("GET", f"/smime/v1/collect/{order['backendCertId']}?format=x509CO").content)[0]
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert "alice@example.com" in leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.RFC822Name)
    listed = client.api("GET", "/smime/v2?email=alice@example.com")
    assert listed.headers["X-Total-Count"] == "1" and listed.json()[0]["state"] == "issued" and listed.json()[0]["comments"] == "marker-1"
    renewed = client.api("POST", f"/smime/v2/renew/order/{order['backendCertId']}").json()
    assert renewed["orderNumber"] != order["orderNumber"]
    assert client.api("POST", f"/smime/v1/revoke/order/{order['backendCertId']}", json={"reasonCode": 0}).status_code == 204
    serial = client.api("GET", f"/smime/v1/{renewed['orderNumber']}").json()["serialNumber"]
    assert client.api("POST", f"/smime/v1/revoke/serial/{serial}", json={"reason": "", "reasonCode": 4}).status_code == 204
    assert client.api("HEAD", "/smime/v2?state=revoked").headers["X-Total-Count"] == "2"


def test_smime_pending_code(client):
    client.control("POST", "config", {"issue_delay": 30})
    csr, _key = make_csr("Bob", (), email="bob@example.com")
    order = client.api("POST", "/smime/v1/enroll", json={"orgId": 1001, "csr": csr, "certType": 202, "term": 3, "email": "bob@example.com",
                                                         "firstName": "Bob", "lastName": "B"}).json()
    assert client.api("GET", f"/smime/v1/collect/{order['backendCertId']}").json() == {"code": -183, "description": "Certificate is not collectable."}


def test_backdating(client):
    client.control("POST", "config", {"backdate_days": 300})
    order, _key = enroll(client)
    leaf = pems(client.api("GET", f"/ssl/v1/collect/{order['sslId']}?format=x509CO").content)[0]
    assert leaf.not_valid_after_utc.timestamp() - time.time() < 70 * 86400


def test_no_faults_unless_configured_and_each_fault_counted(client):
    for _attempt in range(20):
        assert client.api("GET", "/ssl/v1/types").ok
    assert client.control("GET", "stats")["faults_injected"] == {"5xx": 0, "429": 0, "reset": 0}
    client.control("POST", "config", {"fault_5xx_count": 1, "fault_429_count": 1, "fault_reset_count": 1, "retry_after": 2})
    with pytest.raises(requests.ConnectionError):
        client.api("GET", "/ssl/v1/types")
    limited = client.api("GET", "/ssl/v1/types")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert client.api("GET", "/ssl/v1/types").status_code == 503
    assert client.api("GET", "/ssl/v1/types").ok
    stats = client.control("GET", "stats")
    assert stats["faults_injected"] == {"5xx": 1, "429": 1, "reset": 1}
    assert stats["requests"]["GET /api/ssl/v1/types"] == 24 and stats["total_requests"] == 24


def test_fault_after_processing_keeps_the_order(client):
    client.control("POST", "config", {"fault_reset_count": 1, "fault_after": True, "fault_match": "POST /api/ssl/v1/enroll"})
    csr, _key = make_csr("lost.example.com", ("lost.example.com",))
    with pytest.raises(requests.ConnectionError):
        client.api("POST", "/ssl/v1/enroll", json={"orgId": 1001, "csr": csr, "certType": 101, "term": 365, "comments": "vault_pki:abc"})
    orders = client.control("GET", "stats")["orders"]
    assert [(o["common_name"], o["comments"]) for o in orders] == [("lost.example.com", "vault_pki:abc")]


def test_state_dir_survives_restart(tmp_path):
    def start():
        proc = subprocess.Popen([sys.executable, PACKAGE, "--port", "0", "--max-lifetime", "30", "--state-dir", str(tmp_path)],
                                stdout=subprocess.PIPE, text=True)
        return proc, proc.stdout.readline().split()[-1]

    headers = {"login": "demo", "password": "demo", "customerUri": "demo"}
    proc, base = start()
    try:
        csr, _key = make_csr()
        ssl_id = requests.post(f"{base}/ssl/v1/enroll", json={"orgId": 1001, "csr": csr, "certType": 101, "term": 365}, headers=headers,
                               timeout=10).json()["sslId"]
        first = requests.get(f"{base}/ssl/v1/collect/{ssl_id}?format=x509", headers=headers, timeout=10).content
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc, base = start()
    try:
        again = requests.get(f"{base}/ssl/v1/collect/{ssl_id}?format=x509", headers=headers, timeout=10).content
        assert again == first
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_https_with_given_certificate(tmp_path, client):
    order, key = enroll(client, cn="localhost")
    (tmp_path / "cert.pem").write_bytes(client.api("GET", f"/ssl/v1/collect/{order['sslId']}?format=pemia").content)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (tmp_path / "root.pem").write_text(client.control("GET", "ca")["root"])
    proc = subprocess.Popen([sys.executable, PACKAGE, "--port", "0", "--max-lifetime", "20", "--tls-cert", str(tmp_path / "cert.pem"),
                             "--tls-key", str(tmp_path / "key.pem")], stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().split()[-1]
        assert base.startswith("https://")
        base = base.replace("127.0.0.1", "localhost")
        response = requests.get(f"{base}/ssl/v1/types", headers={"login": "demo", "password": "demo", "customerUri": "demo"},
                                verify=str(tmp_path / "root.pem"), timeout=10)
        assert response.ok
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_listens_on_loopback_only(sim_server):
    server, _sim = sim_server
    assert server.server_address[0] == "127.0.0.1"
    with socket.create_connection(server.server_address[:2], timeout=5):
        pass
