"""Collect output (docs/scm-protocol.md "Collect"): every ``format`` value, with its documented chain order."""
from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

DEFAULT_FORMAT = "base64"

# Canonical spelling -> which certificates, in which order. "leaf", "int", "root" name the blocks.
PEM_LAYOUTS: dict[str, tuple[str, ...]] = {
    "x509": ("root", "int", "leaf"),      # cert + chain, root first (the reference's sample download)
    "x509CO": ("leaf",),                  # certificate only
    "x509IO": ("root", "int"),            # root and intermediate(s) only, root first
    "x509IOR": ("int", "root"),           # the same, reversed: intermediate first
    "x509R": ("leaf", "int", "root"),     # cert + chain reversed: leaf first (hm-edu takes block 0)
    "pem": ("root", "int", "leaf"),       # root first, leaf last (Lemur takes the last block)
    "pemco": ("leaf",),                   # certificate only
    "pemia": ("leaf", "int", "root"),     # certificate, then its issuers
}
PKCS7_FORMATS = ("base64", "bin")  # PEM-armoured and DER PKCS#7 of leaf, intermediate and root
FORMATS = tuple(PEM_LAYOUTS) + PKCS7_FORMATS
_BY_LOWER = {name.lower(): name for name in FORMATS}


def canonical(fmt: str) -> str | None:
    """The canonical name of a format given in any case (SCM matched ``X509CO`` case-insensitively), or None."""
    return _BY_LOWER.get(fmt.strip().lower())


def render(fmt: str, leaf: str, intermediate: str, root: str) -> bytes:
    """The body of a collect answer in canonical format ``fmt``; PEM blocks end in ``\\n``."""
    blocks = {"leaf": leaf, "int": intermediate, "root": root}
    if fmt in PEM_LAYOUTS:
        return "".join(_newline(blocks[name]) for name in PEM_LAYOUTS[fmt]).encode("ascii")
    certs = [x509.load_pem_x509_certificate(blocks[name].encode("ascii")) for name in ("leaf", "int", "root")]
    der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    if fmt == "bin":
        return der
    encoded = base64.b64encode(der).decode("ascii")
    lines = "\n".join(encoded[i:i + 64] for i in range(0, len(encoded), 64))
    return f"-----BEGIN PKCS7-----\n{lines}\n-----END PKCS7-----\n".encode("ascii")


def filename(name: str, fmt: str, smime: bool) -> str:
    """``Content-Disposition`` file name: SSL ``www_example_com_cert.cer`` (observed), S/MIME PKCS#7 ``*.p7b``.

    docs/scm-protocol.md, "Collect" and "S/MIME certificates".
    """
    stem = "".join(c if c.isalnum() else "_" for c in name) or "certificate"
    if smime:
        return f"{stem}.p7b" if fmt in PKCS7_FORMATS else f"{stem}.cer"
    return f"{stem}_cert.cer"


def _newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
