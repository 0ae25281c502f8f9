"""A throwaway PKI for the live tests: one CA, a server certificate for 127.0.0.1, client certificates.

Everything is made with ``cryptography`` (EC P-256, one hour of validity) in a directory the caller
owns; keys are written with mode 0600. Not standard-library only, so ``testbed.py`` does not import it.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(hours=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass
class Issued:
    """A certificate and key, as PEM text and as files."""

    cert_pem: str
    key_pem: str
    cert_path: str
    key_path: str


@dataclass
class TestPki:
    """A CA in ``directory``; ``ca_path`` is its certificate file. ``server()`` and ``client()`` issue under it."""

    __test__ = False

    directory: str
    ca_key: ec.EllipticCurvePrivateKey = field(repr=False)
    ca_cert: x509.Certificate = field(repr=False)
    ca_path: str = ""

    @classmethod
    def create(cls, directory: str, name: str = "sectigo.vault_pki test CA") -> TestPki:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name)).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        pki = cls(directory, key, cert)
        pki.ca_path = os.path.join(directory, "ca.pem")
        with open(pki.ca_path, "w", encoding="ascii") as handle:
            handle.write(_cert_pem(cert))
        return pki

    @property
    def ca_pem(self) -> str:
        return _cert_pem(self.ca_cert)

    def _issue(self, name: str, common_name: str, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(self.ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        cert_path, key_path = os.path.join(self.directory, f"{name}.pem"), os.path.join(self.directory, f"{name}.key")
        with open(cert_path, "w", encoding="ascii") as handle:
            handle.write(_cert_pem(cert))
        with os.fdopen(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="ascii") as handle:
            handle.write(_key_pem(key))
        return Issued(_cert_pem(cert), _key_pem(key), cert_path, key_path)

    def server(self, name: str = "server") -> Issued:
        """A TLS server certificate for 127.0.0.1 and localhost."""
        return self._issue(name, "127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH,
                           [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])

    def client(self, name: str, common_name: str) -> Issued:
        """A TLS client certificate."""
        return self._issue(name, common_name, ExtendedKeyUsageOID.CLIENT_AUTH, [])
