# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's files from its facts (``_estate/report.build``): pictures with matplotlib (Agg, no display),
the Prometheus text exposition with prometheus_client, one self-contained HTML page (docs/reporting.md).

Both libraries are imported on first use; a missing one is named with the requirements file that installs it.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import base64
import html
import io
import re
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError

REPORT_REQUIREMENTS = "requirements-report.txt"
# Per-certificate metrics: the x509-certificate-exporter's names and label style, so its dashboards and alert rules
# work; the renewal time, the pending renewal and the status follow the same style (docs/reporting.md "Metrics").
METRICS = {
    "x509_cert_not_before": "Certificate's validity start, seconds since the epoch",
    "x509_cert_not_after": "Certificate's expiry, seconds since the epoch",
    "x509_cert_expired": "1 when the certificate has expired, else 0",
    "x509_cert_renew_after": "Certificate's renewal time (expiry window and renewal spread), seconds since the epoch",
    "x509_cert_pending_renewal": "1 when an order for the certificate is placed and not yet collected, else 0",
    "x509_cert_status": "1 for the certificate's status in Vault (one series per certificate, label status)",
}
LABELS = ("config", "name", "cert_unique_id", "subject_CN", "issuer_CN", "serial_number")
_CN_RE = re.compile(r"(?:^|,)CN=((?:\\.|[^,])*)")


def _library(name: str) -> Any:
    """Import ``name`` or fail naming it: the report's libraries are not needed by the rest of the collection."""
    try:
        return __import__(name, fromlist=["_"])
    except ImportError as exc:
        raise OperationError(f"Failed to render the report: the Python library '{name.split('.')[0]}' is not installed on the "
                             f"controller ({exc}); the report needs matplotlib and prometheus_client "
                             f"(pip install -r {REPORT_REQUIREMENTS})") from None


def _seconds(value: str | None) -> float | None:
    return rec.parse_iso(value).timestamp() if value else None


# ---- metrics.prom ------------------------------------------------------------------------------------


def metrics(facts: dict[str, Any]) -> str:
    """Prometheus text exposition of every certificate (node_exporter's textfile collector reads it)."""
    registry_mod = _library("prometheus_client")
    registry = registry_mod.CollectorRegistry()
    gauges = {name: registry_mod.Gauge(name, text, LABELS + (("status",) if name == "x509_cert_status" else ()), registry=registry)
              for name, text in METRICS.items()}
    for row in facts["certificates"]:
        if not row.get("cert_unique_id"):
            continue
        issuer = _CN_RE.search(row.get("issuer") or "")
        labels = {"config": row["config"], "name": row["name"] or "", "cert_unique_id": row["cert_unique_id"],
                  "subject_CN": row["subject"] or "", "issuer_CN": issuer.group(1) if issuer else "",
                  "serial_number": row.get("serial_number") or ""}
        gauges["x509_cert_status"].labels(status=row["status"] or "unknown", **labels).set(1)
        gauges["x509_cert_pending_renewal"].labels(**labels).set(1 if row["pending_renewal"] else 0)
        for name, key in (("x509_cert_not_before", "not_before"), ("x509_cert_not_after", "not_after"),
                          ("x509_cert_renew_after", "renew_after")):
            value = _seconds(row.get(key))
            if value is not None:
                gauges[name].labels(**labels).set(value)
        if row.get("days_left") is not None:
            gauges["x509_cert_expired"].labels(**labels).set(1 if row["days_left"] < 0 else 0)
    return registry_mod.generate_latest(registry).decode("utf-8")


# ---- pictures ----------------------------------------------------------------------------------------


def _pyplot() -> Any:
    matplotlib = _library("matplotlib")
    matplotlib.use("Agg")
    return _library("matplotlib.pyplot")


