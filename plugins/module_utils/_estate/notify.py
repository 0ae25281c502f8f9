# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notifications once per change (docs/reporting.md "Notifications").

The events are the state histories Vault already holds in each record (``state``: Issued, Revoked, ErrorCode,
TimeoutStateSaved, Cancelled entries), plus one ``expiring`` event per certificate that enters its last N days
without a pending renewal. Each event has a stable id (``<config>/<record id>/<index in the history>``).

What was delivered is kept per config and per channel at ``notify/<config>`` in Vault: a watermark time and the
ids delivered in the day before it. An event older than the watermark less that day counts as delivered; any
other event not in the list is sent, oldest first. A channel stops at its first failed delivery, and its watermark
advances only past what it delivered: the next run sends the rest, and nothing delivered is sent again.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords, KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import plan

EVENT_TYPES = ("enrolled", "renewed", "replaced", "revoked", "cancelled", "failed", "timed_out", "expiring")
TYPE_PREFIX = "com.sectigo.vault_pki.certificate."
# Events this much older than a channel's watermark still are looked at (clocks of controllers differ; a run that was
# writing a history entry while the watermark moved): their ids are kept in the channel's list for that long.
GRACE = timedelta(days=1)
_HISTORY_TYPES = {rec.REVOKED: "revoked", rec.CANCELLED: "cancelled", rec.ERROR_CODE: "failed", rec.TIMEOUT_STATE_SAVED: "timed_out"}


def notify_path(config: str) -> str:
    return f"notify/{config}"


@dataclass
class Event:
    """One change of one certificate: what is sent (CloudEvents ``data``) and its place in time."""

    id: str
    type: str
    time: str
    config: str
    data: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "time": self.time, "config": self.config, "name": self.data.get("name")}


def _issued_type(record: rec.CertRecord, issued_before: int) -> str:
    if issued_before:
        return "replaced"  # an SSL replacement in place: the same record issued again
    if record.get("renewed_from"):
        return "renewed"
    if record.get("replaced_from"):
        return "replaced"
    return "enrolled"


def _data(config: str, record: rec.CertRecord, entry: dict[str, Any] | None) -> dict[str, Any]:
    data = {"config": config, "name": record.get("name"), "cert_unique_id": record.get("cert_unique_id"),
            "common_name": record.get("domain"), "email": record.get("email"), "status": (entry or {}).get("status") or record.get("status"),
            "serial_number": record.get("serial_number"), "not_after": record.get("not_after")}
    for key in ("renewed_from", "replaced_from", "imported"):
        if record.get(key):
            data[key] = record[key]
    if entry and entry.get("reason"):
        data["reason"] = entry["reason"]
    if entry and entry.get("status") == rec.ERROR_CODE and record.get("error"):
        data["error"] = record["error"]
    if entry and entry.get("status") == rec.REVOKED and record.get("revoked"):
        data["revoked"] = {k: v for k, v in record["revoked"].items() if k in ("reason", "reason_code", "time_stamp")}
    return {k: v for k, v in data.items() if v not in (None, "")}


def record_events(config: dict[str, Any], record: rec.CertRecord, now: datetime, expiring_days: int | None) -> list[Event]:
    """The events of one record: its history, and ``expiring`` once it is inside its last ``expiring_days`` days."""
    name, uid = str(config["name"]), str(record.get("cert_unique_id") or "")
    events, issued = [], 0
    for index, entry in enumerate(record.get("state") or []):
        status = entry.get("status")
        kind = _issued_type(record, issued) if status == rec.ISSUED else _HISTORY_TYPES.get(str(status))
        issued += status == rec.ISSUED
        if kind and entry.get("time_stamp"):
            events.append(Event(f"{name}/{uid}/{index}", kind, rec.iso(rec.parse_iso(entry["time_stamp"])), name, _data(name, record, entry)))
    if expiring_days and record.get("status") == rec.ISSUED and record.get("not_after") and not record.get("pending"):
        # Entered the last N days then, or when it was issued (a certificate issued or imported that close to expiry).
        issued_at = [rec.parse_iso(e["time_stamp"]) for e in record.get("state") or [] if e.get("status") == rec.ISSUED and e.get("time_stamp")]
        entered = max([rec.parse_iso(record["not_after"]) - timedelta(days=expiring_days)] + issued_at[-1:])
        if entered <= now:
            data = dict(_data(name, record, None), days_left=rec.days_remaining(record["not_after"], now), within_days=expiring_days)
            renew_after = plan.renew_after(config, record)
            if renew_after is not None:
                data["renew_after"] = rec.iso(renew_after)
            events.append(Event(f"{name}/{uid}/expiring", "expiring", rec.iso(entered), name, data))
    return events


