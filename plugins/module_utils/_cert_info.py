"""Read-only queries over the certificates of a config (``sectigo_cert_info``): Vault only, no SCM."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._crypto import days_remaining
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_path, name_path, validate_name

SUMMARY_KEYS = ("name", "cert_unique_id", "certificate_type", "status", "domain", "email", "subject_alt_names", "serial_number",
                "not_after", "profile_id")


@dataclass
class CertInfoQuery:
    config: str
    name: str | None = None
    cert_unique_id: str | None = None
    statuses: list[str] | None = None
    expiring_within_days: int | None = None
    include_private_key: bool = False


def _summary(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    out = {k: record.get(k) for k in SUMMARY_KEYS if record.get(k) is not None}
    if record.get("not_after"):
        out["days_remaining"] = days_remaining(record["not_after"], now)
    return out


def query_certificates(store: Any, query: CertInfoQuery, clock: Callable[[], datetime] = rec.utc_now) -> dict[str, Any]:
    validate_name(query.config, "config")
    now = clock()
    if query.name or query.cert_unique_id:
        uid = query.cert_unique_id
        if query.name:
            validate_name(query.name, "name")
            entry, _version = store.read(name_path(query.config, query.name))
            uid = (entry or {}).get("cert_unique_id")
        record, _version = store.read(cert_path(query.config, uid)) if uid else (None, 0)
        if record is None:
            raise InputError("name" if query.name else "cert_unique_id",
                             f"no certificate '{query.name or query.cert_unique_id}' in config '{query.config}'")
        return {"certificates": [_summary(record, now)], "certificate": rec.public_view(record, query.include_private_key)}
    summaries = []
    for name in store.list(f"names/{query.config}"):
        if name.endswith("/"):
            continue
        entry, _version = store.read(name_path(query.config, name))
        uid = (entry or {}).get("cert_unique_id")
        record, _version = store.read(cert_path(query.config, uid)) if uid else (None, 0)
        if record is None:
            # A claim whose order is not yet saved: show it as requested.
            summaries.append({"name": name, "status": rec.REQUESTED})
            continue
        summary = _summary(record, now)
        summary["name"] = name
        summaries.append(summary)
    if query.statuses:
        summaries = [s for s in summaries if s.get("status") in query.statuses]
    if query.expiring_within_days is not None:
        summaries = [s for s in summaries if "days_remaining" in s and s["days_remaining"] <= query.expiring_within_days]
    return {"certificates": sorted(summaries, key=lambda s: s["name"])}
