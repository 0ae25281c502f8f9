# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys, CSRs and certificates, on ``cryptography``; no Ansible in here.

Private to this collection: no compatibility is promised to code outside it.

What the record keeps of a key, CSR and certificate is described in docs/vault.md ("The certificate
record"); the key and subject options in the sectigo_cert module documentation.

Every input error is a ``CryptoInputError`` that names the task option at fault; its message never
contains key material.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import ipaddress
import re
import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError


class _Lazy:
    """A cryptography module, imported on first use.

    An idempotent re-run decides from Vault alone and signs or parses nothing; importing cryptography
    would cost it about 0.15 s per module process (docs/bench.md), so the import waits until needed.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


x509: Any = _Lazy("cryptography.x509")
hashes: Any = _Lazy("cryptography.hazmat.primitives.hashes")
serialization: Any = _Lazy("cryptography.hazmat.primitives.serialization")
pkcs7: Any = _Lazy("cryptography.hazmat.primitives.serialization.pkcs7")
ec: Any = _Lazy("cryptography.hazmat.primitives.asymmetric.ec")
rsa: Any = _Lazy("cryptography.hazmat.primitives.asymmetric.rsa")
_oid: Any = _Lazy("cryptography.x509.oid")
_exceptions: Any = _Lazy("cryptography.exceptions")

try:
    HAS_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None
except (ImportError, ValueError):
    HAS_CRYPTOGRAPHY = False
CRYPTOGRAPHY_IMPORT_ERROR: str | None = None if HAS_CRYPTOGRAPHY else "ModuleNotFoundError: No module named 'cryptography'"

RSA_SIZES = rec.RSA_SIZES
EC_SIZES = rec.EC_SIZES
CURVE_NAMES = rec.CURVE_NAMES
# Spellings of the three NIST curves, lower-cased (RFC 5480 / SEC 2 / OpenSSL names).
_CURVE_ALIASES = {
    "p-256": 256, "p256": 256, "secp256r1": 256, "prime256v1": 256, "nistp256": 256,
    "p-384": 384, "p384": 384, "secp384r1": 384, "nistp384": 384,
    "p-521": 521, "p521": 521, "secp521r1": 521, "nistp521": 521,
}
_NIST_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_ALGO_ALIASES = {"RSA": "RSA", "EC": "EC", "ECDSA": "EC"}
# The one DNS name rule: letters, digits, '-' and '_' in dot-separated labels of at most 63, an optional leading '*.'
# label, 253 characters in all (``is_dns_name``).
_DNS_RE = re.compile(r"^(\*\.)?[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*\.?$")
_SAN_PREFIXES = ("dns", "ip", "email", "uri")


class CryptoInputError(InputError):
    """A key, CSR, certificate or key option is invalid; ``field`` is the option at fault."""


# ---- key specification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySpec:
    """A key type SCM accepts: RSA 2048/3072/4096 or EC 256/384/521 (the NIST curves)."""

    algo: str
    size: int

    def __post_init__(self) -> None:
        allowed = {"RSA": RSA_SIZES, "EC": EC_SIZES}.get(self.algo)
        if allowed is None:
            raise CryptoInputError("key_algo", f"key_algo must be one of RSA, EC; got {self.algo!r}")
        if self.size not in allowed:
            raise CryptoInputError("key_size", f"key_size must be one of {_join(allowed)} for key_algo {self.algo}; got {self.size!r}")

    @property
    def curve(self) -> str | None:
        """``P-256``, ``P-384`` or ``P-521`` for EC keys; None for RSA."""
        return CURVE_NAMES[self.size] if self.algo == "EC" else None

    @property
    def scm_key_param(self) -> str:
        """The key parameter as SCM profiles list it in ``keyTypes``: ``'2048'`` or ``'P-256'``."""
        return self.curve or str(self.size)


DEFAULT_KEY_SPEC = KeySpec("RSA", 2048)
_ALGO_DEFAULT_SIZE = {"RSA": 2048, "EC": 256}


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _parse_key_size(key_size: Any, algo: str) -> int:
    allowed = RSA_SIZES if algo == "RSA" else EC_SIZES
    if isinstance(key_size, int) and not isinstance(key_size, bool):
        size = key_size
    elif isinstance(key_size, str) and key_size.strip().isdigit():
        size = int(key_size.strip())
    else:
        raise CryptoInputError("key_size", f"key_size must be one of {_join(allowed)} for key_algo {algo}; got {key_size!r}")
    if size not in allowed:
        raise CryptoInputError("key_size", f"key_size must be one of {_join(allowed)} for key_algo {algo}; got {size}")
    return size


def normalize_key_spec(key_algo: str | None = None, key_size: int | str | None = None, key_curve: str | None = None,
                       default: KeySpec = DEFAULT_KEY_SPEC) -> KeySpec:
    """The ``KeySpec`` for the task's ``key_algo``/``key_size``/``key_curve``; ``default`` when none is given.

    ECDSA means EC; ``key_curve`` alone implies EC; for EC, ``key_size`` and ``key_curve`` must agree.
    """
    if key_algo is None and key_size is None and key_curve is None:
        return default
    if key_algo is None:
        algo = "EC" if key_curve is not None else default.algo
    else:
        algo = _ALGO_ALIASES.get(str(key_algo).strip().upper(), "")
        if not algo:
            raise CryptoInputError("key_algo", f"key_algo must be one of RSA, EC (ECDSA is accepted for EC); got {key_algo!r}")
    if algo == "RSA":
        if key_curve is not None:
            raise CryptoInputError("key_curve", f"key_curve is only valid with key_algo EC; got key_curve {key_curve!r} with key_algo RSA")
        size = _parse_key_size(key_size, algo) if key_size is not None else None
    else:
        size = _parse_key_size(key_size, algo) if key_size is not None else None
        if key_curve is not None:
            curve_size = _CURVE_ALIASES.get(str(key_curve).strip().lower())
            if curve_size is None:
                raise CryptoInputError("key_curve", f"key_curve must be one of {_join(CURVE_NAMES.values())}; got {key_curve!r}")
            if size is not None and size != curve_size:
                raise CryptoInputError("key_curve", f"key_curve {CURVE_NAMES[curve_size]} does not match key_size {size}; "
                                                    f"give one of them or matching values (P-256/256, P-384/384, P-521/521)")
            size = curve_size
    if size is None:
        size = default.size if default.algo == algo else _ALGO_DEFAULT_SIZE[algo]
    return KeySpec(algo, size)


# ---- keys ------------------------------------------------------------------------------------------


def generate_private_key(spec: KeySpec) -> str:
    """A new private key for ``spec``, as unencrypted PKCS#8 PEM."""
    if spec.algo == "RSA":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=spec.size)
    else:
        key = ec.generate_private_key(_ec_curve(spec.size))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")


