"""Unit tests of _crypto with real keys, a throw-away CA, and the openssl CLI as an independent check."""
from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto as c
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.crypto import CryptoInputError, KeySpec

UTC = datetime.timezone.utc
NOT_BEFORE = datetime.datetime(2025, 11, 23, 7, 40, tzinfo=UTC)
NOT_AFTER = datetime.datetime(2026, 11, 23, 7, 40, tzinfo=UTC)
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


# ---- fixtures: keys and a tiny CA -----------------------------------------------------------------


def _pem_key(key, fmt=serialization.PrivateFormat.PKCS8, encryption=None):
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption or serialization.NoEncryption()).decode()


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _issue(subject, public_key, issuer_name, issuer_key, *, ca, serial=None, sans=None, not_before=NOT_BEFORE, not_after=NOT_AFTER):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(public_key)
               .serial_number(serial or x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class TinyCA:
    """Root -> intermediate -> leaves, all EC P-256 for speed."""

    def __init__(self, label="Tiny"):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(f"{label} Root CA", "Test")
        self.root = _issue(root_name, self.root_key.public_key(), root_name, self.root_key, ca=True)
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.inter = _issue(_name(f"{label} Issuing CA", "Test"), self.inter_key.public_key(), root_name, self.root_key, ca=True)

    def leaf(self, public_key, cn, *, serial=None, sans=None):
        return _issue(_name(cn), public_key, self.inter.subject, self.inter_key, ca=False, serial=serial, sans=sans)


@pytest.fixture(scope="module")
def rsa_key():
    return _pem_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ec_key():
    return c.generate_private_key(KeySpec("EC", 256))


@pytest.fixture(scope="module")
def ca():
    return TinyCA()


@pytest.fixture(scope="module")
def leaf(ca, ec_key):
    key = serialization.load_pem_private_key(ec_key.encode(), None)
    sans = [x509.DNSName("web01.example.com"), x509.DNSName("www.example.com"), x509.IPAddress(ipaddress.ip_address("192.0.2.7"))]
    return ca.leaf(key.public_key(), "web01.example.com", serial=0x0A1B2C3D, sans=sans)


def _field_error(excinfo, field):
    assert excinfo.value.field == field
    assert field in str(excinfo.value)


# ---- key specification ------------------------------------------------------------------------------


@pytest.mark.parametrize("args, kwargs, expected", [
    ((), {}, ("RSA", 2048)),
    (("RSA",), {}, ("RSA", 2048)),
    (("rsa", "4096"), {}, ("RSA", 4096)),
    (("RSA", 3072), {}, ("RSA", 3072)),
    (("RSA", " 2048 "), {}, ("RSA", 2048)),
    (("EC",), {}, ("EC", 256)),
    (("ECDSA", 384), {}, ("EC", 384)),
    (("ec", "521"), {}, ("EC", 521)),
    ((None, None, "P-384"), {}, ("EC", 384)),
    ((None, None, "secp521r1"), {}, ("EC", 521)),
    ((None, None, "prime256v1"), {}, ("EC", 256)),
    ((None, None, "secp384r1"), {}, ("EC", 384)),
    (("EC", 384, "p-384"), {}, ("EC", 384)),
    (("ECDSA", None, "P-521"), {}, ("EC", 521)),
    (("EC", None, None), {"default": KeySpec("EC", 384)}, ("EC", 384)),
    (("RSA", None, None), {"default": KeySpec("EC", 384)}, ("RSA", 2048)),
    ((), {"default": KeySpec("EC", 521)}, ("EC", 521)),
    ((None, 4096), {}, ("RSA", 4096)),
])
def test_normalize_key_spec(args, kwargs, expected):
    spec = c.normalize_key_spec(*args, **kwargs)
    assert (spec.algo, spec.size) == expected


@pytest.mark.parametrize("args, field, message", [
    (("RSA", 1024), "key_size", "key_size must be one of 2048, 3072, 4096 for key_algo RSA; got 1024"),
    (("RSA", 256), "key_size", "key_size must be one of 2048, 3072, 4096 for key_algo RSA; got 256"),
    (("EC", 2048), "key_size", "key_size must be one of 256, 384, 521 for key_algo EC; got 2048"),
    (("RSA", "big"), "key_size", "key_size must be one of 2048, 3072, 4096 for key_algo RSA; got 'big'"),
    (("RSA", True), "key_size", None),
    (("RSA", 2048.5), "key_size", None),
    (("DSA",), "key_algo", "key_algo must be one of RSA, EC (ECDSA is accepted for EC); got 'DSA'"),
    (("RSA", None, "P-256"), "key_curve", None),
    (("EC", 256, "P-384"), "key_curve", None),
    ((None, 384, "P-256"), "key_curve", None),
    ((None, None, "secp256k1"), "key_curve", "key_curve must be one of P-256, P-384, P-521; got 'secp256k1'"),
])
def test_normalize_key_spec_errors_name_field_and_allowed_values(args, field, message):
    with pytest.raises(CryptoInputError) as excinfo:
        c.normalize_key_spec(*args)
    _field_error(excinfo, field)
    assert isinstance(excinfo.value, ValueError)
    if message:
        assert str(excinfo.value) == message


@pytest.mark.parametrize("spec, curve, param", [
    (KeySpec("RSA", 2048), None, "2048"),
    (KeySpec("RSA", 4096), None, "4096"),
    (KeySpec("EC", 256), "P-256", "P-256"),
    (KeySpec("EC", 384), "P-384", "P-384"),
    (KeySpec("EC", 521), "P-521", "P-521"),
])
def test_key_spec_properties(spec, curve, param):
    assert spec.curve == curve and spec.scm_key_param == param


@pytest.mark.parametrize("algo, size, field", [("RSA", 1024, "key_size"), ("EC", 2048, "key_size"), ("DSA", 2048, "key_algo")])
def test_key_spec_refuses_invalid_values(algo, size, field):
    with pytest.raises(CryptoInputError) as excinfo:
        KeySpec(algo, size)
    assert excinfo.value.field == field


def test_key_spec_is_frozen():
    with pytest.raises(AttributeError):
        KeySpec("RSA", 2048).size = 4096  # type: ignore[misc]


# ---- private keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [KeySpec("RSA", 2048), KeySpec("RSA", 4096), KeySpec("EC", 256), KeySpec("EC", 384), KeySpec("EC", 521)],
                         ids=lambda s: f"{s.algo}{s.size}")
