"""A 3-node OpenBao cluster with integrated (raft) storage on loopback, for the live tests and make chaos.

    with RaftCluster() as cluster:       # 3 processes, each its own config, data directory and two ports
        cluster.standbys()[0].addr       # a standby: it forwards requests to the active node
        cluster.kill(cluster.leader())   # SIGKILL, as a crash
        cluster.restart(node)            # same config and data; unsealed; it rejoins as a standby

Each node is ``bao server -config`` under the test bed's supervisor (its lifetime bounded, stopped with its starter).
The first node is initialised with one unseal key (shamir 1 of 1, fine for tests) and unsealed; the others join it
through ``sys/storage/raft/join`` and are unsealed with the same key. KV version 2 is mounted at ``secret/``.
``stop()`` stops every node and removes the scratch directory.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from typing import Any

from testbed.testbed import LOOPBACK, ServerProcess, TestBedError, find_bao, free_port, http_json, stop_group

READY_TIMEOUT = 60.0


class RaftNode:
    """One OpenBao process of the cluster: ``name``, ``addr`` (API), ``cluster_port``, its data directory."""

    def __init__(self, base: str, index: int, ttl: float) -> None:
        self.name = f"bao{index}"
        self.dir = os.path.join(base, self.name)
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.port = free_port()
        self.cluster_port = free_port()
        self.addr = f"http://{LOOPBACK}:{self.port}"
        self.ttl = ttl
        self.config = os.path.join(self.dir, "server.hcl")
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write(f'storage "raft" {{\n  path = "{os.path.join(self.dir, "data")}"\n  node_id = "{self.name}"\n}}\n'
                         f'listener "tcp" {{\n  address = "{LOOPBACK}:{self.port}"\n'
                         f'  cluster_address = "{LOOPBACK}:{self.cluster_port}"\n  tls_disable = true\n}}\n'
                         f'api_addr = "{self.addr}"\ncluster_addr = "https://{LOOPBACK}:{self.cluster_port}"\n'
                         # Standbys forward reads to the active node: read-after-write consistency (docs/scale.md).
                         'disable_mlock = true\nui = false\ndisable_standby_reads = true\n')
        self.process: ServerProcess | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        self.process = ServerProcess(f"openbao-{self.name}", [find_bao(), "server", f"-config={self.config}"], ttl=self.ttl,
                                     log_path=os.path.join(self.dir, "openbao.log"), env=env, cwd=self.dir)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._answers():
            if time.monotonic() > deadline or not self.process.running:
                raise TestBedError(f"OpenBao {self.name} did not start:\n{self.process.log_tail()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            return http_json("GET", f"{self.addr}/v1/sys/seal-status", timeout=2)[0] == 200
        except OSError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    def kill(self) -> None:
        """SIGKILL the node (its supervisor and the server process), as a crash would."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            stop_group(self.process.pid, timeout=5, reap=self.process.popen.poll)
            self.process.stop()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def health(self) -> tuple[int, Any]:
        """``sys/health``: 200 active, 429 standby, 501 not initialised, 503 sealed; (0, None) when unreachable."""
        try:
            return http_json("GET", f"{self.addr}/v1/sys/health", timeout=2)
        except OSError:
            return 0, None


