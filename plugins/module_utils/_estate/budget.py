# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A budget of SCM orders for one ``sectigo_certs`` run (docs/reporting.md "Order budget").

The batch is first decided in check mode (Vault reads only, no SCM call). The certificates whose decision places
an order (enroll, renew, replace) are sorted most urgent first — no certificate yet, then the earliest
``not_after`` — and the first ``max_orders`` of them run; the others are ``deferred``: nothing is ordered for them
and the next run, which decides again, takes them first. Collecting a pending order is not an order and is never
deferred. In check mode the prediction is the result, with the same split, so the plan can gate a CI job.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple, Union

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import plan
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, FleetOutcome

# Actions whose decision places an SCM order (docs/lifecycle.md "Actions").
ORDERING_ACTIONS = ("enrolled", "renewed", "replaced")
DEFERRED = "deferred"
Requests = List[Tuple[Optional[str], Union[CertRequest, BaseException]]]


def check_max_orders(value: Any) -> int | None:
    """``max_orders``: None (no budget) or a whole number, 0 or more."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError("max_orders", f"max_orders must be a whole number, 0 or more (0 orders nothing); got {value!r}")
    return value


def _not_after(outcome: FleetOutcome) -> str:
    result = outcome.result
    found = ((result.before or {}).get("not_after") or (result.record or {}).get("not_after")) if result else None
    return rec.iso(rec.parse_iso(found)) if found else ""


def urgency(outcome: FleetOutcome) -> tuple[int, str, str]:
    """Sort key, most urgent first: no certificate yet (an enrollment), then the earliest expiry, then the name."""
    not_after = _not_after(outcome)
    return (1 if not_after else 0, not_after, str(outcome.name or ""))


def split(predicted: list[FleetOutcome], max_orders: int) -> tuple[set[int], set[int]]:
    """``(ordering, deferred)`` indexes of the batch: the ``max_orders`` most urgent orders run, the rest wait."""
    ordering = [o for o in predicted if o.error is None and o.result is not None and o.result.action in ORDERING_ACTIONS]
    ordering.sort(key=urgency)
    return {o.index for o in ordering[:max_orders]}, {o.index for o in ordering[max_orders:]}


def defer(outcome: FleetOutcome) -> FleetOutcome:
    """The predicted outcome of a certificate left for a later run: action ``deferred``, nothing changed."""
    record = outcome.result.record if outcome.result is not None else None
    outcome.result = rec.CertResult(False, DEFERRED, record, before=rec.summary(record), after=rec.summary(record))
    return outcome


def deferred_row(outcome: FleetOutcome, config: dict[str, Any]) -> dict[str, Any]:
    """One line of ``deferred``: name, ``not_after`` and the renewal time (from which the certificate was due)."""
    record = (outcome.result.record if outcome.result else None) or {}
    row: dict[str, Any] = {"name": outcome.name, "not_after": record.get("not_after")}
    moment = plan.renew_after(config, record) if record else None
    if moment is not None:
        row["renew_after"] = rec.iso(moment)
    return row


def run_with_budget(fleet: Fleet, requests: Requests, max_orders: int | None,
                    predictor: Callable[[], Fleet]) -> tuple[list[FleetOutcome], list[dict[str, Any]]]:
    """Run the batch with at most ``max_orders`` orders: ``(outcomes in batch order, deferred rows)``."""
    if max_orders is None:
        return fleet.run(requests), []
    predicted = predictor().run(requests)
    _ordering, deferred = split(predicted, max_orders)
    outcomes: list[FleetOutcome] = list(predicted)
    if not fleet.check_mode:
        # Run what is not deferred; a prediction that failed stays the outcome (it would fail the same way).
        runnable = [o.index for o in predicted if o.index not in deferred and o.error is None]
        for position, outcome in enumerate(fleet.run([requests[i] for i in runnable])):
            outcome.index = runnable[position]
            outcomes[outcome.index] = outcome
    rows = []
    for index in sorted(deferred, key=lambda i: urgency(predicted[i])):
        rows.append(deferred_row(predicted[index], fleet.config))
        outcomes[index] = defer(predicted[index])
        if not fleet.check_mode:
            outcomes[index].warnings = []  # a prediction's warnings (a profile check skipped) belong to check mode only
    return outcomes, rows
