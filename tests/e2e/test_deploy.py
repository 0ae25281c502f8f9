"""The certificate role deploys into a real nginx and proves what it serves (docs/roles.md).

One host, three certificates in one role run (playbooks/deploy.yml): two SSL certificates that one nginx serves by
SNI, and a client certificate as PKCS#12. nginx (tests/testbed/nginx.py) listens on 127.0.0.1 with the deployed files
and is stopped by the test. What nginx serves is read with ``openssl s_client`` against the simulator's CA, the
certificates in Vault through Vault's HTTP API, the bundle with ``openssl pkcs12`` and Java's ``keytool``. The tests
run in order: each starts from what the one before left.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import uuid

import pytest
from cryptography import x509
from playbook_runner import recap, sim, start_playbook, vault_read
from testbed.nginx import Nginx, Site

pytestmark = pytest.mark.live

P12_PASSPHRASE = f"p12-deploy-{uuid.uuid4().hex}"
FLEET_TASK = "TASK [sectigo.vault_pki.certificate : Ensure the host's certificates in Vault (on the controller, one fleet task)]"
SITES = ("shop", "api")


@pytest.fixture(scope="module")
def deploy(testbed):
    """The test bed, a scratch directory, nginx serving shop and api from it, and the playbook's variables."""
    scratch = tempfile.mkdtemp(prefix="e2e-deploy-")
    ca_file = os.path.join(scratch, "sim-root.pem")
    with open(ca_file, "w", encoding="ascii") as handle:
        handle.write(sim(testbed, "ca")["root"])
    sites = [Site(f"{name}.deploy.test", os.path.join(scratch, f"{name}.fullchain.crt"), os.path.join(scratch, f"{name}.key"))
             for name in SITES]
    with Nginx(sites, ttl=3600) as web:
        variables = {"scratch": scratch, "endpoint": web.endpoint, "reload": " ".join(web.reload_argv)}
        yield {"bed": testbed, "scratch": scratch, "web": web, "ca": ca_file, "vars": variables}
    shutil.rmtree(scratch, ignore_errors=True)


def _run(bed, playbook: str, *options: str, fail: bool = False, **extra_vars) -> tuple[dict[str, int], str]:
    # The passphrase reaches the playbook by the environment: ansible-playbook -vvvv prints its own command line.
    proc = start_playbook(bed, playbook, env={"E2E_P12_PASSPHRASE": P12_PASSPHRASE}, options=options, **extra_vars)
    try:
        out, err = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the playbook runs in its own session: nothing outlives the test
        proc.communicate()
        raise
    if fail:
        assert proc.returncode != 0, f"{playbook} should have failed:\n{out[-6000:]}"
    else:
        assert proc.returncode == 0, f"{playbook} failed ({proc.returncode}):\n{out[-8000:]}\n{err[-3000:]}"
    return recap(out), out + err


def _failure(output: str) -> str:
    """The lines of the role's failure (what a user reads)."""
    return "\n".join(line for line in output.splitlines() if "fatal:" in line or "[ERROR]" in line)


def _vault_cert(bed, config: str, name: str) -> dict:
    entry = vault_read(bed, f"e2e-deploy/names/{config}/{name}")
    return vault_read(bed, f"e2e-deploy/certs/{config}/{entry['cert_unique_id']}")


def _vault_serial(bed, name: str) -> int:
    return x509.load_pem_x509_certificate(_vault_cert(bed, "deploy-ssl", name)["certificate"].encode()).serial_number


