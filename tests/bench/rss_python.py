"""The bench's Python for module processes: runs the real interpreter with the same arguments and appends the peak
resident set size (KiB) of that process to the file named by BENCH_RSS_FILE (docs/bench.md "Fleet scale")."""
from __future__ import annotations

import os
import resource
import subprocess
import sys


def main() -> int:
    code = subprocess.call([sys.executable] + sys.argv[1:])
    target = os.environ.get("BENCH_RSS_FILE")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
