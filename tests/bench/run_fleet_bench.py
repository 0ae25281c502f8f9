"""`make bench`, fleet part: the fleet path, polling and the no-op next to community.hashi_vault and OpenBao's PKI engine.

Every figure is a ratio of runs made side by side in this one run, on one test bed (docs/bench.md "Fleet scale"):

- the fleet path (docs/examples/fleet.yml) enrolling N = 50 and 200 certificates at 5 s simulated issuance, then
  its no-op re-run; wall, CPU and the peak RSS of the module process; SCM orders and collects per order;
- one certificate at 0, 5, 20 and 60 s issuance through sectigo_cert: (time to stored - time at 0 s) / delay;
- a no-op re-run of N certificates with sectigo_cert in a loop next to community.hashi_vault's vault_kv2_get reading
  the same records in the same loop; N lookups next to N vault_kv2_get lookups; the fleet no-op of 200 next to the
  vault_kv2_get loop of 200;
- a first run of N certificates at 0 s issuance next to OpenBao's PKI engine issuing N through
  community.hashi_vault.vault_pki_generate_certificate.

community.hashi_vault comes from the `ansible` package of the package index: downloaded once into .build/cache, and
only ansible_collections/community/hashi_vault is unpacked into a collections path (tests/testbed/extra_collections.py).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
PLAYBOOKS = os.path.join(HERE, "playbooks")
BIN = os.path.dirname(sys.executable)
BUILD = os.path.join(ROOT, ".build")
KV_PATH = "bench"
sys.path.insert(0, TESTS)

from bench.proctree import TreeSampler, cpu_seconds  # noqa: E402  pylint: disable=wrong-import-position
from bench.stats import render_table, write_results  # noqa: E402  pylint: disable=wrong-import-position
from testbed.extra_collections import collection_path  # noqa: E402  pylint: disable=wrong-import-position
from testbed.testbed import TestBed, collections_path  # noqa: E402  pylint: disable=wrong-import-position


class BenchFailure(RuntimeError):
    """A run failed."""


def hashi_vault_path() -> str:
    """A collections path holding community.hashi_vault, unpacked from the `ansible` package (downloaded once)."""
    return collection_path("community.hashi_vault")


def enable_pki(addr: str, token: str) -> None:
    """OpenBao's PKI engine at pki/ with a root CA and a role `bench` that issues any name."""
    import requests  # pylint: disable=import-outside-toplevel

    headers = {"X-Vault-Token": token}
    steps = [("sys/mounts/pki", {"type": "pki", "config": {"max_lease_ttl": "87600h"}}),
             ("pki/root/generate/internal", {"common_name": "Bench Root", "ttl": "87600h", "key_type": "ec", "key_bits": 256}),
             ("pki/roles/bench", {"allow_any_name": True, "enforce_hostnames": False, "max_ttl": "8760h", "ttl": "8760h",
                                  "key_type": "ec", "key_bits": 256})]
    for path, body in steps:
        reply = requests.post(f"{addr}/v1/{path}", headers=headers, json=body, timeout=30)
        if reply.status_code >= 300:
            raise BenchFailure(f"OpenBao refused {path}: {reply.status_code} {reply.text[:300]}")


