# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The expiry report of one or more configs, from Vault alone (docs/reporting.md).

``gather`` reads every current certificate of each config (no SCM call) into rows; ``build`` turns the rows into
the report's facts (counts by status, expiry by week per config, renewal load per day, the gate); ``render``
writes ``report.html`` (one self-contained file, pictures inline), ``expiry.png``, ``report.json`` and
``metrics.prom`` (Prometheus text exposition, metric names of the x509-certificate-exporter). matplotlib and
prometheus_client are needed for the report only and imported when it is rendered.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime, timedelta
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertQuery, KvStore, query_certificates
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import plan

FILES = ("report.html", "expiry.png", "report.json", "metrics.prom")


# ---- gathering ---------------------------------------------------------------------------------------


def gather(store: KvStore, configs: list[str], clock: Callable[[], datetime] = rec.utc_now) -> list[dict[str, Any]]:
    """One row per current certificate of each config: the public facts the report shows."""
    if not configs:
        raise InputError("configs", "configs must name at least one config")
    rows = []
    for config in configs:
        def annotate(conf: dict[str, Any], summary: dict[str, Any], record: rec.CertRecord) -> None:
            plan.annotate(conf, summary, record)
            summary["pending_renewal"] = bool(record.get("pending")) or record.get("status") in rec.PENDING_STATUSES
            summary["not_before"] = record.get("not_before")
            summary["issuer"] = record.get("issuer")
        listing = query_certificates(store, CertQuery(config=config), clock, annotate=annotate)
        for summary in listing["certificates"]:
            rows.append(_row(config, summary))
    return rows


def _row(config: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"config": config, "name": summary.get("name"), "cert_unique_id": summary.get("cert_unique_id"),
            "subject": summary.get("domain") or summary.get("email") or "", "status": summary.get("status"),
            "serial_number": summary.get("serial_number"), "issuer": summary.get("issuer"),
            "not_before": summary.get("not_before"), "not_after": summary.get("not_after"),
            "renew_after": summary.get("renew_after"), "days_left": summary.get("days_remaining"),
            "pending_renewal": bool(summary.get("pending_renewal"))}


# ---- the facts ---------------------------------------------------------------------------------------


def _week(moment: datetime) -> str:
    monday = moment - timedelta(days=moment.weekday())
    return monday.strftime("%Y-%m-%d")


def failing(rows: list[dict[str, Any]], within_days: int | None) -> list[dict[str, Any]]:
    """The gate: issued certificates that expire within ``within_days`` days (or have expired) with no renewal pending."""
    if within_days is None:
        return []
    return [r for r in rows if r["status"] == rec.ISSUED and r["days_left"] is not None and r["days_left"] < within_days
            and not r["pending_renewal"]]


def build(rows: list[dict[str, Any]], configs: list[str], fail_within_days: int | None) -> dict[str, Any]:
    """The report's facts (``report.json`` without its time stamp)."""
    counts: dict[str, dict[str, int]] = {c: {} for c in configs}
    by_week: dict[str, dict[str, int]] = {c: {} for c in configs}
    load: dict[str, int] = {}
    for row in rows:
        status = row["status"] or "unknown"
        if status == rec.ISSUED and row["days_left"] is not None and row["days_left"] < 0:
            status = "Expired"
        counts[row["config"]][status] = counts[row["config"]].get(status, 0) + 1
        if row["not_after"] and status == rec.ISSUED:
            week = _week(rec.parse_iso(row["not_after"]))
            by_week[row["config"]][week] = by_week[row["config"]].get(week, 0) + 1
        if row["renew_after"] and status == rec.ISSUED:
            day = row["renew_after"][:10]
            load[day] = load.get(day, 0) + 1
    gate = failing(rows, fail_within_days)
    return {"configs": list(configs), "counts": counts, "expiry_by_week": {c: dict(sorted(w.items())) for c, w in by_week.items()},
            "renewal_load": dict(sorted(load.items())), "certificates": rows,
            "gate": {"fail_within_days": fail_within_days, "failing": [{"config": r["config"], "name": r["name"],
                                                                        "not_after": r["not_after"]} for r in gate]}}


def fingerprint(facts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode("utf-8")).hexdigest()


# ---- writing -----------------------------------------------------------------------------------------


def _stored_fingerprint(dest: str) -> str | None:
    try:
        with open(os.path.join(dest, "report.json"), encoding="utf-8") as handle:
            return json.load(handle).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def _write(path: str, content: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it)."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".report-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_report(dest: str, facts: dict[str, Any], *, check_mode: bool, clock: Callable[[], datetime] = rec.utc_now) -> bool:
    """Write the four files into ``dest`` unless they already show these facts; whether anything changed.

    The facts' fingerprint is kept in ``report.json``: a run that finds the same facts (and every file in place)
    writes nothing, so a second run is ``changed: false``. Check mode writes nothing.
    """
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import report_render

    stamp = fingerprint(facts)
    present = all(os.path.isfile(os.path.join(dest, name)) for name in FILES)
    if present and _stored_fingerprint(dest) == stamp:
        return False
    contents = report_render.files(facts, clock(), stamp)  # rendered in check mode too: a missing library fails the same
    if check_mode:
        return True
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise InputError("dest", f"dest '{dest}' exists and is not a directory")
    os.makedirs(dest, exist_ok=True)
    for name in FILES:
        _write(os.path.join(dest, name), contents[name])
    return True
