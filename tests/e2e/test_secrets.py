"""A secret never reaches a log: SCM passwords, Vault tokens and private keys, at -vvvv with --diff.

A simulator of its own is started with a password that occurs nowhere else, and OpenBao is given a
token of the same kind, so that finding either in the output can only mean a leak. The playbook goes
through every path that handles a secret, including errors carrying a refused password and a refused
token, and the whole output is searched.
"""
from __future__ import annotations

import uuid

import pytest
from playbook_runner import start_playbook, vault_read
from testbed.testbed import TestBed, start_simulator

pytestmark = pytest.mark.live

SCM_PASSWORD = f"scm-pw-{uuid.uuid4().hex}"
WRONG_PASSWORD = f"wrong-pw-{uuid.uuid4().hex}"
VAULT_TOKEN = f"vault-token-{uuid.uuid4().hex}"
WRONG_TOKEN = f"wrong-token-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def secret_bed(openbao):
    simulator = start_simulator(ttl=900, password=SCM_PASSWORD)
    try:
        openbao.api("POST", "auth/token/create", {"id": VAULT_TOKEN, "policies": ["root"], "ttl": "1h"})
        yield TestBed(openbao=openbao, simulator=simulator)
    finally:
        simulator.stop()


def test_no_secret_in_any_output(secret_bed):
    env = {"VAULT_TOKEN": VAULT_TOKEN, "E2E_WRONG_PASSWORD": WRONG_PASSWORD, "E2E_WRONG_TOKEN": WRONG_TOKEN}
    proc = start_playbook(secret_bed, "secrets.yml", env=env, options=("-vvvv", "--diff"))
    out, err = proc.communicate(timeout=300)
    output = out + err
    assert proc.returncode == 0, output[-6000:]
    # The playbook did reach the secrets: refused credentials, a refused token, keys made and rotated.
    assert "Invalid auth data" in output and "Vault refused the token" in output
    record = vault_read(secret_bed, "e2e-secrets/names/sec/s1")
    assert record and "PRIVATE KEY" in vault_read(secret_bed, f"e2e-secrets/certs/sec/{record['cert_unique_id']}")["private_key"]
    for secret in (SCM_PASSWORD, WRONG_PASSWORD, VAULT_TOKEN, WRONG_TOKEN, "PRIVATE KEY"):
        assert secret not in output, f"{secret[:12]}... leaked into the output"
