# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renewal plan of a config's certificates, from Vault alone: each one's renewal time (``renew_after``)
as the sweep will decide it, for ``sectigo_cert_info``, the budget of ``sectigo_certs`` and the report
(docs/reporting.md "Renewal spread").

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import schedule
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, parse_expiry_window, resolve_option


def renew_after(config: dict[str, Any], record: dict[str, Any]) -> datetime | None:
    """When an issued certificate of ``config`` renews, with the config's defaults (None: it does not renew by
    itself: not issued, no validity dates, or ``auto_renew`` off)."""
    if record.get("status") != rec.ISSUED or not (record.get("not_before") and record.get("not_after")):
        return None
    req = CertRequest(config=str(config.get("name") or ""))
    if not resolve_option(req, config, "auto_renew"):
        return None
    not_before, not_after = rec.parse_iso(record["not_before"]), rec.parse_iso(record["not_after"])
    lifetime_days = (not_after - not_before).total_seconds() / 86400
    window_days, _warning = parse_expiry_window(resolve_option(req, config, "expiry_window"), lifetime_days)
    spread = resolve_option(req, config, "renewal_spread")
    return schedule.renew_after(not_after, window_days, spread, schedule.identity(str(config.get("name") or ""), record))


def annotate(config: dict[str, Any], summary: dict[str, Any], record: dict[str, Any]) -> None:
    """Add ``renew_after`` (ISO-8601 UTC) to a certificate's summary when it renews by itself."""
    moment = renew_after(config, record)
    if moment is not None:
        summary["renew_after"] = rec.iso(moment)