def _ec_curve(size: int) -> Any:
    return {256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}[size]()


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _load_private_key(pem: Any) -> Any:
    if not isinstance(pem, (str, bytes)) or not pem.strip():
        raise CryptoInputError("private_key", "private_key must be a PEM private key; got an empty or non-text value")
    try:
        key = serialization.load_pem_private_key(_as_bytes(pem).strip(), password=None)
    except TypeError:
        raise CryptoInputError("private_key", "private_key is encrypted; give it unencrypted (PEM without a passphrase)") from None
    except (ValueError, _exceptions.UnsupportedAlgorithm):
        raise CryptoInputError("private_key", "private_key is not a valid PEM private key (PKCS#8, PKCS#1 or SEC 1)") from None
    _require_supported(key.public_key(), "private_key")
    return key


def _require_supported(public_key: Any, field: str) -> None:
    algo = _public_key_facts(public_key)[0]
    if algo == "RSA" or (algo == "EC" and public_key.curve.name in _NIST_CURVES):
        return
    what = f"EC curve {public_key.curve.name}" if algo == "EC" else algo
    raise CryptoInputError(field, f"{field} must be an RSA key or an EC key on P-256, P-384 or P-521; got {what}")


def _key_type_name(key: Any) -> str:
    return type(key).__name__.lstrip("_").replace("PrivateKey", "").replace("PublicKey", "") or "an unknown key type"