def test_generate_private_key_is_unencrypted_pkcs8(spec):
    pem = c.generate_private_key(spec)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n") and pem.endswith("-----END PRIVATE KEY-----\n")
    info = c.private_key_info(pem)
    assert (info["key_algo"], info["key_size"]) == (spec.algo, spec.size)
    assert len(info["public_key_sha256"]) == 64


@pytest.mark.parametrize("fmt", [serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8])
def test_private_key_info_accepts_traditional_and_pkcs8(fmt):
    rsa_obj = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_obj = ec.generate_private_key(ec.SECP384R1())
    assert c.private_key_info(_pem_key(rsa_obj, fmt))["key_size"] == 2048
    assert c.private_key_info(_pem_key(ec_obj, fmt).replace("\n", "\r\n").encode())["key_size"] == 384


def _truncated(pem):
    lines = pem.splitlines()
    return "\n".join(lines[:3] + lines[-1:]) + "\n"


@pytest.mark.parametrize("make, words", [
    (lambda key: "not a key", "not a valid PEM private key"),
    (lambda key: "", "empty"),
    (lambda key: None, "empty"),
    (_truncated, "not a valid PEM private key"),
    (lambda key: _pem_key(serialization.load_pem_private_key(key.encode(), None), encryption=serialization.BestAvailableEncryption(b"pw")),
     "encrypted"),
    (lambda key: _pem_key(ed25519.Ed25519PrivateKey.generate()), "Ed25519"),
    (lambda key: _pem_key(ec.generate_private_key(ec.SECP256K1())), "secp256k1"),
])
def test_private_key_errors_never_show_key_material(ec_key, make, words):
    bad = make(ec_key)
    with pytest.raises(CryptoInputError) as excinfo:
        c.private_key_info(bad)
    _field_error(excinfo, "private_key")
    assert words in str(excinfo.value)
    body_lines = [line for line in (bad or "").splitlines() if line and not line.startswith("-----")]
    assert not any(line in str(excinfo.value) for line in body_lines if len(line) > 8)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__


