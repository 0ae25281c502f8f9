"""What every chaos scenario shares: the servers, running playbooks, reading Vault and SCM by independent routes.

Secrets are one-off values (a fresh SCM password, a fresh Vault token) so that finding them in any output can only
mean a leak; every playbook output is kept until the end and searched (``Chaos.leaks``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from testbed.testbed import (OpenBao, Simulator, collections_path, http_json, start_openbao,  # noqa: E402  pylint: disable=wrong-import-position
                             start_simulator, stop_group)

PLAYBOOKS = os.path.join(HERE, "playbooks")
BIN = os.path.dirname(sys.executable)
RECAP_RE = re.compile(r"^localhost\s+:\s+(.*)$", re.MULTILINE)


@dataclasses.dataclass
class Run:
    """One finished ``ansible-playbook``: exit code, output, PLAY RECAP counters, seconds taken."""

    rc: int | None
    out: str
    recap: dict[str, int]
    elapsed: float
    killed: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def failure(self) -> str:
        """The ``msg`` of the first failed task, for reports."""
        found = re.search(r'"msg": "((?:[^"\\]|\\.)*)"', self.out[self.out.find("FAILED!"):] if "FAILED!" in self.out else "")
        return found.group(1) if found else self.out[-400:]


def recap_of(out: str) -> dict[str, int]:
    match = RECAP_RE.search(out)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))} if match else {}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def kill_tree(root: int) -> None:
    """Freeze ``root`` and all its descendants (until no new one appears), then SIGKILL them and root's group."""
    frozen: set[int] = set()
    while True:
        tree = _children()
        found, todo = set(), [root]
        while todo:
            pid = todo.pop()
            if pid in found:
                continue
            found.add(pid)
            todo.extend(tree.get(pid, []))
        new = found - frozen
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        frozen |= new
    try:
        os.killpg(root, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Playbook:
    """A started ``ansible-playbook`` in its own process group, output to a file."""

    def __init__(self, chaos: Chaos, name: str, env: dict[str, str], extra_vars: dict[str, Any], verbosity: str) -> None:
        self.chaos = chaos
        fd, self.out_path = tempfile.mkstemp(prefix="chaos-run-", suffix=".log", dir=chaos.work_dir)
        command = [os.path.join(BIN, "ansible-playbook"), os.path.join(PLAYBOOKS, name), "-e", json.dumps(extra_vars)]
        if verbosity:
            command.append(verbosity)
        self.started = time.monotonic()
        with os.fdopen(fd, "wb") as out:
            # pylint: disable-next=consider-using-with
            self.proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.killed = False

    def kill(self) -> None:
        """SIGKILL to ansible-playbook's process group and to every process below it.

        ansible-core's workers call setsid(), so the module processes are not in ansible-playbook's group: the whole
        tree is frozen with SIGSTOP first (nothing can fork any more), then killed.
        """
        self.killed = True
        kill_tree(self.proc.pid)

    def wait(self, timeout: float = 600) -> Run:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait(timeout=30)
        elapsed = time.monotonic() - self.started
        # Module processes may outlive a killed parent for a moment; none may survive the run.
        stop_group(self.proc.pid, timeout=2, reap=self.proc.poll)
        with open(self.out_path, encoding="utf-8", errors="replace") as handle:
            out = handle.read()
        self.chaos.outputs.append(self.out_path)
        return Run(self.proc.returncode, out, recap_of(out), elapsed, self.killed)


class Chaos:
    """The servers of one chaos session and the helpers every scenario uses."""

    def __init__(self, *, verbosity: str = "-vvvv", ttl: float = 1800) -> None:
        self.verbosity = verbosity
        self.ttl = ttl
        self.work_dir = tempfile.mkdtemp(prefix="chaos-")
        self.scm_password = f"chaos-scm-{uuid.uuid4().hex}"
        self.vault_token = f"chaos-vault-{uuid.uuid4().hex}"
        self.outputs: list[str] = []
        self.secrets: list[str] = [self.scm_password, self.vault_token]
        self._owned: list[Any] = []
        self._lock = threading.Lock()
        self.openbao: OpenBao | None = None
        self.simulator: Simulator | None = None

    # ---- servers ---------------------------------------------------------------------------------

    def start(self) -> Chaos:
        self.openbao = self.own(start_openbao(token=self.vault_token, ttl=self.ttl))
        self.simulator = self.new_simulator()
        return self

    def new_simulator(self, **kwargs: Any) -> Simulator:
        return self.own(start_simulator(ttl=self.ttl, password=self.scm_password, **kwargs))

    def own(self, server: Any) -> Any:
        with self._lock:
            self._owned.append(server)
        return server

    def stop(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, []
        for server in reversed(owned):
            server.stop()

    # ---- playbooks -------------------------------------------------------------------------------

    def env(self, *, vault_addr: str | None = None, scm_url: str | None = None, simulator: Simulator | None = None,
            vault_token: str | None = None) -> dict[str, str]:
        sim = simulator or self.simulator
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "SECTIGO_", "ANSIBLE_"))}
        env.update(VAULT_ADDR=vault_addr or self.openbao.addr, VAULT_TOKEN=vault_token or self.vault_token,
                   SECTIGO_CM_BASE_URL=scm_url or sim.base_url, SECTIGO_CM_USER=sim.login, SECTIGO_CM_PASSWORD=self.scm_password,
                   SECTIGO_CM_CUSTOMER_URI=sim.customer_uri, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   ANSIBLE_COLLECTIONS_PATH=collections_path("chaos"), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.work_dir, "ansible-tmp"), ANSIBLE_HOME=os.path.join(self.work_dir, "ansible-home"))
        return env

    def start_playbook(self, name: str, env: dict[str, str] | None = None, verbosity: str | None = None, **extra_vars: Any) -> Playbook:
        return Playbook(self, name, env or self.env(), extra_vars, self.verbosity if verbosity is None else verbosity)

    def run_playbook(self, name: str, env: dict[str, str] | None = None, timeout: float = 600, **extra_vars: Any) -> Run:
        return self.start_playbook(name, env, **extra_vars).wait(timeout)

    # ---- independent reads -----------------------------------------------------------------------

    def vault(self, method: str, path: str, addr: str | None = None, token: str | None = None) -> tuple[int, Any]:
        return http_json(method, f"{addr or self.openbao.addr}/v1/{path}", headers={"X-Vault-Token": token or self.vault_token})

    def vault_read(self, kv_path: str, path: str, **kw: Any) -> dict[str, Any] | None:
        status, reply = self.vault("GET", f"secret/data/{kv_path}/{path}", **kw)
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"Vault read {kv_path}/{path}: HTTP {status}")
        return reply["data"]["data"]

    def vault_list(self, kv_path: str, path: str, **kw: Any) -> list[str]:
        status, reply = self.vault("LIST", f"secret/metadata/{kv_path}/{path}", **kw)
        if status == 404:
            return []
        if status != 200:
            raise RuntimeError(f"Vault list {kv_path}/{path}: HTTP {status}")
        return reply["data"]["keys"]

    def vault_tree(self, kv_path: str, **kw: Any) -> dict[str, int]:
        """Every secret under ``kv_path`` with its current version: what a run wrote shows as a new key or version."""
        found: dict[str, int] = {}
        todo = [""]
        while todo:
            prefix = todo.pop()
            for key in self.vault_list(kv_path, prefix, **kw):
                if key.endswith("/"):
                    todo.append(prefix + key)
                else:
                    status, reply = self.vault("GET", f"secret/metadata/{kv_path}/{prefix}{key}", **kw)
                    found[prefix + key] = reply["data"]["current_version"] if status == 200 else -1
        return found

    def orders(self, simulator: Simulator | None = None) -> list[dict[str, Any]]:
        return (simulator or self.simulator).stats()["orders"]

    def orders_for(self, common_name: str, simulator: Simulator | None = None, field: str = "common_name") -> list[dict[str, Any]]:
        """SCM's orders whose ``field`` (``common_name``, or ``email`` for a client certificate) is the value given."""
        return [o for o in self.orders(simulator) if o.get(field) == common_name]

    def ca_pems(self, simulator: Simulator | None = None) -> tuple[str, str]:
        ca = (simulator or self.simulator).ca()
        return ca["root"], ca["intermediate"]

    # ---- secrets ---------------------------------------------------------------------------------

    def leaks(self) -> dict[str, int]:
        """How many outputs hold each kind of secret: the SCM password, a Vault token, key material, unseal keys."""
        kinds = {"scm password": [self.scm_password], "vault token": [s for s in self.secrets[1:] if s],
                 "private key": ["PRIVATE KEY"]}
        counts = {kind: 0 for kind in kinds}
        for path in self.outputs:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            for kind, needles in kinds.items():
                if any(n and n in text for n in needles):
                    counts[kind] += 1
        return counts
