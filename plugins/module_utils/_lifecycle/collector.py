# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for an order's certificate and storing it in its Vault record.

Private to this collection: no compatibility is promised to code outside it.

The order id is already in Vault when collection starts (docs/lifecycle.md "Persist first, reconcile after"). The
wait is an application loop with a deadline: it polls fast at first and backs off with jitter up to
``loop_period`` within ``max_timeout`` (docs/lifecycle.md "Waiting for issuance"); transport retries are the SCM
client's. A certificate that outlasts ``max_timeout`` leaves the record at ``TimeoutStateSaved``, one
that SCM refuses at ``ErrorCode``, so the next run resumes the same order.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, TypeVar

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import CertKind
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError, ScmPending
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import CAS_ATTEMPTS, VaultCasConflict

T = TypeVar("T")

# A loop_period below this counts as this, so that polling never spins.
MIN_DELAY = 0.1
# Float noise left after sleeping exactly up to the deadline; less than this counts as none left.
_EPSILON = 1e-6
# SCM statuses after which waiting is pointless (S/MIME states are lower-case; compared lower-cased).
TERMINAL_SCM_STATUSES = {"declined", "rejected", "invalid", "revoked"}
# SCM statuses of an order that is not issued yet (lower-cased, spaces removed): while the details say one of
# these, no collect is sent. Any other status (Issued, or one this collection does not know) lets a collect through.
WAITING_SCM_STATUSES = {"init", "blank", "created", "requested", "saapproved", "approved", "applied", "pending",
                        "awaitingapproval", "notenrolled"}
# At most this many collect requests per order and wait (docs/lifecycle.md "Waiting for issuance").
MAX_COLLECTS = 12


# ---- the schedule ------------------------------------------------------------------------------------


class PollTimeout(Exception):
    """The schedule ran out before ``check`` reported a result."""

    def __init__(self, max_timeout: float, attempts: int) -> None:
        super().__init__(f"not done within {max_timeout:g} s ({attempts} attempts)")
        self.max_timeout = max_timeout
        self.attempts = attempts