@needs_openssl
def test_public_key_sha256_matches_openssl(tmp_path, rsa_key):
    path = tmp_path / "key.pem"
    path.write_text(rsa_key)
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    assert c.private_key_info(rsa_key)["public_key_sha256"] == hashlib.sha256(der).hexdigest()


# ---- subject alternative names ----------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (None, []),
    ("", []),
    ([], []),
    ("a.example.com, B.Example.com ,, a.example.com", ["a.example.com", "b.example.com"]),
    (["DNS:A.example.com", "a.example.com", " "], ["a.example.com"]),
    (["IP:2001:0db8:0000::0001", "10.0.0.1", "ip: 10.0.0.1"], ["2001:db8::1", "10.0.0.1"]),
    (["Ops@Example.com", "email:ops@example.com"], ["Ops@Example.com", "ops@example.com"]),
    (["URI:https://Example.com/a"], ["https://Example.com/a"]),
    (("*.example.com", "dns:*.EXAMPLE.com"), ["*.example.com"]),
    ("bücher.example", ["xn--bcher-kva.example"]),
    (["localhost", "_acme.example.com", "https://example.com/p"], ["localhost", "_acme.example.com", "https://example.com/p"]),
])
def test_normalize_sans(value, expected):
    assert c.normalize_sans(value) == expected


@pytest.mark.parametrize("value", [42, ["IP:999.1.1.1"], [None], ["DNS:"], ["has space.example.com"], {"a": 1}, ["a/b.example.com"],
                                   ["DNS:https://example.com"], ["a..example.com"], ["*.*.example.com"], ["x" * 64 + ".example.com"]])
def test_normalize_sans_errors(value):
    with pytest.raises(CryptoInputError) as excinfo:
        c.normalize_sans(value)
    _field_error(excinfo, "subject_alt_names")


# ---- CSR --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("common_name, sans, expected", [
    ("web01.example.com", None, ["web01.example.com"]),
    ("Web01.Example.COM", ["www.example.com"], ["web01.example.com", "www.example.com"]),
    ("web01.example.com", ["www.example.com", "WEB01.example.com"], ["www.example.com", "web01.example.com"]),
    ("web01.example.com", "DNS:a.example.com, ip:192.0.2.1, EMAIL:ops@example.com, uri:https://example.com/x, 2001:DB8::1, admin@example.com",
     ["web01.example.com", "a.example.com", "192.0.2.1", "ops@example.com", "https://example.com/x", "2001:db8::1", "admin@example.com"]),
    ("John Smith", ["john@example.com"], ["john@example.com"]),
    ("john@example.com", None, []),
    ("192.0.2.10", None, []),
    ("*.example.com", [], ["*.example.com"]),
])
def test_build_csr_sans(ec_key, common_name, sans, expected):
    pem = c.build_csr(ec_key, common_name=common_name, subject_alt_names=sans)
    info = c.csr_info(pem)
    assert info["common_name"] == common_name
    assert info["subject_alt_names"] == expected


def test_build_csr_san_types_and_signature(ec_key):
    pem = c.build_csr(ec_key, common_name="web01.example.com",
                      subject_alt_names=["10.0.0.1", "a@example.com", "spiffe://example/x", "DNS:10.example.com"])
    csr = x509.load_pem_x509_csr(pem.encode())
    assert isinstance(csr.signature_hash_algorithm, hashes.SHA256)
    names = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    assert [type(n).__name__ for n in names] == ["DNSName", "IPAddress", "RFC822Name", "UniformResourceIdentifier", "DNSName"]


