"""Run one module process under a profiler, for the bench's ``--profile`` (docs/bench.md "One controller's ceiling").

``python profile_module.py MODE OUT SCRIPT [ARGS...]`` runs SCRIPT (an AnsiballZ file) in this process as ``__main__``:

- ``cprofile``: a ``cProfile.Profile`` in every thread (the fleet's pool threads included), merged into one pstats
  file OUT, timed by each thread's CPU time (``time.thread_time``: a wait on Vault or SCM costs nothing, so the file
  says where the process's CPU goes); ``cprofile-wall`` times by the wall clock instead (waits included, summed over
  the threads);
- ``tracemalloc``: Python's allocations traced (10 frames); a snapshot is taken each time the traced memory passes its
  highest yet by 5 %, and the one at the peak is written to OUT as text, by line and by traceback.

Standard library only.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import runpy
import sys
import threading
import time
import tracemalloc
from typing import Any


def run_script(script: str, args: list[str]) -> int:
    sys.argv = [script] + args
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def with_cprofile(out: str, script: str, args: list[str], timer: Any) -> int:
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*_args: Any) -> None:
        profile = cProfile.Profile(timer)
        with lock:
            profiles.append(profile)
        profile.enable()

    main = cProfile.Profile(timer)
    profiles.append(main)
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        return run_script(script, args)
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        with lock:
            stats = pstats.Stats(profiles[0])
            for profile in profiles[1:]:
                try:
                    profile.disable()
                except Exception:  # pylint: disable=broad-exception-caught
                    pass
                stats.add(profile)
        stats.dump_stats(out)


def with_tracemalloc(out: str, script: str, args: list[str]) -> int:
    tracemalloc.start(10)
    best: dict[str, Any] = {"peak": 0, "snapshot": None}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            current, _peak = tracemalloc.get_traced_memory()
            if current > best["peak"] * 1.05:
                best["snapshot"], best["peak"] = tracemalloc.take_snapshot(), current

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        return run_script(script, args)
    finally:
        done.set()
        current, peak = tracemalloc.get_traced_memory()
        if current > best["peak"] or best["snapshot"] is None:
            best["snapshot"], best["peak"] = tracemalloc.take_snapshot(), current
        text = io.StringIO()
        snapshot = best["snapshot"].filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        text.write(f"traced peak {peak / 2**20:.1f} MB; snapshot at {best['peak'] / 2**20:.1f} MB, {time.strftime('%H:%M:%S')}\n\n")
        text.write("by line:\n")
        for stat in snapshot.statistics("lineno")[:40]:
            text.write(f"{stat.size / 2**20:8.2f} MB {stat.count:9d}  {stat.traceback[0]}\n")
        text.write("\nby traceback:\n")
        for stat in snapshot.statistics("traceback")[:15]:
            text.write(f"{stat.size / 2**20:8.2f} MB {stat.count:9d}\n")
            for line in stat.traceback.format()[-12:]:
                text.write(f"    {line}\n")
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text.getvalue())


def main() -> int:
    mode, out, script, *args = sys.argv[1:]
    if mode == "cprofile":
        return with_cprofile(out, script, args, time.thread_time)
    if mode == "cprofile-wall":
        return with_cprofile(out, script, args, time.perf_counter)
    if mode == "tracemalloc":
        return with_tracemalloc(out, script, args)
    raise SystemExit(f"profile_module: unknown mode {mode!r} (cprofile, cprofile-wall or tracemalloc)")


if __name__ == "__main__":
    sys.exit(main())
