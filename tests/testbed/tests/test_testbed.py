"""The test bed itself: servers start on loopback, stop for real, and never outlive their bounds."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap
import time
import urllib.parse

import pytest

from testbed import testbed as tb

pytestmark = pytest.mark.live

ENV_PY = os.path.join(tb.HERE, "env.py")
FAKE_SIMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_simulator")


def wait_until(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def outward_address() -> str | None:
    """A non-loopback address of this machine, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def assert_loopback_only(port: int) -> None:
    assert tb.port_open(port)
    other = outward_address()
    if other:
        assert not tb.port_open(port, other), f"port {port} also answers on {other}"


def test_free_port_is_bindable_on_loopback():
    port = tb.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_openbao_starts_on_loopback_with_kv2_and_stops_for_real():
    bao = tb.start_openbao(ttl=120)
    try:
        assert urllib.parse.urlsplit(bao.addr).hostname == "127.0.0.1"
        assert_loopback_only(bao.port)
        mount = bao.api("GET", "sys/mounts/secret")
        assert mount["data"]["options"]["version"] == "2"
        assert bao.api("GET", "sys/health")["sealed"] is False
    finally:
        bao.stop()
    assert not bao.running
    assert not bao.process.group_alive(), "a process of the server's group is still running"
    assert not tb.port_open(bao.port)
    bao.stop()  # twice is fine


def test_ttl_watchdog_stops_the_server():
    bao = tb.start_openbao(ttl=3)
    try:
        assert tb.port_open(bao.port)
        assert wait_until(lambda: not bao.process.group_alive(), timeout=20), "server outlived its ttl"
        assert not tb.port_open(bao.port)
        assert "lifetime of 3s reached" in bao.process.log_tail(400)
    finally:
        bao.stop()