def _public_key_facts(public_key: Any) -> tuple[str, int | None]:
    """``(key_algo, key_size)``: RSA modulus bits, EC curve bits, or the type name and None."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", public_key.curve.key_size
    return _key_type_name(public_key), None


def _public_key_sha256(public_key: Any) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def private_key_info(pem: str | bytes) -> dict[str, Any]:
    """``key_algo``, ``key_size`` and ``public_key_sha256`` of a PEM private key."""
    key = _load_private_key(pem)
    algo, size = _public_key_facts(key.public_key())
    return {"key_algo": algo, "key_size": size, "public_key_sha256": _public_key_sha256(key.public_key())}


# ---- subject alternative names ----------------------------------------------------------------------


def _split_san(entry: str) -> tuple[str, str]:
    """``(kind, value)`` with kind dns|ip|email|uri, from an optionally prefixed SAN string."""
    text = entry.strip()
    prefix, sep, rest = text.partition(":")
    kind = prefix.strip().lower() if sep and prefix.strip().lower() in _SAN_PREFIXES else None
    if kind is not None:
        value = rest.strip()
        if not value:
            raise CryptoInputError("subject_alt_names", f"subject_alt_names entry {entry!r} has a prefix but no value")
    else:
        value = text
        if _ip_or_none(value) is not None:
            kind = "ip"
        elif "@" in value:
            kind = "email"
        elif "://" in value:
            kind = "uri"
        else:
            kind = "dns"
    if kind == "ip":
        address = _ip_or_none(value)
        if address is None:
            raise CryptoInputError("subject_alt_names", f"subject_alt_names entry {entry!r} is not an IP address")
        return kind, address.compressed
    if kind == "dns":
        return kind, _dns_name(value, entry)
    if any(c.isspace() for c in value):
        raise CryptoInputError("subject_alt_names", f"subject_alt_names entry {entry!r} must not contain spaces")
    return kind, value


def _ip_or_none(value: str) -> Any:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _dns_name(value: str, entry: str) -> str:
    name = value.strip().lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise CryptoInputError("subject_alt_names", f"subject_alt_names entry {entry!r} is not a valid DNS name") from None
    if not is_dns_name(name):
        raise CryptoInputError("subject_alt_names", f"subject_alt_names entry {entry!r} is not a valid DNS name")
    return name


def _san_entries(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise CryptoInputError("subject_alt_names", f"subject_alt_names must be a list or a comma-separated string; got {type(value).__name__}")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise CryptoInputError("subject_alt_names", f"subject_alt_names entries must be strings; got {item!r}")
        if item.strip():
            out.append(item.strip())
    return out


def _parsed_sans(value: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for entry in _san_entries(value):
        parsed = _split_san(entry)
        if parsed not in seen:
            seen.append(parsed)
    return seen


def normalize_sans(value: Any) -> list[str]:
    """SANs as plain values (no prefixes), in order, de-duplicated; DNS names lower-cased, IPs compressed.

    ``value`` is None, a list, or a comma-separated string; blank entries are dropped.
    """
    out: list[str] = []
    for _kind, plain in _parsed_sans(value):
        if plain not in out:
            out.append(plain)
    return out


def _general_name(kind: str, value: str) -> Any:
    if kind == "ip":
        return x509.IPAddress(ipaddress.ip_address(value))
    if kind == "email":
        return x509.RFC822Name(value)
    if kind == "uri":
        return x509.UniformResourceIdentifier(value)
    return x509.DNSName(value)


def _plain_san(name: Any) -> str:
    if isinstance(name, x509.IPAddress):
        return name.value.compressed
    if isinstance(name, (x509.DNSName, x509.RFC822Name, x509.UniformResourceIdentifier)):
        return name.value
    if isinstance(name, x509.DirectoryName):
        return name.value.rfc4514_string()
    return str(name.value)


def _sans_of(extensions: Any) -> list[Any]:
    try:
        return list(extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []


def is_dns_name(name: str) -> bool:
    """``name`` (lower case, ASCII) is a DNS name or a wildcard by the one DNS rule."""
    return len(name) <= 253 and bool(_DNS_RE.match(name))


def _names_a_host(common_name: str) -> bool:
    """A common name that a CSR repeats as a DNS SAN: a DNS name of two labels or more, not an address."""
    name = common_name.lower()
    return _ip_or_none(common_name) is None and "." in name.strip(".") and is_dns_name(name)


# ---- CSR -------------------------------------------------------------------------------------------

# Subject fields and the NameOID attribute names of their OIDs.
_SUBJECT_OID_NAMES = {
    "country": "COUNTRY_NAME", "province": "STATE_OR_PROVINCE_NAME", "locality": "LOCALITY_NAME",
    "organization": "ORGANIZATION_NAME", "organizational_unit": "ORGANIZATIONAL_UNIT_NAME", "email_address": "EMAIL_ADDRESS",
}
# X.520 upper bounds, which cryptography enforces with a less helpful message.
_SUBJECT_MAX = {"common_name": rec.COMMON_NAME_MAX, "country": 2, "province": 128, "locality": 128, "organization": 64, "organizational_unit": 64,
                "email_address": 255}


def check_subject_value(field: str, value: Any) -> str | None:
    """``value`` stripped (None when empty), within X.520's bounds for ``field``; else CryptoInputError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CryptoInputError(field, f"{field} must be a string; got {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise CryptoInputError(field, f"{field} must not contain control characters such as line breaks")
    if field == "country":
        if not re.match(r"^[A-Za-z]{2}$", value):
            raise CryptoInputError("country", f"country must be a two-letter ISO 3166 code such as US; got {value!r}")
        return value
    if len(value) > _SUBJECT_MAX[field]:
        raise CryptoInputError(field, f"{field} must be at most {_SUBJECT_MAX[field]} characters; got {len(value)}")
    return value


