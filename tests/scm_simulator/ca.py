"""A real two-level CA (root and intermediate) that signs the simulator's certificates."""
from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SCM Simulator"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class CertificateAuthority:
    """Root and intermediate; kept in ``state_dir`` when given, so a restart keeps the same chain."""

    def __init__(self, state_dir: str | None = None) -> None:
        paths = [os.path.join(state_dir, f) for f in ("root.key", "root.pem", "int.key", "int.pem")] if state_dir else None
        if paths and all(os.path.exists(p) for p in paths):
            self.root_key, self.root, self.int_key, self.intermediate = self._load(paths)
            return
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        self.root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.root = self._ca_cert(_name("SCM Simulator Root CA"), self.root_key.public_key(), _name("SCM Simulator Root CA"), self.root_key,
                                  now, 3650, None)
        self.int_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.intermediate = self._ca_cert(_name("SCM Simulator Intermediate CA"), self.int_key.public_key(), self.root.subject, self.root_key,
                                          now, 3000, 0)
        if paths:
            os.makedirs(state_dir, exist_ok=True)
            for path, data in zip(paths, (_key_pem(self.root_key), _pem(self.root).encode(), _key_pem(self.int_key), _pem(self.intermediate).encode())):
                with open(path, "wb") as handle:
                    handle.write(data)

    @staticmethod
    def _load(paths):
        def read(path):
            with open(path, "rb") as handle:
                return handle.read()
        root_key = serialization.load_pem_private_key(read(paths[0]), None)
        int_key = serialization.load_pem_private_key(read(paths[2]), None)
        return root_key, x509.load_pem_x509_certificate(read(paths[1])), int_key, x509.load_pem_x509_certificate(read(paths[3]))

    @staticmethod
    def _ca_cert(subject, public_key, issuer, signing_key, not_before, days, path_length):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(not_before)
                   .not_valid_after(not_before + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
        return builder.sign(signing_key, hashes.SHA256())

    @property
    def root_pem(self) -> str:
        return _pem(self.root)

    @property
    def intermediate_pem(self) -> str:
        return _pem(self.intermediate)

    def sign(self, csr: x509.CertificateSigningRequest, *, term: int, sans: list[str], smime_email: str | None = None,
             backdate_days: float = 0) -> str:
        """Issue a leaf for the CSR's key and subject, with ``sans``, valid ``term`` days."""
        not_before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=backdate_days, minutes=1)
        names: list[x509.GeneralName] = []
        for value in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(value)))
            except ValueError:
                names.append(x509.RFC822Name(value) if "@" in value else x509.DNSName(value))
        if smime_email and not any(isinstance(n, x509.RFC822Name) and n.value == smime_email for n in names):
            names.insert(0, x509.RFC822Name(smime_email))
        eku = [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH] if smime_email else \
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.intermediate.subject).public_key(csr.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(not_before)
                   .not_valid_after(not_before + datetime.timedelta(days=term))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.int_key.public_key()), critical=False))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return _pem(builder.sign(self.int_key, hashes.SHA256()))


def csr_key_type(csr: x509.CertificateSigningRequest) -> tuple[str, str]:
    """("RSA", "2048") or ("EC", "P-256"): the form profiles' ``keyTypes`` use (SCM_API §6.4)."""
    key = csr.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", str(key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(key.curve.name, key.curve.name)
    return type(key).__name__, ""
