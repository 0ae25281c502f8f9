# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps every order shares: one certificate task's context, its options, its checks before an order, its claims
and its collection.

Private to this collection: no compatibility is promised to code outside it.

``Lifecycle`` is what ``CertificateService`` (the decisions), ``Enrollment`` (first orders) and ``Renewal`` (renewals
and replacements) share: the config and its kind, the Vault repository (``CertRecords``), the claims (``Claims``:
claim, keep fresh, order once), the options (task, then config default, then built-in default), the profile checks
before an order and ``collect`` (wait for issuance and store it, or leave the wait to the fleet). The enrollment and
the renewal import it; the service composes the three. Nothing here imports them back.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.claims import HEARTBEAT_SECONDS, Claims
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import CertKind, kind_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CertResult
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords, KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, resolve_option

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import Collector, Waiting
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import Profiles

# An idempotent re-run decides from Vault alone. The collector and the profiles are imported when a task first needs
# them: a module process compiles every module_utils file it imports from its zip (and the controller's collection
# loader keeps no bytecode either), so a no-op pays only for what it runs (docs/bench.md).


class Lifecycle:
    """What the steps of one certificate task share: the config, its kind, Vault, the collector and the options."""

    def __init__(self, store: KvStore, config: dict[str, Any], scm_factory: Callable[[], Any], *, check_mode: bool = False,
                 clock: Callable[[], datetime] = rec.utc_now, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, rand: Callable[[], float] = random.random,
                 heartbeat: float | None = HEARTBEAT_SECONDS) -> None:
        self.store = store
        self.rand = rand
        self.heartbeat = heartbeat
        self.config = config
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.warnings: list[str] = []
        self.kind: CertKind = kind_for(config, scm_factory)
        self.records = CertRecords(store, config["name"], clock)
        self.claims = Claims(self.records, clock=clock, monotonic=monotonic, sleep=sleep, heartbeat=heartbeat, check_mode=check_mode)
        self._collector: Collector | None = None
        self._profiles: Profiles | None = None
        # The fleet (_estate/fleet) sets defer_collect: an order's wait is then left to its one polling loop for every order,
        # and ``deferred`` holds what collect would have waited for.
        self.defer_collect = False
        self.deferred: Deferred | None = None
        # When the answer to this task's order came (``monotonic``; None: no order answered in this task). The fleet
        # counts an order's age from there (docs/lifecycle.md "The fleet path").
        self.ordered_at: float | None = None

    @property
    def config_name(self) -> str:
        return self.config["name"]

    @property
    def collector(self) -> "Collector":
        if self._collector is None:
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import Collector

            self._collector = Collector(self.records, self.kind, clock=self.clock, sleep=self.sleep, monotonic=self.monotonic,
                                        rand=self.rand)
        return self._collector

    @collector.setter
    def collector(self, value: "Collector") -> None:
        self._collector = value

    @property
    def profiles(self) -> "Profiles":
        if self._profiles is None:
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import Profiles

            self._profiles = Profiles(self.store, self.config, self.kind, check_mode=self.check_mode)
        return self._profiles

    @profiles.setter
    def profiles(self, value: "Profiles") -> None:
        self._profiles = value

    def timed(self, post: Callable[[], Any]) -> Callable[[], Any]:
        """``post`` (one SCM order), noting in ``ordered_at`` when its answer came."""
        def send() -> Any:
            answer = post()
            self.ordered_at = self.monotonic()
            return answer
        return send

    def option(self, req: CertRequest, key: str) -> Any:
        """Task value, else the config's default, else the built-in default."""
        return resolve_option(req, self.config, key)

    def expired(self, record: rec.CertRecord) -> bool:
        not_after = record.get("not_after")
        return bool(not_after) and rec.parse_iso(not_after) <= self.clock()

    def verify_profile(self, req: CertRequest, cert_type: Any, term: Any, spec: Any) -> None:
        """Check the term and key of an order against its SCM profile (``verify_profile``) before any order."""
        if not self.option(req, "verify_profile") or cert_type is None:
            return
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import check_against_profile

        profile = self.profiles.for_order(int(cert_type))
        if profile is not None:
            check_against_profile(profile, term=None if term is None else int(term), key_algo=spec.algo, key_param=spec.scm_key_param)
        else:
            self.warnings.append(f"profile {cert_type} is not stored in Vault; check mode did not download it")

    def check_custom_fields(self, req: CertRequest, custom_fields: list[dict[str, str]] | None) -> None:
        """Before an enrollment's claim: every custom field SCM marks mandatory has a value (with ``verify_profile``)."""
        if not self.option(req, "verify_profile"):
            return
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import check_mandatory_fields

        scm_fields = self.profiles.custom_fields()
        if scm_fields is None:
            self.warnings.append("SCM's custom-field list is not stored in Vault; check mode did not download it")
            return
        check_mandatory_fields(scm_fields, custom_fields, self.config_name)

    def collect(self, req: CertRequest, record: rec.CertRecord, version: int, *, action: str,
                before: dict[str, Any] | None = None) -> CertResult:
        before = rec.summary(record) if before is None else before
        if self.check_mode:
            return CertResult(True, action, record, before=before, after=dict(rec.summary(record), status=rec.ISSUED))
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import Waiting

        waiting = Waiting(bool(self.option(req, "wait")), self.option(req, "max_timeout"), self.option(req, "loop_period"))
        if self.defer_collect and waiting.wait:
            self.deferred = Deferred(record, version, waiting, action, before, self.ordered_at)
            return CertResult(True, action, record, before=before, after=rec.summary(record))
        return self.collector.collect(record, version, waiting, action=action, before=before)


@dataclass
class Deferred:
    """An order whose wait was left to the caller: what ``Collector.collect`` would have been given."""

    record: rec.CertRecord
    version: int
    waiting: "Waiting"
    action: str
    before: dict[str, Any]
    # When SCM answered the order (``Lifecycle.ordered_at``); None when it was placed by an earlier run or found again.
    ordered_at: float | None = None