def build_csr(private_key_pem: str, *, common_name: str, country: str | None = None, province: str | None = None,
              locality: str | None = None, organization: str | None = None, organizational_unit: str | None = None,
              email_address: str | None = None, subject_alt_names: Any = None) -> str:
    """A PEM CSR signed with SHA-256 by ``private_key_pem``.

    ``subject_alt_names`` is a list (or comma-separated string) of ``DNS:``/``IP:``/``email:``/``URI:``
    values; without a prefix an IP address is an IP SAN, a value with ``@`` an email, one with ``://``
    a URI, anything else a DNS name. When the common name is a DNS name it is added to the SANs (first) unless already there:
    public CAs require every name of the certificate in the SAN extension.
    """
    key = _load_private_key(private_key_pem)
    cn = check_subject_value("common_name", common_name)
    if cn is None:
        raise CryptoInputError("common_name", "common_name must be a non-empty string")
    attributes = [x509.NameAttribute(_oid.NameOID.COMMON_NAME, cn)]
    given = {"country": country, "province": province, "locality": locality, "organization": organization,
             "organizational_unit": organizational_unit, "email_address": email_address}
    for field in rec.SUBJECT_FIELDS:
        value = check_subject_value(field, given[field])
        if value is not None:
            attributes.append(x509.NameAttribute(getattr(_oid.NameOID, _SUBJECT_OID_NAMES[field]), value))
    sans = _parsed_sans(subject_alt_names)
    if _names_a_host(cn) and ("dns", cn.lower()) not in sans:
        sans.insert(0, ("dns", cn.lower()))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    if sans:
        try:
            names = [_general_name(kind, value) for kind, value in sans]
        except ValueError as exc:
            raise CryptoInputError("subject_alt_names", f"subject_alt_names has an invalid entry: {exc}") from None
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _load_csr(csr_pem: Any) -> Any:
    if not isinstance(csr_pem, (str, bytes)) or not csr_pem.strip():
        raise CryptoInputError("csr", "csr must be a PEM certificate signing request; got an empty or non-text value")
    try:
        csr = x509.load_pem_x509_csr(_as_bytes(csr_pem).strip())
    except ValueError:
        raise CryptoInputError("csr", "csr is not a valid PEM certificate signing request") from None
    try:
        valid = csr.is_signature_valid
    except (ValueError, _exceptions.UnsupportedAlgorithm):
        valid = False
    if not valid:
        raise CryptoInputError("csr", "csr signature is invalid (the CSR was altered or not signed by its key)")
    return csr


