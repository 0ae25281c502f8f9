"""One sweep over many certificates shared by 4 ansible-runner jobs, with shards and without (docs/scale.md).

The scenario of tests/e2e/test_runner.py (tests/e2e/runner_sweep.py) at scale: 400 certificates by default.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from report import Row

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))

from runner_jobs import install_tarball  # noqa: E402  pylint: disable=wrong-import-position
from runner_sweep import Sweep  # noqa: E402  pylint: disable=wrong-import-position


def run(chaos: Any, certs: int = 400) -> list[Row]:
    sim = chaos.new_simulator()
    work_dir = os.path.join(chaos.work_dir, "runner")
    os.makedirs(work_dir, exist_ok=True)
    sweep = Sweep(vault_addr=chaos.openbao.addr, api=chaos.openbao.api, simulator=sim,
                  scm_password=chaos.scm_password, collections=install_tarball(work_dir), work_dir=work_dir, count=certs,
                  verbosity=chaos.verbosity)
    chaos.secrets += [sweep.token, sweep.secrets["AppRole secret_id"]]
    rows = []
    for round_ in sweep.run():
        sharded = round_.what.endswith("shards")
        problems = round_.problems(sweep.names, sharded=sharded)
        twice = sum(c - 1 for c in round_.orders.values() if c > 1)
        lost = sum(1 for n in sweep.names if not round_.orders.get(n))
        note = (f"{round_.total_orders()} orders for {certs} certificates in {round_.seconds:.0f}s; job return codes {round_.rcs}"
                + (f"; handled by one job each: {sum(len(j) == 1 for j in round_.handled_by.values())}" if sharded else ""))
        if problems or (not sharded and any(round_.rcs)):
            note += " | " + "; ".join(problems + round_.failures)[:300]
        rows.append(Row("runner", f"4 ansible-runner jobs together, {round_.what}", certs, certs - lost - twice, lost, twice, note,
                        ok=not problems))
    leaks = sweep.leaks([])
    leaking_jobs = {leak.split(" in ")[1].split("/")[0] for leak in leaks}
    rows.append(Row("runner", "no secret in the jobs' stdout and events", len(sweep.jobs), len(sweep.jobs) - len(leaking_jobs),
                    note="; ".join(leaks[:3]) or "SCM password, Vault token, secret_id, PRIVATE KEY", ok=not leaks))
    return rows
