"""Vault goes away in the middle of a fleet run, then comes back.

OpenBao runs as a real server with raft storage on disk (not ``-dev``): initialised and unsealed here, KV v2 at ``secret/``.
A playbook loops over the fleet; once a few orders exist, OpenBao is stopped, kept down a few seconds and started
again on the same storage (and unsealed). Goals: the failing run names Vault; every order SCM placed is found
again by the following runs (by its marker when its id could not be saved), nothing is half-written.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

from checks import CONFIG, known_order_ids, verify
from common import Chaos
from report import Row
from testbed.testbed import LOOPBACK, ServerProcess, find_bao, free_port, http_json

DOWN_SECONDS = 5.0


class PersistentBao:
    """``bao server -config`` with raft storage under a scratch directory; stop() then start() keeps the data."""

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.dir = os.path.join(chaos.work_dir, "openbao-raft")
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.port = free_port()
        self.addr = f"http://{LOOPBACK}:{self.port}"
        self.config = os.path.join(self.dir, "server.hcl")
        with open(self.config, "w", encoding="utf-8") as handle:
            # OpenBao no longer offers "file" storage; integrated (raft) storage on one node keeps data on disk as well.
            handle.write(f'storage "raft" {{\n  path = "{os.path.join(self.dir, "data")}"\n  node_id = "chaos"\n}}\n'
                         f'listener "tcp" {{\n  address = "{LOOPBACK}:{self.port}"\n  tls_disable = true\n}}\n'
                         f'api_addr = "{self.addr}"\ncluster_addr = "http://{LOOPBACK}:{free_port()}"\nui = false\n')
        self.process: ServerProcess | None = None
        self.unseal_key = ""
        self.token = ""

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        self.process = ServerProcess("openbao-raft", [find_bao(), "server", f"-config={self.config}"], ttl=self.chaos.ttl,
                                     log_path=os.path.join(self.dir, "openbao.log"), env=env, cwd=self.dir)
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _reply = http_json("GET", f"{self.addr}/v1/sys/seal-status", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or not self.process.running:
                raise RuntimeError(f"OpenBao (raft storage) did not start:\n{self.process.log_tail()}")
            time.sleep(0.2)
        if not self.token:
            _status, reply = http_json("PUT", f"{self.addr}/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
            self.unseal_key, self.token = reply["keys"][0], reply["root_token"]
            self.chaos.secrets += [self.token, self.unseal_key]
        status, reply = http_json("PUT", f"{self.addr}/v1/sys/unseal", {"key": self.unseal_key})
        if status != 200 or reply.get("sealed"):
            raise RuntimeError(f"OpenBao did not unseal: HTTP {status}")
        deadline = time.monotonic() + 30
        while http_json("GET", f"{self.addr}/v1/sys/health", timeout=2)[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("OpenBao unsealed but never became active")
            time.sleep(0.2)
        mounts = http_json("GET", f"{self.addr}/v1/sys/mounts", headers={"X-Vault-Token": self.token})[1]
        if "secret/" not in (mounts.get("data") or mounts):
            status, reply = http_json("POST", f"{self.addr}/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}},
                                      headers={"X-Vault-Token": self.token})
            if status >= 400:
                raise RuntimeError(f"could not enable KV v2 at secret/: HTTP {status}")
            time.sleep(1.0)  # KV v2 upgrades its mount in the background

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


def _half_written(chaos: Chaos, kv_path: str, vault: dict[str, Any]) -> list[str]:
    """Records the name index does not reach, names pointing at nothing, records missing what their status needs."""
    problems = []
    uids = set(chaos.vault_list(kv_path, f"certs/{CONFIG}", **vault))
    reached = set()
    for name in chaos.vault_list(kv_path, f"names/{CONFIG}", **vault):
        entry = chaos.vault_read(kv_path, f"names/{CONFIG}/{name}", **vault) or {}
        uid = entry.get("cert_unique_id")
        if uid and uid not in uids:
            problems.append(f"{name} points at missing {uid}")
        reached.add(uid)
    for uid in uids:
        record = chaos.vault_read(kv_path, f"certs/{CONFIG}/{uid}", **vault) or {}
        if uid not in reached and record.get("status") != "Renewed":
            problems.append(f"record {uid} is reached by no name")
        need = {"Issued": ("certificate", "private_key", "serial_number"), "Applied": ("ssl_id", "private_key")}.get(record.get("status"), ())
        missing = [f for f in need if not record.get(f)]
        if missing:
            problems.append(f"record {uid} ({record.get('status')}) lacks {', '.join(missing)}")
    return problems


def run(chaos: Chaos, certs: int = 20) -> list[Row]:
    bao = PersistentBao(chaos)
    bao.start()
    try:
        sim = chaos.new_simulator()
        env = chaos.env(simulator=sim, vault_addr=bao.addr, vault_token=bao.token)
        vault = {"addr": bao.addr, "token": bao.token}
        kv_path, domain = "chaos-vault", "vault.example.com"
        names = [f"v{i:02d}" for i in range(certs)]
        playbook = chaos.start_playbook("certs.yml", env, kv_path=kv_path, names=names, domain=domain)
        deadline = time.monotonic() + 300
        while len(sim.stats()["orders"]) < max(1, certs // 4) and playbook.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        orders_at_stop = len(sim.stats()["orders"])
        bao.stop()
        time.sleep(DOWN_SECONDS)
        bao.start()
        failing = playbook.wait(600)
        names_vault = failing.rc != 0 and ("Vault" in failing.failure() or "vault" in failing.failure())
        runs, later = 1, None
        recovered_at = time.monotonic()
        for runs in range(1, 4):
            later = chaos.run_playbook("certs.yml", env, timeout=600, kv_path=kv_path, names=names, domain=domain)
            if later.ok:
                break
        took = time.monotonic() - recovered_at
        known = known_order_ids(chaos, kv_path, vault)
        ca = chaos.ca_pems(sim)
        verdicts = {n: verify(chaos, kv_path, n, f"{n}.{domain}", simulator=sim, vault=vault, known=known, ca=ca) for n in names}
        half = _half_written(chaos, kv_path, vault)
        good = sum(v.ok for v in verdicts.values())
        lost, dup = sum(v.lost for v in verdicts.values()), sum(v.duplicates for v in verdicts.values())
        problems = sorted({f"{n}: {p}" for n, v in verdicts.items() for p in v.problems}) + half
        note = (f"stopped after {orders_at_stop} orders for {DOWN_SECONDS:.0f}s; the failing run (rc={failing.rc}) "
                f"{'names Vault' if names_vault else 'does NOT name Vault'}: {json.dumps(failing.failure()[:140])}; "
                f"clean after {runs} more run(s), {took:.0f}s")
        if problems:
            note += " | " + "; ".join(problems)[:300]
        return [Row("vault", f"OpenBao (raft storage) stopped and restarted during a {certs}-certificate run", certs, good, lost, dup, note,
                    ok=good == certs and not half and names_vault and lost == 0 and dup == 0 and later is not None and later.ok)]
    finally:
        bao.stop()