def _first(name: Any, oid: Any) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    return str(attributes[0].value) if attributes else None


def csr_info(csr_pem: str | bytes) -> dict[str, Any]:
    """Public facts of a CSR: ``common_name``, ``subject`` (by option name), ``subject_alt_names``,
    ``key_algo``, ``key_size`` and ``public_key_sha256``."""
    csr = _load_csr(csr_pem)
    public_key = csr.public_key()
    _require_supported(public_key, "csr")
    algo, size = _public_key_facts(public_key)
    return {
        "common_name": _first(csr.subject, _oid.NameOID.COMMON_NAME),
        "subject": {field: _first(csr.subject, getattr(_oid.NameOID, oid)) for field, oid in _SUBJECT_OID_NAMES.items()},
        "subject_alt_names": [_plain_san(n) for n in _sans_of(csr.extensions)],
        "key_algo": algo,
        "key_size": size,
        "public_key_sha256": _public_key_sha256(public_key),
    }


def check_key_matches_csr(private_key_pem: str, csr_pem: str) -> None:
    """Raise ``CryptoInputError`` (field ``private_key``) unless the key is the CSR's key."""
    key = _load_private_key(private_key_pem)
    csr = _load_csr(csr_pem)
    if _public_key_sha256(key.public_key()) != _public_key_sha256(csr.public_key()):
        raise CryptoInputError("private_key", "private_key does not match csr")


# ---- certificates ----------------------------------------------------------------------------------


def _load_certificate(data: Any) -> Any:
    if isinstance(data, x509.Certificate):
        return data
    if not isinstance(data, (str, bytes)) or not data.strip():
        raise CryptoInputError("certificate", "certificate must be PEM or DER; got an empty or non-text value")
    raw = _as_bytes(data)
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificate(raw.strip())
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise CryptoInputError("certificate", "certificate is not a valid PEM or DER X.509 certificate") from None


