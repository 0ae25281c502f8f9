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

# In the order they run.
SCENARIOS = ("badinput", "crash", "concurrent", "faults", "vault", "runner", "fleet-crash", "fleet-faults", "sweep-faults", "client", "raft")


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
    parser.add_argument("--fleet-crash-certs", type=int, default=100, help="certificates of each fleet run killed mid-flight (default 100)")
    parser.add_argument("--fleet-crash-reps", type=int, default=2, help="fleet runs killed, one after the other (default 2)")
    parser.add_argument("--fleet-fault-certs", type=int, default=50, help="certificates of the fleet run under sustained faults (default 50)")
    parser.add_argument("--sweep-fault-certs", type=int, default=50, help="due certificates the renewal role renews under faults (default 50)")
    parser.add_argument("--client-reps", type=int, default=2, help="repetitions of each lost client-certificate answer (default 2)")
    parser.add_argument("--workers", type=int, default=12, help="crash and client cases run side by side (default 12)")
    parser.add_argument("--verbosity", default="-vvvv", help="ansible-playbook verbosity of every run (default -vvvv)")
    parser.add_argument("--json", help="also write the results here as JSON")
    parser.add_argument("--ttl", type=float, default=3600, help="lifetime bound of every server started (default 3600 s)")
    args = parser.parse_args(argv)
    chosen = args.only or list(SCENARIOS)
    started = time.monotonic()
    chaos = Chaos(verbosity=args.verbosity, ttl=args.ttl).start()
    rows: list[report.Row] = []
    details: dict[str, object] = {}
    took: dict[str, float] = {}
    try:
        for name in SCENARIOS:
            if name in chosen:
                began = time.monotonic()
                rows += _scenario(name, chaos, args, details)
                took[name] = round(time.monotonic() - began)
        rows.append(report.secrets_row(chaos))
    except BaseException:
        print(report.table(rows), flush=True)
        raise
    finally:
        chaos.stop()
    elapsed = time.monotonic() - started
    print(report.table(rows))
    print(f"\n{len(chaos.outputs)} ansible-playbook runs at {args.verbosity or 'default verbosity'}, {elapsed:.0f} s in all; "
          f"seconds per scenario: {', '.join(f'{k} {v:.0f}' for k, v in took.items())}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": [row.__dict__ for row in rows], "seconds": took, **details}, handle, indent=1, default=str)
    return 0 if all(row.ok for row in rows) else 1


def _scenario(name: str, chaos: Chaos, args: argparse.Namespace, details: dict[str, object]) -> list[report.Row]:
    """The rows of one scenario (its module is imported only when it runs)."""
    # pylint: disable=import-outside-toplevel
    if name == "badinput":
        import badinput
        bad = badinput.run(chaos)
        details["bad_input"] = bad["verdicts"]
        return badinput.rows(bad)
    if name == "crash":
        import crash
        return report.crash_rows(crash.run(chaos, reps=args.crash_reps, workers=args.workers, points=args.crash_points))
    if name == "concurrent":
        import concurrent_runs
        return concurrent_runs.run(chaos, runs=args.concurrent_runs, certs=args.concurrent_certs)
    if name == "faults":
        import sustained
        return sustained.run(chaos, certs=args.fault_certs, reruns=args.fault_reruns)
    if name == "vault":
        import vault_outage
        return vault_outage.run(chaos, certs=args.vault_certs)
    if name == "runner":
        import runner_shards
        return runner_shards.run(chaos, certs=args.runner_certs)
    if name == "raft":
        import raft_leader
        return raft_leader.run(chaos, certs=args.raft_certs)
    if name == "client":
        import client_lost
        return client_lost.run(chaos, reps=args.client_reps, workers=args.workers)
    import fleet_chaos
    if name == "fleet-crash":
        return fleet_chaos.crash(chaos, certs=args.fleet_crash_certs, reps=args.fleet_crash_reps)
    if name == "fleet-faults":
        return fleet_chaos.faults(chaos, certs=args.fleet_fault_certs, reruns=args.fault_reruns)
    return fleet_chaos.sweep(chaos, certs=args.sweep_fault_certs, reruns=args.fault_reruns)


if __name__ == "__main__":
    sys.exit(main())
