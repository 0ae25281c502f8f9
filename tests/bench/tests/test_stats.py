"""The pure helpers of ``make bench`` (no timing here: the bench itself is ``make bench``)."""
from __future__ import annotations

import math

from bench import stats


def test_ratio_and_a_baseline_of_nothing():
    assert stats.ratio(3.0, 1.5) == 2.0
    assert math.isnan(stats.ratio(1.0, 0.0))
    assert math.isnan(stats.ratio(1.0, -0.2))


def test_summary_takes_the_median_and_range_without_nans():
    assert stats.summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert stats.summary([4.0, 1.0, float("nan"), 2.0, 3.0])["median"] == 2.5
    assert all(math.isnan(v) for v in stats.summary([float("nan")]).values())
    assert all(math.isnan(v) for v in stats.summary([]).values())


def test_format_ratio():
    assert stats.format_ratio([1.234, 1.1, 1.4]) == "1.23 [1.10\u20131.40]"
    assert stats.format_ratio([2.0]) == "2.00 [2.00\u20132.00]"
    assert stats.format_ratio([]) == "n/a"
    assert stats.format_ratio([float("nan")]) == "n/a"


def test_format_quantity():
    assert stats.format_quantity(3.2149, "s") == "3.21 s"
    assert stats.format_quantity(151.6, "ms") == "152 ms"
    assert stats.format_quantity(12, "") == "12"
    assert stats.format_quantity(float("nan"), "s") == "n/a"


def test_render_table_pads_columns_and_rules_the_header():
    text = stats.render_table(("metric", "ratio"), [("a", "1.00"), ("longer name", "12.50")])
    assert text.splitlines() == [
        "metric       ratio",
        "-----------  -----",
        "a            1.00",
        "longer name  12.50",
    ]


def test_recap_of_localhost():
    out = "PLAY RECAP *****\nlocalhost                  : ok=3    changed=0    unreachable=0    failed=0    skipped=1\n"
    assert stats.recap(out) == {"ok": 3, "changed": 0, "unreachable": 0, "failed": 0, "skipped": 1}
    assert not stats.recap("ERROR! the playbook could not be found")


def test_vault_route_folds_names_ids_and_queries():
    assert stats.vault_route("GET", "/v1/secret/data/bench/names/bench/bench-007") == "GET /v1/secret/data/bench/names/bench/{name}"
    assert stats.vault_route("GET", "/v1/secret/data/bench/certs/bench/1234_demo?version=2") == "GET /v1/secret/data/bench/certs/bench/{id}"
    assert stats.vault_route("LIST", "/v1/secret/metadata/bench/certs/bench") == "LIST /v1/secret/metadata/bench/certs/bench"


def test_metric_row_reports_medians_and_per_round_ratios():
    row = stats.metric_row("m", [1.0, 2.0, 3.0], [2.0, 4.0, 9.0], "s", [2.0, 2.0, 3.0])
    assert row["baseline"] == 2.0 and row["measured"] == 4.0
    assert row["ratio"] == {"median": 2.0, "min": 2.0, "max": 3.0}
    assert row["ratios"] == [2.0, 2.0, 3.0] and row["rounds"] == 3 and row["unit"] == "s"
