"""``python tests/chaos``: the reliability proof against the live test bed (docs/reliability.md).

Starts OpenBao and the SCM simulator on loopback, runs the chosen scenarios, prints one table, and exits non-zero
when any row misses its goal (lost or duplicate orders, leaked secrets, bad input accepted or badly named).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import Chaos  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position

SCENARIOS = ("crash", "faults", "concurrent", "vault", "badinput", "runner", "raft")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/chaos", description=__doc__)
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these scenarios (repeatable)")
    parser.add_argument("--crash-reps", type=int, default=3, help="repetitions of each crash point (default 3)")
    parser.add_argument("--crash-points", nargs="*", help="only these crash points (default: all eight)")
    parser.add_argument("--fault-certs", type=int, default=50, help="certificates under sustained faults (default 50)")
    parser.add_argument("--fault-reruns", type=int, default=8, help="re-runs allowed per phase under faults (default 8)")
    parser.add_argument("--concurrent-runs", type=int, default=10, help="ansible-playbook processes started together (default 10)")
    parser.add_argument("--concurrent-certs", type=int, default=20, help="certificates they share (default 20)")
    parser.add_argument("--vault-certs", type=int, default=20, help="certificates of the fleet run Vault drops out of (default 20)")
    parser.add_argument("--runner-certs", type=int, default=400, help="certificates of the sweep 4 ansible-runner jobs share (default 400)")
    parser.add_argument("--raft-certs", type=int, default=100, help="certificates of the fleet run whose Vault leader is killed (default 100)")
    parser.add_argument("--workers", type=int, default=12, help="crash cases run side by side (default 12)")
    parser.add_argument("--verbosity", default="-vvvv", help="ansible-playbook verbosity of every run (default -vvvv)")
    parser.add_argument("--json", help="also write the results here as JSON")
    parser.add_argument("--ttl", type=float, default=3600, help="lifetime bound of every server started (default 3600 s)")
    args = parser.parse_args(argv)
    chosen = args.only or list(SCENARIOS)
    started = time.monotonic()
    chaos = Chaos(verbosity=args.verbosity, ttl=args.ttl).start()
    rows: list[report.Row] = []
    details: dict[str, object] = {}
    try:
        if "badinput" in chosen:
            import badinput
            bad = badinput.run(chaos)
            rows += badinput.rows(bad)
            details["bad_input"] = bad["verdicts"]
        if "crash" in chosen:
            import crash
            rows += report.crash_rows(crash.run(chaos, reps=args.crash_reps, workers=args.workers, points=args.crash_points))
        if "concurrent" in chosen:
            import concurrent_runs
            rows += concurrent_runs.run(chaos, runs=args.concurrent_runs, certs=args.concurrent_certs)
        if "faults" in chosen:
            import sustained
            rows += sustained.run(chaos, certs=args.fault_certs, reruns=args.fault_reruns)
        if "vault" in chosen:
            import vault_outage
            rows += vault_outage.run(chaos, certs=args.vault_certs)
        if "runner" in chosen:
            import runner_shards
            rows += runner_shards.run(chaos, certs=args.runner_certs)
        if "raft" in chosen:
            import raft_leader
            rows += raft_leader.run(chaos, certs=args.raft_certs)
        rows.append(report.secrets_row(chaos))
    except BaseException:
        print(report.table(rows), flush=True)
        raise
    finally:
        chaos.stop()
    elapsed = time.monotonic() - started
    print(report.table(rows))
    print(f"\n{len(chaos.outputs)} ansible-playbook runs at {args.verbosity or 'default verbosity'}, {elapsed:.0f} s in all")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": [row.__dict__ for row in rows], **details}, handle, indent=1, default=str)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
