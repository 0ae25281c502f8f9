"""A client (S/MIME) certificate's order whose answer is lost: the POST reaches SCM, the answer never arrives.

Each case has its own kv path, its own proxy in front of SCM and its own address, so the cases run side by side on
one simulator (config ``chaos`` of ``config_type: client_cert``, profile 201, ``playbooks/clients.yml``). The proxy
lets the enroll POST (``/api/smime/v1/enroll``) reach the simulator, which places the order, and holds its answer:

- ``dropped``: the connection is closed at once without an answer (the run goes on and must reconcile);
- ``timeout``: the answer is held until the run gives up on it by itself (the collection's 30 s SCM timeout; its
  search for the order's marker shows when), then the connection is closed;
- ``killed``: the run is killed with SIGKILL while the answer is held (as the crash rows do for SSL).

Then the same playbook runs again. Goal: the name ends ``Issued`` on SCM's one order (``checks.verify`` with
``order_number``, the client record's id of the order): 0 orders unknown to Vault, 0 duplicates.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from checks import verify
from fleet_chaos import STALL
from proxy import HoldProxy, Rule
from report import Row

VARIANTS = {
    "dropped": "connection closed after SCM placed the order, no answer",
    "timeout": "answer held until the run timed out (30 s SCM timeout), then the connection closed",
    "killed": "run killed (SIGKILL) while the answer is held",
}
ENROLL = r"^/api/smime/v\d/enroll$"
SEARCH = r"^/api/smime/v2$"  # the list an order is looked up in by its marker
DOMAIN = "clients.example.com"


def _case(chaos: Any, sim: Any, variant: str, rep: int) -> dict[str, Any]:
    name = f"{variant}-{rep}"
    kv_path = f"chaos-client-{name}"
    proxy = HoldProxy(sim.base_url.rsplit("/api", 1)[0], ttl=chaos.ttl, name="scm")
    env = chaos.env(simulator=sim, scm_url=f"{proxy.base}/api")
    extra = {"kv_path": kv_path, "names": [name], "domain": DOMAIN}
    out: dict[str, Any] = {"notes": []}
    try:
        proxy.arm(Rule("POST", ENROLL, "response"))
        run = chaos.start_playbook("clients.yml", env, **extra)
        hit = proxy.wait_hit(120)
        out["hit"] = hit is not None
        if hit is None:
            first = run.wait(60)
            out["notes"].append(f"the enroll answer was never held (rc {first.rc}): {first.failure()[:200]}")
            return out
        if variant == "killed":
            run.kill()
        elif variant == "timeout":
            # The run gives up on the answer by itself: its search for the order's marker shows when.
            while proxy.count("GET", SEARCH) == 0 and time.monotonic() < hit.at + STALL:
                time.sleep(0.1)
            out["gave_up"] = time.monotonic() - hit.at if proxy.count("GET", SEARCH) else None
        proxy.release()
        first = run.wait(300)
        out["first"] = "killed" if variant == "killed" else ("ok" if first.ok else "failed")
        if not first.ok and variant != "killed":
            out["notes"].append(f"first run: {first.failure()[:160]}")
        out["searched"] = proxy.count("GET", SEARCH) > 0
        again = chaos.run_playbook("clients.yml", env, **extra)
        out["again_ok"] = again.ok
        out["again_changed"] = again.recap.get("changed")
        if not again.ok:
            out["notes"].append(f"re-run: {again.failure()[:160]}")
        out["posts"] = proxy.count("POST", ENROLL)
        out["verdict"] = verify(chaos, kv_path, name, f"{name}@{DOMAIN}", simulator=sim, id_field="order_number", match="email")
    finally:
        proxy.stop()
    return out


def run(chaos: Any, reps: int = 2, workers: int = 6) -> list[Row]:
    sim = chaos.new_simulator()
    cases = [(v, r) for v in VARIANTS for r in range(1, reps + 1)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda c: _case(chaos, sim, *c), cases))
    rows = []
    for variant, title in VARIANTS.items():
        mine = [res for (v, _r), res in zip(cases, results) if v == variant]
        verdicts = [res["verdict"] for res in mine if "verdict" in res]
        good = sum(1 for res in mine if res.get("again_ok") and res["verdict"].ok)
        lost, dup = sum(v.lost for v in verdicts), sum(v.duplicates for v in verdicts)
        firsts = [res.get("first", "-") + (" after a marker search" if res.get("searched") else "") for res in mine]
        gave_up = [f"{r['gave_up']:.0f}s" for r in mine if r.get("gave_up") is not None]
        note = (f"held {sum(bool(r.get('hit')) for r in mine)}/{len(mine)}; first run: {', '.join(firsts)}; "
                f"re-run ok {sum(bool(r.get('again_ok')) for r in mine)}/{len(mine)} (changed {[r.get('again_changed') for r in mine]}); "
                f"enroll POSTs {[r.get('posts') for r in mine]}" + (f"; the run gave up on the answer after {', '.join(gave_up)}" if gave_up else ""))
        problems = sorted({p for v in verdicts for p in v.problems} | {n for r in mine for n in r["notes"]})
        if problems:
            note += " | " + "; ".join(problems)[:300]
        rows.append(Row("client", f"client (S/MIME) enroll, {title}", len(mine), good, lost, dup, note,
                        ok=good == len(mine) and lost == 0 and dup == 0))
    return rows
