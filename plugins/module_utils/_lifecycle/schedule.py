# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a certificate renews: its renewal time inside its expiry window (docs/reporting.md "Renewal spread").

A certificate's window is ``[not_after - window_days, not_after]`` (``window_days`` from ``expiry_window`` and
the short-lifetime guard of ``_lifecycle/request.parse_expiry_window``). With a spread ``s`` (a share of the
window, 0 to 0.9) the certificate renews from ``window_start + window * s * u`` on, where ``u`` in ``[0, 1)`` comes
from a SHA-256 of the certificate's identity (config, record id, serial number): the same on every run, on every
controller and in every process, and different from one certificate to the next, so a fleet issued on one day
renews over ``s * window`` days instead of in one wave. ``s = 0`` renews at the window's start (no spread).

Plain values in and out; no Vault, no SCM. Private to this collection: no compatibility is promised to code
outside it.
"""
from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError

# The default share of the window over which renewals are spread: a certificate renews at the latest half-way
# through its window, so at least half of the window is left for retries after its renewal time.
DEFAULT_SPREAD = 0.5
MAX_SPREAD = 0.9
_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def renewal_spread(value: Any, field: str = "renewal_spread") -> float:
    """A share of the expiry window: a number from 0 to 0.9 or a percentage from 0% to 90%."""
    share: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        share = float(value)
    elif isinstance(value, str):
        match = _PERCENT_RE.match(value)
        if match:
            share = float(match.group(1)) / 100.0
        else:
            try:
                share = float(value)
            except ValueError:
                share = None
    if share is None or not math.isfinite(share) or not 0 <= share <= MAX_SPREAD:
        raise InputError(field, f"{field} must be a share of the expiry window from 0 to {MAX_SPREAD} (or 0% to "
                                f"{MAX_SPREAD * 100:g}%), 0 for no spread; got {value!r}")
    return share


def identity(config: str, record: dict[str, Any]) -> str:
    """What a certificate's renewal time is derived from: its config, record id and serial number."""
    return "\x00".join((config or "", str(record.get("cert_unique_id") or ""), str(record.get("serial_number") or "")))


def fraction(ident: str) -> float:
    """A number in ``[0, 1)`` from ``ident``: the first 8 bytes of its SHA-256 over 2**64."""
    digest = hashlib.sha256(ident.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / float(1 << 64)


def renew_after(not_after: datetime, window_days: float, spread: float, ident: str) -> datetime:
    """The time from which a certificate renews: inside ``[not_after - window_days, not_after)``."""
    window = timedelta(days=max(window_days, 0.0))
    start = not_after - window
    return start + window * (min(max(spread, 0.0), MAX_SPREAD) * fraction(ident))


def is_due(now: datetime, not_after: datetime, window_days: float, spread: float, ident: str) -> bool:
    """Whether a certificate renews now: its renewal time has come (never later than the window's end)."""
    return renew_after(not_after, window_days, spread, ident) <= now
