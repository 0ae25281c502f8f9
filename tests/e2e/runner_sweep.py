"""One sweep over N certificates shared by 4 ansible-runner jobs: with shards, then without (docs/scale.md).

Run by tests/e2e/test_runner.py (N = 24, in make test) and by ``python tests/chaos --only runner`` (N = 400).

1. A setup job (Vault token) stores two configs, A and B.
2. 4 jobs run docs/examples/fleet.yml on config A's N names together, job i with shard i of 4: every name is handled by
   exactly one job, N orders in all. Then 4 jobs run it on config B's N names together without shards: still N orders.
   The simulator issues these backdated, so that all 2 N certificates are inside their renewal window.
3. 4 jobs run the renewal role on config A together, job i with shard i of 4: N renewals, each by one job. Then 4
   jobs sweep config B together without shards: N renewals, none twice.

Every job but the setup logs in with AppRole. Orders are counted by the simulator, per common name.
"""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from runner_jobs import RunnerJob, installed_file, start_together

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "playbooks")
JOBS = 4
DOMAIN = "runner.example.com"
APPROLE_MOUNT = "runner-approle"


@dataclass
class Round:
    """4 jobs started together: their return codes, and for each name, the jobs that handled it."""

    what: str
    rcs: list[int]
    handled_by: dict[str, list[int]]
    orders: dict[str, int]
    seconds: float
    failures: list[str] = field(default_factory=list)

    def problems(self, names: list[str], sharded: bool) -> list[str]:
        """What misses the goal: a job that failed, an order missing or twice, a shard wrong."""
        out = []
        if any(self.rcs):
            out.append(f"{self.what}: job return codes {self.rcs}: {'; '.join(self.failures)[:3000]}")
        missing = [n for n in names if self.orders.get(n, 0) == 0]
        twice = {n: c for n, c in self.orders.items() if c > 1}
        if missing:
            out.append(f"{self.what}: no order for {len(missing)} certificates, e.g. {missing[:5]}")
        if twice:
            out.append(f"{self.what}: {sum(c - 1 for c in twice.values())} duplicate orders, e.g. {dict(list(twice.items())[:5])}")
        if sharded:
            unhandled = [n for n in names if not self.handled_by.get(n)]
            shared = {n: jobs for n, jobs in self.handled_by.items() if len(jobs) > 1}
            if unhandled:
                out.append(f"{self.what}: {len(unhandled)} certificates handled by no job, e.g. {unhandled[:5]}")
            if shared:
                out.append(f"{self.what}: {len(shared)} certificates handled by more than one job, e.g. {dict(list(shared.items())[:5])}")
        return out

    def total_orders(self) -> int:
        return sum(self.orders.values())


