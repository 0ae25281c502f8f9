"""Live tests of single adapters (the Vault store, logins) against a real OpenBao started on loopback."""
from __future__ import annotations

from testbed.fixtures import openbao, scm_simulator, testbed  # noqa: F401  pylint: disable=unused-import