def test_build_csr_subject_and_csr_info(rsa_key):
    subject = {"country": "DE", "province": "Bavaria", "locality": "Munich", "organization": "Example GmbH",
               "organizational_unit": "Ops", "email_address": "ops@example.com"}
    pem = c.build_csr(rsa_key, common_name="web01.example.com", **subject)
    assert pem.startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    info = c.csr_info(pem)
    assert info["subject"] == subject
    assert (info["key_algo"], info["key_size"]) == ("RSA", 2048)
    assert info["public_key_sha256"] == c.private_key_info(rsa_key)["public_key_sha256"]
    bare = c.csr_info(c.build_csr(rsa_key, common_name="x.example.com", country="", locality=None))
    assert bare["subject"] == dict.fromkeys(rec.SUBJECT_FIELDS)


@pytest.mark.parametrize("kwargs, field", [
    ({"country": "USA"}, "country"),
    ({"country": "1A"}, "country"),
    ({"common_name": ""}, "common_name"),
    ({"common_name": "a" * 65}, "common_name"),
    ({"organization": "o" * 65}, "organization"),
    ({"locality": 7}, "locality"),
    ({"subject_alt_names": ["IP:300.1.1.1"]}, "subject_alt_names"),
    ({"subject_alt_names": 5}, "subject_alt_names"),
])
def test_build_csr_errors(ec_key, kwargs, field):
    args = {"common_name": "web01.example.com", **kwargs}
    with pytest.raises(CryptoInputError) as excinfo:
        c.build_csr(ec_key, **args)
    _field_error(excinfo, field)


def test_build_csr_bad_key():
    with pytest.raises(CryptoInputError) as excinfo:
        c.build_csr("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", common_name="a.example.com")
    _field_error(excinfo, "private_key")


def _tampered_csr(pem):
    der = x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER)
    assert b"web01" in der
    body = base64.encodebytes(der.replace(b"web01", b"web02")).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


@pytest.mark.parametrize("make, words", [
    (lambda csr, cert: "garbage", "not a valid PEM"),
    (lambda csr, cert: "", "empty"),
    (lambda csr, cert: None, "empty"),
    (lambda csr, cert: cert, "not a valid PEM"),
    (lambda csr, cert: _tampered_csr(csr), "signature is invalid"),
])
def test_csr_info_errors(rsa_key, leaf, make, words):
    csr = c.build_csr(rsa_key, common_name="web01.example.com")
    with pytest.raises(CryptoInputError) as excinfo:
        c.csr_info(make(csr, _pem(leaf)))
    _field_error(excinfo, "csr")
    assert words in str(excinfo.value)


def test_csr_info_tolerates_crlf_and_legacy_header(ec_key):
    pem = c.build_csr(ec_key, common_name="web01.example.com")
    legacy = pem.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST").replace("\n", "\r\n")
    assert c.csr_info(legacy) == c.csr_info(pem.encode())


def test_check_key_matches_csr(ec_key, rsa_key):
    csr = c.build_csr(ec_key, common_name="web01.example.com")
    assert c.check_key_matches_csr(ec_key, csr) is None
    with pytest.raises(CryptoInputError) as excinfo:
        c.check_key_matches_csr(rsa_key, csr)
    assert excinfo.value.field == "private_key" and str(excinfo.value) == "private_key does not match csr"