class Runner:
    """ansible-playbook runs against the test bed; the module processes' peak RSS through a wrapping interpreter."""

    def __init__(self, bed: TestBed, verbose: bool, *, hashi_vault: bool = True) -> None:
        self.bed = bed
        self.verbose = verbose
        env = dict(os.environ, **bed.env())
        paths = os.pathsep.join([collections_path("bench")] + ([hashi_vault_path()] if hashi_vault else []))
        self.rss_dir = tempfile.mkdtemp(prefix="bench-rss-", dir=BUILD)
        wrapper = os.path.join(self.rss_dir, "python")
        with open(wrapper, "w", encoding="utf-8") as handle:
            handle.write(f'#!/bin/sh\nexec "{sys.executable}" "{os.path.join(HERE, "rss_python.py")}" "$@"\n')
        os.chmod(wrapper, 0o755)
        self.wrapper = wrapper
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=paths, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_PYTHON_INTERPRETER=wrapper, ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_DEPRECATION_WARNINGS="false")
        self.env = env

    def sim(self) -> Any:
        assert self.bed.simulator is not None
        return self.bed.simulator

    def run(self, playbook: str, *, profile: str | None = None, **extra_vars: Any) -> dict[str, Any]:
        """Wall and CPU seconds, peak RSS (MB) of its module processes and of the whole process tree, and the SCM
        requests of one run. ``profile`` (``MODE:DIR``) runs the sectigo_certs module under a profiler (rss_python.py)."""
        rss_file = os.path.join(self.rss_dir, "rss.txt")
        if os.path.exists(rss_file):
            os.unlink(rss_file)
        env = dict(self.env, BENCH_RSS_FILE=rss_file)
        if profile:
            env["BENCH_PROFILE"] = profile
        path = playbook if os.path.isabs(playbook) else os.path.join(PLAYBOOKS, playbook)
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.rss_dir, delete=False) as handle:
            # Implicit localhost takes the controller's Python unless an extra var says otherwise.
            json.dump(dict(extra_vars, kv_path=KV_PATH, ansible_python_interpreter=self.wrapper), handle)
        command = [os.path.join(BIN, "ansible-playbook"), path, "-e", f"@{handle.name}"]
        scm_before = self.sim().stats()["total_requests"]
        servers = self.server_cpu()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            sampler = TreeSampler(proc.pid).start()
            try:
                stdout, stderr = proc.communicate(timeout=3600)
            except subprocess.TimeoutExpired as exc:
                proc.kill()
                proc.communicate()
                raise BenchFailure(f"{os.path.basename(path)} did not end within an hour") from exc
            finally:
                sampler.stop()
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.unlink(handle.name)
        if proc.returncode != 0:
            raise BenchFailure(f"{os.path.basename(path)} failed (exit {proc.returncode}):\n{stdout[-4000:]}\n{stderr[-2000:]}")
        rss, module_cpu = 0.0, 0.0
        if os.path.exists(rss_file):
            with open(rss_file, encoding="utf-8") as lines:
                rows = [line.split() for line in lines if line.strip()]
            rss = max((float(row[0]) for row in rows), default=0.0) / 1024
            module_cpu = sum(float(row[1]) for row in rows if len(row) > 1)
        out = {"seconds": seconds, "cpu": (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime), "rss_mb": rss,
               "module_cpu": module_cpu,
               "scm_requests": self.sim().stats()["total_requests"] - scm_before, "changed": "changed=0" not in stdout,
               "tree": sampler.as_dict(), "server_cpu": {k: round(v - servers[k], 1) for k, v in self.server_cpu().items()}}
        if self.verbose:
            shown = {k: (v if not isinstance(v, list) or len(v) < 4 else f"[{len(v)} items]") for k, v in extra_vars.items()}
            print(f"  {os.path.basename(path):<12} {json.dumps(shown):<60} {seconds:7.2f} s  CPU {out['cpu']:6.2f} s  "
                  f"RSS {rss:5.0f} MB  SCM {out['scm_requests']}", flush=True)
        return out

    def server_cpu(self) -> dict[str, float]:
        """CPU seconds used so far by OpenBao and by the SCM simulator (each with the processes under it)."""
        assert self.bed.openbao is not None and self.bed.simulator is not None
        return {"openbao": cpu_seconds(self.bed.openbao.pid), "simulator": cpu_seconds(self.bed.simulator.pid)}

    def delay(self, seconds: float) -> None:
        self.sim().configure(issue_delay=seconds)


def names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i:03d}" for i in range(count)]


def record_paths(bed: TestBed, prefix: str, count: int) -> list[str]:
    """The records' paths under the mount `secret`, from their name entries."""
    import requests  # pylint: disable=import-outside-toplevel

    assert bed.openbao is not None
    out = []
    for name in names(prefix, count):
        reply = requests.get(f"{bed.openbao.addr}/v1/secret/data/{KV_PATH}/names/bench/{name}",
                             headers={"X-Vault-Token": bed.openbao.token}, timeout=30)
        reply.raise_for_status()
        out.append(f"{KV_PATH}/certs/bench/{reply.json()['data']['data']['cert_unique_id']}")
    return out


def fleet(runner: Runner, prefix: str, count: int, concurrency: int) -> dict[str, Any]:
    return runner.run(os.path.join(ROOT, "docs", "examples", "fleet.yml"), fleet_names=names(prefix, count), fleet_config="bench",
                      fleet_kv_path=KV_PATH, fleet_concurrency=concurrency, fleet_max_timeout=300)


