"""The SCM REST endpoints (docs/scm-protocol.md "Enroll", "S/MIME certificates", "Organizations"): one method per endpoint, independent of HTTP.

``ScmApi.handle`` takes a parsed ``Request`` for a path below ``/api`` and returns a ``Response``;
errors are ``ApiError`` until the very end, where they become ``{"code", "description"}`` JSON.
"""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Callable
from urllib.parse import unquote

from scm_simulator import errors, formats, profiles, validation, views
from scm_simulator.ca import CertificateAuthority, serial_from_text
from scm_simulator.config import RuntimeConfig
from scm_simulator.issuance import STATUSES, Lifecycle
from scm_simulator.oauth import OAuthServer
from scm_simulator.profiles import SMIME, SSL
from scm_simulator.reports import Reports
from scm_simulator.store import Order, Store

JSON_TYPE = "application/json;charset=UTF-8"
OCTET_TYPE = "application/octet-stream;charset=UTF-8"
MAX_PAGE = 200  # docs/scm-protocol.md "Lists and counts": size is at most 200
INVALID_JSON = object()


@dataclasses.dataclass
class Credentials:
    login: str
    password: str
    customer_uri: str


@dataclasses.dataclass
class Request:
    method: str
    path: str  # below /api, e.g. /ssl/v1/collect/10001
    query: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # lower-case names
    body: Any = None  # parsed JSON, None when empty, INVALID_JSON when unparsable
    private: bool = False  # /private/api: the client-certificate variant (docs/scm-protocol.md "Base URLs")
    client_cert_verified: bool | None = None  # None: the server does not ask for client certificates

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclasses.dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    content_type: str | None = JSON_TYPE

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode("utf-8"), dict(headers or {}))

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}), None)

    @classmethod
    def error(cls, exc: errors.ApiError) -> Response:
        return cls.json(exc.body(), exc.status, exc.headers)


Handler = Callable[..., Response]
_PARAMS = {"id": "oid", "format": "fmt", "renewId": "renew_id"}


@dataclasses.dataclass
class Route:
    method: str
    template: str  # as docs/scm-protocol.md writes it, e.g. /ssl/v1/collect/{id}/{format}
    handler: Handler
    pattern: re.Pattern[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        # Templates keep SCM's parameter names for the request counters; handlers get Python names.
        regex = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{_PARAMS.get(m.group(1), m.group(1))}>[^/]+)", re.escape(self.template))
        self.pattern = re.compile(f"^{regex}/?$")