@needs_openssl
def test_csr_checked_by_openssl(tmp_path, rsa_key):
    pem = c.build_csr(rsa_key, common_name="web01.example.com", country="US", organization="Example Inc",
                      subject_alt_names="www.example.com, 192.0.2.1, ops@example.com")
    path = tmp_path / "req.csr"
    path.write_text(pem)
    # OpenSSL 3.0 exits 0 even when verification fails: read what it says.
    verify = subprocess.run(["openssl", "req", "-verify", "-noout", "-in", str(path)], check=True, capture_output=True, text=True)
    assert "verify OK" in verify.stderr + verify.stdout
    text = subprocess.run(["openssl", "req", "-noout", "-text", "-in", str(path)], check=True, capture_output=True, text=True).stdout
    assert "DNS:web01.example.com, DNS:www.example.com, IP Address:192.0.2.1, email:ops@example.com" in text
    assert "sha256WithRSAEncryption" in text
    tampered = tmp_path / "bad.csr"
    tampered.write_text(_tampered_csr(pem))
    bad = subprocess.run(["openssl", "req", "-verify", "-noout", "-in", str(tampered)], check=False, capture_output=True, text=True)
    assert bad.returncode != 0 or "verify OK" not in bad.stderr + bad.stdout


# ---- certificates -----------------------------------------------------------------------------------


def test_parse_certificate(ca, leaf, ec_key):
    info = c.parse_certificate(_pem(leaf))
    assert info == {
        "serial_number": "0A:1B:2C:3D",
        "not_before": "2025-11-23T07:40:00Z",
        "not_after": "2026-11-23T07:40:00Z",
        "fingerprint_sha256": ":".join(f"{b:02X}" for b in leaf.fingerprint(hashes.SHA256())),
        "common_name": "web01.example.com",
        "subject_alt_names": ["web01.example.com", "www.example.com", "192.0.2.7"],
        "key_algo": "EC",
        "key_size": 256,
        "public_key_sha256": c.private_key_info(ec_key)["public_key_sha256"],
        "issuer": "O=Test,CN=Tiny Issuing CA",
        "subject": "CN=web01.example.com",
        "email": None,
    }
    der = leaf.public_bytes(serialization.Encoding.DER)
    assert c.parse_certificate(der) == info
    assert c.parse_certificate(_pem(leaf).encode()) == info
    # A certificate parsed again comes from the kept facts, as a copy of its own: changing one changes no other.
    again = c.parse_certificate(_pem(leaf))
    again["subject_alt_names"].append("changed")
    again["issuer"] = "changed"
    assert c.parse_certificate(_pem(leaf)) == info and again != info
    assert c.parse_certificate(leaf) == info  # a loaded certificate is parsed as it is


@pytest.mark.parametrize("serial, expected", [(1, "01"), (0x80, "80"), (0x0ABC, "0A:BC"), (0xFF00FF, "FF:00:FF"), (2 ** 159 - 1, "7F" + ":FF" * 19)])
def test_serial_number_format(ca, serial, expected):
    cert = ca.leaf(ca.inter_key.public_key(), "s.example.com", serial=serial)
    assert c.parse_certificate(_pem(cert))["serial_number"] == expected


def test_parse_client_certificate_rsa_with_email(ca, rsa_key):
    key = serialization.load_pem_private_key(rsa_key.encode(), None)
    cert = ca.leaf(key.public_key(), "Jane Doe", sans=[x509.RFC822Name("jane@example.com"), x509.RFC822Name("j@example.com")])
    info = c.parse_certificate(_pem(cert))
    assert (info["key_algo"], info["key_size"], info["email"]) == ("RSA", 2048, "jane@example.com")
    assert info["subject_alt_names"] == ["jane@example.com", "j@example.com"]
    assert info["public_key_sha256"] == c.private_key_info(rsa_key)["public_key_sha256"]