def config_events(store: KvStore, config: dict[str, Any], now: datetime, expiring_days: int | None) -> list[Event]:
    """Every event of a config's records (superseded ones included), oldest first."""
    records = CertRecords(store, str(config["name"]))
    events: list[Event] = []
    for uid in sorted(records.ids()):
        record, _version = records.read(uid)
        if record is not None:
            events.extend(record_events(config, record, now, expiring_days))
    return sorted(events, key=lambda e: (e.time, e.id))


# ---- the watermark of one channel ----------------------------------------------------------------------


class Channel:
    """What one channel (``webhook``, ``mail``) has delivered for one config: a watermark and the ids near it."""

    def __init__(self, state: dict[str, Any] | None, now: datetime, backlog_days: int) -> None:
        state = state or {}
        self.since = state.get("since") or rec.iso(now - timedelta(days=backlog_days))
        self.sent = set(state.get("sent") or [])

    def pending(self, events: list[Event]) -> list[Event]:
        """Events not delivered yet, oldest first."""
        floor = rec.iso(rec.parse_iso(self.since) - GRACE)
        return [e for e in events if e.time >= floor and e.id not in self.sent]

    def delivered(self, event: Event) -> None:
        self.sent.add(event.id)
        self.since = max(self.since, event.time)

    def state(self, events: list[Event]) -> dict[str, Any]:
        floor = rec.iso(rec.parse_iso(self.since) - GRACE)
        times = {e.id: e.time for e in events}
        return {"since": self.since, "sent": sorted(i for i in self.sent if times.get(i, "") >= floor)}


@dataclass
class Outcome:
    """What a run did for one config and channel."""

    config: str
    channel: str
    sent: list[Event] = field(default_factory=list)
    pending: list[Event] = field(default_factory=list)
    error: str | None = None


def check_options(channels: dict[str, Callable[[Event], None]], expiring_days: int | None, backlog_days: int) -> None:
    if not channels:
        raise InputError("webhook_url", "give webhook_url, mail_to or both: there is no channel to notify")
    if expiring_days is not None and expiring_days < 0:
        raise InputError("expiring_within_days", f"expiring_within_days must be 0 or more (0: no expiring events); got {expiring_days}")
    if backlog_days < 0:
        raise InputError("backlog_days", f"backlog_days must be 0 or more; got {backlog_days}")


def run_config(store: KvStore, config: dict[str, Any], channels: dict[str, Callable[[Event], None]], *, check_mode: bool,
               now: datetime, expiring_days: int | None, backlog_days: int) -> list[Outcome]:
    """Send a config's new events on every channel; save what each delivered (nothing in check mode)."""
    events = config_events(store, config, now, expiring_days)
    path = notify_path(str(config["name"]))
    saved, version = store.read(path)
    states = dict((saved or {}).get("channels") or {})
    outcomes = []
    for channel_name, send in channels.items():
        channel = Channel(states.get(channel_name), now, backlog_days)
        outcome = Outcome(str(config["name"]), channel_name, pending=channel.pending(events))
        if not check_mode:
            for event in outcome.pending:
                try:
                    send(event)
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    outcome.error = str(exc) or type(exc).__name__
                    break
                channel.delivered(event)
                outcome.sent.append(event)
        states[channel_name] = channel.state(events)
        outcomes.append(outcome)
    if not check_mode and (saved is None or states != (saved or {}).get("channels")):
        store.write(path, {"config_name": config["name"], "channels": states}, version)
    return outcomes