class ScmApi:
    """SSL, S/MIME and reference-data endpoints over one store, CA and runtime config."""

    def __init__(self, store: Store, ca: CertificateAuthority, config: RuntimeConfig, credentials: Credentials,
                 oauth: OAuthServer | None = None) -> None:
        self.store = store
        self.ca = ca
        self.config = config
        self.credentials = credentials
        self.oauth = oauth or OAuthServer()
        self.lifecycle = Lifecycle(store, ca, config)
        self.reports = Reports(store, credentials.login)
        # Order matters: literal paths before the {id} catch-alls of the same prefix.
        self.routes = [Route(method, template, handler) for method, template, handler in (
            ("GET", "/organization/v1", self.organizations),
            ("POST", "/report/v1/ssl-certificates", self.report),
            ("POST", "/report/v1/client-certificates", self.report),
            ("GET", "/ssl/v1/types", self.ssl_types),
            ("GET", "/ssl/v1/customFields", self.custom_fields),
            ("POST", "/ssl/v1/enroll", self.ssl_enroll),
            ("GET", "/ssl/v1/collect/{id}/{format}", self.ssl_collect),
            ("GET", "/ssl/v1/collect/{id}", self.ssl_collect),
            ("POST", "/ssl/v1/renewById/{id}", self.ssl_renew_by_id),
            ("POST", "/ssl/v1/renew/{renewId}", self.ssl_renew_by_renew_id),
            ("POST", "/ssl/v1/replace/{id}", self.ssl_replace),
            ("POST", "/ssl/v1/revoke/serial/{serial}", self.ssl_revoke_by_serial),
            ("POST", "/ssl/v1/revoke/{id}", self.ssl_revoke),
            ("POST", "/ssl/v1/approve/{id}", self.ssl_approve),
            ("POST", "/ssl/v1/decline/{id}", self.ssl_decline),
            ("GET", "/ssl/v1", self.ssl_list),
            ("HEAD", "/ssl/v1", self.ssl_list),
            ("GET", "/ssl/v1/{id}", self.ssl_details),
            ("GET", "/smime/v1/types", self.smime_types),
            ("GET", "/smime/v1/customFields", self.custom_fields),
            ("POST", "/smime/v1/enroll", self.smime_enroll),
            ("GET", "/smime/v1/collect/{id}/{format}", self.smime_collect),
            ("GET", "/smime/v1/collect/{id}", self.smime_collect),
            ("POST", "/smime/v2/renew/order/{id}", self.smime_renew_by_order),
            ("POST", "/smime/v2/renew/serial/{serial}", self.smime_renew_by_serial),
            ("POST", "/smime/v1/revoke/order/{id}", self.smime_revoke_by_order),
            ("POST", "/smime/v1/revoke/serial/{serial}", self.smime_revoke_by_serial),
            ("GET", "/smime/v2", self.smime_list),
            ("HEAD", "/smime/v2", self.smime_list),
            ("GET", "/smime/v1/{id}", self.smime_details),
            # The Admin API serves the same S/MIME operations under v2 (docs/scm-protocol.md, "S/MIME certificates").
            ("GET", "/smime/v2/types", self.smime_types),
            ("GET", "/smime/v2/customFields", self.custom_fields),
            ("POST", "/smime/v2/enroll", self.smime_enroll),
            ("GET", "/smime/v2/collect/{id}/{format}", self.smime_collect),
            ("GET", "/smime/v2/collect/{id}", self.smime_collect),
            ("POST", "/smime/v2/revoke/order/{id}", self.smime_revoke_by_order),
            ("POST", "/smime/v2/revoke/serial/{serial}", self.smime_revoke_by_serial),
            ("GET", "/smime/v2/{id}", self.smime_details),
        )]

    # ---- dispatch

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for ``method`` and ``path`` with its path parameters; None when there is none."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
        return None

    def template(self, method: str, path: str) -> str | None:
        """The route template of a request, for the request counters; None for unknown endpoints."""
        matched = self.match(method, path)
        return matched[0].template if matched else None

    def handle(self, request: Request) -> Response:
        try:
            # SCM checks credentials before anything else, even before an unknown format (docs/scm-protocol.md "Authentication").
            self.authenticate(request)
            matched = self.match(request.method, request.path)
            if matched is None:
                allowed = sorted({r.method for r in self.routes if r.pattern.match(request.path)})
                if allowed:
                    raise errors.method_not_allowed(request.method, request.path, allowed)
                raise errors.unknown_endpoint(request.method, request.path)
            if request.body is INVALID_JSON:
                raise errors.bad_request(-1601, "Field 'body' has invalid value: it is not valid JSON.")
            route, params = matched
            with self.store.lock:
                return route.handler(request, **params)
        except errors.ApiError as exc:
            return Response.error(exc)

    def authenticate(self, request: Request) -> None:
        headers = request.headers  # names already lower-case: HTTP header names are case-insensitive
        expected = self.credentials
        authorization = headers.get("authorization") or ""
        if authorization.lower().startswith("bearer "):
            # The Admin API: a Bearer token from the token endpoint, on /api only (docs/scm-protocol.md, "Authentication").
            if request.private or not self.oauth.check(authorization):
                raise errors.invalid_token()
            return
        if headers.get("login") != expected.login or headers.get("customeruri") != expected.customer_uri:
            raise errors.unauthorized()
        if request.private:
            # /private/api authenticates with the TLS client certificate instead of the password (docs/scm-protocol.md "Authentication").
            if request.client_cert_verified is False:
                raise errors.unauthorized()
            return
        if headers.get("password") != expected.password:
            raise errors.unauthorized()

    # ---- helpers

    def _order(self, kind: str, oid: str) -> Order:
        order = self.store.by_id(kind, oid) if kind == SSL else self.store.by_order_number(SMIME, oid)
        if order is None:
            raise errors.not_found(oid)
        return self.lifecycle.refresh(order)

    def _smime_record(self, oid: str) -> Order:
        order = self.store.by_id(SMIME, oid)
        if order is None:
            raise errors.not_found(oid)
        return self.lifecycle.refresh(order)

    def _by_serial(self, kind: str, serial: str) -> Order:
        order = self.store.by_serial(kind, serial)
        if order is None:
            raise errors.error(errors.NO_MATCHING_CERTIFICATE)
        return self.lifecycle.refresh(order)

    def _date_format(self, request: Request, default: str) -> str:
        return views.date_format(request.arg("dateFormat"), default)

    # ---- reference data (docs/scm-protocol.md "Profiles and custom fields", "S/MIME certificates", "Organizations")

    def organizations(self, request: Request) -> Response:
        return Response.json(profiles.ORGANIZATIONS)

    def _types(self, kind: str, request: Request) -> Response:
        org = request.arg("organizationId")
        if org is not None:
            if not org.strip().lstrip("-").isdigit():
                raise errors.invalid_field("organizationId")
            # Every seeded profile is available to every seeded organization and department.
            if int(org) not in profiles.org_ids():
                return Response.json([])
        return Response.json(profiles.profiles(kind))

    def ssl_types(self, request: Request) -> Response:
        return self._types(SSL, request)

    def smime_types(self, request: Request) -> Response:
        return self._types(SMIME, request)

    def custom_fields(self, request: Request) -> Response:
        return Response.json(profiles.custom_fields(self.config["mandatory_custom_fields"]))

    # ---- shared order endpoints

    def _enroll(self, kind: str, request: Request) -> Order:
        enroll = validation.enroll(kind, request.body, self.config["mandatory_custom_fields"])
        return self.lifecycle.enroll(kind, enroll)

    def _collect(self, order: Order, request: Request, fmt: str | None) -> Response:
        requested = fmt if fmt is not None else request.arg("format") or formats.DEFAULT_FORMAT
        canonical = formats.canonical(requested)
        if canonical is None:
            raise errors.bad_request(errors.UNSUPPORTED_FORMAT, f"Unsupported certificate format specified: {requested}")
        if order.status == "Revoked":
            raise errors.error(errors.REVOKED_NOT_DOWNLOADABLE)
        if not views.has_certificate(order) or not order.certificate:
            # Not issued (yet): 400 with the configured "pending" code (docs/scm-protocol.md "Errors", "Status values").
            raise errors.pending(int(self.config["pending_code" if order.kind == SSL else "smime_pending_code"]))
        if order.downloaded_at is None:
            order.downloaded_at = self.store.clock()
            self.store.save(order)
        body = formats.render(canonical, order.certificate, self.ca.intermediate_pem, self.ca.root_pem)
        name = formats.filename(order.common_name or str(order.id), canonical, order.kind == SMIME)
        return Response(200, body, {"Content-Disposition": f'attachment; filename="{name}"'}, OCTET_TYPE)

    def _revoke(self, order: Order, request: Request, reason_required: bool) -> Response:
        reason, code = validation.revocation(request.body, reason_required=reason_required)
        self.lifecycle.revoke(order, reason, code)
        return Response.empty()

    def _list(self, kind: str, request: Request, filters: dict[str, Callable[[Order, str], bool]],
              item: Callable[[Order], dict[str, Any]]) -> Response:
        self.lifecycle.refresh_all()
        orders = _candidates(self.store, kind, request)
        for name, test in filters.items():
            value = request.arg(name)
            if value is not None and value != "":
                orders = [o for o in orders if test(o, value)]
        total = {"X-Total-Count": str(len(orders))}
        if request.method == "HEAD":
            # HEAD on a list URL counts, with the same filters (docs/scm-protocol.md "Lists and counts").
            return Response.empty(200, total)
        size = _bounded(request.arg("size"), "size", MAX_PAGE, 0, MAX_PAGE)
        position = _bounded(request.arg("position"), "position", 0, 0, None)
        return Response.json([item(o) for o in orders[position:position + size]], headers=total)

    # ---- reports (docs/scm-protocol.md "Reports")

    def report(self, request: Request) -> Response:
        self.lifecycle.refresh_all()
        return Response.json(self.reports.answer(request.path, request.body))

    # ---- SSL (docs/scm-protocol.md "Enroll")

    def ssl_enroll(self, request: Request) -> Response:
        order = self._enroll(SSL, request)
        return Response.json({"sslId": order.id, "renewId": order.renew_id})

    def ssl_collect(self, request: Request, oid: str, fmt: str | None = None) -> Response:
        return self._collect(self._order(SSL, oid), request, fmt)

    def ssl_details(self, request: Request, oid: str) -> Response:
        order = self._order(SSL, oid)
        return Response.json(views.ssl_details(order, self.credentials.login, self._date_format(request, views.US_DATES)))

    def ssl_list(self, request: Request) -> Response:
        def serial(o: Order, v: str) -> bool:
            return views.has_certificate(o) and _same_serial(o.serial_number, v)

        filters: dict[str, Callable[[Order, str], bool]] = {
            "commonName": lambda o, v: o.common_name.lower() == v.lower(),
            "subjectAlternativeName": lambda o, v: v.lower() in (s.lower() for s in o.sans),
            # The Admin spec spells "SA Approved", the legacy reference "SAApproved" (docs/scm-protocol.md "Lists and counts"): both match.
            "status": lambda o, v: o.status.lower() == v.replace(" ", "").lower(),
            "sslTypeId": lambda o, v: str(o.profile_id) == v.strip(),
            "orgId": lambda o, v: str(o.org_id) == v.strip(),
            "serialNumber": serial,
            "externalRequester": lambda o, v: v.lower() in (o.external_requester or "").lower().replace(" ", "").split(","),
            "requester": lambda o, v: v == (o.requester or self.credentials.login),
            "keyAlgorithm": lambda o, v: views.key_algorithm(o).lower() == v.lower(),
        }
        return self._list(SSL, request, filters, views.ssl_list_item)

    def ssl_renew_by_id(self, request: Request, oid: str) -> Response:
        order = self._order(SSL, oid)
        # Clients post {}, "" or nothing; with no CSR the original one is reused (docs/scm-protocol.md "Renew").
        body = validation.body_object(request.body)
        csr, csr_pem = validation.parse_csr(body["csr"]) if body.get("csr") else (None, None)
        new = self.lifecycle.renew_ssl(order, csr, csr_pem)
        return Response.json({"sslId": new.id})

    def ssl_renew_by_renew_id(self, request: Request, renew_id: str) -> Response:
        order = self.store.by_renew_id(renew_id)
        if order is None:
            raise errors.error(errors.RENEW_ID_UNKNOWN)
        self.lifecycle.refresh(order)
        body = validation.body_object(request.body)
        csr, csr_pem = validation.parse_csr(body["csr"]) if body.get("csr") else (None, None)
        self.lifecycle.renew_ssl(order, csr, csr_pem)
        return Response.empty()  # 204 and no new id: the documented answer of this endpoint (docs/scm-protocol.md "Renew")

    def ssl_replace(self, request: Request, oid: str) -> Response:
        order = self._order(SSL, oid)
        csr, csr_pem, reason, common_name, sans = validation.replacement(request.body)
        self.lifecycle.replace_ssl(order, csr, csr_pem, reason, common_name, sans)
        return Response.empty()

    def ssl_revoke(self, request: Request, oid: str) -> Response:
        return self._revoke(self._order(SSL, oid), request, reason_required=True)

    def ssl_revoke_by_serial(self, request: Request, serial: str) -> Response:
        return self._revoke(self._by_serial(SSL, serial), request, reason_required=True)

    def ssl_approve(self, request: Request, oid: str) -> Response:
        order = self._order(SSL, oid)
        self.lifecycle.approve(order, validation.message(request.body))
        return Response.empty()

    def ssl_decline(self, request: Request, oid: str) -> Response:
        order = self._order(SSL, oid)
        self.lifecycle.decline(order, validation.message(request.body))
        return Response.empty()

    # ---- S/MIME (docs/scm-protocol.md "S/MIME certificates")

    def smime_enroll(self, request: Request) -> Response:
        order = self._enroll(SMIME, request)
        # orderNumber (deprecated) and backendCertId carry the same digits (docs/scm-protocol.md "S/MIME certificates").
        return Response.json({"orderNumber": order.order_number, "backendCertId": order.backend_cert_id})

    def smime_collect(self, request: Request, oid: str, fmt: str | None = None) -> Response:
        return self._collect(self._order(SMIME, oid), request, fmt)

    def smime_details(self, request: Request, oid: str) -> Response:
        return Response.json(views.smime_details(self._smime_record(oid), self._date_format(request, views.US_DATES)))

    def smime_list(self, request: Request) -> Response:
        filters: dict[str, Callable[[Order, str], bool]] = {
            "email": lambda o, v: (o.email or "").lower() == v.lower(),
            "state": lambda o, v: views.smime_state(o) == v.lower(),
            "certTypeId": lambda o, v: str(o.profile_id) == v.strip(),
            "serialNumber": lambda o, v: views.has_certificate(o) and _same_serial(o.serial_number, v),
            "backendCertId": lambda o, v: o.backend_cert_id == v.strip(),
            "personId": lambda o, v: str(o.person_id) == v.strip(),
        }
        date_fmt = self._date_format(request, views.ISO_DATES)
        return self._list(SMIME, request, filters, lambda o: views.smime_list_item(o, date_fmt))

    def _smime_renew(self, order: Order) -> Response:
        new = self.lifecycle.renew_smime(order)
        return Response.json({"orderNumber": new.order_number, "backendCertId": new.backend_cert_id})

    def smime_renew_by_order(self, request: Request, oid: str) -> Response:
        return self._smime_renew(self._order(SMIME, oid))

    def smime_renew_by_serial(self, request: Request, serial: str) -> Response:
        return self._smime_renew(self._by_serial(SMIME, serial))

    def smime_revoke_by_order(self, request: Request, oid: str) -> Response:
        return self._revoke(self._order(SMIME, oid), request, reason_required=False)

    def smime_revoke_by_serial(self, request: Request, serial: str) -> Response:
        return self._revoke(self._by_serial(SMIME, serial), request, reason_required=False)


def _candidates(store: Store, kind: str, request: Request) -> list[Order]:
    """The orders a list can hold: through an index when a filter has one, else all of ``kind``."""
    common_name, serial, status = request.arg("commonName"), request.arg("serialNumber"), request.arg("status")
    if kind == SSL and common_name:
        return store.with_common_name(SSL, common_name)
    if serial:
        order = store.by_serial(kind, serial)
        return [order] if order is not None else []
    if kind == SSL and status:
        canonical = STATUSES.get(status.replace(" ", "").lower())
        return store.with_status(SSL, canonical) if canonical else []
    return store.all(kind)


def _same_serial(ours: str | None, given: str) -> bool:
    return ours is not None and serial_from_text(ours) == serial_from_text(given)


def _bounded(value: str | None, field: str, default: int, minimum: int, maximum: int | None) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise errors.invalid_field(field) from None
    if number < minimum or (maximum is not None and number > maximum):
        raise errors.invalid_field(field)
    return number