class PollSchedule:
    """Delays between checks that keep each check within ``1 + growth`` of the time since the start.

    The next delay is ``growth`` times the seconds elapsed since the schedule was created, at least
    ``min_delay`` and at most ``loop_period``; jitter only ever shortens it (by up to ``jitter``), so a
    certificate issued ``D`` seconds after the start is seen by ``(1 + growth) * D`` at the latest (plus
    the check's own latency). The last delay is trimmed to land on the deadline, ``max_timeout`` seconds
    after creation (docs/lifecycle.md "Waiting for issuance").
    """

    def __init__(self, max_timeout: float, loop_period: float, *, min_delay: float = 1.0, growth: float = 0.2,
                 jitter: float = 0.25, clock: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random,
                 start: float | None = None) -> None:
        self.max_timeout = max(0.0, float(max_timeout))
        self.cap = max(MIN_DELAY, float(loop_period))
        self.growth = max(0.0, float(growth))
        self.jitter = min(max(0.0, float(jitter)), 0.9)
        self.min_delay = max(MIN_DELAY, min(float(min_delay), self.cap))
        self._clock = clock
        self._rand = rand
        self.start = clock() if start is None else float(start)
        self.deadline = self.start + self.max_timeout

    def remaining(self) -> float:
        """Seconds left before the deadline (0 once it has passed)."""
        return max(0.0, self.deadline - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self.deadline

    def next_delay(self) -> float | None:
        """The next sleep in seconds, trimmed to land on the deadline; None once the deadline has passed."""
        now = self._clock()
        remaining = self.deadline - now
        if remaining <= _EPSILON:
            return None
        base = min(self.cap, max(self.min_delay, self.growth * (now - self.start)))
        delay = max(MIN_DELAY, base * (1.0 - self.jitter * self._rand()))
        return min(delay, remaining)


def poll(check: Callable[[], T | None], schedule: PollSchedule, sleep: Callable[[float], Any] = time.sleep) -> T:
    """Call ``check`` now and after each delay of ``schedule`` until it returns something other than None.

    Raises ``PollTimeout`` when the schedule runs out; the last check happens at the deadline.
    """
    attempts = 1
    result = check()
    while result is None:
        delay = schedule.next_delay()
        if delay is None:
            raise PollTimeout(schedule.max_timeout, attempts)
        sleep(delay)
        attempts += 1
        result = check()
    return result


# ---- what a collect answer holds ---------------------------------------------------------------------


class TerminalStatus(Exception):
    """SCM says the order will never be issued."""

    def __init__(self, code: int | None, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def certificates_in(data: bytes | str) -> list[str]:
    """Certificates of a collect answer, whatever the format (PEM blocks or PKCS#7)."""
    pems = crypto.split_pem(data)
    return pems or crypto.pkcs7_to_pem(data)


def find_leaf(pems: list[str], public_keys: list[str]) -> str | None:
    """The leaf: the certificate of our key, or (imports, no key known) the one that issued none of the others."""
    infos = [(p, crypto.parse_certificate(p)) for p in pems]
    for key in public_keys:
        for pem, info in infos:
            if info["public_key_sha256"] == key:
                return pem
    if public_keys:
        return None
    issuers = {info["issuer"] for _pem, info in infos}
    for pem, info in infos:
        if info["subject"] not in issuers:
            return pem
    return None


def leaf_keys(record: rec.CertRecord) -> list[str]:
    """Public-key hashes the collected leaf may carry: a pending replacement's new key, then the record's."""
    keys = []
    pending = record.get("pending") or {}
    if pending.get("csr"):
        keys.append(crypto.csr_info(pending["csr"])["public_key_sha256"])  # type: ignore[arg-type]
    if record.get("public_key_sha256"):
        keys.append(record["public_key_sha256"])
    return keys


def fetch_certificates(kind: CertKind, record: rec.CertRecord, public_keys: list[str],
                       counted: Callable[[], None] = lambda: None) -> list[str] | None:
    """Leaf first, then the chain (issuer order); None while SCM says pending. ``counted`` is called per collect request."""
    oid = kind.order_id(record)
    counted()
    try:
        pems = certificates_in(kind.fetch(oid, record.get("ssl_format") or "x509"))
    except ScmPending:
        return None
    leaf = find_leaf(pems, public_keys)
    if leaf is None or len(pems) == 1:
        # Certificate-only or chain-only formats: fetch what is missing in one more format.
        counted()
        extra = certificates_in(kind.fetch(oid, "x509IOR" if leaf is not None else "x509CO"))
        pems = pems + [p for p in extra if p not in pems]
        leaf = find_leaf(pems, public_keys)
    if leaf is None:
        return None
    return [leaf] + crypto.order_chain(leaf, [p for p in pems if p != leaf])


class OrderWatch:
    """One order being waited for: what each check asks SCM (docs/lifecycle.md "Waiting for issuance").

    The first check collects at once, so a certificate issued on the spot costs one request. Every later
    check reads the order's details first: a terminal status ends the wait, a waiting status (Applied,
    Requested, ...) sends nothing more, and only another status (Issued) lets a collect through. A collect
    that finds no certificate of ours holds the next one back until the time since the start has doubled,
    and there are never more than MAX_COLLECTS, however long the wait.
    """

    def __init__(self, kind: CertKind, record: rec.CertRecord, *, monotonic: Callable[[], float] = time.monotonic,
                 start: float | None = None) -> None:
        self.kind = kind
        self.record = record
        self.keys = leaf_keys(record)
        self.monotonic = monotonic
        self.start = monotonic() if start is None else float(start)
        self.checks = 0
        self.collects = 0
        self._next_collect = self.start

    def _count(self) -> None:
        self.collects += 1

    def check(self) -> list[str] | None:
        """One check: the certificates once issued, None while waiting; TerminalStatus if the order never will be."""
        now = self.monotonic()
        first = self.checks == 0
        self.checks += 1
        oid = self.kind.order_id(self.record)
        if not first:
            status = self.kind.status(oid)
            word = status.replace(" ", "").lower()
            if word in TERMINAL_SCM_STATUSES:
                raise TerminalStatus(None, f"order {oid} is {status}")
            if word in WAITING_SCM_STATUSES or now < self._next_collect or self.collects >= MAX_COLLECTS - 1:
                return None
        pems = fetch_certificates(self.kind, self.record, self.keys, self._count)
        if pems is None:
            self._next_collect = now + max(1.0, now - self.start)
        return pems


# ---- collection --------------------------------------------------------------------------------------


@dataclass
class Waiting:
    """How long a task waits for issuance: ``wait``, ``max_timeout`` and ``loop_period``."""

    wait: bool
    max_timeout: int
    loop_period: int


class Collector:
    """Poll SCM for an order's certificate and store it, or record why it is not there yet.

    ``collect`` waits for one order; the fleet (``_fleet``) drives many ``OrderWatch`` checks in one loop and
    ends each with ``store``, ``timed_out`` or ``refused``.
    """

    def __init__(self, records: CertRecords, kind: CertKind, *, clock: Callable[[], datetime] = rec.utc_now,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random) -> None:
        self.records = records
        self.kind = kind
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.rand = rand

    def watch(self, record: rec.CertRecord, start: float | None = None) -> OrderWatch:
        return OrderWatch(self.kind, record, monotonic=self.monotonic, start=start)

    def check(self, watch: OrderWatch) -> list[str] | None:
        """One check of ``watch`` (the unit tests replace this)."""
        return watch.check()

    def schedule(self, waiting: Waiting, start: float | None = None) -> PollSchedule:
        return PollSchedule(waiting.max_timeout if waiting.wait else 0, waiting.loop_period, clock=self.monotonic, rand=self.rand,
                            start=start)

    def collect(self, record: rec.CertRecord, version: int, waiting: Waiting, *, action: str, before: dict[str, Any]) -> CertResult:
        if not waiting.wait and action != "collected":
            # wait=false returns right after the order id is saved.
            return CertResult(True, "pending", record, before=before, after=rec.summary(record))
        schedule = self.schedule(waiting)
        watch = self.watch(record, start=schedule.start)
        try:
            pems = poll(lambda: self.check(watch), schedule, sleep=self.sleep)
        except PollTimeout:
            if not waiting.wait:
                return CertResult(action != "collected", "pending", record, before=before, after=rec.summary(record))
            return self.timed_out(record, version, waiting.max_timeout)
        except (TerminalStatus, ScmError) as exc:
            return self.refused(record, version, exc)
        return self.store(record, version, pems, action=action, before=before)

    def store(self, record: rec.CertRecord, version: int, pems: list[str], *, action: str, before: dict[str, Any]) -> CertResult:
        """Write the collected certificate (status Issued) on the version read.

        Several runs may collect one order (runs that met on one name all follow the order one of them placed). When
        another run wrote the record first: if it is no longer pending, that run collected the order (and may have
        renewed it since) and its record is the truth; if it is still pending (a claim or a note was written), the
        certificate is stored on the version just read, at most CAS_ATTEMPTS times."""
        for _attempt in range(CAS_ATTEMPTS):
            self.fill_certificate(record, pems)
            record.pop("error", None)
            rec.set_status(record, rec.ISSUED, self.clock())
            try:
                self.records.write(record, version)
                return CertResult(True, action, record, before=before, after=rec.summary(record))
            except VaultCasConflict:
                current, version = self.records.read(record["cert_unique_id"])
                if current is None:
                    raise
                if current.get("status") not in rec.PENDING_STATUSES:
                    newest, _version = self.records.follow_renewals(current, version)
                    return CertResult(False, "none", newest, before=before, after=rec.summary(newest))
                record = current
        raise OperationError(f"Failed to store certificate '{record['cert_unique_id']}': its record kept changing under "
                             f"{CAS_ATTEMPTS} attempts; the order is saved and the next run collects it")

    def timed_out(self, record: rec.CertRecord, version: int, max_timeout: float) -> CertResult:
        """Not issued in time: keep the order (TimeoutStateSaved) and raise OperationError."""
        return self._fail(record, version, rec.TIMEOUT_STATE_SAVED, None,
                          f"not issued within max_timeout={max_timeout:g}s; the order id is saved and the next run collects it")

    def refused(self, record: rec.CertRecord, version: int, exc: Exception) -> CertResult:
        """SCM ended the wait (a terminal status or an error): record ErrorCode and raise OperationError."""
        if isinstance(exc, TerminalStatus):
            return self._fail(record, version, rec.ERROR_CODE, {"code": exc.code, "description": exc.description},
                              f"SCM reports {exc.description}")
        # Transport errors carry no SCM description; their message (never a secret) stands in for it.
        code = getattr(exc, "scm_code", None)
        return self._fail(record, version, rec.ERROR_CODE, {"code": code, "description": getattr(exc, "description", None) or str(exc)},
                          str(exc))

    def _fail(self, record: rec.CertRecord, version: int, status: str, error: dict[str, Any] | None, reason: str) -> CertResult:
        if record.get("status") != status or record.get("error") != error:
            if error is not None:
                record["error"] = error
            rec.set_status(record, status, self.clock())
            self.records.write(record, version)
        oid = self.kind.order_id(record)
        raise OperationError(f"Failed to collect certificate '{record.get('name') or record['cert_unique_id']}' (order {oid}): {reason}",
                             result={"cert": rec.public_view(record), "status": status,
                                     "vault_path": self.records.full_path(record["cert_unique_id"])},
                             scm_code=(error or {}).get("code"))

    def fill_certificate(self, record: rec.CertRecord, pems: list[str]) -> None:
        """Store the leaf and chain; a replacement's new key and CSR take over once its certificate carries that key."""
        leaf, chain = pems[0], pems[1:]
        info = crypto.parse_certificate(leaf)
        pending = record.get("pending") or {}
        if pending.get("kind") == "replace" and pending.get("csr"):
            csr = crypto.csr_info(pending["csr"])  # type: ignore[arg-type]
            if info["public_key_sha256"] == csr["public_key_sha256"]:
                record.update({"csr": pending["csr"], "private_key": pending.get("private_key"),  # type: ignore[typeddict-item]
                               "requested_sans": pending.get("requested_sans") or [],
                               "subject": {k: v for k, v in csr["subject"].items() if v}})
                record.pop("pending", None)
        record.update({  # type: ignore[typeddict-item]
            "certificate": leaf, "chain": chain, "serial_number": info["serial_number"], "not_before": info["not_before"],
            "not_after": info["not_after"], "fingerprint_sha256": info["fingerprint_sha256"], "domain": info["common_name"] or record.get("domain"),
            "subject_alt_names": info["subject_alt_names"], "key_algo": info["key_algo"], "key_size": info["key_size"],
            "public_key_sha256": info["public_key_sha256"], "issuer": info["issuer"],
        })
        record.update(self.kind.from_certificate(info))  # type: ignore[typeddict-item]