class RaftCluster:
    """Three (``size``) OpenBao nodes sharing raft storage; ``token`` is the root token, ``unseal_key`` the one key."""

    def __init__(self, size: int = 3, ttl: float = 1800, base_dir: str | None = None) -> None:
        self._tmp = None if base_dir else tempfile.mkdtemp(prefix="openbao-raft-")
        self.base = base_dir or self._tmp
        self.nodes = [RaftNode(self.base, i, ttl) for i in range(size)]
        self.token = ""
        self.unseal_key = ""

    # ---- life --------------------------------------------------------------------------------------

    def start(self) -> RaftCluster:
        try:
            first = self.nodes[0]
            first.start()
            status, reply = http_json("PUT", f"{first.addr}/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
            if status != 200:
                raise TestBedError(f"OpenBao init: HTTP {status}: {reply}")
            self.unseal_key, self.token = reply["keys"][0], reply["root_token"]
            self.unseal(first)
            self.wait_for(lambda: first.health()[0] == 200, "the first node to become active")
            for node in self.nodes[1:]:
                node.start()
                status, reply = http_json("PUT", f"{node.addr}/v1/sys/storage/raft/join", {"leader_api_addr": first.addr})
                if status != 200 or not (reply or {}).get("joined"):
                    raise TestBedError(f"OpenBao {node.name} did not join: HTTP {status}: {reply}")
                self.unseal(node)
            self.wait_healthy()
            self.api("POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
            # KV v2 upgrades a new mount in the background; standbys answer 400 until they see it done.
            self.wait_for(lambda: all(http_json("GET", f"{n.addr}/v1/secret/data/probe", headers=self.headers())[0] == 404
                                      for n in self.nodes), "KV v2 at secret/ on every node")
        except BaseException:
            self.stop()
            raise
        return self

    def unseal(self, node: RaftNode) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            status, reply = http_json("PUT", f"{node.addr}/v1/sys/unseal", {"key": self.unseal_key})
            if status == 200 and not reply.get("sealed"):
                return
            if time.monotonic() > deadline:
                raise TestBedError(f"OpenBao {node.name} did not unseal: HTTP {status}: {reply}")
            time.sleep(0.3)

    def kill(self, node: RaftNode) -> None:
        node.kill()

    def restart(self, node: RaftNode) -> None:
        """Start a stopped or killed node on its own data again and unseal it: it rejoins the cluster by itself."""
        node.start()
        self.unseal(node)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> RaftCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- state -------------------------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        return {"X-Vault-Token": self.token}

    def leader(self) -> RaftNode | None:
        """The active node, as a running node's ``sys/health`` says (None during an election)."""
        for node in self.nodes:
            if node.running and node.health()[0] == 200:
                return node
        return None

    def standbys(self) -> list[RaftNode]:
        return [node for node in self.nodes if node.running and node.health()[0] == 429]

    def peers(self) -> list[dict[str, Any]]:
        """The raft configuration's servers (node_id, address, leader, voter), read through any node that answers."""
        for node in self.nodes:
            if not node.running:
                continue
            status, reply = http_json("GET", f"{node.addr}/v1/sys/storage/raft/configuration", headers=self.headers(), timeout=5)
            if status == 200:
                return reply["data"]["config"]["servers"]
        return []

    def healthy(self) -> bool:
        """Every node runs, one is active, the others are unsealed standbys, and raft has every node as a voter."""
        codes = sorted(node.health()[0] for node in self.nodes)
        if codes != [200] + [429] * (len(self.nodes) - 1):
            return False
        servers = self.peers()
        return sorted(s["node_id"] for s in servers if s.get("voter")) == sorted(n.name for n in self.nodes)

    def wait_healthy(self, timeout: float = READY_TIMEOUT) -> float:
        """Seconds until ``healthy()``; TestBedError after ``timeout``."""
        return self.wait_for(self.healthy, "the cluster to be healthy (one active node, every node a voter)", timeout)

    def wait_for(self, check: Any, what: str, timeout: float = READY_TIMEOUT) -> float:
        started = time.monotonic()
        while True:
            try:
                if check():
                    return time.monotonic() - started
            except (OSError, TestBedError, KeyError, TypeError):
                pass
            if time.monotonic() - started > timeout:
                tails = "\n".join(f"--- {n.name}\n{n.process.log_tail(15) if n.process else '(stopped)'}" for n in self.nodes)
                raise TestBedError(f"timed out after {timeout:.0f}s waiting for {what}:\n{tails}")
            time.sleep(0.2)

    def api(self, method: str, path: str, body: Any = None, *, expect_ok: bool = True) -> Any:
        """Call ``/v1/<path>`` on the active node with the root token."""
        leader = self.leader()
        if leader is None:
            raise TestBedError("no active node")
        status, reply = http_json(method, f"{leader.addr}/v1/{path.lstrip('/')}", body, self.headers())
        if expect_ok and status >= 400:
            raise TestBedError(f"OpenBao {method} {path}: HTTP {status}: {reply}")
        return reply