def _png(figure: Any, plt: Any) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _every(keys: list[str], step_days: int) -> list[str]:
    """Every date from the first to the last of ``keys`` (``YYYY-MM-DD``), ``step_days`` apart: a timeline has no gaps."""
    if not keys:
        return []
    first, last = datetime.strptime(min(keys), "%Y-%m-%d"), datetime.strptime(max(keys), "%Y-%m-%d")
    return [(first + timedelta(days=step_days * i)).strftime("%Y-%m-%d") for i in range((last - first).days // step_days + 1)]


def _ticks(axes: Any, labels: list[str]) -> None:
    """At most about 26 labelled ticks, so that a year of weeks or months of days stays readable."""
    axes.yaxis.set_major_locator(_library("matplotlib.ticker").MaxNLocator(integer=True))
    every = max(1, -(-len(labels) // 26))
    positions = list(range(0, len(labels), every))
    axes.set_xticks(positions)
    axes.set_xticklabels([labels[p] for p in positions], rotation=60, ha="right", fontsize=7)


def expiry_png(facts: dict[str, Any]) -> bytes:
    """Issued certificates by week of expiry, one stacked colour per config."""
    plt = _pyplot()
    weeks = _every(sorted({w for per in facts["expiry_by_week"].values() for w in per}), 7)
    figure, axes = plt.subplots(figsize=(10, 4))
    bottom = [0] * len(weeks)
    for config in facts["configs"]:
        values = [facts["expiry_by_week"].get(config, {}).get(w, 0) for w in weeks]
        axes.bar(range(len(weeks)), values, bottom=bottom, label=config)
        bottom = [b + v for b, v in zip(bottom, values)]
    _ticks(axes, weeks)
    axes.set_title("Certificates by week of expiry")
    axes.set_xlabel("week starting (UTC)")
    axes.set_ylabel("certificates")
    if weeks:
        axes.legend(fontsize=8)
    else:
        axes.text(0.5, 0.5, "no issued certificate", ha="center", va="center", transform=axes.transAxes)
    return _png(figure, plt)


def load_png(facts: dict[str, Any]) -> bytes:
    """Renewals per day, from each certificate's renewal time."""
    plt = _pyplot()
    days = _every(list(facts["renewal_load"]), 1)
    figure, axes = plt.subplots(figsize=(10, 3))
    axes.bar(range(len(days)), [facts["renewal_load"].get(d, 0) for d in days], color="#4c9a2a")
    _ticks(axes, days)
    axes.set_title("Renewal load per day")
    axes.set_ylabel("renewals")
    if not days:
        axes.text(0.5, 0.5, "no renewal planned", ha="center", va="center", transform=axes.transAxes)
    return _png(figure, plt)


# ---- report.html -------------------------------------------------------------------------------------

_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:13px}"
          "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eee}"
          ".warn{background:#fff3cd}.bad{background:#f8d7da}img{max-width:100%}")


def _table(head: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for position, row in enumerate(rows):
        css = f' class="{classes[position]}"' if classes and classes[position] else ""
        out.append(f"<tr{css}>" + "".join(f"<td>{html.escape('-' if v is None else str(v))}</td>" for v in row) + "</tr>")
    return "".join(out) + "</table>"


def _row_class(row: dict[str, Any], within: int | None) -> str:
    days = row.get("days_left")
    if days is None or row["status"] != rec.ISSUED:
        return ""
    if days < 0:
        return "bad"
    return "warn" if within is not None and days < within else ""


def page(facts: dict[str, Any], generated: datetime, expiry: bytes, load: bytes) -> str:
    """One HTML file with everything inline: counts, the two pictures as base64 PNG, every certificate."""
    statuses = sorted({s for per in facts["counts"].values() for s in per})
    counts = [[c] + [facts["counts"][c].get(s, 0) for s in statuses] + [sum(facts["counts"][c].values())] for c in facts["configs"]]
    certs = sorted(facts["certificates"], key=lambda r: (r["not_after"] or "9", r["config"], r["name"] or ""))
    within = facts["gate"]["fail_within_days"]
    table = _table(["config", "name", "common name or e-mail", "status", "expiry", "renewal time", "days left"],
                   [[r["config"], r["name"], r["subject"], r["status"], r["not_after"], r["renew_after"], r["days_left"]] for r in certs],
                   [_row_class(r, within) for r in certs])
    gate = facts["gate"]["failing"]
    gate_html = ""
    if within is not None:
        gate_html = (f"<p>Gate: {len(gate)} certificate(s) expire within {within} days without a pending renewal"
                     + (": " + html.escape(", ".join(f"{g['config']}/{g['name']}" for g in gate)) if gate else "") + ".</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Certificate expiry report</title>"
            f"<style>{_STYLE}</style></head><body><h1>Certificate expiry report</h1>"
            f"<p>Configs: {html.escape(', '.join(facts['configs']))}. Generated {html.escape(rec.iso(generated))} from Vault.</p>"
            f"{gate_html}<h2>Certificates by status</h2>{_table(['config'] + statuses + ['total'], counts)}"
            f"<h2>Expiry timeline</h2><img alt=\"Certificates by week of expiry\" src=\"data:image/png;base64,{base64.b64encode(expiry).decode()}\">"
            f"<h2>Renewal load</h2><img alt=\"Renewals per day\" src=\"data:image/png;base64,{base64.b64encode(load).decode()}\">"
            f"<h2>Certificates</h2>{table}</body></html>\n")


def files(facts: dict[str, Any], generated: datetime, stamp: str) -> dict[str, bytes]:
    """The four files of the report, by name."""
    import json

    expiry = expiry_png(facts)
    document = dict(facts, generated_at=rec.iso(generated), fingerprint=stamp)
    return {"report.html": page(facts, generated, expiry, load_png(facts)).encode("utf-8"), "expiry.png": expiry,
            "report.json": (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8"),
            "metrics.prom": metrics(facts).encode("utf-8")}
