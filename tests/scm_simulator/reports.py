"""The Report API (docs/scm-protocol.md "Reports"): SSL and client certificates of some organizations, by status and date.

``POST /report/v1/ssl-certificates`` and ``POST /report/v1/client-certificates`` answer
``{"statusCode": 0, "reports": [...]}`` in one request, whatever the number of certificates. A status
narrows the candidates through the store's status index; dates are whole days (``YYYY-MM-DD``, both ends
included). Per-certificate facts that need the certificate parsed (hashes, issuer, key type) are computed
once per certificate and kept.
"""
from __future__ import annotations

import datetime
import fnmatch
import re
from typing import Any, Callable

from scm_simulator import errors, profiles, views
from scm_simulator.profiles import SMIME, SSL
from scm_simulator.store import Order, Store

# certificateStatus -> the internal statuses it covers (None: any).
_SSL_STATUSES: dict[int, tuple[str, ...] | None] = {
    0: None, 1: ("Init", "Requested", "SAApproved", "Approved", "Applied"), 2: ("Issued",), 3: ("Revoked",), 4: ("Expired",)}
_CLIENT_STATUSES: dict[int, tuple[str, ...] | None] = {
    0: None, 2: ("Issued",), 3: ("Revoked",), 4: ("Expired",), 5: ("Issued",),
    6: ("Init", "Requested", "SAApproved", "Approved", "Applied", "Declined", "Rejected", "Invalid")}
# certificateDateAttribute -> the order's time stamp.
_SSL_DATES: dict[int, str] = {2: "revoked_at", 3: "not_after", 4: "requested_at", 5: "issued_at"}
_CLIENT_DATES: dict[int, str] = {0: "issued_at", 1: "downloaded_at", 2: "revoked_at", 3: "not_after"}
# certificateRequestSource -> requestedVia as the details show it.
_SOURCES = {0: "Enrollment Form", 1: "Client Admin", 2: "Web API", 3: "Discovery", 4: "Imported", 5: "SCEP", 7: "MS Agent",
            9: "Bulk Request", 10: "ACME", 11: "EST", 12: "REST API"}
_ISO = "%Y-%m-%dT%H:%M:%S.000Z"


def _day(body: dict[str, Any], field: str) -> datetime.date | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    try:
        return datetime.date.fromisoformat(str(value)) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)) else _bad(field)
    except ValueError:
        return _bad(field)


def _bad(field: str) -> Any:
    raise errors.invalid_field(field)


def _choice(body: dict[str, Any], field: str, allowed: dict[int, Any], default: int | None) -> int | None:
    value = body.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit() or int(value) not in allowed:
        _bad(field)
    return int(value)


def _pattern(body: dict[str, Any], field: str, limit: int, case_sensitive: bool) -> Callable[[str], bool] | None:
    """``*`` or ``%`` any run, ``?`` or ``_`` one character; without a wildcard the whole value must match."""
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        _bad(field)
    glob = value.replace("%", "*").replace("_", "?")
    regex = re.compile(fnmatch.translate(glob), 0 if case_sensitive else re.IGNORECASE)
    return lambda text: bool(regex.match(text or ""))


def _iso(timestamp: float | None) -> str | None:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime(_ISO) if timestamp is not None else None


