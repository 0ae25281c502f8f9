"""A real two-level CA: a root, an intermediate it signed, and leaf certificates the intermediate signs.

``openssl verify -CAfile root.pem -untrusted intermediate.pem leaf.pem`` succeeds for every leaf.
With a state directory the CA is kept in ``<state-dir>/ca/`` so a restart keeps the same chain.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
import tempfile
from typing import Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILES = ("root.key", "root.pem", "intermediate.key", "intermediate.pem")
# Backdated leaves (runtime setting backdate_days) must still start inside their issuers' validity.
_CA_START = datetime.timedelta(days=3650)
_ROOT_DAYS = 3 * 3650
_INTERMEDIATE_DAYS = 2 * 3650
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

PublicKey = Union[rsa.RSAPublicKey, ec.EllipticCurvePublicKey]
PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]


class CaError(Exception):
    """The CA files in the state directory are incomplete or unreadable."""


def key_type(public_key: object) -> tuple[str, str]:
    """``("RSA", "2048")`` or ``("EC", "P-256")``: the words profiles' ``keyTypes`` use (docs/scm-protocol.md "Profiles and custom fields")."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", str(public_key.key_size)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", _CURVES.get(public_key.curve.name, public_key.curve.name)
    return type(public_key).__name__.replace("PublicKey", "").lstrip("_").upper(), ""


def colon_hex(value: int | bytes) -> str:
    """SCM's serial number form: upper-case hex bytes joined by colons, e.g. ``"0A:1B:2C"`` (docs/scm-protocol.md "Details")."""
    raw = value if isinstance(value, bytes) else value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return ":".join(f"{byte:02X}" for byte in raw)


def serial_from_text(text: str) -> int | None:
    """A serial number as clients send it: colon hex, plain hex, any case. None when it is not hex."""
    digits = text.replace(":", "").replace(" ", "").strip()
    try:
        return int(digits, 16) if digits else None
    except ValueError:
        return None


def general_names(values: list[str]) -> list[x509.GeneralName]:
    """SAN strings as X.509 names: IP addresses, e-mail addresses (with ``@``), otherwise DNS names."""
    names: list[x509.GeneralName] = []
    for value in values:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            names.append(x509.RFC822Name(value) if "@" in value else x509.DNSName(value))
    return names


def san_strings(names: x509.SubjectAlternativeName | None) -> list[str]:
    if names is None:
        return []
    out: list[str] = []
    for name in names:
        if isinstance(name, (x509.DNSName, x509.RFC822Name, x509.UniformResourceIdentifier)):
            out.append(name.value)
        elif isinstance(name, x509.IPAddress):
            out.append(str(name.value))
    return out


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _ca_name(role: str, public_key: PublicKey) -> x509.Name:
    # A short key fingerprint in the name: two simulators' CAs never look alike in a trust store.
    tag = x509.SubjectKeyIdentifier.from_public_key(public_key).digest.hex()[:8].upper()
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SCM Simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"SCM Simulator {role} {tag}"),
    ])