def first_runs(runner: Runner, count: int, rounds: int, concurrency: int) -> dict[str, list[float]]:
    """Seconds of each round's first runs of ``count`` new certificates: the sectigo_cert loop, the PKI engine's loop and
    the fleet path, and the CPU seconds of the two loops (``loop_cpu``, ``pki_cpu``: the playbook and every process it
    waited for, not Vault's or the simulator's). Round 0 uses the prefixes the later comparisons read (``loop``); every
    round names new certificates."""
    out: dict[str, list[float]] = {"loop": [], "pki": [], "fleet": [], "loop_cpu": [], "pki_cpu": []}
    for number in range(rounds):
        tag = "" if number == 0 else f"r{number}"
        pair = [("loop", "fleet.yml", f"loop{tag}"), ("pki", "pki.yml", f"pki{tag}")]
        for key, playbook, prefix in pair if number % 2 == 0 else reversed(pair):
            run = runner.run(playbook, count=count, prefix=prefix)
            out[key].append(run["seconds"])
            out[f"{key}_cpu"].append(run["cpu"])
        out["fleet"].append(fleet(runner, f"fz{tag}", count, concurrency)["seconds"])
    return out


def ratio_cells(mine: list[float], ref: list[float]) -> tuple[str, str, str]:
    """The reference's and the measured median seconds, and the median [min-max] of the per-round ratios."""
    ratios = [m / r for m, r in zip(mine, ref)]
    shown = f"{statistics.median(ratios):.2f}"
    if len(ratios) > 1:
        shown += f" [{min(ratios):.2f}-{max(ratios):.2f}]"
    return f"{statistics.median(ref):.1f} s", f"{statistics.median(mine):.1f} s", shown


class _OnlyFirst(Exception):
    """--only-first: the first-run comparison is done."""


