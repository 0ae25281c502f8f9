"""Many runs at once: N ansible-playbook processes started together on the same certificates.

A third of the names are new, a third are issued and inside their renewal window (backdated by the simulator), a
third are issued and fine. Goals: exactly one order per certificate that needed one, every run ends ok or with a
clear message, and the run after them changes nothing and calls SCM zero times.
"""
from __future__ import annotations

import re
from typing import Any

from checks import known_order_ids, verify
from report import Row

CLEAR = re.compile(r"Failed to \w+ ")


def run(chaos: Any, runs: int = 10, certs: int = 20) -> list[Row]:
    sim = chaos.new_simulator()
    env = chaos.env(simulator=sim)
    kv_path, domain = "chaos-concurrent", "concurrent.example.com"
    names = [f"c{i:02d}" for i in range(certs)]
    inside, fine = names[: certs // 3], names[certs // 3: 2 * certs // 3]
    fresh = names[2 * certs // 3:]
    sim.configure(backdate_days=360)
    setup_inside = chaos.run_playbook("certs.yml", env, kv_path=kv_path, names=inside, domain=domain, expiry_window=1)
    sim.configure(backdate_days=0)
    setup_fine = chaos.run_playbook("certs.yml", env, kv_path=kv_path, names=fine, domain=domain)
    if not (setup_inside.ok and setup_fine.ok):
        return [Row("concurrent", "setup", 1, 0, note=(setup_inside if not setup_inside.ok else setup_fine).failure()[:300], ok=False)]
    sim.control("POST", "stats/reset", {})
    started = [chaos.start_playbook("certs.yml", env, kv_path=kv_path, names=names, domain=domain) for _run in range(runs)]
    finished = [p.wait(900) for p in started]
    unclear = [r for r in finished if not r.ok and (not CLEAR.search(r.out) or "Traceback" in r.out)]
    failed = [r for r in finished if not r.ok]
    known = known_order_ids(chaos, kv_path, {})
    ca = chaos.ca_pems(sim)
    expected = {**{n: 2 for n in inside}, **{n: 1 for n in fine}, **{n: 1 for n in fresh}}
    verdicts = {n: verify(chaos, kv_path, n, f"{n}.{domain}", orders=o, simulator=sim, known=known, ca=ca) for n, o in expected.items()}
    good = sum(v.ok for v in verdicts.values())
    lost, dup = sum(v.lost for v in verdicts.values()), sum(v.duplicates for v in verdicts.values())
    posts = sum(n for k, n in sim.stats()["requests"].items() if k.startswith("POST"))
    problems = sorted({f"{n}: {p}" for n, v in verdicts.items() for p in v.problems})
    note = (f"{len(fresh)} new, {len(inside)} inside their window, {len(fine)} fine; order POSTs {posts} (needed {len(fresh) + len(inside)}); "
            f"runs ok {runs - len(failed)}/{runs}, failed with a clear message {len(failed) - len(unclear)}")
    if problems:
        note += " | " + "; ".join(problems)[:300]
    if unclear:
        note += " | unclear failure: " + unclear[0].failure()[:200]
    rows = [Row("concurrent", f"{runs} runs started together on {certs} certificates", certs, good, lost, dup, note,
                ok=good == certs and lost == 0 and dup == 0 and not unclear)]
    before = sim.stats()["total_requests"]
    after = chaos.run_playbook("certs.yml", env, kv_path=kv_path, names=names, domain=domain)
    calls = sim.stats()["total_requests"] - before
    rows.append(Row("concurrent", "the run after them changes nothing", 1, int(after.ok and after.recap.get("changed") == 0 and calls == 0),
                    note=f"rc={after.rc} changed={after.recap.get('changed')} SCM calls={calls}",
                    ok=after.ok and after.recap.get("changed") == 0 and calls == 0))
    return rows
