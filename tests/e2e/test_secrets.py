"""A secret never reaches a log: SCM passwords, Vault tokens, PKCS#12 passphrases and private keys, at -vvvv with --diff.

A simulator of its own is started with a password that occurs nowhere else, and OpenBao is given a
token of the same kind, so that finding either in the output can only mean a leak. The playbook goes
through every path that handles a secret, including errors carrying a refused password and a refused
token, the certificate role writing a key and a PKCS#12 bundle, and the renewal role, and the whole output
is searched.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import uuid

import pytest
from playbook_runner import start_playbook, vault_read
from testbed.testbed import TestBed, start_simulator

pytestmark = pytest.mark.live

SCM_PASSWORD = f"scm-pw-{uuid.uuid4().hex}"
WRONG_PASSWORD = f"wrong-pw-{uuid.uuid4().hex}"
VAULT_TOKEN = f"vault-token-{uuid.uuid4().hex}"
WRONG_TOKEN = f"wrong-token-{uuid.uuid4().hex}"
P12_PASSPHRASE = f"p12-pass-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def secret_bed(openbao):
    simulator = start_simulator(ttl=900, password=SCM_PASSWORD)
    try:
        openbao.api("POST", "auth/token/create", {"id": VAULT_TOKEN, "policies": ["root"], "ttl": "1h"})
        yield TestBed(openbao=openbao, simulator=simulator)
    finally:
        simulator.stop()


def _key_lines(bed, config: str, name: str) -> list[str]:
    """The base64 lines of the current private key of a name, read through Vault's HTTP API."""
    entry = vault_read(bed, f"e2e-secrets/names/{config}/{name}")
    assert entry, f"no name {config}/{name} in Vault"
    key = vault_read(bed, f"e2e-secrets/certs/{config}/{entry['cert_unique_id']}")["private_key"]
    assert "PRIVATE KEY" in key
    return [line for line in key.splitlines() if line and not line.startswith("-----")]


def test_no_secret_in_any_output(secret_bed):
    env = {"VAULT_TOKEN": VAULT_TOKEN, "E2E_WRONG_PASSWORD": WRONG_PASSWORD, "E2E_WRONG_TOKEN": WRONG_TOKEN,
           "E2E_P12_PASSPHRASE": P12_PASSPHRASE}
    with tempfile.TemporaryDirectory() as scratch:
        proc = start_playbook(secret_bed, "secrets.yml", env=env, options=("-vvvv", "--diff"), scratch=scratch)
        out, err = proc.communicate(timeout=300)
        output = out + err
        assert proc.returncode == 0, output[-6000:]
        # The role wrote the renewed key and a bundle that opens with the passphrase, which reaches openssl by its environment.
        deployed_key = open(os.path.join(scratch, "s3.key"), encoding="ascii").read()
        bundle = subprocess.run(["openssl", "pkcs12", "-in", os.path.join(scratch, "s3.p12"), "-passin", "env:P12", "-nocerts", "-nodes"],
                                env=dict(os.environ, P12=P12_PASSPHRASE), capture_output=True, text=True, check=True)
        key_lines = [line for line in deployed_key.splitlines() if line and not line.startswith("-----")]
        assert key_lines and key_lines[0] in bundle.stdout.replace("\r", "")
    # The playbook did reach the secrets: refused credentials, a refused token, keys made and rotated, both roles run.
    assert "Invalid auth data" in output and "Vault refused the token" in output
    assert key_lines == _key_lines(secret_bed, "sec", "s3")
    secrets = [SCM_PASSWORD, WRONG_PASSWORD, VAULT_TOKEN, WRONG_TOKEN, P12_PASSPHRASE, "PRIVATE KEY"]
    # Every line of the current keys' PEM bodies (s1 enrolled, renewed and replaced; s3 deployed; s2 renewed by the sweep).
    secrets += _key_lines(secret_bed, "sec", "s1") + key_lines + _key_lines(secret_bed, "sec-sweep", "s2")
    for secret in secrets:
        assert secret not in output, f"{secret[:12]}... leaked into the output"