@pytest.mark.parametrize("data", ["junk", b"\x30\x03\x02\x01\x01", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_parse_certificate_errors(data):
    with pytest.raises(CryptoInputError) as excinfo:
        c.parse_certificate(data)
    _field_error(excinfo, "certificate")


@needs_openssl
def test_certificate_checked_by_openssl(tmp_path, leaf):
    path = tmp_path / "cert.pem"
    path.write_text(_pem(leaf))
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-fingerprint", "-sha256", "-in", str(path)],
                         check=True, capture_output=True, text=True).stdout
    fields = dict(line.split("=", 1) for line in out.strip().splitlines())
    serial = fields["serial"]
    fingerprint = next(v for k, v in fields.items() if k.lower() == "sha256 fingerprint")
    info = c.parse_certificate(_pem(leaf))
    assert info["serial_number"].replace(":", "") == serial
    assert info["fingerprint_sha256"] == fingerprint


def test_certificate_and_key_are_matched_by_public_key_hash(leaf, ec_key, rsa_key):
    # How the collector finds the leaf of a stored key (and a replacement's new key).
    certified = c.parse_certificate(_pem(leaf))["public_key_sha256"]
    assert c.private_key_info(ec_key)["public_key_sha256"] == certified
    assert c.private_key_info(rsa_key)["public_key_sha256"] != certified


# ---- PEM bundles, PKCS#7 and chain order ------------------------------------------------------------


def _rewrap(pem, width):
    lines = pem.strip().splitlines()
    body = "".join(lines[1:-1])
    return "\r\n".join([lines[0]] + [body[i:i + width] for i in range(0, len(body), width)] + [lines[-1]]) + "\r\n"


def test_split_pem(ca, leaf, ec_key):
    pems = [_pem(leaf), _pem(ca.inter), _pem(ca.root)]
    text = f"subject=CN=x\r\n{_rewrap(pems[0], 76)}{ec_key}\n  {_rewrap(pems[1], 64)}\n\n{pems[2].replace(chr(10), chr(13) + chr(10))}trailer"
    assert c.split_pem(text) == pems
    assert c.split_pem(text.encode()) == pems
    assert all("\r" not in p and p.endswith("-----END CERTIFICATE-----\n") for p in c.split_pem(text))
    assert c.split_pem("") == [] and c.split_pem(ec_key) == []


@pytest.mark.parametrize("garbage", ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                     "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"])
def test_split_pem_refuses_a_block_that_is_no_certificate(leaf, garbage):
    for text in (garbage, _pem(leaf) + garbage):
        with pytest.raises(c.CryptoInputError) as info:
            c.split_pem(text)
        assert info.value.field == "certificate"


@pytest.mark.parametrize("encoding, transform", [
    ("PEM", lambda b: b),
    ("PEM", lambda b: b.decode()),
    ("DER", lambda b: b),
    ("DER", base64.encodebytes),
])
def test_pkcs7_to_pem(ca, leaf, encoding, transform):
    certs = [leaf, ca.inter, ca.root]
    data = pkcs7.serialize_certificates(certs, getattr(serialization.Encoding, encoding))
    if encoding == "PEM":
        assert data.startswith(b"-----BEGIN PKCS7-----")
    # A PKCS#7 certificate set is a DER SET OF: its order is not the order given.
    assert sorted(c.pkcs7_to_pem(transform(data))) == sorted(_pem(x) for x in certs)


@pytest.mark.parametrize("data", [b"junk", "-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n", b"\x30\x03\x02\x01\x01"])
def test_pkcs7_errors(data):
    with pytest.raises(CryptoInputError) as excinfo:
        c.pkcs7_to_pem(data)
    assert excinfo.value.field == "certificate"


def test_pkcs7_empty_is_no_certificates():
    assert c.pkcs7_to_pem(b"  ") == []


@pytest.fixture(scope="module")
def long_chain():
    """leaf <- issuing <- policy <- root, and an impostor that has the issuing CA's name but not its key."""
    root_key, policy_key, issuing_key, leaf_key, impostor_key = (ec.generate_private_key(ec.SECP256R1()) for _key in range(5))
    root = _issue(_name("Root"), root_key.public_key(), _name("Root"), root_key, ca=True)
    policy = _issue(_name("Policy CA"), policy_key.public_key(), root.subject, root_key, ca=True)
    issuing = _issue(_name("Issuing CA"), issuing_key.public_key(), policy.subject, policy_key, ca=True)
    impostor = _issue(_name("Issuing CA"), impostor_key.public_key(), _name("Issuing CA"), impostor_key, ca=True)
    leaf_cert = _issue(_name("leaf.example.com"), leaf_key.public_key(), issuing.subject, issuing_key, ca=False)
    other = _issue(_name("Other Root"), impostor_key.public_key(), _name("Other Root"), impostor_key, ca=True)
    return {k: _pem(v) for k, v in
            {"root": root, "policy": policy, "issuing": issuing, "impostor": impostor, "leaf": leaf_cert, "other": other}.items()}


