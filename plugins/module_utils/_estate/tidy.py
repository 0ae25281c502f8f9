# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``sectigo_tidy``: retention of one config's records, modelled on Vault PKI's tidy (docs/inventory.md "Retention").

Each kind is opt-in: superseded (renewed or replaced: no name points at it any more), revoked, expired, cancelled,
and imported-and-unused (imported from SCM, no private key, no name points at it). A record qualifies only once its
certificate's end (``not_after``; for an order cancelled before issuance, the time it was cancelled) lies
``safety_buffer`` in the past, and never while a name points at it: a name's current certificate always stays.
Removing a record deletes its KV v2 metadata, which destroys every version (the private key included).

A status record ``tidy/<config>`` says when the last tidy started and finished and what it removed per kind.
Check mode counts the same way and neither deletes nor writes.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords

KINDS = ("superseded", "revoked", "expired", "cancelled", "imported_unused")
# Which kind a record counts as when it fits several (a revoked predecessor counts as revoked).
PRECEDENCE = ("revoked", "cancelled", "superseded", "expired", "imported_unused")
DEFAULT_SAFETY_BUFFER = "72h"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, option: str) -> float:
    """``72h``, ``3d``, ``90m``, ``30s`` or a number of seconds."""
    if isinstance(value, bool):
        raise InputError(option, f"{option} must be a duration such as 72h, 3d or 3600; got {value!r}")
    found = _DURATION.match(str(value))
    if not found:
        raise InputError(option, f"{option} must be a duration such as 72h, 3d or 3600; got {value!r}")
    return float(int(found.group(1)) * _UNITS[found.group(2)])


def status_path(config: str) -> str:
    return f"tidy/{config}"


@dataclass
class TidyRequest:
    config: str
    kinds: dict[str, bool] = field(default_factory=dict)
    safety_buffer: Any = DEFAULT_SAFETY_BUFFER
    pause_duration: Any = 0
    buffer_seconds: float = 0.0
    pause_seconds: float = 0.0

    def validate(self) -> None:
        rec.validate_name(self.config, "config")
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise InputError(f"tidy_{unknown[0]}", f"unknown kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
        self.buffer_seconds = parse_duration(self.safety_buffer, "safety_buffer")
        self.pause_seconds = parse_duration(self.pause_duration, "pause_duration")

    @property
    def enabled(self) -> list[str]:
        return [k for k in PRECEDENCE if self.kinds.get(k)]


def _ended_at(record: rec.CertRecord) -> datetime | None:
    """When the certificate ended: its ``not_after``; for an order never issued, when its last status was set."""
    if record.get("not_after"):
        return rec.parse_iso(record["not_after"])
    states = record.get("state") or []
    if record.get("status") == rec.CANCELLED and states:
        return rec.parse_iso(states[-1]["time_stamp"])
    return None


def kind_of(record: rec.CertRecord, now: datetime, enabled: list[str]) -> str | None:
    """The first enabled kind ``record`` belongs to (a record no name points at); None when it stays."""
    status = record.get("status")
    end = _ended_at(record)
    matches = {
        "revoked": status == rec.REVOKED,
        "cancelled": status == rec.CANCELLED,
        "superseded": status == rec.RENEWED or bool(record.get("replaced_to") or record.get("renewed_to")),
        "expired": end is not None and end <= now and status not in rec.PENDING_STATUSES,
        "imported_unused": bool(record.get("imported")) and not record.get("private_key"),
    }
    return next((kind for kind in enabled if matches[kind]), None)


class Tidy:
    """Plan and carry out one tidy of a config's records."""

    def __init__(self, store: Any, config: str, *, check_mode: bool = False, clock: Callable[[], datetime] = rec.utc_now,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.config = config
        self.records = CertRecords(store, config, clock)
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep

    def current(self) -> set[str]:
        """Every record a name points at (the names' current certificates): never removed."""
        out = set()
        for name in self.records.names():
            entry, _version = self.records.read_name(name)
            if entry and entry.get("cert_unique_id"):
                out.add(entry["cert_unique_id"])
            claimed = ((entry or {}).get("claim") or {}).get("record") or {}
            if claimed.get("cert_unique_id"):
                out.add(claimed["cert_unique_id"])
        return out

    def plan(self, req: TidyRequest) -> list[dict[str, Any]]:
        """The records this tidy would remove, each with its kind, oldest first."""
        now = self.clock()
        buffer = timedelta(seconds=req.buffer_seconds)
        keep = self.current()
        out = []
        for uid in sorted(self.records.ids() - keep):
            record, _version = self.records.read(uid)
            if record is None or record.get("pending"):
                continue
            end = _ended_at(record)
            if end is None or end + buffer > now:
                continue
            kind = kind_of(record, now, req.enabled)
            if kind is not None:
                out.append(dict(rec.summary(record), cert_unique_id=uid, name=record.get("name") or "", tidy_kind=kind,
                                ended_at=rec.iso(end)))
        return sorted(out, key=lambda r: (r["ended_at"], r["cert_unique_id"]))

    def check(self, req: TidyRequest) -> None:
        """Refuse bad options and an unknown config before anything is read or removed."""
        req.validate()
        if self.store.read(rec.config_path(req.config))[0] is None:
            raise InputError("config", f"config '{req.config}' does not exist in Vault; create it with sectigo.vault_pki.sectigo_config")

    def run(self, req: TidyRequest) -> dict[str, Any]:
        self.check(req)
        started = rec.iso(self.clock())
        status, version = self.store.read(status_path(req.config))
        if not self.check_mode:
            version = self.store.write(status_path(req.config), dict(status or {}, state="Running", started_at=started,
                                                                     config=req.config), version)
        planned = self.plan(req)
        counts = {kind: 0 for kind in KINDS}
        removed = []
        for position, item in enumerate(planned):
            if not self.check_mode:
                if position and req.pause_seconds:
                    self.sleep(req.pause_seconds)
                self.store.delete(rec.cert_path(req.config, item["cert_unique_id"]))
            counts[item["tidy_kind"]] += 1
            removed.append(item)
        out = {"changed": bool(removed), "removed": removed, "counts": counts, "total": len(removed),
               "started_at": started, "finished_at": rec.iso(self.clock())}
        out.update(counts)  # also flat: superseded, revoked, expired, cancelled, imported_unused
        if not self.check_mode:
            finished = {"config": req.config, "state": "Finished", "started_at": started, "finished_at": out["finished_at"],
                        "counts": counts, "total": len(removed), "safety_buffer_seconds": req.buffer_seconds}
            self.store.write(status_path(req.config), finished, version)
        return out
