"""Test controls under ``/__sim__/`` (docs/scm-simulator.md): no authentication, never counted, never faulted.

| call | does |
|---|---|
| GET  /__sim__/stats               | request counters, faults injected, every order |
| POST /__sim__/stats/reset         | zero the request and fault counters |
| GET  /__sim__/ca                  | the CA: ``{"root": pem, "intermediate": pem}`` |
| GET  /__sim__/config              | the runtime settings |
| POST /__sim__/config              | merge settings (all or nothing) and return them |
| POST /__sim__/approve/<id>        | approve a Requested order, as an administrator would |
| POST /__sim__/status/<id>         | force a status: ``{"status": "Rejected"}`` |
| POST /__sim__/oauth/expire        | make every OAuth2 token issued so far expire now |
| POST /__sim__/seed                | place many orders as another administrator would, in the web UI |
| POST /__sim__/revoke/<id>         | revoke an order in the web UI |
| POST /__sim__/replace/<id>        | replace an SSL order in the web UI (a new key, the same id) |
| POST /__sim__/renew/<id>          | renew an order in the web UI (a new order) |
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from scm_simulator import errors, views
from scm_simulator.config import ConfigError
from scm_simulator.handlers import Response
from scm_simulator.profiles import SMIME, SSL
from scm_simulator.store import Order, Store
from scm_simulator.webui import WebUi

_WITH_ID = ("approve", "status", "revoke", "replace", "renew")

if TYPE_CHECKING:
    from scm_simulator.simulator import Simulator


def control_error(status: int, description: str, code: int = -1) -> Response:
    return Response.json({"code": code, "description": description}, status)


class Controls:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.web = WebUi(sim)
        self.routes: dict[tuple[str, str], Callable[[str, Any], Response]] = {
            ("GET", "stats"): self.stats,
            ("POST", "stats/reset"): self.reset_stats,
            ("GET", "ca"): self.ca,
            ("GET", "config"): self.get_config,
            ("POST", "config"): self.set_config,
            ("POST", "approve"): self.approve,
            ("POST", "status"): self.force_status,
            ("POST", "oauth/expire"): self.expire_tokens,
            ("POST", "seed"): self.seed,
            ("POST", "revoke"): self.web_revoke,
            ("POST", "replace"): self.web_replace,
            ("POST", "renew"): self.web_renew,
        }

    def handle(self, method: str, path: str, body: Any) -> Response:
        """``path`` is what follows ``/__sim__/``; ``approve`` and ``status`` take an order id after a slash."""
        path = path.strip("/")
        name, _sep, arg = path.partition("/")
        handler = self.routes.get((method, path)) or (self.routes.get((method, name)) if arg and name in _WITH_ID else None)
        if handler is None:
            known = ", ".join(f"{m} /__sim__/{p}{'/<id>' if p in _WITH_ID else ''}" for m, p in self.routes)
            return control_error(404, f"no control {method} /__sim__/{path}; known: {known}")
        with self.sim.store.lock:
            return handler(arg, body)

    # ---- reading

    def stats(self, arg: str, body: Any) -> Response:
        self.sim.api.lifecycle.refresh_all()  # statuses shown are the ones a client would see now
        return Response.json(self.sim.stats_snapshot())

    def reset_stats(self, arg: str, body: Any) -> Response:
        self.sim.stats.reset()
        self.sim.faults.reset_counts()
        return Response.json(self.sim.stats_snapshot())

    def ca(self, arg: str, body: Any) -> Response:
        return Response.json({"root": self.sim.ca.root_pem, "intermediate": self.sim.ca.intermediate_pem})

    def get_config(self, arg: str, body: Any) -> Response:
        return Response.json(self.sim.config.snapshot())

    # ---- changing

    def set_config(self, arg: str, body: Any) -> Response:
        try:
            return Response.json(self.sim.config.merge(body))
        except ConfigError as exc:
            return control_error(400, str(exc))

    def _order(self, arg: str) -> Order | None:
        return self.sim.store.find_any(arg)

    def approve(self, arg: str, body: Any) -> Response:
        order = self._order(arg)
        if order is None:
            return control_error(404, f"no order {arg}", -5101)
        try:
            message = body.get("message") if isinstance(body, dict) else None
            self.sim.api.lifecycle.approve(order, message or "approved through /__sim__/approve")
        except errors.ApiError as exc:
            return Response.error(exc)
        # With no issue delay the order is issued at once; show what a client would now see.
        return Response.json(order_summary(self.sim.api.lifecycle.refresh(order), self.sim.store))

    def seed(self, arg: str, body: Any) -> Response:
        try:
            orders = self.web.seed(body)
        except ValueError as exc:
            return control_error(400, str(exc))
        return Response.json({"count": len(orders), "ids": [o.id if o.kind == SSL else o.order_number for o in orders]})

    def _web(self, action: Callable[[Order, dict[str, Any]], Order], arg: str, body: Any) -> Response:
        order = self._order(arg)
        if order is None:
            return control_error(404, f"no order {arg}", -5101)
        if body is not None and not isinstance(body, dict):
            return control_error(400, "the body must be a JSON object")
        try:
            changed = action(self.sim.api.lifecycle.refresh(order), body or {})
        except errors.ApiError as exc:
            return Response.error(exc)
        except ValueError as exc:
            return control_error(400, str(exc))
        return Response.json(order_summary(self.sim.api.lifecycle.refresh(changed), self.sim.store))

    def web_revoke(self, arg: str, body: Any) -> Response:
        return self._web(self.web.revoke, arg, body)

    def web_replace(self, arg: str, body: Any) -> Response:
        return self._web(self.web.replace, arg, body)

    def web_renew(self, arg: str, body: Any) -> Response:
        return self._web(self.web.renew, arg, body)

    def expire_tokens(self, arg: str, body: Any) -> Response:
        return Response.json({"expired": self.sim.oauth.expire_all()})

    def force_status(self, arg: str, body: Any) -> Response:
        order = self._order(arg)
        if order is None:
            return control_error(404, f"no order {arg}", -5101)
        if not isinstance(body, dict) or not body.get("status"):
            return control_error(400, 'the body must be {"status": "<status>"}, e.g. {"status": "Rejected"}')
        try:
            self.sim.api.lifecycle.force_status(order, body["status"])
        except ValueError as exc:
            return control_error(400, str(exc))
        return Response.json(order_summary(order, self.sim.store))


def order_summary(order: Order, store: Store) -> dict[str, Any]:
    """One entry of ``orders`` in the stats. ``id`` is the id a client holds: sslId, or the S/MIME orderNumber."""
    summary: dict[str, Any] = {
        "id": order.id if order.kind == SSL else order.order_number, "kind": order.kind, "common_name": order.common_name,
        "email": order.email, "status": views.status_of(order), "comments": order.comments, "cert_type": order.profile_id,
        "term": order.term, "org_id": order.org_id, "order_number": order.order_number, "backend_cert_id": order.backend_cert_id,
        "serial_number": order.serial_number if views.has_certificate(order) else None, "renewed": order.renewed,
        "requester": order.requester,
    }
    if order.kind == SMIME:
        summary["cert_id"] = order.id
    if order.renewed_from is not None:
        source = store.by_id(order.kind, order.renewed_from)
        summary["renewed_from"] = source.order_number if source is not None and order.kind == SMIME else order.renewed_from
    return summary