def _write_atomic(path: str, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class CertificateAuthority:
    """Root and intermediate CA; ``sign`` issues leaves for SSL and S/MIME orders."""

    def __init__(self, root_key: PrivateKey, root: x509.Certificate, intermediate_key: PrivateKey, intermediate: x509.Certificate) -> None:
        self.root_key = root_key
        self.root = root
        self.intermediate_key = intermediate_key
        self.intermediate = intermediate

    # ---- creation and persistence

    @classmethod
    def create(cls) -> CertificateAuthority:
        now = datetime.datetime.now(datetime.timezone.utc)
        start = now - _CA_START
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root_name = _ca_name("Root CA", root_key.public_key())
        root = cls._ca_certificate(root_name, root_key.public_key(), root_name, root_key, start, _ROOT_DAYS, path_length=1)
        intermediate_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        intermediate = cls._ca_certificate(_ca_name("Intermediate CA", intermediate_key.public_key()), intermediate_key.public_key(),
                                           root_name, root_key, start, _INTERMEDIATE_DAYS, path_length=0)
        return cls(root_key, root, intermediate_key, intermediate)

    @classmethod
    def load_or_create(cls, state_dir: str | None) -> CertificateAuthority:
        """The CA kept in ``<state_dir>/ca``, made and saved there on first use; a fresh one without a state directory."""
        if not state_dir:
            return cls.create()
        ca_dir = os.path.join(state_dir, "ca")
        present = [name for name in CA_FILES if os.path.exists(os.path.join(ca_dir, name))]
        if len(present) == len(CA_FILES):
            return cls.load(ca_dir)
        if present:
            raise CaError(f"incomplete CA in {ca_dir}: has {', '.join(present)} but needs {', '.join(CA_FILES)}")
        ca = cls.create()
        ca.save(ca_dir)
        return ca

    @classmethod
    def load(cls, ca_dir: str) -> CertificateAuthority:
        def read(name: str) -> bytes:
            with open(os.path.join(ca_dir, name), "rb") as handle:
                return handle.read()
        try:
            root_key = serialization.load_pem_private_key(read("root.key"), None)
            intermediate_key = serialization.load_pem_private_key(read("intermediate.key"), None)
            root = x509.load_pem_x509_certificate(read("root.pem"))
            intermediate = x509.load_pem_x509_certificate(read("intermediate.pem"))
        except (OSError, ValueError) as exc:
            raise CaError(f"cannot load the CA from {ca_dir}: {exc}") from None
        if not isinstance(root_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) or \
                not isinstance(intermediate_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise CaError(f"the CA keys in {ca_dir} are neither RSA nor EC")
        return cls(root_key, root, intermediate_key, intermediate)

    def save(self, ca_dir: str) -> None:
        os.makedirs(ca_dir, exist_ok=True)
        for name, key in (("root.key", self.root_key), ("intermediate.key", self.intermediate_key)):
            data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            _write_atomic(os.path.join(ca_dir, name), data, 0o600)
        _write_atomic(os.path.join(ca_dir, "root.pem"), self.root_pem.encode("ascii"), 0o644)
        _write_atomic(os.path.join(ca_dir, "intermediate.pem"), self.intermediate_pem.encode("ascii"), 0o644)

    @staticmethod
    def _ca_certificate(subject: x509.Name, public_key: PublicKey, issuer: x509.Name, signing_key: PrivateKey,
                        start: datetime.datetime, days: int, *, path_length: int) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
        )
        return builder.sign(signing_key, hashes.SHA256())

    # ---- accessors

    @property
    def root_pem(self) -> str:
        return pem(self.root)

    @property
    def intermediate_pem(self) -> str:
        return pem(self.intermediate)

    # ---- issuing

    def sign(self, *, public_key: PublicKey, subject: x509.Name, sans: list[str], term_days: int, smime: bool = False,
             backdate_days: float = 0.0) -> x509.Certificate:
        """A leaf for ``public_key``: valid ``term_days`` from its start, which lies ``backdate_days`` in the past.

        SSL leaves get serverAuth and clientAuth; S/MIME leaves emailProtection and clientAuth (the
        person's address is among ``sans``).
        """
        not_before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=backdate_days)
        algorithm, _param = key_type(public_key)
        eku = [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH] if smime else \
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self.intermediate.subject).public_key(public_key)
            # A random, positive, non-zero 128-bit serial (CA/B Forum asks for at least 64 random bits).
            .serial_number(secrets.randbits(127) | (1 << 127))
            .not_valid_before(not_before).not_valid_after(not_before + datetime.timedelta(days=term_days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=algorithm == "RSA",
                                         data_encipherment=False, key_agreement=algorithm == "EC" and smime, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()), critical=False)
        )
        if sans:
            # RFC 5280 §4.2.1.6: the SAN is critical when the subject is empty.
            builder = builder.add_extension(x509.SubjectAlternativeName(general_names(sans)), critical=len(subject) == 0)
        return builder.sign(self.intermediate_key, hashes.SHA256())