def _served(deploy, name: str) -> int:
    """The serial nginx serves for a site; s_client must verify the chain against the simulator's root."""
    proc = subprocess.run(["openssl", "s_client", "-connect", deploy["web"].endpoint, "-servername", f"{name}.deploy.test",
                           "-CAfile", deploy["ca"], "-verify_return_error", "-showcerts"],
                          input="", capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, f"s_client failed for {name}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert "Verify return code: 0 (ok)" in proc.stdout
    leaf = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", proc.stdout, re.S).group(0)
    return x509.load_pem_x509_certificate(leaf.encode()).serial_number


def _reloads(deploy) -> int:
    try:
        with open(os.path.join(deploy["scratch"], "reloads"), encoding="ascii") as handle:
            return len(handle.read().split())
    except FileNotFoundError:
        return 0


def _read(deploy, name: str) -> str:
    with open(os.path.join(deploy["scratch"], name), encoding="ascii") as handle:
        return handle.read()


def _key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_one_run_deploys_three_certificates_with_one_fleet_task(deploy):
    bed = deploy["bed"]
    orders_before = len(sim(bed, "stats")["orders"])
    counts, output = _run(bed, "deploy.yml", "-vvvv", setup=True, **deploy["vars"])
    assert counts["failed"] == 0 and counts["changed"] > 0
    assert output.count(FLEET_TASK) == 1
    assert "sectigo.vault_pki.sectigo_cert:" not in output and "TASK [sectigo.vault_pki.sectigo_cert" not in output
    assert len(sim(bed, "stats")["orders"]) == orders_before + 3
    assert _reloads(deploy) == 1
    for name in SITES:
        assert _served(deploy, name) == _vault_serial(bed, name)
    # Neither the passphrase nor a line of any private key appears at -vvvv.
    assert P12_PASSPHRASE not in output
    for config, name in (("deploy-ssl", "shop"), ("deploy-ssl", "api"), ("deploy-people", "alice")):
        key = _vault_cert(bed, config, name)["private_key"]
        assert _read(deploy, f"{name}.key").strip() == key.strip()
        assert not [line for line in _key_lines(key) if line in output], f"a line of {name}'s key is in the output"
        assert oct(os.stat(os.path.join(deploy["scratch"], f"{name}.key")).st_mode & 0o777) == "0o600"
    # api: chain root first, trust bundle = the simulator's root.
    assert _read(deploy, "api.root.crt").strip() == sim(bed, "ca")["root"].strip()
    assert _read(deploy, "api.chain.crt").startswith(_read(deploy, "api.root.crt").strip())


def test_the_pkcs12_bundle_opens_with_openssl_3_and_keytool(deploy):
    bundle = os.path.join(deploy["scratch"], "alice.p12")
    assert oct(os.stat(bundle).st_mode & 0o777) == "0o600"
    env = dict(os.environ, P12=P12_PASSPHRASE)
    info = subprocess.run(["openssl", "pkcs12", "-in", bundle, "-passin", "env:P12", "-info", "-noout"],
                          env=env, capture_output=True, text=True, check=False)
    assert info.returncode == 0, info.stderr
    assert "AES-256-CBC" in info.stderr and "RC2" not in info.stderr and "3DES" not in info.stderr, info.stderr
    certs = subprocess.run(["openssl", "pkcs12", "-in", bundle, "-passin", "env:P12", "-nokeys", "-clcerts"],
                           env=env, capture_output=True, text=True, check=True).stdout
    assert x509.load_pem_x509_certificate(certs[certs.index("-----BEGIN"):].encode()).serial_number == \
        x509.load_pem_x509_certificate(_read(deploy, "alice.crt").encode()).serial_number
    keytool = subprocess.run(["keytool", "-list", "-keystore", bundle, "-storetype", "PKCS12", "-storepass:env", "P12"],
                             env=env, capture_output=True, text=True, timeout=60, check=False)
    assert keytool.returncode == 0, keytool.stdout + keytool.stderr
    assert "PrivateKeyEntry" in keytool.stdout


def test_a_second_run_changes_nothing_and_notifies_nothing(deploy):
    bed = deploy["bed"]
    before = sim(bed, "stats")
    counts = _run(bed, "deploy.yml", **deploy["vars"])[0]
    assert counts["changed"] == 0
    assert _reloads(deploy) == 1
    assert len(sim(bed, "stats")["orders"]) == len(before["orders"])


def test_check_mode_writes_and_orders_nothing_and_the_diff_shows_no_key(deploy):
    bed = deploy["bed"]
    orders = len(sim(bed, "stats")["orders"])
    extra = {"config": "deploy-ssl", "name": "later", "common_name": "later.deploy.test",
             "cert_path": os.path.join(deploy["scratch"], "later.crt"), "key_path": os.path.join(deploy["scratch"], "later.key"),
             "chain_path": "", "fullchain_path": ""}
    deployed = _read(deploy, "shop.crt")
    # The playbook renews shop and api for real (its setup step), then runs the role in check mode.
    output = _run(bed, "deploy.yml", "--check", "--diff", extra=extra, renew=list(SITES), **deploy["vars"])[1]
    assert len(sim(bed, "stats")["orders"]) == orders + 2  # the two renewals, nothing for "later"
    assert not os.path.exists(extra["cert_path"]) and not os.path.exists(extra["key_path"])
    assert _read(deploy, "shop.crt") == deployed
    assert f"--- before: {deploy['scratch']}/shop.crt" in output  # the renewed certificate's diff is shown...
    assert "PRIVATE KEY" not in output  # ...and no key's
    assert _reloads(deploy) == 1


def test_after_a_renewal_one_run_serves_the_new_certificates_with_one_reload(deploy):
    bed = deploy["bed"]
    # Vault holds the certificates renewed by the test before (check mode deployed nothing).
    old = {name: _served(deploy, name) for name in SITES}
    _run(bed, "deploy.yml", **deploy["vars"])
    for name in SITES:
        assert _vault_serial(bed, name) != old[name]
        assert _served(deploy, name) == _vault_serial(bed, name)
    assert _reloads(deploy) == 2  # one reload for both certificates


def test_a_failing_run_after_restores_the_previous_files(deploy):
    bed = deploy["bed"]
    before = {name: _read(deploy, f"shop{name}") for name in (".crt", ".fullchain.crt", ".key")}
    served = _served(deploy, "shop")
    output = _run(bed, "deploy.yml", fail=True, renew=["shop"], shop_run_after="exit 3", **deploy["vars"])[1]
    failure = _failure(output)
    assert "certificate deploy-ssl/shop: run_after `exit 3` exited 3" in failure, output[-5000:]
    assert "the previous files are back" in failure
    assert {name: _read(deploy, f"shop{name}") for name in before} == before
    assert _served(deploy, "shop") == served  # valid, and the previous one


def test_an_endpoint_serving_the_old_certificate_restores_and_names_it(deploy):
    bed = deploy["bed"]
    before = _read(deploy, "shop.fullchain.crt")
    served = _served(deploy, "shop")
    # No handler for shop: nginx is not reloaded and keeps serving the previous certificate.
    output = _run(bed, "deploy.yml", fail=True, renew=["shop"], shop_notify="", **deploy["vars"])[1]
    failure = _failure(output)
    message = re.search(r"certificate deploy-ssl/shop: 127\.0\.0\.1:\d+ \(SNI shop\.deploy\.test\) serves serial (\d+)", failure)
    assert message, output[-5000:]
    assert int(message.group(1)) == served
    assert f"Vault's current certificate is serial {_vault_serial(bed, 'shop')}" in failure
    assert _read(deploy, "shop.fullchain.crt") == before
    assert _served(deploy, "shop") == served
