"""The bench's Python for module processes: runs the real interpreter with the same arguments and appends the peak
resident set size (KiB) and the CPU seconds of that process to the file named by BENCH_RSS_FILE (docs/bench.md
"Fleet scale").

With BENCH_PROFILE=MODE:DIR (MODE ``cprofile``, ``cprofile-wall`` or ``tracemalloc``), a module whose AnsiballZ file name holds
BENCH_PROFILE_MODULE (default ``sectigo_certs``) runs under ``profile_module.py``, which writes its profile into DIR
(docs/bench.md "One controller's ceiling")."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time


def command(argv: list[str]) -> list[str]:
    """The interpreter's command line: the module under a profiler when BENCH_PROFILE asks for it."""
    profile = os.environ.get("BENCH_PROFILE")
    module = os.environ.get("BENCH_PROFILE_MODULE", "sectigo_certs")
    script = os.path.basename(argv[0]) if argv else ""
    if profile and script.startswith(f"AnsiballZ_{module}"):
        mode, directory = profile.split(":", 1)
        suffix = "txt" if mode == "tracemalloc" else "prof"
        out = os.path.join(directory, f"{module}-{mode}-{time.strftime('%H%M%S')}-{os.getpid()}.{suffix}")
        return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "profile_module.py"), mode, out] + argv
    return [sys.executable] + argv


def main() -> int:
    code = subprocess.call(command(sys.argv[1:]))
    target = os.environ.get("BENCH_RSS_FILE")
    if target:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.3f}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
