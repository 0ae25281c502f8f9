"""The simulator as a program: listening line, signals, lifetime, state directory, HTTPS, start-up errors."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTH = {"login": "demo", "password": "demo", "customerUri": "demo"}
LISTENING = "scm-simulator listening on "
TIMEOUT = 10


def test_prints_one_listening_line_on_loopback_and_stops_on_sigterm(start_process):
    proc = start_process()
    assert proc.line.startswith(f"{LISTENING}http://127.0.0.1:") and proc.line.rstrip("\n").endswith("/api")
    assert requests.get(f"{proc.base_url}/ssl/v1/types", headers=AUTH, timeout=TIMEOUT).status_code == 200
    proc.process.send_signal(signal.SIGTERM)
    assert proc.stop() == 0
    assert proc.rest_of_stdout == ""  # exactly one line


def test_sigint_stops_cleanly(start_process):
    proc = start_process()
    proc.process.send_signal(signal.SIGINT)
    assert proc.stop() == 0
    assert "Traceback" not in proc.stderr


def test_max_lifetime_stops_it_by_itself(start_process):
    proc = start_process(lifetime=0.5)
    assert proc.process.wait(timeout=TIMEOUT) == 0


def test_state_dir_keeps_orders_counters_and_ca_across_a_restart(start_process, tmp_path, keys, make_csr):
    first = start_process("--state-dir", str(tmp_path))
    body = {"orgId": 1001, "csr": make_csr(keys.get()), "certType": 101, "term": 365, "comments": "keep me"}
    ssl_id = requests.post(f"{first.base_url}/ssl/v1/enroll", json=body, headers=AUTH, timeout=TIMEOUT).json()["sslId"]
    chain = requests.get(f"{first.base_url}/ssl/v1/collect/{ssl_id}?format=x509", headers=AUTH, timeout=TIMEOUT).content
    ca = requests.get(f"{first.root_url}/__sim__/ca", timeout=TIMEOUT).json()
    assert first.stop() == 0
    assert sorted(os.listdir(tmp_path / "ca")) == ["intermediate.key", "intermediate.pem", "root.key", "root.pem"]
    assert oct((tmp_path / "ca" / "root.key").stat().st_mode & 0o777) == "0o600"

    second = start_process("--state-dir", str(tmp_path))
    assert requests.get(f"{second.root_url}/__sim__/ca", timeout=TIMEOUT).json() == ca
    assert requests.get(f"{second.base_url}/ssl/v1/collect/{ssl_id}?format=x509", headers=AUTH, timeout=TIMEOUT).content == chain
    assert requests.get(f"{second.base_url}/ssl/v1/{ssl_id}", headers=AUTH, timeout=TIMEOUT).json()["comments"] == "keep me"
    again = requests.post(f"{second.base_url}/ssl/v1/enroll", json=body, headers=AUTH, timeout=TIMEOUT).json()["sslId"]
    assert again == ssl_id + 1  # the id counter survived too


def test_https_with_a_certificate_it_issued_and_client_certificates_for_private_api(client, start_process, tmp_path, keys, key_pem):
    server = client.enroll_ssl(key="ec256", common_name="localhost", sans=("localhost",))
    (tmp_path / "server.pem").write_bytes(client.api("GET", f"/ssl/v1/collect/{server['sslId']}?format=pemia").content)
    (tmp_path / "server.key").write_bytes(key_pem(keys.get("ec256")))
    tls_client = client.enroll_ssl(key="ec384", common_name="client.example.com")
    (tmp_path / "client.pem").write_bytes(client.api("GET", f"/ssl/v1/collect/{tls_client['sslId']}?format=x509CO").content)
    (tmp_path / "client.key").write_bytes(key_pem(keys.get("ec384")))
    ca = client.control("GET", "ca")
    (tmp_path / "root.pem").write_text(ca["root"])
    (tmp_path / "chain.pem").write_text(ca["intermediate"] + ca["root"])

    proc = start_process("--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key"),
                         "--tls-client-ca", str(tmp_path / "chain.pem"))
    assert proc.base_url.startswith("https://127.0.0.1:")
    base = proc.base_url.replace("127.0.0.1", "localhost")
    root = str(tmp_path / "root.pem")
    assert requests.get(f"{base}/ssl/v1/types", headers=AUTH, verify=root, timeout=TIMEOUT).status_code == 200
    private = base.replace("/api", "/private/api")
    cert_auth = {"login": "demo", "customerUri": "demo"}
    without = requests.get(f"{private}/ssl/v1/types", headers=cert_auth, verify=root, timeout=TIMEOUT)
    assert without.status_code == 401 and without.json()["code"] == -16
    with_cert = requests.get(f"{private}/ssl/v1/types", headers=cert_auth, verify=root, timeout=TIMEOUT,
                             cert=(str(tmp_path / "client.pem"), str(tmp_path / "client.key")))
    assert with_cert.status_code == 200


def test_refuses_to_start_on_a_foreign_state_file(tmp_path):
    (tmp_path / "state.json").write_text('{"orders": {}}')
    result = subprocess.run([sys.executable, PACKAGE_DIR, "--state-dir", str(tmp_path), "--max-lifetime", "5"],
                            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "cannot start" in result.stderr and "state.json" in result.stderr


def test_refuses_to_start_on_an_incomplete_ca(tmp_path):
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "root.pem").write_text("x")
    result = subprocess.run([sys.executable, PACKAGE_DIR, "--state-dir", str(tmp_path), "--max-lifetime", "5"],
                            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 1 and "incomplete CA" in result.stderr