class Reports:
    """Both report endpoints over one store; ``login`` is the requester of orders placed through the API."""

    def __init__(self, store: Store, login: str) -> None:
        self.store = store
        self.login = login
        self._facts: dict[tuple[int, str | None], dict[str, Any]] = {}

    def _body(self, body: Any) -> dict[str, Any]:
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise errors.invalid_field("body")
        return body

    def _select(self, kind: str, body: dict[str, Any], statuses: dict[int, tuple[str, ...] | None],
                dates: dict[int, str], default_date: int) -> list[Order]:
        status = _choice(body, "certificateStatus", statuses, 0)
        attribute = _choice(body, "certificateDateAttribute", dates, None)
        start, end = _day(body, "from"), _day(body, "to")
        if start and end and start >= end:
            _bad("from")
        orgs = body.get("organizationIds")
        if orgs is not None and (not isinstance(orgs, list) or not all(isinstance(o, int) and not isinstance(o, bool) for o in orgs)):
            _bad("organizationIds")
        wanted = statuses[status if status is not None else 0]
        if wanted is None:
            orders = self.store.all(kind)
        else:
            orders = sorted((o for s in wanted for o in self.store.with_status(kind, s)), key=lambda o: o.id)
        if orgs:
            orders = [o for o in orders if o.org_id in orgs]
        if start or end:
            stamp = dates[attribute if attribute is not None else default_date]
            low = datetime.datetime.combine(start, datetime.time(), datetime.timezone.utc).timestamp() if start else None
            high = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), datetime.timezone.utc).timestamp() \
                if end else None
            orders = [o for o in orders if getattr(o, stamp) is not None and (low is None or getattr(o, stamp) >= low)
                      and (high is None or getattr(o, stamp) < high)]
        return orders

    def _cert_facts(self, order: Order) -> dict[str, Any]:
        key = (order.id, order.serial_number if views.has_certificate(order) else None)
        facts = self._facts.get(key)
        if facts is None:
            details = views.certificate_details(order) or {}
            algorithm = views.key_algorithm(order)
            csr_facts = views._key_fields(order)  # pylint: disable=protected-access
            facts = {"issuer": details.get("issuer"), "sha1": details.get("sha1Hash"), "md5": details.get("md5Hash"),
                     "subject": details.get("subject"), "publicKeyType": csr_facts.get("keyType") or algorithm}
            self._facts[key] = facts
        return facts

    def answer(self, path: str, body: Any) -> dict[str, Any]:
        """The answer of ``POST /report/v1/<path>``: ssl-certificates or client-certificates."""
        return self.client(body) if path.rstrip("/").endswith("client-certificates") else self.ssl(body)

    # ---- SSL

    def ssl(self, body: Any) -> dict[str, Any]:
        body = self._body(body)
        orders = self._select(SSL, body, _SSL_STATUSES, _SSL_DATES, 4)
        common_name = _pattern(body, "commonName", 256, False)
        requester = _pattern(body, "externalRequester", 512, True)
        source = _choice(body, "certificateRequestSource", _SOURCES, None)
        hex_serials = body.get("serialNumberFormat") == "HEXWithLeadingZeros"
        if common_name:
            orders = [o for o in orders if common_name(o.common_name)]
        if requester:
            orders = [o for o in orders if requester(o.external_requester or "")]
        if source is not None:
            orders = [o for o in orders if (o.requested_via or "REST API") == _SOURCES[source]]
        return {"statusCode": 0, "reports": [self._ssl_entry(o, hex_serials) for o in orders]}

    def _ssl_entry(self, order: Order, hex_serials: bool) -> dict[str, Any]:
        facts = self._cert_facts(order)
        shown = views.has_certificate(order)
        serial = order.serial_number if shown else None
        if serial and hex_serials:
            serial = serial.replace(":", "")
        profile = profiles.profile(SSL, order.profile_id) or {}
        entry = {
            "id": order.id, "commonName": order.common_name, "orgId": order.org_id, "organizationName": _org_name(order.org_id),
            "status": order.status, "orderNumber": order.order_number, "backendCertId": order.backend_cert_id,
            "typeId": order.profile_id, "type": profile.get("name"), "term": order.term, "issuer": facts["issuer"] if shown else None,
            "requester": order.requester or self.login, "approver": self.login if order.approved_at else None,
            "externalRequester": order.external_requester, "comments": order.comments,
            "requested": _iso(order.requested_at), "approved": _iso(order.approved_at), "declined": _iso(order.declined_at),
            "downloaded": _iso(order.downloaded_at), "expires": _iso(order.not_after) if shown else None,
            "revoked": _iso(order.revoked_at) if order.status == "Revoked" else None, "replaced": _iso(order.replaced_at),
            "publicKeyType": facts["publicKeyType"], "subjAltNames": "; ".join(order.sans), "serialNumber": serial,
            "requestedVia": order.requested_via or "REST API", "sha1": facts["sha1"] if shown else None,
            "md5": facts["md5"] if shown else None, "customFields": list(order.custom_fields),
        }
        return {key: value for key, value in entry.items() if value is not None}

    # ---- client certificates

    def client(self, body: Any) -> dict[str, Any]:
        body = self._body(body)
        orders = self._select(SMIME, body, _CLIENT_STATUSES, _CLIENT_DATES, 0)
        if body.get("certificateStatus") in (5, "5"):
            orders = [o for o in orders if o.downloaded_at is None]
        return {"statusCode": 0, "reports": [self._client_entry(o) for o in orders]}

    def _client_entry(self, order: Order) -> dict[str, Any]:
        shown = views.has_certificate(order)
        name = " ".join(part for part in (order.first_name, order.middle_name, order.last_name) if part)
        entry = {
            "id": order.id, "subject": self._cert_facts(order)["subject"] if shown else None, "email": order.email,
            "orderNumber": order.order_number, "backendCertId": order.backend_cert_id, "enrolled": _iso(order.issued_at) if shown else None,
            "downloaded": _iso(order.downloaded_at), "expire": _iso(order.not_after) if shown else None,
            "enrollType": order.requested_via or "REST Enroll API",
            "organization": {"id": order.org_id, "name": _org_name(order.org_id)},
            "person": {"name": name, "email": order.email, "guid": f"person-{order.person_id}"},
            "customFields": list(order.custom_fields), "comments": order.comments,
        }
        return {key: value for key, value in entry.items() if value is not None}


def _org_name(org_id: int) -> str | None:
    for org in profiles.ORGANIZATIONS:
        if org["id"] == org_id:
            return org["name"]
        for department in org.get("departments", []):
            if department["id"] == org_id:
                return department["name"]
    return None
