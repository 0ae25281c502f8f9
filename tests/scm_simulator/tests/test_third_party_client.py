"""A third-party SCM client, used as a customer uses it against cert-manager.com, against the simulator.

python-cert_manager (PyPI ``cert-manager``) was written against the real SCM; if it works here, the
simulator speaks SCM the way customers' code expects.
"""
from __future__ import annotations

import subprocess

import cert_manager
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID


def new_csr(cn: str) -> tuple[str, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False).sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def test_python_cert_manager_full_ssl_lifecycle(client, tmp_path):
    scm = cert_manager.Client(base_url=f"{client.root}/api", login_uri="demo", username="demo", password="demo")
    ssl = cert_manager.SSL(client=scm)
    assert "OV Multi-Domain" in ssl.types
    assert ssl.types["OV Multi-Domain"]["terms"] == [365, 730]
    org_id = cert_manager.Organization(client=scm).all()[0]["id"]

    csr, key = new_csr("shop.example.com")
    order = ssl.enroll(cert_type_name="OV Multi-Domain", csr=csr, term=365, org_id=org_id, subject_alt_names=["www.shop.example.com"])
    ssl_id = order["sslId"]
    assert order["renewId"]

    leaf_pem = ssl.collect(ssl_id, "x509CO")
    leaf = x509.load_pem_x509_certificate(leaf_pem.encode())
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sorted(sans) == ["shop.example.com", "www.shop.example.com"]
    chain = x509.load_pem_x509_certificates(ssl.collect(ssl_id, "pem").encode())
    assert chain[-1] == leaf and len(chain) == 3
    assert leaf in pkcs7.load_pem_pkcs7_certificates(ssl.collect(ssl_id, "base64").encode())

    details = ssl.get(ssl_id)
    assert details["status"] == "Issued" and details["commonName"] == "shop.example.com"

    (tmp_path / "chain.pem").write_text(ssl.collect(ssl_id, "x509IOR"))
    (tmp_path / "root.pem").write_text(client.control("GET", "ca")["root"])
    (tmp_path / "leaf.pem").write_text(leaf_pem)
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "chain.pem"),
                               str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False)
    assert "leaf.pem: OK" in verified.stdout, verified.stdout + verified.stderr

    renewed = ssl.renew(ssl_id)
    assert renewed["sslId"] != ssl_id

    new_csr_pem, new_key = new_csr("shop.example.com")
    assert ssl.replace(cert_id=ssl_id, csr=new_csr_pem, common_name="shop.example.com", reason="rekey",
                       subject_alt_names="shop.example.com,www.shop.example.com") == {}
    replaced = x509.load_pem_x509_certificate(ssl.collect(ssl_id, "x509CO").encode())
    assert replaced.public_key().public_numbers() == new_key.public_key().public_numbers()

    assert ssl.revoke(ssl_id, reason="decommissioned") == {}
    assert ssl.get(ssl_id)["status"] == "Revoked"
    assert [c["sslId"] for c in ssl.list(commonName="shop.example.com")] == [ssl_id, renewed["sslId"]]
