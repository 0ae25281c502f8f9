"""The process-tree sampler of the ceiling bench (tests/bench/proctree.py) on this machine's /proc."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import proctree

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


def test_parse_stat_takes_names_with_spaces_and_parentheses():
    line = "4242 (python (a b)) S 17 4242 4242 0 -1 4194304 1 0 0 0 250 50 0 0 20 0 1 0 100 0 0"
    assert proctree.parse_stat(line) == ("python (a b)", 17)
    assert proctree.parse_cpu(line) == pytest.approx(300 / proctree.TICKS)


def test_parse_memory_lines():
    assert proctree.parse_statm_rss("1000 250 100 1 0 200 0") == 250 * proctree.PAGE
    assert proctree.parse_pss("Rss:  2048 kB\nPss:  1024 kB\nShared_Clean: 0 kB\n") == 1024 * 1024
    assert proctree.parse_pss("") == 0


def test_tree_follows_parents_and_ignores_other_processes():
    table = {1: ("init", 0), 10: ("root", 1), 11: ("child", 10), 12: ("grandchild", 11), 20: ("other", 1)}
    assert proctree.tree(10, table) == {10: "root", 11: "child", 12: "grandchild"}
    assert proctree.tree(99, table) == {}


def test_sampler_sums_a_live_tree_and_keeps_its_peak():
    # A child that holds about 40 MB for a moment, under a shell that is part of the tree too.
    code = "import time; block = bytearray(40 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1.5)"
    with subprocess.Popen(["/bin/sh", "-c", f'"{sys.executable}" -c "{code}"; true']) as proc:
        sampler = proctree.TreeSampler(proc.pid, interval=0.05, pss_every=1).start()
        proc.wait(timeout=30)
        sampler.stop()
    data = sampler.as_dict()
    assert data["samples"] >= 5
    assert data["rss"]["mb"] >= 40 and data["pss"]["mb"] >= 40
    assert data["max_processes"] >= 2
    assert any(p["name"].startswith("python") for p in data["rss"]["processes"])
    assert data["load_1min"]["max"] is not None


def test_cpu_seconds_counts_a_busy_process():
    # The child burns 0.3 s of its own CPU time (however busy the machine), says so, then waits to be stopped.
    busy = "import sys, time\nwhile time.process_time() < 0.3: pass\nprint('done', flush=True)\ntime.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", busy], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "done"
        used = proctree.cpu_seconds(proc.pid)
        proc.kill()
    assert used >= 0.25
