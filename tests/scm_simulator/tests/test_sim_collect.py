"""Collect (SCM_API §3.7): every format and chain order, both URL forms, pending answers, and a chain openssl accepts."""
from __future__ import annotations

import datetime
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

# Format -> expected blocks, as in SCM_API §3.7.
PEM_ORDERS = {
    "x509": ("root", "int", "leaf"),
    "x509CO": ("leaf",),
    "x509IO": ("root", "int"),
    "x509IOR": ("int", "root"),
    "x509R": ("leaf", "int", "root"),
    "pem": ("root", "int", "leaf"),
    "pemco": ("leaf",),
    "pemia": ("leaf", "int", "root"),
}


@pytest.fixture
def issued(client):
    """An issued SSL order, the CA, and the leaf it should contain."""
    ssl_id = client.enroll_ssl(sans=("www.example.com", "alt.example.com"))["sslId"]
    ca = client.control("GET", "ca")
    certs = {"root": x509.load_pem_x509_certificate(ca["root"].encode()), "int": x509.load_pem_x509_certificate(ca["intermediate"].encode())}
    certs["leaf"] = client.collect(f"/ssl/v1/collect/{ssl_id}?format=x509CO")[0]
    return ssl_id, certs


@pytest.mark.parametrize("fmt", sorted(PEM_ORDERS))
@pytest.mark.parametrize("form", ["query", "path"])
def test_pem_formats_have_the_documented_chain_order(client, issued, fmt, form):
    ssl_id, certs = issued
    path = f"/ssl/v1/collect/{ssl_id}?format={fmt}" if form == "query" else f"/ssl/v1/collect/{ssl_id}/{fmt}"
    response = client.api("GET", path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream;charset=UTF-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="www_example_com_cert.cer"'
    assert x509.load_pem_x509_certificates(response.content) == [certs[name] for name in PEM_ORDERS[fmt]]


@pytest.mark.parametrize("spelling", ["X509CO", "x509co", "PEMIA"])
def test_format_is_case_insensitive(client, issued, spelling):
    ssl_id, _certs = issued
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}/{spelling}").status_code == 200
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}?format={spelling}").status_code == 200


def test_default_is_pem_armoured_pkcs7_and_bin_is_der_pkcs7(client, issued):
    ssl_id, certs = issued
    default = client.api("GET", f"/ssl/v1/collect/{ssl_id}").content
    assert default.startswith(b"-----BEGIN PKCS7-----\n") and default.endswith(b"-----END PKCS7-----\n")
    assert default == client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=base64").content
    assert set(pkcs7.load_pem_pkcs7_certificates(default)) == set(certs.values())
    der = client.api("GET", f"/ssl/v1/collect/{ssl_id}/bin").content
    assert set(pkcs7.load_der_pkcs7_certificates(der)) == set(certs.values())


def test_unknown_format_is_minus_1450(client, issued):
    ssl_id, _certs = issued
    for path in (f"/ssl/v1/collect/{ssl_id}?format=pkcs12", f"/ssl/v1/collect/{ssl_id}/jks"):
        response = client.api("GET", path)
        assert response.status_code == 400 and response.json()["code"] == -1450


def test_leaf_honours_key_names_and_term(client, keys, issued):
    ssl_id, certs = issued
    leaf = certs["leaf"]
    assert leaf.public_key().public_numbers() == keys.get("ec256").public_key().public_numbers()
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "www.example.com"
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == \
        ["www.example.com", "alt.example.com"]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == datetime.timedelta(days=365)
    assert x509.ExtendedKeyUsageOID.SERVER_AUTH in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert 120 <= leaf.serial_number.bit_length() <= 128
    assert client.details(ssl_id)["serialNumber"] == ":".join(f"{b:02X}" for b in leaf.serial_number.to_bytes(16, "big"))
    assert leaf.issuer == certs["int"].subject and certs["int"].issuer == certs["root"].subject


def test_openssl_verifies_the_chain(client, issued, tmp_path):
    ssl_id, _certs = issued
    ca = client.control("GET", "ca")
    (tmp_path / "root.pem").write_text(ca["root"])
    (tmp_path / "intermediate.pem").write_text(ca["intermediate"])
    (tmp_path / "leaf.pem").write_bytes(client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO").content)
    result = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "intermediate.pem"),
                             "-purpose", "sslserver", str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False, timeout=10)
    assert result.returncode == 0 and result.stdout.strip().endswith("leaf.pem: OK"), result.stdout + result.stderr


def test_openssl_verifies_an_smime_leaf_for_smime_use(client, tmp_path):
    number = client.enroll_smime()["backendCertId"]
    ca = client.control("GET", "ca")
    (tmp_path / "root.pem").write_text(ca["root"])
    (tmp_path / "chain.pem").write_bytes(client.api("GET", f"/smime/v1/collect/{number}?format=x509IOR").content)
    (tmp_path / "leaf.pem").write_bytes(client.api("GET", f"/smime/v1/collect/{number}?format=x509CO").content)
    result = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "chain.pem"),
                             "-purpose", "smimesign", str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False, timeout=10)
    assert result.returncode == 0, result.stdout + result.stderr


def test_collect_before_issuance_answers_the_configured_pending_code(client):
    client.configure(issue_delay=60)
    ssl_id = client.enroll_ssl()["sslId"]
    response = client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509CO")
    assert response.status_code == 400 and response.json() == {"code": 0, "description": "Being processed by Sectigo"}
    client.configure(pending_code=-1400)
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").json() == {"code": -1400, "description": "The request is being processed by Sectigo."}
    client.configure(pending_code=-183)
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}/x509").json()["code"] == -183
    details = client.details(ssl_id)
    assert details["status"] == "Applied" and "serialNumber" not in details and "issued" not in details
    client.configure(issue_delay=0)  # read when the order is looked at: the order is due now
    assert client.api("GET", f"/ssl/v1/collect/{ssl_id}").status_code == 200


def test_issue_delay_elapses(client):
    client.configure(issue_delay=0.3)
    ssl_id = client.enroll_ssl()["sslId"]
    assert client.details(ssl_id)["status"] == "Applied"
    time.sleep(0.4)
    assert client.details(ssl_id)["status"] == "Issued"


def test_collect_an_unknown_id_is_404(client):
    response = client.api("GET", "/ssl/v1/collect/4242?format=x509")
    assert response.status_code == 404 and response.json()["code"] == -5101


def test_collect_revoked_is_minus_110(client, issued):
    ssl_id, _certs = issued
    assert client.api("POST", f"/ssl/v1/revoke/{ssl_id}", json={"reason": "test", "reasonCode": 0}).status_code == 204
    response = client.api("GET", f"/ssl/v1/collect/{ssl_id}?format=x509")
    assert response.status_code == 400 and response.json() == {"code": -110, "description": "Certificate has been revoked and cannot be downloaded."}


def test_the_same_certificate_every_time(client, issued):
    ssl_id, certs = issued
    again = client.collect(f"/ssl/v1/collect/{ssl_id}?format=x509CO")[0]
    assert again == certs["leaf"]
    assert again.public_bytes(serialization.Encoding.DER) == certs["leaf"].public_bytes(serialization.Encoding.DER)
