"""`make bench`, ceiling part: one controller's ceiling, N new certificates in ONE sectigo_certs run.

docs/bench.md "One controller's ceiling": the fleet path (docs/examples/fleet.yml) enrolls N = 10,000 new certificates
at 5 s simulated issuance in one ansible-playbook run, on a test bed of its own (OpenBao dev server, the SCM simulator
with its state in memory). The run is checked against absolute limits, not ratios, because a ceiling is a size:

- wall time of the whole ansible-playbook run <= 200 s;
- peak memory of the whole run <= 300 MB: the sum of the resident set sizes of ansible-playbook and every process under
  it (its forked workers, the module process), sampled every 0.2 s (tests/bench/proctree.py); the sum of their
  proportional set sizes, which counts a page shared by forked processes once, is shown beside it;
- at most 12 collect requests of any one order, exactly N orders, all issued;
- its re-run (unless --no-rerun) makes no SCM request.

The 1-minute load average is printed with the figures (at the start, at the end and the highest during the run): the
machine may be shared. --size 1000 makes a quick check (about half a minute); --profile runs the sectigo_certs module
process under cProfile or tracemalloc (tests/bench/profile_module.py) and says where the profile is.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)

from bench.run_fleet_bench import BUILD, KV_PATH, BenchFailure, Runner, names  # noqa: E402  pylint: disable=wrong-import-position
from bench.stats import render_table, write_results  # noqa: E402  pylint: disable=wrong-import-position
from testbed.testbed import TestBed  # noqa: E402  pylint: disable=wrong-import-position

FLEET = os.path.join(ROOT, "docs", "examples", "fleet.yml")


def limits_missed(run: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """The limits the run missed, one line each (nothing: all held)."""
    size = args.size
    missed = []
    first = run["first"]
    if first["seconds"] > args.max_wall:
        missed.append(f"{size} new certificates took {first['seconds']:.0f} s (> {args.max_wall:g} s)")
    if first["tree"]["rss"]["mb"] > args.max_rss:
        missed.append(f"the run of {size} peaked at {first['tree']['rss']['mb']:.0f} MB over its process tree (> {args.max_rss:g} MB)")
    if run["max_collects_per_order"] > args.max_collects:
        missed.append(f"{run['max_collects_per_order']} collects of one order (> {args.max_collects})")
    if run["orders"] != size or run["issued"] != size:
        missed.append(f"{run['orders']} SCM orders, {run['issued']} issued (want {size} and {size})")
    rerun = run.get("rerun")
    if rerun is not None and rerun["scm_requests"]:
        missed.append(f"the re-run of {size} made {rerun['scm_requests']} SCM requests (want 0)")
    return missed


def one_run(runner: Runner, args: argparse.Namespace, prefix: str, profile: str | None) -> dict[str, Any]:
    """The first run of ``args.size`` new certificates, what SCM saw of it, and its re-run."""
    sim = runner.sim()
    before = sim.stats()
    before_orders = {o["id"] for o in before["orders"]}
    before_collects = before.get("collects_per_order", {})
    fleet_vars = {"fleet_names": names(prefix, args.size), "fleet_config": "bench", "fleet_kv_path": KV_PATH,
                  "fleet_concurrency": args.concurrency, "fleet_max_timeout": args.max_timeout, "fleet_item_results": args.item_results}
    first = runner.run(FLEET, profile=profile, **fleet_vars)
    after = sim.stats()
    new_orders = [o for o in after["orders"] if o["id"] not in before_orders]
    collects = {k: v - before_collects.get(k, 0) for k, v in after.get("collects_per_order", {}).items()}
    collects = {k: v for k, v in collects.items() if v}
    out: dict[str, Any] = {"first": first, "orders": len(new_orders), "issued": sum(1 for o in new_orders if o["status"] == "Issued"),
                           "max_collects_per_order": max(collects.values(), default=0),
                           "collects_per_order_mean": round(sum(collects.values()) / max(1, len(new_orders)), 2)}
    if args.rerun:
        out["rerun"] = runner.run(FLEET, **fleet_vars)
    return out


def facts(run: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, str]]:
    first = run["first"]
    tree, load = first["tree"], first["tree"]["load_1min"]
    rows = [
        (f"{args.size} new at {args.issuance:g} s issuance, concurrency {args.concurrency}, item_results {args.item_results}: "
         "wall / CPU of the run",
         f"{first['seconds']:.1f} s / {first['cpu']:.1f} s (limit {args.max_wall:g} s)"),
        ("peak RSS of the process tree (sum) / its PSS (sum)",
         f"{tree['rss']['mb']:.0f} MB / {tree['pss']['mb']:.0f} MB (limit {args.max_rss:g} MB on RSS)"),
        ("at the peak, RSS by process", ", ".join(f"{p['name']} {p['mb']:.0f}" for p in tree["rss"]["processes"][:5])),
        ("peak RSS of the module process alone / its CPU", f"{first['rss_mb']:.0f} MB / {first['module_cpu']:.1f} s"),
        ("SCM orders, issued, collects per order (max / mean)",
         f"{run['orders']}, {run['issued']}, {run['max_collects_per_order']} / {run['collects_per_order_mean']} (limit {args.max_collects})"),
        ("SCM requests of the run", f"{first['scm_requests']}"),
        ("CPU during the run: OpenBao / the SCM simulator", f"{first['server_cpu']['openbao']:.1f} s / {first['server_cpu']['simulator']:.1f} s"),
        ("load average (1 min) at start / end / highest", f"{load['start']:.2f} / {load['end']:.2f} / {load['max']:.2f} on {os.cpu_count()} CPUs"),
    ]
    rerun = run.get("rerun")
    if rerun is not None:
        rows.append(("re-run: wall / CPU / peak RSS of the tree / SCM requests",
                     f"{rerun['seconds']:.1f} s / {rerun['cpu']:.1f} s / {rerun['tree']['rss']['mb']:.0f} MB / {rerun['scm_requests']}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=10000, help="new certificates in the one run (default 10000; 1000 for a quick check)")
    parser.add_argument("--issuance", type=float, default=5.0, help="simulated issuance delay (default 5 s)")
    parser.add_argument("--concurrency", type=int, default=16, help="sectigo_certs' concurrency (default 16)")
    parser.add_argument("--max-timeout", type=int, default=900, help="sectigo_certs' max_timeout (default 900 s)")
    parser.add_argument("--max-wall", type=float, default=200.0, help="limit on the run's wall time (default 200 s)")
    parser.add_argument("--max-rss", type=float, default=300.0, help="limit on the process tree's peak RSS (default 300 MB)")
    parser.add_argument("--max-collects", type=int, default=12, help="limit on the collects of one order (default 12)")
    parser.add_argument("--item-results", choices=("auto", "full", "brief"), default="auto",
                        help="sectigo_certs' item_results (default auto: brief above 1,000 certificates)")
    parser.add_argument("--no-rerun", dest="rerun", action="store_false", help="skip the re-run (which must make no SCM request)")
    parser.add_argument("--profile", choices=("cprofile", "cprofile-wall", "tracemalloc"),
                        help="run the sectigo_certs module process of the first run under this profiler (slower: the "
                             "limits are not checked); the profile goes to .build/bench/profile")
    parser.add_argument("--output", default=os.path.join(BUILD, "bench", "ceiling.json"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"parameters": vars(args)}
    started = time.monotonic()
    profile = None
    if args.profile:
        directory = os.path.join(BUILD, "bench", "profile")
        os.makedirs(directory, exist_ok=True)
        profile = f"{args.profile}:{directory}"
    with TestBed(ttl=3600, issue_delay=args.issuance) as bed:
        runner = Runner(bed, verbose=not args.quiet, hashi_vault=False)
        try:
            runner.run("setup.yml")
            run = one_run(runner, args, f"c{args.size}-{int(time.time())}", profile)
        except BenchFailure as exc:
            print(f"make bench (ceiling): {exc}", file=sys.stderr)
            return 2
    rows = facts(run, args)
    print()
    print(render_table(("fact", "value"), rows))
    failures = [] if args.profile else limits_missed(run, args)
    if args.profile:
        print(f"\nprofile of the module process: {profile.split(':', 1)[1]} (limits not checked under a profiler)")
    results.update(run=run, facts=rows, failures=failures, wall_seconds=round(time.monotonic() - started, 1))
    return write_results(results, args.output, ROOT, failures)


if __name__ == "__main__":
    sys.exit(main())
