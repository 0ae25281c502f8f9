"""The paths for hundreds of certificates under chaos: the fleet module ``sectigo_certs`` and the ``renewal`` role.

- ``crash``: ``docs/examples/fleet.yml`` (``sectigo_certs``, 8 certificates at a time) is killed with SIGKILL (the
  whole process tree, ``Playbook.kill``) once SCM has received some but not all of its enroll POSTs, at the moment
  a proxy of the harness holds the answer of the next one (an order SCM placed whose answer never arrives), while
  other orders are being placed and polled. The same playbook then runs again until it ends well.
- ``faults``: the same fleet playbook under the simulator's sustained faults (``sustained.FAULTS``), plus timeouts: the
  proxy holds a few answers longer than the collection's 30 s SCM timeout (``STALLS``), re-running until clean.
- ``sweep``: certificates enrolled backdated (inside their window), then the renewal role (``playbooks/sweep.yml``)
  renews them under the same faults and timeouts, re-running until clean.

Goals of every row: each name ends ``Issued`` on SCM's newest order with one order per intended operation
(``checks.verify``): 0 SCM orders unknown to Vault, 0 duplicates.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

from checks import known_order_ids, verify
from common import ROOT
from proxy import HoldProxy, Rule
from report import Row
from sustained import FAULT_TITLE, FAULTS, NO_FAULTS, quiet_row, settled_row, until_clean

FLEET = os.path.join(ROOT, "docs", "examples", "fleet.yml")
ENROLL = r"^/api/ssl/v1/enroll$"
SCM_TIMEOUT = 30.0  # the collection's timeout of one SCM request (configs.scm_client_for)
STALL = SCM_TIMEOUT + 5
# Answers held past the SCM timeout during the first run of a faults row: the order placed and its answer never
# arriving, and (for the fleet) an enroll that never reaches SCM at all; a collect, which is retried.
STALLS = {
    "faults": [Rule("POST", ENROLL, "response"), Rule("POST", ENROLL, "request"), Rule("GET", r"^/api/ssl/v1/collect/", "response")],
    "sweep": [Rule("POST", r"^/api/ssl/v1/renewById/", "response"), Rule("POST", r"^/api/ssl/v1/renewById/", "response"),
              Rule("GET", r"^/api/ssl/v1/collect/", "response")],
}


def fleet_vars(kv_path: str, names: list[str], domain: str) -> dict[str, Any]:
    return {"fleet_names": names, "fleet_config": "chaos", "fleet_domain": domain, "fleet_kv_path": kv_path, "fleet_max_timeout": 300}


def _setup(chaos: Any, env: dict[str, str], kv_path: str) -> Any:
    """The config ``chaos`` and its profile in Vault (certs.yml over no names)."""
    return chaos.run_playbook("certs.yml", env, kv_path=kv_path, names=[])


def _proxied(chaos: Any, sim: Any) -> tuple[HoldProxy, dict[str, str]]:
    proxy = HoldProxy(sim.base_url.rsplit("/api", 1)[0], ttl=chaos.ttl, name="scm")
    return proxy, chaos.env(simulator=sim, scm_url=f"{proxy.base}/api")


class Staller:
    """Holds the first request or answer matching each rule in turn, all at once, and closes them unanswered ``STALL``
    seconds after the last one was caught (or when stopped): each is held past the collection's SCM timeout."""

    def __init__(self, proxy: HoldProxy, rules: list[Rule]) -> None:
        self.proxy, self.rules, self.stalled = proxy, rules, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="staller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # arm() does not let go of what is held already: the proxy releases every held connection at once.
        for rule in self.rules:
            self.proxy.arm(rule)
            while not self._stop.is_set() and self.proxy.wait_hit(0.5) is None:
                pass
            if self._stop.is_set():
                break
            self.stalled += 1
        if self.stalled:
            self._stop.wait(STALL)
        self.proxy.disarm()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(STALL + 10)
        return self.stalled


