# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``sectigo_inventory`` with ``sync: true``: what changed in SCM outside the collection, written into Vault (docs/inventory.md).

Incremental (the default): a few reports from the last sync's day (kept in ``inventory/<config>``) with one
day of overlap, de-duplicated by id: revoked by revocation date, expired by expiration date, and issued by
issuance date (a replaced order is issued again under its id with another serial; a renewal is a new order).
Full (``full: true``): one report of every certificate, compared with every known record. Only records of
changed certificates are read and written, each with a state-history entry whose ``source`` is ``scm``.
"""
from __future__ import annotations

import datetime
import re
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def name_part(value: Any) -> str:
    """A value as it may stand in a name: ``*`` becomes ``wildcard``, ``@`` ``_at_``, anything else not allowed ``_``."""
    text = str(value if value is not None else "").replace("*", "wildcard").replace("@", "_at_")
    return _NOT_IN_NAME.sub("_", text)


OVERLAP = datetime.timedelta(days=1)
SOURCE = "scm"


def state_path(config: str) -> str:
    return f"inventory/{config}"


class Sync:
    """Compare one config's known records with SCM; ``changes`` lists what was recorded (or would be, in check mode)."""

    def __init__(self, store: Any, records: CertRecords, listing: Any, *, customer_uri: str, config_type: str,
                 check_mode: bool, clock: Callable[[], datetime.datetime]) -> None:
        self.store = store
        self.records = records
        self.listing = listing
        self.customer_uri = customer_uri
        self.client = config_type == rec.CLIENT_CERT
        self.check_mode = check_mode
        self.clock = clock
        self.changes: list[dict[str, Any]] = []
        self.renewals: list[tuple[Any, str, str]] = []  # (new entry, name, old uid): imported by the caller

    # ---- the state of the last sync

    def last_day(self, config: str) -> tuple[datetime.date | None, int]:
        data, version = self.store.read(state_path(config))
        day = (data or {}).get("last_sync_day")
        return (datetime.date.fromisoformat(day) if day else None), version

    def remember(self, config: str, version: int, counts: dict[str, int]) -> None:
        if self.check_mode:
            return
        now = self.clock()
        self.store.write(state_path(config), {"config": config, "last_sync_day": now.date().isoformat(), "last_sync_at": rec.iso(now),
                                              "changed_outside": counts}, version)

    # ---- asking SCM

    def _report(self, **criteria: Any) -> list[dict[str, Any]]:
        reports = self.listing.reports
        return reports.client_certificates(**criteria) if self.client else reports.ssl_certificates(**criteria)

    def _id(self, item: dict[str, Any]) -> int:
        return int(item["orderNumber"] if self.client else item["id"])

    def events(self, since: datetime.date | None) -> dict[str, list[dict[str, Any]]]:
        """SCM's revoked, expired and (re)issued certificates since ``since`` (None: every certificate)."""
        today = self.clock().date()
        if since is None:
            return {"revoked": self._report(status="revoked"), "expired": self._report(status="expired"),
                    "issued": self._report(status="issued")}
        start, until = since - OVERLAP, today + OVERLAP
        return {"revoked": self._report(status="revoked", date_attribute="revoked", since=start, until=until),
                "expired": self._report(status="expired", date_attribute="expires", since=start, until=until),
                "issued": self._report(status="any", date_attribute="issued", since=start, until=until)}

    # ---- writing what changed

    def apply(self, events: dict[str, list[dict[str, Any]]], known: set[str], taken: Callable[[str], str | None]) -> None:
        for kind in ("revoked", "expired"):
            for item in events[kind]:
                uid = rec.cert_unique_id(self._id(item), self.customer_uri)
                if uid in known:
                    self._record(uid, kind, item)
        for item in events["issued"]:
            uid = rec.cert_unique_id(self._id(item), self.customer_uri)
            if uid in known:
                if item.get("replaced"):  # only a replaced order can carry another serial under its id
                    self._replaced(uid, item)
            else:
                self._renewal(item, taken)

    def _record(self, uid: str, kind: str, item: dict[str, Any]) -> None:
        record, version = self.records.read(uid)
        if record is None:
            return
        if kind == "revoked" and record.get("status") == rec.REVOKED:
            return
        if kind == "expired" and any(s.get("status") == "Expired" for s in record.get("state", [])):
            return
        now = self.clock()
        self.changes.append({"cert_unique_id": uid, "name": record.get("name"), "change": kind, "source": SOURCE,
                             "serial_number": record.get("serial_number")})
        if self.check_mode:
            return
        if kind == "revoked":
            record["revoked"] = {"at": item.get("revoked") or rec.iso(now), "source": SOURCE, "seen_at": rec.iso(now)}
            rec.set_status(record, rec.REVOKED, now, reason="revoked in SCM outside the collection", source=SOURCE)
        else:
            # A record keeps its status; the history says SCM shows it expired.
            record.setdefault("state", []).append({"status": "Expired", "time_stamp": rec.iso(now), "source": SOURCE,
                                                   "reason": "expired in SCM"})
        self.records.write(record, version)

    def _replaced(self, uid: str, item: dict[str, Any]) -> None:
        serial = item.get("serialNumber")
        if not serial or self.client:
            return
        record, version = self.records.read(uid)
        if record is None or not record.get("serial_number"):
            return
        ours = str(record["serial_number"]).replace(":", "").upper().lstrip("0")
        if str(serial).replace(":", "").upper().lstrip("0") == ours or record.get("pending"):
            return
        now = self.clock()
        self.changes.append({"cert_unique_id": uid, "name": record.get("name"), "change": "replaced", "source": SOURCE,
                             "serial_number": record.get("serial_number")})
        if self.check_mode:
            return
        record["replaced_outside"] = {"serial_number": serial, "seen_at": rec.iso(now), "source": SOURCE}
        record.setdefault("state", []).append({"status": "Replaced", "time_stamp": rec.iso(now), "source": SOURCE,
                                               "reason": "replaced in SCM outside the collection; the key in Vault is not the new certificate's"})
        self.records.write(record, version)

    def _renewal(self, item: dict[str, Any], taken: Callable[[str], str | None]) -> None:
        """A new order for a name Vault holds, whose current order SCM shows renewed: the name follows it."""
        name = name_part(item.get("email") if self.client else item.get("commonName"))
        old_uid = taken(name) if name else None
        if not old_uid:
            return
        record, _version = self.records.read(old_uid)
        if record is None or record.get("status") not in (rec.ISSUED,):
            return
        oid = record.get("order_number") if self.client else record.get("ssl_id")
        details = self.listing.details(oid)
        if not details.get("renewed"):
            return
        self.renewals.append((item, name, old_uid))
        self.changes.append({"cert_unique_id": old_uid, "name": name, "change": "renewed", "source": SOURCE,
                             "renewed_to": rec.cert_unique_id(self._id(item), self.customer_uri)})

    def link_renewal(self, old_uid: str, new_uid: str) -> None:
        record, version = self.records.read(old_uid)
        new, new_version = self.records.read(new_uid)
        if record is None or new is None or self.check_mode:
            return
        now = self.clock()
        record["renewed_to"] = new_uid
        rec.set_status(record, rec.RENEWED, now, reason="renewed in SCM outside the collection", source=SOURCE)
        self.records.write(record, version)
        new["renewed_from"] = old_uid
        self.records.write(new, new_version)
