"""The table the harness prints: one row per thing tried, what was lost, and whether the goal was met."""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class Row:
    scenario: str
    what: str
    tried: int
    passed: int
    lost: int = 0
    duplicates: int = 0
    note: str = ""
    ok: bool = True


def crash_rows(results: list[Any]) -> list[Row]:
    from crash import POINTS, TARGET_SECONDS  # pylint: disable=import-outside-toplevel
    rows = []
    for point in POINTS:
        mine = [r for r in results if r.point == point.key]
        if not mine:
            continue
        hit = sum(r.hit for r in mine)
        target = sum(r.target_ok for r in mine)
        eventual = sum(r.eventual_ok for r in mine)
        lost, dup = sum(r.lost for r in mine), sum(r.duplicates for r in mine)
        seconds = [r.target_seconds for r in mine if r.target_seconds is not None]
        note = f"killed {hit}/{len(mine)}; re-run ok within {TARGET_SECONDS:.0f}s: {target}/{len(mine)}; eventually ok: {eventual}/{len(mine)}"
        if seconds:
            note += f"; re-run done {min(seconds):.0f}-{max(seconds):.0f}s after the kill"
        notes = sorted({n for r in mine for n in r.notes if not r.target_ok})
        if notes:
            note += " | " + notes[0][:300]
        rows.append(Row("crash", f"{point.key}: {point.title}", len(mine), target, lost, dup, note,
                        ok=hit == len(mine) and target == len(mine) and lost == 0 and dup == 0))
    return rows


def secrets_row(chaos: Any) -> Row:
    leaks = chaos.leaks()
    found = {kind: n for kind, n in leaks.items() if n}
    note = ", ".join(f"{kind} in {n} outputs" for kind, n in found.items()) or f"searched for: {', '.join(leaks)}"
    return Row("secrets", "no secret in any output of the runs above", len(chaos.outputs), len(chaos.outputs) - max(found.values(), default=0),
               note=note, ok=not found)


def table(rows: list[Row]) -> str:
    header = ("scenario", "what was tried", "times", "passed", "lost", "dup", "goal", "notes")
    lines = [header] + [(r.scenario, r.what, str(r.tried), str(r.passed), str(r.lost), str(r.duplicates), "met" if r.ok else "MISSED", r.note)
                        for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = []
    for i, line in enumerate(lines):
        out.append(" | ".join(cell.ljust(widths[j]) for j, cell in enumerate(line[:-1])) + " | " + line[-1])
        if i == 0:
            out.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 5)
    return "\n".join(out)