# ---- crash ---------------------------------------------------------------------------------------------------------


def _crash_once(chaos: Any, sim: Any, rep: int, certs: int, reruns: int) -> dict[str, Any]:
    """One fleet run killed mid-flight, then re-runs until clean; what the row needs."""
    kv_path, domain = f"chaos-fleet-crash-{rep}", f"fleet{rep}.crash.example.com"
    names = [f"k{rep}-{i:03d}" for i in range(certs)]
    proxy, env = _proxied(chaos, sim)
    out: dict[str, Any] = {"names": names, "notes": []}
    try:
        if not _setup(chaos, env, kv_path).ok:
            out["notes"].append("setup failed")
            return out
        run = chaos.start_playbook(FLEET, env, **fleet_vars(kv_path, names, domain))
        deadline = time.monotonic() + 300
        while proxy.count("POST", ENROLL) < max(1, certs // 4) and run.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proxy.arm(Rule("POST", ENROLL, "response"))
        out["hit"] = proxy.wait_hit(60) is not None
        run.kill()
        killed_at = time.monotonic()
        out["posts_at_kill"] = proxy.count("POST", ENROLL)
        placed = [o for o in chaos.orders(sim) if o["common_name"].endswith(domain)]
        out["orders_at_kill"], out["pending_at_kill"] = len(placed), sum(1 for o in placed if o["status"] != "Issued")
        proxy.disarm()
        killed = run.wait(60)
        out["killed_rc"] = killed.rc
        out["used"], failures = until_clean(chaos, env, reruns, FLEET, **fleet_vars(kv_path, names, domain))
        out["seconds"] = time.monotonic() - killed_at
        out["notes"] += failures[:1]
        out["posts"] = proxy.count("POST", ENROLL)
        known = known_order_ids(chaos, kv_path, {})
        ca = chaos.ca_pems(sim)
        out["verdicts"] = [verify(chaos, kv_path, n, f"{n}.{domain}", simulator=sim, known=known, ca=ca) for n in names]
        before = sim.stats()["total_requests"]
        quiet = chaos.run_playbook(FLEET, env, **fleet_vars(kv_path, names, domain))
        out["quiet"] = quiet.ok and quiet.recap.get("changed") == 0 and sim.stats()["total_requests"] == before
    finally:
        proxy.stop()
    return out


def crash(chaos: Any, certs: int = 100, reps: int = 2, reruns: int = 3) -> list[Row]:
    sim = chaos.new_simulator()
    sim.configure(issue_delay=2)  # orders stay pending a while: some are being polled when the run is killed
    results = [_crash_once(chaos, sim, rep, certs, reruns) for rep in range(1, reps + 1)]
    rows = []
    for rep, res in enumerate(results, 1):
        verdicts = res.get("verdicts") or []
        good = sum(v.ok for v in verdicts)
        lost, dup = sum(v.lost for v in verdicts), sum(v.duplicates for v in verdicts)
        problems = sorted({p for v in verdicts for p in v.problems})
        ok = bool(res.get("hit")) and good == certs and lost == 0 and dup == 0 and res.get("used", reruns + 1) <= reruns and res.get("quiet")
        note = (f"killed after {res.get('posts_at_kill')} of {certs} enroll POSTs ({res.get('orders_at_kill')} orders in SCM, "
                f"{res.get('pending_at_kill')} of them not issued yet, one answer held)" if res.get("hit") else "the kill point was never reached")
        if "used" in res:
            note += (f"; runs until clean: {res['used']}, {res['seconds']:.0f}s after the kill; enroll POSTs in all {res['posts']}; "
                     f"the next run {'changes nothing, 0 SCM calls' if res.get('quiet') else 'is NOT quiet'}")
        if problems or res["notes"]:
            note += " | " + "; ".join(problems + res["notes"])[:300]
        rows.append(Row("fleet-crash", f"fleet run ({certs} new certificates, sectigo_certs) killed with orders in flight, rep {rep}",
                        certs, good, lost, dup, note, ok=bool(ok)))
    return rows


# ---- sustained faults ---------------------------------------------------------------------------------------------


def _under_faults(chaos: Any, sim: Any, proxy: HoldProxy, env: dict[str, str], rules: list[Rule], reruns: int, playbook: str,
                  **extra: Any) -> tuple[int, list[str], str]:
    """Faults on, the first run with its stalled answers, re-runs until clean, faults off; (runs, failures, a note)."""
    sim.control("POST", "stats/reset", {})
    sim.configure(backdate_days=0, **FAULTS)
    started = time.monotonic()
    staller = Staller(proxy, rules)
    try:
        first = chaos.run_playbook(playbook, env, timeout=900, **extra)
    finally:
        stalled = staller.stop()
    used, failures = 1, []
    if not first.ok:
        more, failures = until_clean(chaos, env, reruns - 1, playbook, **extra)
        used += more
        failures.insert(0, f"run 1: failed={first.recap.get('failed')} {first.failure()[:120]}")
    sim.configure(**NO_FAULTS)
    return used, failures, f"; {stalled} answers held {STALL:.0f}s; {time.monotonic() - started:.0f}s until clean"


def faults(chaos: Any, certs: int = 50, reruns: int = 8) -> list[Row]:
    sim = chaos.new_simulator()
    proxy, env = _proxied(chaos, sim)
    kv_path, domain = "chaos-fleet-faults", "fleet.faults.example.com"
    names = [f"ff{i:03d}" for i in range(certs)]
    try:
        if not _setup(chaos, env, kv_path).ok:
            return [Row("fleet-faults", "setup", 1, 0, ok=False)]
        extra = fleet_vars(kv_path, names, domain)
        used, failures, held = _under_faults(chaos, sim, proxy, env, STALLS["faults"], reruns, FLEET, **extra)
        rows = [settled_row(chaos, sim, "fleet-faults", f"fleet run (sectigo_certs) of {certs} new certificates under {FAULT_TITLE}, "
                            f"answers held past the SCM timeout", kv_path=kv_path, names=names, domain=domain, orders=1, used=used,
                            reruns=reruns, failures=failures, extra_note=held)]
        rows.append(quiet_row(chaos, sim, env, "fleet-faults", FLEET, **extra))
    finally:
        proxy.stop()
    return rows


def sweep(chaos: Any, certs: int = 50, reruns: int = 8) -> list[Row]:
    sim = chaos.new_simulator()
    proxy, env = _proxied(chaos, sim)
    kv_path, domain = "chaos-sweep-faults", "sweep.faults.example.com"
    names = [f"sw{i:03d}" for i in range(certs)]
    try:
        # Enrolled 360 days old, without faults: every certificate is due when the sweep starts (renewal_spread 0).
        sim.configure(backdate_days=360)
        setup = _setup(chaos, env, kv_path)
        enrolled = chaos.run_playbook(FLEET, env, **fleet_vars(kv_path, names, domain)) if setup.ok else setup
        sim.configure(backdate_days=0)
        if not enrolled.ok:
            return [Row("sweep-faults", "setup: the fleet enrolled backdated", 1, 0, note=enrolled.failure()[:300], ok=False)]
        used, failures, held = _under_faults(chaos, sim, proxy, env, STALLS["sweep"], reruns, "sweep.yml", kv_path=kv_path)
        rows = [settled_row(chaos, sim, "sweep-faults", f"renewal role over {certs} due certificates under {FAULT_TITLE}, "
                            f"answers held past the SCM timeout", kv_path=kv_path, names=names, domain=domain, orders=2, used=used,
                            reruns=reruns, failures=failures, extra_note=held)]
        rows.append(quiet_row(chaos, sim, env, "sweep-faults", "sweep.yml", kv_path=kv_path))
    finally:
        proxy.stop()
    return rows
