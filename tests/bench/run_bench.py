"""`make bench`: speed and scale of the collection as ratios to a baseline run side by side (see docs/bench.md).

One test bed (OpenBao dev server and the SCM simulator on loopback) serves every run. Each figure is a ratio
of two ``ansible-playbook`` runs made in the same round; the runs of a round go in a shuffled order, and the
table gives the median of the per-round ratios with their range. Absolute times depend on the machine, the
ratios much less. Counts (SCM and Vault requests) are correctness facts: an SCM request during a re-run, a
re-run that changes something, or a memoised lookup that reads Vault again make the script exit non-zero.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
PLAYBOOKS = os.path.join(HERE, "playbooks")
BIN = os.path.dirname(sys.executable)
KV_PATH = "bench"
sys.path.insert(0, TESTS)

from bench.stats import format_quantity, format_ratio, metric_row, ratio, recap, render_table, vault_route, write_results  # noqa: E402  pylint: disable=wrong-import-position
from bench.vault_counter import VaultCounter  # noqa: E402  pylint: disable=wrong-import-position
from testbed.testbed import TestBed, collections_path  # noqa: E402  pylint: disable=wrong-import-position


class BenchFailure(RuntimeError):
    """A run failed, or a correctness fact (no SCM request on a re-run, ...) did not hold."""


class Runner:
    """Runs the bench playbooks against the test bed and times them."""

    def __init__(self, bed: TestBed, verbose: bool = False) -> None:
        self.bed = bed
        self.verbose = verbose
        env = dict(os.environ, **bed.env())
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=collections_path("bench"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_RETRY_FILES_ENABLED="false")
        self.env = env
        self.last_cpu = 0.0

    def scm_requests(self) -> int:
        assert self.bed.simulator is not None
        return int(self.bed.simulator.stats()["total_requests"])

    def run(self, playbook: str, vault_addr: str | None = None, **extra_vars: Any) -> tuple[float, dict[str, int]]:
        """``(seconds, recap)`` of one ``ansible-playbook`` run; raises BenchFailure unless it succeeded.

        ``last_cpu`` is then the CPU seconds (user + system) of that run and every process it waited for.
        """
        env = dict(self.env)
        if vault_addr:
            env["VAULT_ADDR"] = vault_addr
        command = [os.path.join(BIN, "ansible-playbook"), os.path.join(PLAYBOOKS, playbook), "-e", json.dumps(dict(extra_vars, kv_path=KV_PATH))]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800, check=False)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.last_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        counters = recap(proc.stdout)
        if proc.returncode != 0 or not counters or counters.get("failed", 0) or counters.get("unreachable", 0):
            raise BenchFailure(f"{playbook} {extra_vars} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
        if self.verbose:
            print(f"  {playbook:<13} {json.dumps(extra_vars):<36} {seconds:6.2f} s  (CPU {self.last_cpu:6.2f} s)  changed={counters.get('changed')}",
                  flush=True)
        return seconds, counters


def variants(size: int, reads: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The timed runs of a round: (key, playbook, extra vars)."""
    return [
        ("fleet_n", "fleet.yml", {"count": size}),
        ("fleet_4n", "fleet.yml", {"count": 4 * size}),
        ("baseline_n", "baseline.yml", {"count": size}),
        ("baseline_4n", "baseline.yml", {"count": 4 * size}),
        ("lookup_1", "lookup.yml", {"reads": 1}),
        ("lookup_k", "lookup.yml", {"reads": reads}),
        ("loop_1", "lookup.yml", {"reads": 1, "use_lookup": False}),
        ("loop_k", "lookup.yml", {"reads": reads, "use_lookup": False}),
    ]


