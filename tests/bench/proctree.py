"""The memory of a whole process tree over time, for the bench's ceiling run (docs/bench.md "One controller's ceiling").

A thread samples, every ``interval`` seconds, every process under one root (the root included): ``ansible-playbook``,
its forked workers, the module process and its wrapper. Each sample sums their resident set sizes (``/proc/PID/statm``)
and, every ``pss_every`` samples, their proportional set sizes (``/proc/PID/smaps_rollup``: a page shared by k processes
counts 1/k to each, so forked workers are not counted twice). The peak of each sum is kept, with what each process held
at that moment, and the 1-minute load average is read once a second.

Linux only (``/proc``); standard library only. ``tests/bench/tests/test_proctree.py`` covers it.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(text: str) -> tuple[str, int]:
    """``(command name, parent pid)`` of a ``/proc/PID/stat`` line (the name may hold spaces and parentheses)."""
    head, _sep, tail = text.rpartition(")")
    name = head.split("(", 1)[1] if "(" in head else ""
    return name, int(tail.split()[1])


def parse_statm_rss(text: str) -> int:
    """Resident bytes from a ``/proc/PID/statm`` line (its second field, in pages)."""
    return int(text.split()[1]) * PAGE


def parse_pss(text: str) -> int:
    """Proportional set size in bytes from ``/proc/PID/smaps_rollup`` (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:  # the process ended between the listing and the read
        return None


def processes() -> dict[int, tuple[str, int]]:
    """Every process of the machine: pid -> (command name, parent pid)."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            text = _read(f"/proc/{entry}/stat")
            if text:
                try:
                    out[int(entry)] = parse_stat(text)
                except (IndexError, ValueError):
                    continue
    return out


def parse_cpu(text: str) -> float:
    """User plus system CPU seconds of a ``/proc/PID/stat`` line (fields 14 and 15, in clock ticks)."""
    fields = text.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_seconds(root: int) -> float:
    """CPU seconds used so far by ``root`` and every process under it that is still running."""
    total = 0.0
    for pid in tree(root, processes()):
        text = _read(f"/proc/{pid}/stat")
        if text:
            total += parse_cpu(text)
    return total


def tree(root: int, table: dict[int, tuple[str, int]]) -> dict[int, str]:
    """``root`` and every process under it in ``table``: pid -> command name."""
    children: dict[int, list[int]] = {}
    for pid, (_name, ppid) in table.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, str] = {}
    todo = [root] if root in table else []
    while todo:
        pid = todo.pop()
        out[pid] = table[pid][0]
        todo.extend(children.get(pid, []))
    return out


@dataclass
class TreePeak:
    """The peak of one sum over the tree: bytes, seconds after the start, and what each process held then."""

    total: int = 0
    at: float = 0.0
    parts: list[tuple[str, int]] = field(default_factory=list)

    def offer(self, total: int, at: float, parts: list[tuple[str, int]]) -> None:
        if total > self.total:
            self.total, self.at, self.parts = total, at, sorted(parts, key=lambda p: -p[1])

    def as_dict(self) -> dict[str, object]:
        return {"mb": round(self.total / 2**20, 1), "at_s": round(self.at, 1),
                "processes": [{"name": name, "mb": round(size / 2**20, 1)} for name, size in self.parts]}


def per_process(members: dict[int, str], proc_file: str, parse: Callable[[str], int]) -> list[tuple[str, int]]:
    """``(name[pid], parse(/proc/<pid>/<proc_file>))`` of each member still running."""
    out = []
    for pid, name in members.items():
        text = _read(f"/proc/{pid}/{proc_file}")
        if text:
            out.append((f"{name}[{pid}]", parse(text)))
    return out


class TreeSampler:
    """Sample the tree under ``root`` from a thread until ``stop()``; ``rss`` and ``pss`` hold the peaks."""

    def __init__(self, root: int, interval: float = 0.2, pss_every: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self.interval = interval
        self.pss_every = max(1, pss_every)
        self.clock = clock
        self.rss = TreePeak()
        self.pss = TreePeak()
        self.samples = 0
        self.load: list[float] = []
        self.max_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)
        self._started = clock()

    def start(self) -> TreeSampler:
        self.load.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.load.append(os.getloadavg()[0])

    def sample(self) -> None:
        """One sample of the tree (also called by the thread)."""
        members = tree(self.root, processes())
        self.max_processes = max(self.max_processes, len(members))
        at = self.clock() - self._started
        rss = per_process(members, "statm", parse_statm_rss)
        self.rss.offer(sum(size for _n, size in rss), at, rss)
        if self.samples % self.pss_every == 0:
            pss = per_process(members, "smaps_rollup", parse_pss)
            self.pss.offer(sum(size for _n, size in pss), at, pss)
        self.samples += 1

    def _loop(self) -> None:
        last_load = self.clock()
        while not self._stop.is_set():
            self.sample()
            if self.clock() - last_load >= 1.0:
                self.load.append(os.getloadavg()[0])
                last_load = self.clock()
            self._stop.wait(self.interval)

    def as_dict(self) -> dict[str, object]:
        return {"rss": self.rss.as_dict(), "pss": self.pss.as_dict(), "samples": self.samples, "max_processes": self.max_processes,
                "load_1min": {"start": self.load[0] if self.load else None, "end": self.load[-1] if self.load else None,
                              "max": max(self.load) if self.load else None}}