def test_server_stops_when_its_starter_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {tb.HERE!r})
        import testbed
        bao = testbed.start_openbao(ttl=120)
        print(bao.pid, bao.port, flush=True)
        time.sleep(120)
    """)
    starter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
    try:
        pid, port = (int(value) for value in starter.stdout.readline().split())
        assert tb.port_open(port)
        starter.kill()  # no atexit, no cleanup: only the supervisor's parent watch is left
        starter.wait()
        assert wait_until(lambda: not tb.group_alive(pid), timeout=20), "server outlived the process that started it"
        assert not tb.port_open(port)
    finally:
        starter.kill()
        starter.wait()
        starter.stdout.close()


def test_start_failure_reports_the_output_tail(tmp_path):
    fake = tmp_path / "bao"
    fake.write_text("#!/bin/sh\necho 'bao: this is not the server you want' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(tb.TestBedError) as err:
        tb.start_openbao(bin_dir=str(tmp_path), ttl=30, ready_timeout=10)
    assert "this is not the server you want" in str(err.value) and "exited" in str(err.value)


def test_find_bao_prefers_bin_dir_then_the_venv(tmp_path):
    fake = tmp_path / "bao"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert tb.find_bao(str(tmp_path)) == str(fake)
    assert tb.find_bao(None) == os.path.join(os.path.dirname(sys.executable), "bao")


def test_testbed_stops_what_it_started_when_a_server_fails(monkeypatch):
    started = []
    real_start = tb.start_openbao

    def start_openbao(*args, **kwargs):
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def broken_simulator(**_kwargs):
        raise tb.TestBedError("simulator broke")

    monkeypatch.setattr(tb, "start_openbao", start_openbao)
    monkeypatch.setattr(tb, "start_simulator", broken_simulator)
    with pytest.raises(tb.TestBedError):
        with tb.TestBed(ttl=60):
            pass
    assert len(started) == 1 and not started[0].process.group_alive()


def test_testbed_leaves_given_servers_running(openbao):
    class FakeSimulator:
        base_url, root_url, login, password, customer_uri = "http://127.0.0.1:1/api", "http://127.0.0.1:1", "demo", "demo", "demo"

        def stop(self):
            raise AssertionError("not ours to stop")

    with tb.TestBed(openbao=openbao, simulator=FakeSimulator()) as bed:
        env = bed.env()
    assert env["VAULT_ADDR"] == openbao.addr and env["VAULT_TOKEN"] == openbao.token
    assert env["SCM_SIM_URL"] == "http://127.0.0.1:1" and env["SECTIGO_CM_BASE_URL"].endswith("/api")
    assert openbao.running and tb.port_open(openbao.port)


def test_env_py_starts_detached_prints_exports_and_stops(tmp_path):
    state = str(tmp_path / "env")
    command = [sys.executable, ENV_PY, "--dir", state, "--ttl", "120", "--services", "openbao"]
    started = time.monotonic()
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert time.monotonic() - started < 40, "env.py must return once the servers are up, not wait for them"
    exports = dict(line[len("export "):].split("=", 1) for line in first.stdout.splitlines() if line.startswith("export "))
    assert set(exports) == {"VAULT_ADDR", "VAULT_TOKEN"}
    assert "env.py --stop" in first.stdout
    pid = int(open(os.path.join(state, "pids"), encoding="utf-8").read().split()[1])  # pylint: disable=consider-using-with
    port = int(exports["VAULT_ADDR"].rsplit(":", 1)[1])
    try:
        assert tb.group_alive(pid) and tb.port_open(port), "the server must survive env.py"
        again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        assert "already running" in again.stdout and exports["VAULT_ADDR"] in again.stdout
        stopped = subprocess.run([sys.executable, ENV_PY, "--dir", state, "--stop"], capture_output=True, text=True, timeout=60, check=True)
        assert "stopped openbao" in stopped.stdout
        assert not tb.group_alive(pid) and not tb.port_open(port)
        assert not os.path.exists(os.path.join(state, "pids"))
    finally:
        tb.stop_group(pid)


def test_simulator_process_contract_with_a_stand_in():
    sim = tb.start_simulator(ttl=60, program=FAKE_SIMULATOR, issue_delay=1.5)
    try:
        assert sim.base_url.startswith("http://127.0.0.1:") and sim.base_url == f"{sim.root_url}/api"
        assert (sim.login, sim.password, sim.customer_uri) == ("demo", "demo", "demo")
        assert_loopback_only(sim.port)
        assert sim.configure(issue_delay=2) == {"issue_delay": 2}
        assert sim.stats()["config"] == {"issue_delay": 2}
        with pytest.raises(tb.TestBedError) as err:
            sim.control("GET", "nothing")
        assert "HTTP 404" in str(err.value)
    finally:
        sim.stop()
    assert not sim.process.group_alive() and not tb.port_open(sim.port)


def test_simulator_ttl_is_enforced_by_the_supervisor_too(tmp_path):
    stubborn = tmp_path / "stubborn"
    stubborn.mkdir()
    (stubborn / "__main__.py").write_text("import time\nprint('scm-simulator listening on http://127.0.0.1:9/api', flush=True)\ntime.sleep(600)\n")
    sim = tb.start_simulator(ttl=2, program=str(stubborn))
    try:
        assert wait_until(lambda: not sim.process.group_alive(), timeout=20)
    finally:
        sim.stop()


def test_simulator_start_failures_are_clear(tmp_path):
    with pytest.raises(tb.TestBedError) as err:
        tb.start_simulator(ttl=30, program=str(tmp_path / "absent"))
    assert "missing" in str(err.value)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "__main__.py").write_text("import sys\nsys.exit('simulator: cannot open the CA files')\n")
    with pytest.raises(tb.TestBedError) as err:
        tb.start_simulator(ttl=30, program=str(broken))
    assert "cannot open the CA files" in str(err.value) and "exited" in str(err.value)
    silent = tmp_path / "silent"
    silent.mkdir()
    (silent / "__main__.py").write_text("import time\ntime.sleep(600)\n")
    with pytest.raises(tb.TestBedError) as err:
        tb.start_simulator(ttl=30, program=str(silent), ready_timeout=1)
    assert "did not report where it listens" in str(err.value)


def test_simulator_starts_on_loopback_and_stops(scm_simulator):
    assert scm_simulator.base_url.startswith("http://127.0.0.1:") and scm_simulator.base_url.endswith("/api")
    assert scm_simulator.root_url + "/api" == scm_simulator.base_url
    assert_loopback_only(scm_simulator.port)
    stats = scm_simulator.stats()
    assert isinstance(stats, dict)


def test_simulator_stop_frees_its_port():
    sim = tb.start_simulator(ttl=120)
    try:
        assert tb.port_open(sim.port)
    finally:
        sim.stop()
    assert not sim.process.group_alive() and not tb.port_open(sim.port)


def test_testbed_env(testbed):
    env = testbed.env()
    assert set(env) == {"VAULT_ADDR", "VAULT_TOKEN", "SECTIGO_CM_BASE_URL", "SECTIGO_CM_USER", "SECTIGO_CM_PASSWORD",
                        "SECTIGO_CM_CUSTOMER_URI", "SCM_SIM_URL"}
    assert env["SCM_SIM_URL"] + "/api" == env["SECTIGO_CM_BASE_URL"]
    assert (env["SECTIGO_CM_USER"], env["SECTIGO_CM_PASSWORD"], env["SECTIGO_CM_CUSTOMER_URI"]) == ("demo", "demo", "demo")


def test_simulator_controls(scm_simulator):
    ca = scm_simulator.ca()
    assert ca["root"].startswith("-----BEGIN CERTIFICATE-----") and ca["intermediate"].startswith("-----BEGIN CERTIFICATE-----")
    before = scm_simulator.stats()
    assert "orders" in before
    delay = scm_simulator.control("GET", "config")["issue_delay"]
    try:
        assert scm_simulator.configure(issue_delay=7)["issue_delay"] == 7
    finally:
        scm_simulator.configure(issue_delay=delay)


def test_openbao_with_tls_serves_https_only_on_loopback_and_cleans_up():
    bao = tb.start_openbao(ttl=120, tls=True)
    try:
        assert bao.addr.startswith("https://127.0.0.1:") and os.path.isfile(bao.ca_cert)
        assert_loopback_only(bao.port)
        assert bao.api("GET", "sys/health")["sealed"] is False  # verified with its CA
        with pytest.raises(OSError):  # the system trust store does not know OpenBao's dev CA
            tb.http_json("GET", f"{bao.addr}/v1/sys/health", timeout=5)
        status, _reply = tb.http_json("GET", f"http://127.0.0.1:{bao.port}/v1/sys/health", timeout=5)
        assert status == 400  # plain HTTP to a TLS listener
        cert_dir = os.path.dirname(bao.ca_cert)
    finally:
        bao.stop()
    assert not bao.process.group_alive() and not tb.port_open(bao.port)
    assert not os.path.exists(cert_dir), "the generated TLS files outlived the server"


def test_simulator_with_tls_client_ca_and_oauth2(tmp_path):
    from testbed.pki import TestPki  # pylint: disable=import-outside-toplevel

    pki = TestPki.create(str(tmp_path / "pki"))
    server = pki.server()
    sim = tb.start_simulator(ttl=120, ca_cert=pki.ca_path, client_id="cid", client_secret="a-secret-for-the-test",
                             extra_args=["--tls-cert", server.cert_path, "--tls-key", server.key_path, "--tls-client-ca", pki.ca_path])
    try:
        assert sim.base_url.startswith("https://127.0.0.1:") and sim.token_url.startswith(sim.root_url)
        assert_loopback_only(sim.port)
        assert sim.stats()["tokens_issued"] == 0
        with open(sim.process.log_path, encoding="utf-8") as log:
            assert "a-secret-for-the-test" not in log.read()
        with open(f"/proc/{sim.pid}/cmdline", "rb") as cmdline:  # the secret travels in the environment only
            assert b"a-secret-for-the-test" not in cmdline.read()
    finally:
        sim.stop()
    assert not sim.process.group_alive()