def enable_approle(api: Any) -> dict[str, str]:
    """An AppRole login at ``runner-approle`` with a policy on ``secret/``; the environment the jobs log in with."""
    mounts = api("GET", "sys/auth") or {}
    if f"{APPROLE_MOUNT}/" not in (mounts.get("data") or mounts):
        api("POST", f"sys/auth/{APPROLE_MOUNT}", {"type": "approle"})
        api("POST", "sys/policies/acl/runner-sectigo", {"policy": 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'})
        api("POST", f"auth/{APPROLE_MOUNT}/role/sectigo", {"token_policies": ["runner-sectigo"], "token_ttl": "1h"})
    role_id = api("GET", f"auth/{APPROLE_MOUNT}/role/sectigo/role-id")["data"]["role_id"]
    secret_id = api("POST", f"auth/{APPROLE_MOUNT}/role/sectigo/secret-id", {})["data"]["secret_id"]
    return {"VAULT_AUTH_METHOD": "approle", "VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id,
            "ANSIBLE_HASHI_VAULT_MOUNT_POINT": APPROLE_MOUNT}


class Sweep:
    """The scenario against one OpenBao (``addr``, ``api``) and one simulator; ``secrets`` collects what must not leak."""

    def __init__(self, *, vault_addr: str, api: Any, simulator: Any, scm_password: str, collections: str,
                 work_dir: str, count: int, verbosity: str = "-vvvv", kv_path: str | None = None) -> None:
        self.sim = simulator
        self.collections = collections
        self.work_dir = work_dir
        self.names = [f"r{i:04d}" for i in range(count)]
        self.kv_path = kv_path or f"runner-{uuid.uuid4().hex[:8]}"
        self.verbosity = verbosity
        self.configs = ("runner-a", "runner-b")
        self.token = f"runner-token-{uuid.uuid4().hex}"
        api("POST", "auth/token/create", {"id": self.token, "policies": ["root"], "ttl": "2h"})
        approle = enable_approle(api)
        base = {"VAULT_ADDR": vault_addr, "SECTIGO_CM_BASE_URL": simulator.base_url, "SECTIGO_CM_USER": simulator.login,
                "SECTIGO_CM_PASSWORD": scm_password, "SECTIGO_CM_CUSTOMER_URI": simulator.customer_uri}
        self.setup_env = dict(base, VAULT_TOKEN=self.token)
        self.job_env = dict(base, **approle)
        self.secrets = {"SCM password": scm_password, "Vault token": self.token, "AppRole secret_id": approle["VAULT_SECRET_ID"]}
        self.jobs: list[RunnerJob] = []
        self._seq = 0

    def _ident(self, what: str) -> str:
        self._seq += 1
        return f"{self._seq:02d}-{what}"

    def setup(self) -> int:
        job = RunnerJob(self.work_dir, self._ident("setup"), os.path.join(PLAYBOOKS, "runner_setup.yml"), collections=self.collections,
                        envvars=self.setup_env, extravars={"kv_path": self.kv_path, "configs": list(self.configs)}, verbosity=self.verbosity)
        self.jobs.append(job)
        rc = job.wait(600)
        if rc:
            raise AssertionError(f"setup job failed (rc={rc}):\n{job.stdout()[-4000:]}")
        return rc

    def _round(self, what: str, playbook: str, extravars: list[dict[str, Any]], renewals: bool) -> Round:
        before = {o["id"] for o in self.sim.stats()["orders"]}
        started = time.monotonic()
        jobs = start_together([(self._ident(f"{what}-{i}"), playbook, v) for i, v in enumerate(extravars)], self.work_dir,
                              collections=self.collections, envvars=self.job_env, verbosity=self.verbosity)
        self.jobs += jobs
        rcs = [job.wait(1800) for job in jobs]
        seconds = time.monotonic() - started
        handled_by: dict[str, list[int]] = {}
        failures = []
        for i, job in enumerate(jobs):
            for name, action in job.handled().items():
                if action not in ("none", "claimed"):
                    handled_by.setdefault(name, []).append(i)
            if rcs[i]:
                failures.append(f"job {i}: " + _failure(job))
        orders: dict[str, int] = {}
        for order in self.sim.stats()["orders"]:
            if order["id"] in before or not (order.get("common_name") or "").endswith(f".{DOMAIN}"):
                continue
            if renewals != (order.get("renewed_from") is not None):
                continue
            name = order["common_name"].split(".", 1)[0]
            orders[name] = orders.get(name, 0) + 1
        return Round(what, rcs, handled_by, orders, seconds, failures)

    def fleet(self, config: str, sharded: bool) -> Round:
        playbook = installed_file(self.collections, "docs/examples/fleet.yml")
        common = {"fleet_names": self.names, "fleet_config": config, "fleet_domain": DOMAIN, "fleet_kv_path": self.kv_path,
                  "fleet_max_timeout": 600}
        extravars = [dict(common, **({"fleet_shard_index": i, "fleet_shard_count": JOBS} if sharded else {})) for i in range(JOBS)]
        return self._round(f"fleet-{config}-{'shards' if sharded else 'all'}", playbook, extravars, renewals=False)

    def sweep(self, config: str, sharded: bool) -> Round:
        common = {"configs": [config], "kv_path": self.kv_path}
        extravars = [dict(common, **({"shard_index": i, "shard_count": JOBS} if sharded else {})) for i in range(JOBS)]
        return self._round(f"sweep-{config}-{'shards' if sharded else 'all'}", os.path.join(PLAYBOOKS, "runner_sweep.yml"), extravars,
                           renewals=True)

    def run(self) -> list[Round]:
        """The four rounds of the module docstring, in order."""
        self.setup()
        self.sim.configure(backdate_days=360)  # issued 360 days ago, 365-day term: inside the 7-day window
        rounds = [self.fleet(self.configs[0], sharded=True), self.fleet(self.configs[1], sharded=False)]
        self.sim.configure(backdate_days=0)  # renewed certificates are fresh: a second renewal would be a duplicate
        rounds += [self.sweep(self.configs[0], sharded=True), self.sweep(self.configs[1], sharded=False)]
        return rounds

    def leaks(self, private_keys: list[tuple[str, str]]) -> list[str]:
        """``<secret> in <job>/<artifact>`` for each secret found in a job's stdout or events.

        ``private_keys`` are ``(key PEM, public PEMs of its record)``: a line of the key's PEM body that occurs in the
        certificate or CSR too encodes public key bytes only (the end of an EC key is its public point), so only the
        other lines are searched for.
        """
        needles = dict(self.secrets, **{"private key PEM": "PRIVATE KEY"})
        for i, (key, public) in enumerate(private_keys):
            public_body = "".join(line for line in public.splitlines() if not line.startswith("-----"))
            for line in key.splitlines():
                if line and not line.startswith("-----") and line not in public_body:
                    needles[f"line of private key {i}"] = line
        found = []
        for job in self.jobs:
            for where, text in job.texts():
                for what, needle in needles.items():
                    if needle in text:
                        found.append(f"{what} in {job.ident}/{where}")
        return found


def _failure(job: RunnerJob) -> str:
    failed = {item["name"]: item.get("msg") for result in job.results() for item in result["certificates"] if item.get("failed")}
    if failed:
        return f"{len(failed)} failed: " + "; ".join(f"{name}: {msg}" for name, msg in list(failed.items())[:3])
    out = job.stdout()
    at = out.find("FAILED!")
    return (out[at:at + 400] if at >= 0 else out[-400:]).replace("\n", " ")