@pytest.mark.parametrize("given, expected", [
    ([], []),
    (["root", "policy", "issuing"], ["issuing", "policy", "root"]),
    (["issuing", "policy", "root"], ["issuing", "policy", "root"]),
    (["policy", "root", "issuing"], ["issuing", "policy", "root"]),
    (["root", "leaf", "issuing", "root", "policy", "issuing"], ["issuing", "policy", "root"]),
    (["other", "root", "issuing", "policy"], ["issuing", "policy", "root", "other"]),
    (["impostor", "root", "policy", "issuing"], ["issuing", "policy", "root", "impostor"]),
    (["issuing", "root"], ["issuing", "root"]),
    (["root"], ["root"]),
])
def test_order_chain(long_chain, given, expected):
    assert c.order_chain(long_chain["leaf"], [long_chain[k] for k in given]) == [long_chain[k] for k in expected]


def test_order_chain_with_collected_bundles(ca, leaf):
    """Whatever order a collect format uses (root first, leaf first, PKCS#7), the chain comes out the same."""
    root_first = "".join(_pem(x) for x in (ca.root, ca.inter, leaf))
    pems = c.split_pem(root_first)
    assert c.order_chain(_pem(leaf), [p for p in pems if p != _pem(leaf)]) == [_pem(ca.inter), _pem(ca.root)]
    bundle = c.pkcs7_to_pem(pkcs7.serialize_certificates([ca.root, leaf, ca.inter], serialization.Encoding.DER))
    assert c.order_chain(_pem(leaf), bundle) == [_pem(ca.inter), _pem(ca.root)]


# ---- time -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-11-23T07:40:00Z", datetime.datetime(2026, 11, 23, 7, 40, tzinfo=UTC)),
    ("2026-11-23T08:40:00+01:00", datetime.datetime(2026, 11, 23, 7, 40, tzinfo=UTC)),
    ("2026-11-23T07:40:00", datetime.datetime(2026, 11, 23, 7, 40, tzinfo=UTC)),
    ("2026-11-23T07:40:00.250000z", datetime.datetime(2026, 11, 23, 7, 40, 0, 250000, tzinfo=UTC)),
    ("2026-11-23", datetime.datetime(2026, 11, 23, tzinfo=UTC)),
    (datetime.datetime(2026, 11, 23, 7, 40), datetime.datetime(2026, 11, 23, 7, 40, tzinfo=UTC)),
])
def test_parse_iso(text, expected):
    parsed = rec.parse_iso(text)
    assert parsed == expected and parsed.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_parse_iso_errors(text):
    with pytest.raises(ValueError, match="ISO-8601"):
        rec.parse_iso(text)


@pytest.mark.parametrize("not_after, now, expected", [
    ("2026-01-10T00:00:00Z", datetime.datetime(2026, 1, 1, tzinfo=UTC), 9),
    ("2026-01-10T00:00:00Z", datetime.datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC), 8),
    ("2026-01-10T00:00:00Z", datetime.datetime(2026, 1, 10, tzinfo=UTC), 0),
    ("2026-01-01T00:00:00Z", datetime.datetime(2026, 1, 2, 12, tzinfo=UTC), -2),
    ("2026-01-10T00:00:00Z", datetime.datetime(2026, 1, 1), 9),
])
def test_days_remaining(not_after, now, expected):
    assert rec.days_remaining(not_after, now) == expected


def test_round_trip_with_parse_certificate(leaf):
    info = c.parse_certificate(_pem(leaf))
    assert rec.parse_iso(info["not_after"]) == NOT_AFTER
    assert rec.days_remaining(info["not_after"], NOT_BEFORE) == 365
