"""Sustained faults on every SCM request: enroll many certificates, then renew them all, re-running until done.

The simulator (one of its own) injects server errors, 429 with Retry-After and connection resets on every /api
request, half of them after SCM acted (the order exists, its answer is lost). Goals: every certificate issued
within a bounded number of re-runs, zero duplicate orders, nothing lost.

``until_clean``, ``settled_row`` and ``quiet_row`` are shared with the fleet and sweep rows (fleet_chaos.py).
"""
from __future__ import annotations

from typing import Any

from checks import known_order_ids, verify
from report import Row

# Shares of all requests: 30 % server errors, 10 % 429, 5 % resets. The simulator tries reset, then 429, then 5xx,
# each at its own rate, so the rates below are conditional on the kinds before them not striking.
SHARES = {"reset": 0.05, "429": 0.10, "5xx": 0.30}
RATES = {"fault_reset_rate": 0.05, "fault_429_rate": 0.10 / 0.95, "fault_5xx_rate": 0.30 / 0.85}
FAULTS = dict(RATES, fault_after_rate=0.5, retry_after=1, fault_match="")
NO_FAULTS = {"fault_reset_rate": 0.0, "fault_429_rate": 0.0, "fault_5xx_rate": 0.0, "fault_after_rate": 0.0}
FAULT_TITLE = "30 % 5xx, 10 % 429, 5 % resets"


def until_clean(chaos: Any, env: dict[str, str], reruns: int, playbook: str = "certs.yml", **extra: Any) -> tuple[int, list[str]]:
    """Run the playbook until it succeeds; ``(runs used, first line of each failure)``."""
    failures = []
    for attempt in range(1, reruns + 1):
        run = chaos.run_playbook(playbook, env, timeout=900, **extra)
        if run.ok:
            return attempt, failures
        failures.append(f"run {attempt}: failed={run.recap.get('failed')} {run.failure()[:120]}")
    return reruns + 1, failures


def settled_row(chaos: Any, sim: Any, scenario: str, what: str, *, kv_path: str, names: list[str], domain: str, orders: int,
                used: int, reruns: int, failures: list[str], extra_note: str = "") -> Row:
    """The row of a phase run until clean: every name checked (``checks.verify``), faults counted by the simulator."""
    stats = sim.stats()
    known = known_order_ids(chaos, kv_path, {})
    ca = chaos.ca_pems(sim)
    verdicts = [verify(chaos, kv_path, n, f"{n}.{domain}", orders=orders, simulator=sim, known=known, ca=ca) for n in names]
    good = sum(v.ok for v in verdicts)
    lost, dup = sum(v.lost for v in verdicts), sum(v.duplicates for v in verdicts)
    injected, total = stats["faults_injected"], max(1, stats["total_requests"])
    shares = ", ".join(f"{k} {injected[k]} ({100 * injected[k] / total:.0f} %)" for k in ("5xx", "429", "reset"))
    problems = sorted({p for v in verdicts for p in v.problems})
    note = (f"runs until clean: {used}{'' if used <= reruns else ' (never clean)'}; SCM requests {total}; faults {shares}, "
            f"{stats['faults_after']} after SCM acted{extra_note}")
    if problems:
        note += " | " + "; ".join(problems)[:300]
    elif failures:
        note += " | e.g. " + failures[0]
    return Row(scenario, what, len(names), good, lost, dup, note, ok=good == len(names) and used <= reruns and lost == 0 and dup == 0)


def quiet_row(chaos: Any, sim: Any, env: dict[str, str], scenario: str, playbook: str = "certs.yml", **extra: Any) -> Row:
    """Faults off: one more run must change nothing and call SCM zero times."""
    before = sim.stats()["total_requests"]
    clean = chaos.run_playbook(playbook, env, **extra)
    calls = sim.stats()["total_requests"] - before
    ok = clean.ok and clean.recap.get("changed") == 0 and calls == 0
    return Row(scenario, "faults off: the next run changes nothing", 1, int(ok),
               note=f"rc={clean.rc} changed={clean.recap.get('changed')} SCM calls={calls}", ok=ok)


def run(chaos: Any, certs: int = 50, reruns: int = 8) -> list[Row]:
    sim = chaos.new_simulator()
    env = chaos.env(simulator=sim)
    kv_path, domain = "chaos-faults", "faults.example.com"
    names = [f"f{i:03d}" for i in range(certs)]
    rows = []
    sim.control("POST", "stats/reset", {})
    for phase, orders, extra in (("enroll", 1, {"expiry_window": 1}), ("renew", 2, {"expiry_window": 30})):
        # Enrolled certificates are 360 days old already, so that the renew phase finds all of them inside its window.
        sim.configure(backdate_days=360 if phase == "enroll" else 0, **FAULTS)
        used, failures = until_clean(chaos, env, reruns, kv_path=kv_path, names=names, domain=domain, **extra)
        sim.configure(**NO_FAULTS)
        rows.append(settled_row(chaos, sim, "faults", f"{phase} {certs} certificates under {FAULT_TITLE}", kv_path=kv_path, names=names,
                                domain=domain, orders=orders, used=used, reruns=reruns, failures=failures))
        sim.control("POST", "stats/reset", {})
    rows.append(quiet_row(chaos, sim, env, "faults", kv_path=kv_path, names=names, domain=domain, expiry_window=30))
    return rows
