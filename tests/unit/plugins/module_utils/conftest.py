"""Fixtures the module_utils unit tests share (helpers that are not fixtures live in ``*_fakes.py`` beside them)."""
from __future__ import annotations

import pytest


@pytest.fixture
def vault_cert_files(tmp_path):
    """A client certificate and key file for Vault's cert login, as paths: ``(cert, key)``."""
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("cert")
    key.write_text("key")
    return str(cert), str(key)