def count_vault_requests(runner: Runner, size: int, reads: int, failures: list[str]) -> dict[str, Any]:
    """Untimed runs through the counting proxy: Vault requests of a fleet re-run and of the lookup, 1 and K reads."""
    assert runner.bed.openbao is not None
    counts: dict[str, Any] = {}
    with VaultCounter(runner.bed.openbao.addr) as counter:
        for key, playbook, extra in (("fleet_n", "fleet.yml", {"count": size}), ("lookup_1", "lookup.yml", {"reads": 1}),
                                     ("lookup_k", "lookup.yml", {"reads": reads})):
            counter.reset()
            scm_before = runner.scm_requests()
            _seconds, counters = runner.run(playbook, vault_addr=counter.url, **extra)
            scm = runner.scm_requests() - scm_before
            routes: dict[str, int] = {}
            for method, path, number in counter.counts():
                route = vault_route(method, path)
                routes[route] = routes.get(route, 0) + number
            counts[key] = {"vault_requests": counter.total(), "scm_requests": scm, "routes": dict(sorted(routes.items())), "recap": counters}
            if scm:
                failures.append(f"{playbook} {extra}: {scm} SCM requests on a run that should need none")
            if counters.get("changed", 0):
                failures.append(f"{playbook} {extra} changed {counters['changed']} task(s); a re-run must change nothing")
    if counts["lookup_k"]["vault_requests"] != counts["lookup_1"]["vault_requests"]:
        failures.append(f"lookup: {reads} reads made {counts['lookup_k']['vault_requests']} Vault requests, one read "
                        f"{counts['lookup_1']['vault_requests']}: the lookup is not memoised")
    return counts


def timed_rounds(runner: Runner, size: int, reads: int, rounds: int, seed: int, failures: list[str]) -> list[dict[str, Any]]:
    """``rounds`` rounds of every variant in a shuffled order; per round the seconds of each and the SCM requests made."""
    rng = random.Random(seed)
    results = []
    for number in range(1, rounds + 1):
        order = variants(size, reads)
        rng.shuffle(order)
        if runner.verbose:
            print(f"round {number}/{rounds}", flush=True)
        times: dict[str, float] = {}
        cpu: dict[str, float] = {}
        scm: dict[str, int] = {}
        for key, playbook, extra in order:
            scm_before = runner.scm_requests()
            times[key], counters = runner.run(playbook, **extra)
            cpu[key] = runner.last_cpu
            scm[key] = runner.scm_requests() - scm_before
            if scm[key]:
                failures.append(f"round {number}: {playbook} {extra} made {scm[key]} SCM requests; a re-run must make none")
            if playbook == "fleet.yml" and counters.get("changed", 0):
                failures.append(f"round {number}: {playbook} {extra} changed {counters['changed']} task(s); a re-run must change nothing")
        results.append({"round": number, "order": [key for key, _playbook, _extra in order], "seconds": times, "cpu_seconds": cpu, "scm_requests": scm})
    return results


def metrics(rounds: list[dict[str, Any]], size: int, reads: int) -> list[dict[str, Any]]:
    def series(key: str) -> list[float]:
        return [r["seconds"][key] for r in rounds]

    fleet_n, fleet_4n, base_n, base_4n = series("fleet_n"), series("fleet_4n"), series("baseline_n"), series("baseline_4n")
    lookup_1, lookup_k, loop_1, loop_k = series("lookup_1"), series("lookup_k"), series("loop_1"), series("loop_k")
    extra = 3 * size
    fleet_item = [(b - a) / extra * 1000 for a, b in zip(fleet_n, fleet_4n)]
    base_item = [(b - a) / extra * 1000 for a, b in zip(base_n, base_4n)]
    net_n = [f - b for f, b in zip(fleet_n, base_n)]
    net_4n = [f - b for f, b in zip(fleet_4n, base_4n)]
    return [
        metric_row(f"a. fleet re-run, {size} certs vs {size} pings", base_n, fleet_n, "s", [ratio(f, b) for f, b in zip(fleet_n, base_n)]),
        metric_row(f"a. per-item cost (slope {size}->{4 * size}) vs ping", base_item, fleet_item, "ms",
                   [ratio(f, b) for f, b in zip(fleet_item, base_item)]),
        metric_row(f"b. scale: re-run {4 * size} vs {size} certs", fleet_n, fleet_4n, "s", [ratio(b, a) for a, b in zip(fleet_n, fleet_4n)]),
        metric_row(f"b. scale net of baseline ({4 * size} vs {size})", net_n, net_4n, "s", [ratio(b, a) for a, b in zip(net_n, net_4n)]),
        metric_row(f"c. lookup: {reads} reads vs 1 read", lookup_1, lookup_k, "s", [ratio(k, o) for o, k in zip(lookup_1, lookup_k)]),
        metric_row(f"c. same loop, no lookup: {reads} vs 1", loop_1, loop_k, "s", [ratio(k, o) for o, k in zip(loop_1, loop_k)]),
    ]


