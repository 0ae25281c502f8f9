"""A fleet run against a 3-node OpenBao cluster whose leader is killed with SIGKILL while orders are in flight.

Used by tests/live/test_raft_cluster.py (20 certificates) and ``python tests/chaos --only raft`` (100 certificates).
The collection talks to a standby (``VAULT_ADDR``), which forwards to the active node; the leader is killed once a
quarter of the orders exist, a new leader is elected, and the same run goes on. Afterwards the killed node is
restarted on its data and must rejoin as a voter. Orders are counted by the simulator, certificates read from Vault.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from testbed.raft import RaftCluster
from testbed.testbed import ROOT, collections_path, http_json

BIN = os.path.dirname(sys.executable)
SETUP = os.path.join(ROOT, "tests", "e2e", "playbooks", "runner_setup.yml")
FLEET = os.path.join(ROOT, "docs", "examples", "fleet.yml")
DOMAIN = "raft.example.com"
CONFIG = "raft"


@dataclass
class Outcome:
    """What a fleet run over the election left: return code, issued, lost and duplicate orders, election and rejoin times."""

    certs: int
    rc: int
    issued: int
    lost: int
    duplicates: int
    killed: str = ""
    orders_at_kill: int = 0
    election_seconds: float = 0.0
    rejoin_seconds: float = 0.0
    run_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.issued == self.certs and self.lost == 0 and self.duplicates == 0

    def note(self) -> str:
        text = (f"killed {self.killed} after {self.orders_at_kill} orders; new leader in {self.election_seconds:.1f}s; run rc={self.rc} "
                f"in {self.run_seconds:.0f}s; issued {self.issued}/{self.certs}; killed node rejoined in {self.rejoin_seconds:.1f}s")
        if self.failures:
            text += " | " + "; ".join(self.failures)[:300]
        return text


def playbook_env(vault_addr: str, token: str, simulator: Any, purpose: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "SECTIGO_", "ANSIBLE_"))}
    env.update(VAULT_ADDR=vault_addr, VAULT_TOKEN=token, SECTIGO_CM_BASE_URL=simulator.base_url, SECTIGO_CM_USER=simulator.login,
               SECTIGO_CM_PASSWORD=simulator.password, SECTIGO_CM_CUSTOMER_URI=simulator.customer_uri,
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=collections_path(purpose),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return env


def start(playbook: str, env: dict[str, str], extra_vars: dict[str, Any], log_path: str) -> subprocess.Popen:
    with open(log_path, "wb") as out:
        return subprocess.Popen([os.path.join(BIN, "ansible-playbook"), playbook, "-e", json.dumps(extra_vars)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def run(playbook: str, env: dict[str, str], extra_vars: dict[str, Any], log_path: str, timeout: float = 600) -> int:
    proc = start(playbook, env, extra_vars, log_path)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def fleet_vars(kv_path: str, names: list[str]) -> dict[str, Any]:
    return {"fleet_names": names, "fleet_config": CONFIG, "fleet_domain": DOMAIN, "fleet_kv_path": kv_path, "fleet_max_timeout": 600}


def setup(cluster: RaftCluster, simulator: Any, kv_path: str, work_dir: str, purpose: str) -> dict[str, str]:
    """The config in Vault, through a standby; returns the environment that points the collection at that standby."""
    env = playbook_env(cluster.standbys()[0].addr, cluster.token, simulator, purpose)
    rc = run(SETUP, env, {"kv_path": kv_path, "configs": [CONFIG]}, os.path.join(work_dir, "setup.log"))
    if rc:
        raise AssertionError(f"setup failed:\n{open(os.path.join(work_dir, 'setup.log'), encoding='utf-8').read()[-3000:]}")
    return env


def _record(cluster: RaftCluster, kv_path: str, name: str) -> dict[str, Any] | None:
    leader = cluster.leader()
    headers = cluster.headers()
    status, entry = http_json("GET", f"{leader.addr}/v1/secret/data/{kv_path}/names/{CONFIG}/{name}", headers=headers)
    if status != 200:
        return None
    uid = entry["data"]["data"].get("cert_unique_id")
    status, record = http_json("GET", f"{leader.addr}/v1/secret/data/{kv_path}/certs/{CONFIG}/{uid}", headers=headers)
    return record["data"]["data"] if status == 200 else None


def leader_kill(cluster: RaftCluster, simulator: Any, names: list[str], kv_path: str, work_dir: str, purpose: str = "live",
                issue_delay: float = 3.0) -> Outcome:
    """The scenario of the module docstring; the fleet run's output is ``work_dir/fleet.log``."""
    env = setup(cluster, simulator, kv_path, work_dir, purpose)
    standby = next(n for n in cluster.nodes if n.addr == env["VAULT_ADDR"])
    simulator.configure(issue_delay=issue_delay)
    before = {o["id"] for o in simulator.stats()["orders"]}
    started = time.monotonic()
    proc = start(FLEET, env, fleet_vars(kv_path, names), os.path.join(work_dir, "fleet.log"))
    outcome = Outcome(certs=len(names), rc=-1, issued=0, lost=0, duplicates=0)
    leader = None
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            outcome.orders_at_kill = len([o for o in simulator.stats()["orders"] if o["id"] not in before])
            if outcome.orders_at_kill >= max(1, len(names) // 4):
                break
            time.sleep(0.05)
        leader = cluster.leader()
        outcome.killed = leader.name if leader else "(no leader)"
        if leader is not None and leader is not standby:
            cluster.kill(leader)
            outcome.election_seconds = cluster.wait_for(lambda: cluster.leader() is not None, "a new leader", 120)
        outcome.rc = proc.wait(900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        simulator.configure(issue_delay=0)
    outcome.run_seconds = time.monotonic() - started
    if leader is not None and leader is not standby:
        cluster.restart(leader)
        outcome.rejoin_seconds = cluster.wait_healthy(120)
    orders = [o for o in simulator.stats()["orders"] if o["id"] not in before and (o.get("common_name") or "").endswith(DOMAIN)]
    per_name: dict[str, list[int]] = {}
    for order in orders:
        per_name.setdefault(order["common_name"].split(".", 1)[0], []).append(order["id"])
    outcome.duplicates = sum(len(ids) - 1 for ids in per_name.values() if len(ids) > 1)
    for name in names:
        record = _record(cluster, kv_path, name)
        if record and record.get("status") == "Issued":
            outcome.issued += 1
        ids = per_name.get(name, [])
        known = record.get("ssl_id") if record else None
        outcome.lost += sum(1 for i in ids if i != known)
    if outcome.rc:
        log = open(os.path.join(work_dir, "fleet.log"), encoding="utf-8", errors="replace").read()
        outcome.failures = sorted(set(_messages(log)))[:5]
    return outcome


def _messages(log: str) -> list[str]:
    return [m.replace("\\n", " ")[:200] for m in re.findall(r'"msg": "((?:[^"\\]|\\.)*)"', log)]