@functools.lru_cache(maxsize=16)
def _loaded_certificate(pem: str) -> Any:
    """A chain certificate, loaded once for the many collects that carry it (certificate objects do not change)."""
    return _load_certificate(pem)


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def serial_hex(serial: int) -> str:
    """A serial number as SCM prints it: colon-separated upper-case hex bytes (``0A:1B:...``)."""
    if serial < 0:
        raise ValueError("serial numbers are positive")
    return _colon_hex(serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big"))


def parse_certificate(pem_or_der: str | bytes) -> dict[str, Any]:
    """Public facts of a certificate (PEM or DER): ``serial_number``, ``not_before``, ``not_after``,
    ``fingerprint_sha256``, ``common_name``, ``subject_alt_names``, ``key_algo``, ``key_size``,
    ``public_key_sha256``, ``issuer``, ``subject`` (RFC 4514) and ``email`` (first email SAN).

    The facts of the last few certificates parsed are kept (the CA certificates of a chain come with every collect
    of a batch, and a leaf is looked at more than once while it is stored); each call returns its own copy."""
    if isinstance(pem_or_der, (str, bytes)):
        info = _parsed_certificate(pem_or_der)
        return dict(info, subject_alt_names=list(info["subject_alt_names"]))
    return _parse_certificate(pem_or_der)


@functools.lru_cache(maxsize=64)
def _parsed_certificate(pem_or_der: str | bytes) -> dict[str, Any]:
    return _parse_certificate(pem_or_der)


def _parse_certificate(pem_or_der: Any) -> dict[str, Any]:
    cert = _load_certificate(pem_or_der)
    public_key = cert.public_key()
    algo, size = _public_key_facts(public_key)
    sans = _sans_of(cert.extensions)
    emails = [n.value for n in sans if isinstance(n, x509.RFC822Name)]
    return {
        "serial_number": serial_hex(cert.serial_number),
        "not_before": rec.iso(cert.not_valid_before_utc),
        "not_after": rec.iso(cert.not_valid_after_utc),
        "fingerprint_sha256": _colon_hex(cert.fingerprint(hashes.SHA256())),
        "common_name": _first(cert.subject, _oid.NameOID.COMMON_NAME),
        "subject_alt_names": [_plain_san(n) for n in sans],
        "key_algo": algo,
        "key_size": size,
        "public_key_sha256": _public_key_sha256(public_key),
        "issuer": cert.issuer.rfc4514_string(),
        "subject": cert.subject.rfc4514_string(),
        "email": emails[0] if emails else None,
    }


def split_pem(text: str | bytes) -> list[str]:
    """Every ``CERTIFICATE`` block of ``text`` in order, as PEM with ``\\n`` line ends and 64-column lines.

    Other PEM blocks and text around the blocks are skipped; no block gives ``[]``; a block that is not a certificate
    is a ``CryptoInputError``.
    """
    raw = _as_bytes(text)
    try:
        certs = x509.load_pem_x509_certificates(raw)
    except ValueError:
        if b"CERTIFICATE-----" not in raw:
            return []
        raise CryptoInputError("certificate", "certificate data holds a CERTIFICATE block that is not a valid X.509 certificate") from None
    return [_to_pem(cert) for cert in certs]


def _to_pem(cert: Any) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def pkcs7_to_pem(data: bytes | str) -> list[str]:
    """The certificates of a PKCS#7 bundle (``-----BEGIN PKCS7-----`` PEM, bare base64 or DER) as PEMs."""
    raw = _as_bytes(data).strip()
    if not raw:
        return []
    try:
        if b"-----BEGIN" in raw:
            certs = pkcs7.load_pem_pkcs7_certificates(raw)
        else:
            try:
                der = base64.b64decode(b"".join(raw.split()), validate=True)
            except (binascii.Error, ValueError):
                der = raw
            certs = pkcs7.load_der_pkcs7_certificates(der)
    except ValueError:
        raise CryptoInputError("certificate", "certificate data is neither PEM certificates nor a PKCS#7 bundle") from None
    return [_to_pem(c) for c in certs]


@functools.lru_cache(maxsize=64)
def _issued_by(cert: Any, issuer: Any) -> bool:
    """Whether ``issuer`` signed ``cert`` (kept for the last few pairs: a chain's CA certificates come with every collect)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, AttributeError, _exceptions.InvalidSignature, _exceptions.UnsupportedAlgorithm):
        return False
    return True


def order_chain(leaf_pem: str, others: list[str]) -> list[str]:
    """``others`` ordered from the leaf's issuer up to the root (intermediates, then root).

    Each step takes the certificate whose subject is the current issuer and whose signature verifies
    (by name alone when none verifies). Duplicates and copies of the leaf are dropped; certificates
    that are not on the path are kept, after it, in their given order.
    """
    leaf = _load_certificate(leaf_pem)
    seen = {leaf.fingerprint(hashes.SHA256())}
    pool: list[tuple[str, Any]] = []
    for pem in others:
        cert = _loaded_certificate(pem) if isinstance(pem, str) else _load_certificate(pem)
        digest = cert.fingerprint(hashes.SHA256())
        if digest not in seen:
            seen.add(digest)
            pool.append((pem, cert))
    ordered: list[str] = []
    current = leaf
    while pool and current.issuer != current.subject:
        candidates = [(i, item) for i, item in enumerate(pool) if item[1].subject == current.issuer]
        if not candidates:
            break
        verified = [(i, item) for i, item in candidates if _issued_by(current, item[1])]
        index, (pem, cert) = (verified or candidates)[0]
        ordered.append(pem)
        del pool[index]
        current = cert
    return ordered + [item[0] for item in pool]