def main(argv: list[str] | None = None) -> int:  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--small", type=int, default=30, help="N of the loop comparisons (default 30)")
    parser.add_argument("--fleet", type=int, nargs="+", default=[50, 200], help="fleet sizes (default 50 200)")
    parser.add_argument("--delays", type=float, nargs="+", default=[5, 20, 60], help="issuance delays of one certificate (default 5 20 60)")
    parser.add_argument("--issuance", type=float, default=5.0, help="simulated issuance of the fleet runs (default 5 s)")
    parser.add_argument("--concurrency", type=int, default=16, help="the fleet's concurrency (default 16)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the no-op loop comparison, alternating which runs first (default 3)")
    parser.add_argument("--lookup-rounds", type=int, default=15,
                        help="rounds of the lookup comparisons (default 15: each round is two runs of about a second, whose "
                             "ratio swings by 10 to 20 %%; the median of 9 still moved by 0.06)")
    parser.add_argument("--fleet-noop-rounds", type=int, default=1,
                        help="rounds of the fleet no-op against the vault_kv2_get loop of the large fleet (default 1: that loop is long)")
    parser.add_argument("--tts-rounds", type=int, default=3, help="rounds of the one-certificate runs at each delay (default 3)")
    parser.add_argument("--first-rounds", type=int, default=1,
                        help="rounds of the first runs of --small new certificates at 0 s, alternating which loop runs first (default 1)")
    parser.add_argument("--only-first", action="store_true", help="stop after the first-run comparison (for measuring that one)")
    parser.add_argument("--output", default=os.path.join(BUILD, "bench", "fleet.json"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"parameters": vars(args)}
    failures: list[str] = []
    started = time.monotonic()
    rows: list[tuple[str, str, str, str]] = []
    with TestBed(ttl=3600) as bed:
        runner = Runner(bed, verbose=not args.quiet)
        try:
            assert bed.openbao is not None
            enable_pki(bed.openbao.addr, bed.openbao.token)
            runner.run("setup.yml")
            small, big = args.small, max(args.fleet)

            # First runs at no issuance delay: a sectigo_cert loop and the fleet path next to OpenBao's PKI engine, on new
            # names each round, alternating which of the two loops runs first.
            runner.delay(0)
            first = first_runs(runner, small, args.first_rounds, args.concurrency)
            results["first_runs"] = first
            rows.append((f"first run of {small} at 0 s: sectigo_cert loop / PKI engine loop", *ratio_cells(first["loop"], first["pki"])))
            rows.append((f"first run of {small} at 0 s: CPU of the sectigo_cert loop / of the PKI engine loop (shown, not checked)",
                         *ratio_cells(first["loop_cpu"], first["pki_cpu"])))
            rows.append((f"first run of {small} at 0 s: fleet path / PKI engine loop", *ratio_cells(first["fleet"], first["pki"])))
            # A loop of new certificates: at most 1.5 x the PKI engine's loop (docs/bench.md "A new certificate: where the time goes").
            loop_ratio = statistics.median(mine / ref for mine, ref in zip(first["loop"], first["pki"]))
            if loop_ratio > 1.5:
                failures.append(f"first run of {small} at 0 s: sectigo_cert loop / PKI engine loop: {loop_ratio:.2f} (> 1.5)")
            if args.only_first:
                raise _OnlyFirst()

            # One certificate: time to stored at each delay, against the same at 0 s run just before, per round; the
            # median of the per-round ratios (single runs of a few seconds swing by a second on a busy machine).
            tts: dict[float, list[tuple[float, float]]] = {delay: [] for delay in args.delays}
            for number in range(args.tts_rounds):
                for delay in args.delays:
                    runner.delay(0)
                    zero = runner.run("fleet.yml", count=1, prefix=f"tts0r{number}d{int(delay)}")["seconds"]
                    runner.delay(delay)
                    tts[delay].append((zero, runner.run("fleet.yml", count=1, prefix=f"tts{int(delay)}r{number}")["seconds"]))
            for delay, pairs in tts.items():
                ratios = [(stored - zero) / delay for zero, stored in pairs]
                ratio = statistics.median(ratios)
                rows.append((f"one certificate at {delay:g} s: (time to stored - at 0 s) / {delay:g} s",
                             f"{statistics.median(z for z, _s in pairs):.1f} s", f"{statistics.median(s for _z, s in pairs):.1f} s",
                             f"{ratio:.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"))
                if ratio > 1.25:
                    failures.append(f"time to stored at {delay:g} s is {ratio:.2f} x the delay (> 1.25)")
            results["time_to_stored"] = {str(delay): pairs for delay, pairs in tts.items()}

            # The fleet path at the fleet issuance delay: first run, then the no-op re-run.
            runner.delay(args.issuance)
            fleets = {}
            for size in sorted(args.fleet):
                scm = runner.sim().stats()
                before_orders = {o["id"] for o in scm["orders"]}
                before_collects = scm.get("collects_per_order", {})
                first = fleet(runner, f"f{size}", size, args.concurrency)
                after = runner.sim().stats()
                new_orders = [o for o in after["orders"] if o["id"] not in before_orders]
                collects = {k: v - before_collects.get(k, 0) for k, v in after.get("collects_per_order", {}).items()}
                noop = fleet(runner, f"f{size}", size, args.concurrency)
                ratio = first["seconds"] / (args.issuance + noop["seconds"])
                fleets[size] = {"first": first, "noop": noop, "orders": len(new_orders),
                                "issued": sum(1 for o in new_orders if o["status"] == "Issued"),
                                "max_collects_per_order": max(collects.values(), default=0), "ratio": ratio}
                rows.append((f"fleet path, {size} new at {args.issuance:g} s: first / ({args.issuance:g} s + no-op re-run)",
                             f"{args.issuance + noop['seconds']:.1f} s", f"{first['seconds']:.1f} s", f"{ratio:.2f}"))
                if ratio > 1.5:
                    failures.append(f"fleet first run of {size} is {ratio:.2f} x (issuance + no-op) (> 1.5)")
                if len(new_orders) != size or fleets[size]["issued"] != size:
                    failures.append(f"fleet of {size}: {len(new_orders)} SCM orders, {fleets[size]['issued']} issued (want {size} and {size})")
                if fleets[size]["max_collects_per_order"] > 12:
                    failures.append(f"fleet of {size}: {fleets[size]['max_collects_per_order']} collects of one order (> 12)")
                if noop["scm_requests"]:
                    failures.append(f"fleet no-op of {size}: {noop['scm_requests']} SCM requests")
            results["fleet"] = fleets
            first_big = fleets[big]["first"]
            if first_big["seconds"] > 60:
                failures.append(f"fleet first run of {big} took {first_big['seconds']:.0f} s (> 60 s)")
            if first_big["rss_mb"] > 300:
                failures.append(f"fleet module process peaked at {first_big['rss_mb']:.0f} MB (> 300 MB)")

            # No-op re-runs and lookups next to community.hashi_vault, side by side, in alternating order.
            small_paths, big_paths = record_paths(bed, "loop", small), record_paths(bed, f"f{big}", big)
            loop_names = names("loop", small)
            # What the lookup reads for a name: its name entry, then its record (docs/vault.md "Layout").
            read_paths = [path for name, record in zip(loop_names, small_paths) for path in (f"{KV_PATH}/names/bench/{name}", record)]
            pairs = {
                "noop_loop": (("fleet.yml", {"count": small, "prefix": "loop"}), ("kv2get.yml", {"paths": small_paths})),
                "lookups": (("lookups.yml", {"use": "sectigo", "names": loop_names, "paths": []}),
                            ("lookups.yml", {"use": "hashi", "names": [], "paths": small_paths})),
                "lookups_same_reads": (("lookups.yml", {"use": "sectigo", "names": loop_names, "paths": []}),
                                       ("lookups.yml", {"use": "hashi", "names": [], "paths": read_paths})),
                "fleet_noop": ((os.path.join(ROOT, "docs", "examples", "fleet.yml"),
                                {"fleet_names": names(f"f{big}", big), "fleet_config": "bench", "fleet_kv_path": KV_PATH,
                                 "fleet_concurrency": args.concurrency}),
                               ("kv2get.yml", {"paths": big_paths})),
            }
            rounds = {"noop_loop": args.rounds, "lookups": args.lookup_rounds, "lookups_same_reads": args.lookup_rounds,
                      "fleet_noop": args.fleet_noop_rounds}
            ratios: dict[str, list[float]] = {key: [] for key in pairs}
            seconds: dict[str, list[tuple[float, float]]] = {key: [] for key in pairs}
            for number in range(max(rounds.values())):
                for key, (ours, theirs) in pairs.items():
                    if number >= rounds[key]:
                        continue
                    order = [ours, theirs] if number % 2 == 0 else [theirs, ours]
                    timed = {id(spec): runner.run(spec[0], **spec[1]) for spec in order}
                    mine, ref = timed[id(ours)], timed[id(theirs)]
                    if mine["scm_requests"]:
                        failures.append(f"{key}: {mine['scm_requests']} SCM requests on a re-run")
                    ratios[key].append(mine["seconds"] / ref["seconds"])
                    seconds[key].append((ref["seconds"], mine["seconds"]))
            labels = {"noop_loop": f"no-op re-run of {small}: sectigo_cert loop / vault_kv2_get loop",
                      "lookups": f"{small} lookups: sectigo_cert / community.hashi_vault.vault_kv2_get",
                      "lookups_same_reads": f"{small} lookups: sectigo_cert / {2 * small} vault_kv2_get lookups of the same name entries and records",
                      "fleet_noop": f"no-op re-run of {big}: fleet path / vault_kv2_get loop of {big}"}
            # lookups_same_reads has no limit: it shows what the same Vault reads cost through community.hashi_vault.
            # lookups: both sides on hvac, whose import community.hashi_vault pays too (docs/bench.md): at most 1.05.
            limits = {"noop_loop": 1.0, "lookups": 1.05, "lookups_same_reads": None, "fleet_noop": 0.2}
            for key, label in labels.items():
                ref = statistics.median(s[0] for s in seconds[key])
                mine = statistics.median(s[1] for s in seconds[key])
                shown = f"{statistics.median(ratios[key]):.2f} [{min(ratios[key]):.2f}-{max(ratios[key]):.2f}]"
                rows.append((label, f"{ref:.1f} s", f"{mine:.1f} s", shown))
                if limits[key] is not None and statistics.median(ratios[key]) > limits[key]:
                    failures.append(f"{label}: {statistics.median(ratios[key]):.2f} (> {limits[key]})")
            results["comparisons"] = {"ratios": ratios, "seconds": seconds}
        except _OnlyFirst:
            pass
        except BenchFailure as exc:
            print(f"make bench (fleet): {exc}", file=sys.stderr)
            return 2
    print()
    print(render_table(("figure", "reference", "measured", "ratio"), rows))
    print()
    if args.only_first:
        results.update(rows=rows, failures=failures, wall_seconds=round(time.monotonic() - started, 1))
        return write_results(results, args.output, ROOT, failures)
    big_first = results["fleet"][max(args.fleet)]["first"]
    facts = [(f"fleet first run of {size}: wall / CPU / peak RSS of the module process",
              f"{f['first']['seconds']:.1f} s / {f['first']['cpu']:.1f} s / {f['first']['rss_mb']:.0f} MB") for size, f in results["fleet"].items()]
    facts += [(f"fleet of {size}: SCM orders, issued, most collects of one order", f"{f['orders']}, {f['issued']}, {f['max_collects_per_order']}")
              for size, f in results["fleet"].items()]
    facts += [(f"fleet no-op of {size}: wall / CPU / SCM requests", f"{f['noop']['seconds']:.1f} s / {f['noop']['cpu']:.1f} s / {f['noop']['scm_requests']}")
              for size, f in results["fleet"].items()]
    print(render_table(("fact", "value"), facts))
    results.update(rows=rows, facts=facts, failures=failures, wall_seconds=round(time.monotonic() - started, 1), big_first=big_first)
    return write_results(results, args.output, ROOT, failures)


if __name__ == "__main__":
    sys.exit(main())