def print_report(parameters: dict[str, Any], table: list[dict[str, Any]], counts: dict[str, Any], scm_timed: int) -> None:
    header = ("metric", "baseline", "measured", "ratio median [min\u2013max]", "rounds")
    rows = [(m["metric"], format_quantity(m["baseline"], m["unit"]), format_quantity(m["measured"], m["unit"]),
             format_ratio(m["ratios"]), str(m["rounds"])) for m in table]
    size, reads = parameters["size"], parameters["reads"]
    fleet = counts["fleet_n"]
    count_rows = [
        ("SCM requests, all timed runs after enrollment", str(scm_timed)),
        (f"SCM requests, fleet re-run of {size}", str(fleet["scm_requests"])),
        (f"Vault requests, fleet re-run of {size}", f"{fleet['vault_requests']} ({fleet['vault_requests'] / size:.1f} per certificate)"),
        ("Vault requests, lookup 1 read", str(counts["lookup_1"]["vault_requests"])),
        (f"Vault requests, lookup {reads} reads", str(counts["lookup_k"]["vault_requests"])),
    ]
    print()
    print(f"make bench: size N={size}, lookup reads K={reads}, {parameters['rounds']} rounds, {parameters['cpus']} CPUs, "
          f"ansible-core {parameters['ansible_core']}, Python {parameters['python']}")
    print()
    print(render_table(header, rows))
    print()
    print(render_table(("count (untimed runs through a counting proxy, and the timed runs)", "value"), count_rows))
    print()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _ansible_core_version() -> str:
    try:
        from importlib.metadata import version  # pylint: disable=import-outside-toplevel
        return version("ansible-core")
    except Exception:  # pylint: disable=broad-exception-caught
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=10, help="N: certificates in the small fleet; the large one has 4N (default 10)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of every variant (default 5)")
    parser.add_argument("--reads", type=int, default=50, help="K: lookups of one certificate in the memoisation run (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order of runs within a round (default 1)")
    parser.add_argument("--output", default=os.path.join(ROOT, ".build", "bench", "results.json"), help="where to write the JSON results")
    parser.add_argument("--quiet", action="store_true", help="print only the tables, not each run")
    args = parser.parse_args(argv)
    if args.size < 1 or args.rounds < 1 or args.reads < 2:
        parser.error("--size and --rounds must be at least 1, --reads at least 2")

    parameters = {"size": args.size, "rounds": args.rounds, "reads": args.reads, "seed": args.seed, "cpus": os.cpu_count(),
                  "python": platform.python_version(), "ansible_core": _ansible_core_version(), "platform": platform.system()}
    failures: list[str] = []
    started = time.monotonic()
    with TestBed(ttl=3600) as bed:
        runner = Runner(bed, verbose=not args.quiet)
        try:
            print(f"setup: config, then enrolling {4 * args.size} certificates (not timed)", flush=True)
            runner.run("setup.yml")
            _seconds, first = runner.run("fleet.yml", count=4 * args.size)
            if first.get("changed") != 1:
                raise BenchFailure(f"the first fleet run should have enrolled (changed=1), recap {first}")
            print("counting: Vault requests through a counting proxy (not timed; also warms up)", flush=True)
            counts = count_vault_requests(runner, args.size, args.reads, failures)
            runner.run("baseline.yml", count=args.size)  # warm-up of the baseline as well
            scm_before = runner.scm_requests()
            rounds = timed_rounds(runner, args.size, args.reads, args.rounds, args.seed, failures)
            scm_timed = runner.scm_requests() - scm_before
        except BenchFailure as exc:
            print(f"make bench: {exc}", file=sys.stderr)
            return 2
    table = metrics(rounds, args.size, args.reads)
    print_report(parameters, table, counts, scm_timed)
    results = {"parameters": parameters, "metrics": table, "counts": counts, "scm_requests_timed_runs": scm_timed,
               "rounds": rounds, "failures": failures, "wall_seconds": round(time.monotonic() - started, 1)}
    return write_results(_json_safe(results), args.output, ROOT, failures)


if __name__ == "__main__":
    sys.exit(main())
