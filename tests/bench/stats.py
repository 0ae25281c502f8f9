"""Helpers of ``make bench``: ratios per round, their median and range, the table, the PLAY RECAP, the results file.

Standard library only; ``tests/bench/tests/test_stats.py`` covers them.
"""
from __future__ import annotations

import json
import math
import os
import re
import statistics
import sys
from typing import Any, Sequence

EN_DASH = "\u2013"
_RECAP_RE = re.compile(r"^localhost\s+:\s+(.*)$", re.MULTILINE)


def ratio(measured: float, baseline: float) -> float:
    """``measured / baseline``; NaN when the baseline is not positive (a ratio to nothing means nothing)."""
    if baseline <= 0:
        return float("nan")
    return measured / baseline


def summary(values: Sequence[float]) -> dict[str, float]:
    """``{"median", "min", "max"}`` of the values, NaNs left out (all NaN when nothing is left)."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        nan = float("nan")
        return {"median": nan, "min": nan, "max": nan}
    return {"median": statistics.median(finite), "min": min(finite), "max": max(finite)}


def format_ratio(values: Sequence[float]) -> str:
    """``1.23 [1.10–1.40]``: the median of the per-round ratios and their range; ``n/a`` without any."""
    stats = summary(values)
    if math.isnan(stats["median"]):
        return "n/a"
    return f"{stats['median']:.2f} [{stats['min']:.2f}{EN_DASH}{stats['max']:.2f}]"


def format_quantity(value: float, unit: str) -> str:
    """A median time or count for the table: ``3.21 s``, ``152 ms``, ``12``."""
    if math.isnan(value):
        return "n/a"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    return f"{value:g}{(' ' + unit) if unit else ''}"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, columns padded to their widest cell, a rule under the header."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip() for line in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def recap(output: str) -> dict[str, int]:
    """The PLAY RECAP counters of localhost, e.g. ``{"ok": 2, "changed": 0, "failed": 0, ...}``; {} without a recap."""
    match = _RECAP_RE.search(output)
    if not match:
        return {}
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def vault_route(method: str, path: str, names: str = r"bench-\d+") -> str:
    """A request as ``METHOD /v1/...`` with certificate names and record ids folded, so that counts group by kind."""
    path = path.split("?", 1)[0]
    path = re.sub(names, "{name}", path)
    path = re.sub(r"/\d+_[^/]+", "/{id}", path)
    return f"{method} {path}"


def metric_row(name: str, baseline: Sequence[float], measured: Sequence[float], unit: str, ratios: Sequence[float]) -> dict[str, Any]:
    """One metric: medians of baseline and measured values, the per-round ratios and their summary."""
    return {
        "metric": name,
        "unit": unit,
        "baseline": summary(baseline)["median"],
        "measured": summary(measured)["median"],
        "ratio": summary(ratios),
        "ratios": list(ratios),
        "rounds": len(ratios),
    }


def write_results(results: dict[str, Any], output: str, root: str, failures: Sequence[str]) -> int:
    """Write ``results`` as JSON to ``output``, print where and each failure; the exit status (1 when any failed)."""
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, default=str)
        handle.write("\n")
    shown = os.path.relpath(output, root) if os.path.abspath(output).startswith(root + os.sep) else output
    print(f"results: {shown}  ({results.get('wall_seconds', 0):.0f} s)")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0
