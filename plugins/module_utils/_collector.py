"""Collecting an order's certificate from SCM into its Vault record (SPEC §3 statuses, §4 polling).

The order id is already in Vault when collection starts. Polling starts fast and backs off with
jitter (``_polling``); a certificate that outlasts ``max_timeout`` leaves the record at
``TimeoutStateSaved`` and one that SCM refuses at ``ErrorCode``, so the next run resumes the same order.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _crypto as crypto
from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_records import CertRecords
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_path
from ansible_collections.sectigo.vault_pki.plugins.module_utils._orders import TerminalStatus
from ansible_collections.sectigo.vault_pki.plugins.module_utils._polling import PollSchedule, PollTimeout, poll
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm_errors import ScmError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import VaultCasConflict


@dataclass
class Waiting:
    """How long a task waits for issuance: ``wait``, ``max_timeout`` and ``loop_period`` of SPEC §4."""

    wait: bool
    max_timeout: int
    loop_period: int


class Collector:
    """Poll SCM for an order's certificate and store it, or record why it is not there yet."""

    def __init__(self, records: CertRecords, desk: Callable[[], Any], cert_kind: str, *, clock: Callable[[], datetime] = rec.utc_now,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random) -> None:
        self.records = records
        self.desk = desk
        self.cert_kind = cert_kind
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.rand = rand

    def collect(self, record: dict[str, Any], version: int, waiting: Waiting, *, action: str, before: dict[str, Any]) -> CertResult:
        if not waiting.wait and action != "collected":
            # SPEC §4: wait=false returns right after the order id is saved.
            return CertResult(True, "pending", record, before=before, after=rec.summary(record))
        schedule = PollSchedule(waiting.max_timeout if waiting.wait else 0, waiting.loop_period, clock=self.monotonic, rand=self.rand)
        try:
            desk = self.desk()
            pems = poll(lambda: desk.collect(record, leaf_keys(record)), schedule, sleep=self.sleep)
        except PollTimeout:
            if not waiting.wait:
                return CertResult(action != "collected", "pending", record, before=before, after=rec.summary(record))
            return self._fail(record, version, rec.TIMEOUT_STATE_SAVED, None, before,
                              f"not issued within max_timeout={waiting.max_timeout}s; the order id is saved and the next run collects it")
        except TerminalStatus as exc:
            return self._fail(record, version, rec.ERROR_CODE, {"code": exc.code, "description": exc.description}, before,
                              f"SCM reports {exc.description}")
        except ScmError as exc:
            # Transport errors carry no SCM description; their message (never a secret) stands in for it.
            return self._fail(record, version, rec.ERROR_CODE, {"code": exc.scm_code, "description": exc.description or str(exc)},
                              before, str(exc))
        self.fill_certificate(record, pems)
        record.pop("error", None)
        rec.set_status(record, rec.ISSUED, self.clock())
        try:
            self.records.write(record, version)
        except VaultCasConflict:
            # Another run collected the same order first; its record is the truth.
            current, _version = self.records.read(record["cert_unique_id"])
            if current and current.get("status") == rec.ISSUED:
                return CertResult(False, "none", current, before=before, after=rec.summary(current))
            raise
        return CertResult(True, action, record, before=before, after=rec.summary(record))

    def _fail(self, record: dict[str, Any], version: int, status: str, error: dict[str, Any] | None,
              before: dict[str, Any], reason: str) -> CertResult:
        if record.get("status") != status or record.get("error") != error:
            if error is not None:
                record["error"] = error
            rec.set_status(record, status, self.clock())
            self.records.write(record, version)
        oid = rec.order_id(record)
        raise OperationError(f"Failed to collect certificate '{record.get('name') or record['cert_unique_id']}' (order {oid}): {reason}",
                             result={"cert": rec.public_view(record), "status": status,
                                     "vault_path": cert_path(self.records.config_name, record["cert_unique_id"])},
                             scm_code=(error or {}).get("code"))

    def fill_certificate(self, record: dict[str, Any], pems: list[str]) -> None:
        """Store the leaf and chain; a replacement's new key and CSR take over once its certificate carries that key."""
        leaf, chain = pems[0], pems[1:]
        info = crypto.parse_certificate(leaf)
        pending = record.get("pending") or {}
        if pending.get("kind") == "replace" and pending.get("csr"):
            csr = crypto.csr_info(pending["csr"])
            if info["public_key_sha256"] == csr["public_key_sha256"]:
                record.update({"csr": pending["csr"], "private_key": pending.get("private_key"), "requested_sans": pending.get("requested_sans") or [],
                               "subject": {k: v for k, v in csr["subject"].items() if v}})
                record.pop("pending", None)
        record.update({
            "certificate": leaf, "chain": chain, "serial_number": info["serial_number"], "not_before": info["not_before"],
            "not_after": info["not_after"], "fingerprint_sha256": info["fingerprint_sha256"], "domain": info["common_name"] or record.get("domain"),
            "subject_alt_names": info["subject_alt_names"], "key_algo": info["key_algo"], "key_size": info["key_size"],
            "public_key_sha256": info["public_key_sha256"], "issuer": info["issuer"],
        })
        if self.cert_kind == rec.CLIENT_CERT and info.get("email"):
            record["email"] = info["email"]


def leaf_keys(record: dict[str, Any]) -> list[str]:
    """Public-key hashes the collected leaf may carry: a pending replacement's new key, then the record's."""
    keys = []
    pending = record.get("pending") or {}
    if pending.get("csr"):
        keys.append(crypto.csr_info(pending["csr"])["public_key_sha256"])
    if record.get("public_key_sha256"):
        keys.append(record["public_key_sha256"])
    return keys
