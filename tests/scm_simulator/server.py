"""The HTTP side: routing, authentication, faults, and one handler per SCM endpoint (SCM_API.md)."""
from __future__ import annotations

import base64
import datetime
import json
import re
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from scm_simulator import seed
from scm_simulator.ca import CertificateAuthority, csr_key_type
from scm_simulator.store import PENDING_DESCRIPTIONS, Store


class ApiError(Exception):
    """An SCM error answer: HTTP status plus the ``{code, description}`` body (SCM_API §1.5)."""

    def __init__(self, status: int, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


def bad(code: int, description: str) -> ApiError:
    return ApiError(400, code, description)


def not_found(oid: Any) -> ApiError:
    return ApiError(404, -5101, f"Certificate not found. {oid}")


FORMATS = {"x509", "x509co", "x509io", "x509ior", "x509r", "base64", "bin", "pem", "pemco", "pemia"}
REASON_CODES = {0, 1, 3, 4, 5}
ORDER_STATES_SMIME = {"Requested": "requested", "Applied": "requested", "Issued": "issued", "Revoked": "revoked", "Rejected": "rejected",
                      "Declined": "rejected", "Invalid": "rejected", "Expired": "expired"}


def us_date(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%m/%d/%Y")


def iso_date(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")


class Simulator:
    """The SCM behaviour, independent of HTTP: takes parsed requests, returns (status, headers, body)."""

    def __init__(self, store: Store, ca: CertificateAuthority, *, login: str, password: str, customer_uri: str) -> None:
        self.store = store
        self.ca = ca
        self.login = login
        self.password = password
        self.customer_uri = customer_uri
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[..., Any]]] = []
        for method, template, handler in self._route_table():
            # Route templates read like SCM_API ("{id}"); the group is "oid" so handlers need not shadow id().
            pattern = "^" + re.sub(r"\{(\w+)\}", lambda m: f"(?P<{'oid' if m.group(1) == 'id' else m.group(1)}>[^/]+)", template) + "$"
            self.routes.append((method, re.compile(pattern), template, handler))

    def _route_table(self) -> list[tuple[str, str, Callable[..., Any]]]:
        return [
            ("GET", "/organization/v1", self.organizations),
            ("GET", "/ssl/v1/types", lambda q, b: self.types(seed.SSL_PROFILES, q)),
            ("GET", "/smime/v1/types", lambda q, b: self.types(seed.SMIME_PROFILES, q)),
            ("GET", "/ssl/v1/customFields", lambda q, b: self.custom_fields()),
            ("GET", "/smime/v1/customFields", lambda q, b: self.custom_fields()),
            ("POST", "/ssl/v1/enroll", self.enroll_ssl),
            ("POST", "/smime/v1/enroll", self.enroll_smime),
            ("GET", "/ssl/v1/collect/{id}/{fmt}", lambda q, b, oid, fmt: self.collect("ssl", oid, fmt)),
            ("GET", "/ssl/v1/collect/{id}", lambda q, b, oid: self.collect("ssl", oid, (q.get("format") or ["base64"])[0])),
            ("GET", "/smime/v1/collect/{id}/{fmt}", lambda q, b, oid, fmt: self.collect("smime", oid, fmt)),
            ("GET", "/smime/v1/collect/{id}", lambda q, b, oid: self.collect("smime", oid, (q.get("format") or ["base64"])[0])),
            ("GET", "/ssl/v1", lambda q, b: self.list_orders("ssl", q)),
            ("HEAD", "/ssl/v1", lambda q, b: self.list_orders("ssl", q, head=True)),
            ("GET", "/smime/v2", lambda q, b: self.list_orders("smime", q)),
            ("HEAD", "/smime/v2", lambda q, b: self.list_orders("smime", q, head=True)),
            ("POST", "/ssl/v1/renewById/{id}", lambda q, b, oid: self.renew_ssl(self._order("ssl", oid), b)),
            ("POST", "/ssl/v1/renew/{renew_id}", self.renew_by_renew_id),
            ("POST", "/ssl/v1/replace/{id}", self.replace_ssl),
            ("POST", "/ssl/v1/revoke/serial/{serial}", lambda q, b, serial: self.revoke(self._by_serial("ssl", serial), b, ssl_rules=True)),
            ("POST", "/ssl/v1/revoke/{id}", lambda q, b, oid: self.revoke(self._order("ssl", oid), b, ssl_rules=True)),
            ("POST", "/ssl/v1/approve/{id}", lambda q, b, oid: self.approve(self._order("ssl", oid), b)),
            ("POST", "/ssl/v1/decline/{id}", lambda q, b, oid: self.decline(self._order("ssl", oid), b)),
            ("GET", "/ssl/v1/{id}", lambda q, b, oid: self.details(self._order("ssl", oid))),
            ("POST", "/smime/v2/renew/order/{id}", lambda q, b, oid: self.renew_smime(self._order("smime", oid))),
            ("POST", "/smime/v2/renew/serial/{serial}", lambda q, b, serial: self.renew_smime(self._by_serial("smime", serial))),
            ("POST", "/smime/v1/revoke/order/{id}", lambda q, b, oid: self.revoke(self._order("smime", oid), b, ssl_rules=False)),
            ("POST", "/smime/v1/revoke/serial/{serial}", lambda q, b, serial: self.revoke(self._by_serial("smime", serial), b, ssl_rules=False)),
            ("GET", "/smime/v1/{id}", lambda q, b, oid: self.details(self._order("smime", oid))),
        ]

    # ---- plumbing ---------------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[str, Callable[..., Any], dict[str, str]] | None:
        for route_method, pattern, template, handler in self.routes:
            match = pattern.match(path)
            if route_method == method and match:
                return template, handler, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def authenticate(self, headers: dict[str, str], private: bool) -> None:
        # SCM_API §1.2: header names are case-insensitive; /private/api uses a client certificate instead of a password.
        if headers.get("login") != self.login or headers.get("customeruri") != self.customer_uri:
            raise ApiError(401, -16, "Invalid auth data")
        if not private and headers.get("password") != self.password:
            raise ApiError(401, -16, "Invalid auth data")

    def _order(self, kind: str, oid: str) -> dict[str, Any]:
        order = self.store.get(oid, kind)
        if order is None:
            raise not_found(oid)
        self._refresh(order)
        return order

    def _by_serial(self, kind: str, serial: str) -> dict[str, Any]:
        order = self.store.find_serial(serial, kind)
        if order is None:
            raise bad(-166, "Entered data doesn't match the certificate or no valid certificate found")
        self._refresh(order)
        return order

    def _refresh(self, order: dict[str, Any]) -> None:
        """Issue an Applied order once its delay has passed (signing lazily, on first look)."""
        with self.store.lock:
            if not self.store.ready(order):
                return
            csr = x509.load_pem_x509_csr(order["csr"].encode())
            pem = self.ca.sign(csr, term=int(order["term"]), sans=order.get("sans") or [],
                               smime_email=order.get("email") if order["kind"] == "smime" else None,
                               backdate_days=float(self.store.config.get("backdate_days") or 0))
            cert = x509.load_pem_x509_certificate(pem.encode())
            order.update(status="Issued", cert=pem, serial=":".join(f"{b:02X}" for b in cert.serial_number.to_bytes(20, "big").lstrip(b"\0")),
                         issued_at=self.store.clock(), not_before=cert.not_valid_before_utc.timestamp(),
                         expires_at=cert.not_valid_after_utc.timestamp())
            self.store.save()

    def refresh_all(self) -> None:
        for order in list(self.store.orders.values()):
            self._refresh(order)

    # ---- reference data ---------------------------------------------------------------------------

    def organizations(self, query: dict[str, list[str]], body: Any) -> Any:
        return seed.ORGANIZATIONS

    @staticmethod
    def types(profiles: list[dict[str, Any]], query: dict[str, list[str]]) -> Any:
        org = (query.get("organizationId") or [None])[0]
        if org is not None and int(org) not in seed.ORG_IDS:
            return []
        return profiles

    def custom_fields(self) -> Any:
        mandatory = set(self.store.config.get("mandatory_custom_fields") or [])
        return [dict(field, mandatory=field["name"] in mandatory or field["mandatory"]) for field in seed.CUSTOM_FIELDS]

    # ---- validation shared by both enroll endpoints -----------------------------------------------

    def _validate_common(self, body: Any, profiles: list[dict[str, Any]], profile_error: tuple[int, str]) -> tuple[dict, x509.CertificateSigningRequest]:
        if not isinstance(body, dict):
            raise bad(-7, "Request body is required but missing.")
        for field in ("orgId", "csr", "certType", "term"):
            if body.get(field) in (None, ""):
                raise bad(-7, f"{field} is required but missing.")
        try:
            org_id, cert_type, term = int(body["orgId"]), int(body["certType"]), int(body["term"])
        except (TypeError, ValueError):
            raise bad(-1601, "Field 'orgId/certType/term' has invalid value.") from None
        if org_id not in seed.ORG_IDS:
            raise bad(-639, "Supplied orgid invalid..")
        profile = next((p for p in profiles if p["id"] == cert_type), None)
        if profile is None:
            raise bad(*profile_error)
        if term not in profile["terms"]:
            raise bad(-36, "The validity period (term) is invalid for this certificate profile.")
        csr = self._parse_csr(body["csr"])
        algo, param = csr_key_type(csr)
        if algo not in profile["keyTypes"]:
            raise bad(-11, "The CSR uses an unsupported algorithm!")
        if param not in profile["keyTypes"][algo]:
            raise bad(-13, "The CSR uses an unsupported key size!")
        names = {f.get("name") for f in body.get("customFields") or [] if isinstance(f, dict) and f.get("value")}
        for required in self.store.config.get("mandatory_custom_fields") or []:
            if required not in names:
                raise bad(-62, "Missing mandatory custom field!")
        return profile, csr

    @staticmethod
    def _parse_csr(text: Any) -> x509.CertificateSigningRequest:
        if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/=\s-]+", text):
            raise bad(-9, "The CSR is not valid Base-64 data!")
        body = text.strip()
        if "BEGIN" not in body:
            body = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"
        try:
            csr = x509.load_pem_x509_csr(body.encode())
        except ValueError:
            raise bad(-10, "Error while decoding CSR.") from None
        if not csr.is_signature_valid:
            raise bad(-138, "Invalid CSR.")
        return csr

    @staticmethod
    def _csr_cn(csr: x509.CertificateSigningRequest) -> str | None:
        values = csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(values[0].value) if values else None

    @staticmethod
    def _csr_sans(csr: x509.CertificateSigningRequest) -> list[str]:
        try:
            ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return []
        return [str(v) for v in ext.get_values_for_type(x509.DNSName)] + [str(v) for v in ext.get_values_for_type(x509.IPAddress)] + \
            [str(v) for v in ext.get_values_for_type(x509.RFC822Name)]

    # ---- SSL --------------------------------------------------------------------------------------

    def enroll_ssl(self, query: dict[str, list[str]], body: Any) -> Any:
        profile, csr = self._validate_common(body, seed.SSL_PROFILES, (-39, "The certificate profile id is invalid!"))
        cn = self._csr_cn(csr)
        sans = self._csr_sans(csr)
        extra = [s.strip() for s in str(body.get("subjAltNames") or "").split(",") if s.strip()]
        for name in ([cn] if cn else []) + extra:
            if name not in sans:
                sans.append(name)
        order = self.store.new_order("ssl", csr=body["csr"], common_name=cn, sans=sans, cert_type=profile["id"], term=int(body["term"]),
                                     org_id=int(body["orgId"]), comments=str(body.get("comments") or ""),
                                     external_requester=body.get("externalRequester"), custom_fields=body.get("customFields") or [])
        if profile["id"] not in seed.NEEDS_APPROVAL:
            self.store.apply(order)
        self.store.save()
        return {"sslId": order["id"], "renewId": order["renew_id"]}

    def renew_ssl(self, old: dict[str, Any], body: Any) -> Any:
        if old["status"] != "Issued":
            raise bad(-130, f"SSL state is not 'ISSUED': {old['status']}")
        csr_text = body.get("csr") if isinstance(body, dict) else None
        csr = self._parse_csr(csr_text) if csr_text else x509.load_pem_x509_csr(old["csr"].encode())
        sans = self._csr_sans(csr) if csr_text else list(old.get("sans") or [])
        cn = self._csr_cn(csr)
        if cn and cn not in sans:
            sans.insert(0, cn)
        order = self.store.new_order("ssl", csr=csr_text or old["csr"], common_name=cn, sans=sans, cert_type=old["cert_type"], term=old["term"],
                                     org_id=old["org_id"], comments=old.get("comments", ""), renewed_from=old["id"],
                                     external_requester=old.get("external_requester"), custom_fields=old.get("custom_fields") or [])
        old["renewed"] = True
        self.store.apply(order)
        self.store.save()
        return {"sslId": order["id"]}

    def renew_by_renew_id(self, query: dict[str, list[str]], body: Any, renew_id: str) -> Any:
        for order in list(self.store.orders.values()):
            if order.get("renew_id") == renew_id:
                self._refresh(order)
                self.renew_ssl(order, body)
                return None  # 204: no new id returned (SCM_API §3.9)
        raise bad(-123, "SSL Certificate to renew is invalid (null)")

    def replace_ssl(self, query: dict[str, list[str]], body: Any, oid: str) -> Any:
        order = self._order("ssl", oid)
        if not isinstance(body, dict) or not body.get("csr"):
            raise bad(-7, "csr is required but missing.")
        reason = body.get("reason")
        if not isinstance(reason, str) or not 1 <= len(reason) <= 512:
            raise bad(-7, "reason is required but missing.")
        if order["status"] != "Issued":
            raise bad(-1113, f"SSL certificate is not ready to be applied. Current certificate state is {order['status']}.")
        csr = self._parse_csr(body["csr"])
        sans = self._csr_sans(csr)
        for name in [self._csr_cn(csr)] + list(body.get("subjectAlternativeNames") or []):
            if name and name not in sans:
                sans.append(name)
        # SCM_API §3.10: the replacement keeps the sslId and goes back to an in-progress state.
        order.update(csr=body["csr"], common_name=body.get("commonName") or self._csr_cn(csr), sans=sans, cert=None, replaced_at=self.store.clock())
        self.store.apply(order)
        self.store.save()
        return None

    def approve(self, order: dict[str, Any], body: Any) -> Any:
        if order["status"] != "Requested":
            raise bad(-1112, f"Certificate can't be approved cause it has state = {order['status']}")
        order["approved"] = True
        self.store.apply(order)
        self.store.save()
        return None

    def decline(self, order: dict[str, Any], body: Any) -> Any:
        if order["status"] not in ("Requested", "Applied"):
            raise bad(-1112, f"Certificate can't be declined cause it has state = {order['status']}")
        order["status"] = "Declined"
        self.store.save()
        return None

    # ---- S/MIME -----------------------------------------------------------------------------------

    def enroll_smime(self, query: dict[str, list[str]], body: Any) -> Any:
        profile, _csr = self._validate_common(body, seed.SMIME_PROFILES, (-172, "The Client Certificate Profile is invalid!"))
        email = body.get("email")
        if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 128:
            raise bad(-1601, "Field 'email' has invalid value.")
        first, middle, last = (str(body.get(k) or "") for k in ("firstName", "middleName", "lastName"))
        if not first or not last:
            raise bad(-500, "Person name cannot be empty")
        if len(" ".join(x for x in (first, middle, last) if x)) > 64:
            raise bad(-1601, "Field 'firstName/middleName/lastName' has invalid value.")
        self.store.persons.setdefault(email, len(self.store.persons) + 1)
        order = self.store.new_order("smime", csr=body["csr"], email=email, common_name=body.get("commonName") or f"{first} {last}",
                                     sans=[email], cert_type=profile["id"], term=int(body["term"]), org_id=int(body["orgId"]),
                                     comments=str(body.get("comments") or ""), first_name=first, middle_name=middle, last_name=last)
        self.store.apply(order)
        self.store.save()
        return {"orderNumber": order["id"], "backendCertId": str(order["id"])}

    def renew_smime(self, old: dict[str, Any]) -> Any:
        if old["status"] != "Issued":
            raise bad(-105, f"Error was occurred while renewing cert. Status = {old['status']}")
        copied = ("csr", "email", "common_name", "sans", "cert_type", "term", "org_id", "comments", "first_name", "middle_name", "last_name")
        order = self.store.new_order("smime", renewed_from=old["id"], **{k: old.get(k) for k in copied})
        old["renewed"] = True
        self.store.apply(order)
        self.store.save()
        return {"orderNumber": order["id"], "backendCertId": str(order["id"])}

    # ---- both kinds -------------------------------------------------------------------------------

    def revoke(self, order: dict[str, Any], body: Any, *, ssl_rules: bool) -> Any:
        body = body if isinstance(body, dict) else {}
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 512 or (ssl_rules and not reason):
            raise bad(-7, "reason is required but missing.")
        try:
            code = int(body.get("reasonCode", 0))
        except (TypeError, ValueError):
            code = -1
        if code not in REASON_CODES:
            raise bad(-1601, "Field 'reasonCode' has invalid value.")
        if order["status"] != "Issued":
            raise bad(-102, "Only issued certificates could be revoked.")
        order.update(status="Revoked", revoked={"reason": reason, "reasonCode": code, "at": self.store.clock()})
        self.store.save()
        return None

    def collect(self, kind: str, oid: str, fmt: str) -> Any:
        order = self._order(kind, oid)
        fmt_key = fmt.lower()
        if fmt_key not in FORMATS:
            raise bad(-1450, f"Unsupported certificate format specified: {fmt}")
        if order["status"] == "Revoked":
            raise bad(-110, "Certificate has been revoked and cannot be downloaded.")
        if order["status"] != "Issued":
            code = int(self.store.config["pending_code"] if kind == "ssl" else self.store.config["smime_pending_code"])
            raise bad(code, PENDING_DESCRIPTIONS.get(code, "Certificate is not available now, please try again later."))
        return RawBody(self.render(order["cert"], fmt_key), f"{(order.get('common_name') or str(order['id'])).replace('.', '_')}_cert.cer")

    def render(self, leaf: str, fmt: str) -> bytes:
        """Collect output with the chain orders of SCM_API §3.7."""
        root, inter = self.ca.root_pem, self.ca.intermediate_pem
        texts = {
            "x509": root + inter + leaf, "pem": root + inter + leaf, "x509r": leaf + inter + root, "pemia": leaf + inter + root,
            "x509co": leaf, "pemco": leaf, "x509io": root + inter, "x509ior": inter + root,
        }
        if fmt in texts:
            return texts[fmt].encode()
        certs = [x509.load_pem_x509_certificate(p.encode()) for p in (leaf, inter, root)]
        der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
        if fmt == "bin":
            return der
        lines = "\n".join(base64.b64encode(der).decode()[i:i + 64] for i in range(0, len(base64.b64encode(der)), 64))
        return f"-----BEGIN PKCS7-----\n{lines}\n-----END PKCS7-----\n".encode()

    def details(self, order: dict[str, Any]) -> Any:
        profiles = seed.SSL_PROFILES if order["kind"] == "ssl" else seed.SMIME_PROFILES
        cert_type = next((p for p in profiles if p["id"] == order["cert_type"]), {"id": order["cert_type"]})
        csr = x509.load_pem_x509_csr(order["csr"].encode()) if "BEGIN" in order["csr"] else None
        algo, param = csr_key_type(csr) if csr else ("", "")
        status = order["status"] if order["kind"] == "ssl" else ORDER_STATES_SMIME.get(order["status"], order["status"].lower())
        out = {
            "id": order["id"], "commonName": order.get("common_name"), "orgId": order.get("org_id"), "status": status,
            "certType": cert_type, "term": order["term"], "comments": order.get("comments", ""), "requested": us_date(order["requested_at"]),
            "subjectAlternativeNames": order.get("sans") or [], "keyAlgorithm": algo, "keyType": f"{algo} - {param}" if algo else None,
            "renewed": order.get("renewed", False), "customFields": order.get("custom_fields") or [],
            "externalRequester": order.get("external_requester"), "requestedVia": "REST API",
        }
        if order["kind"] == "ssl":
            out.update(sslId=order["id"], renewId=order.get("renew_id"))
        else:
            out.update(backendCertId=str(order["id"]), orderNumber=order["id"], email=order.get("email"))
        if order.get("serial"):
            out.update(serialNumber=order["serial"], issued=us_date(order.get("issued_at")), expires=us_date(order.get("expires_at")))
        if order.get("revoked"):
            out.update(revoked=us_date(order["revoked"]["at"]), reasonCode=order["revoked"]["reasonCode"])
        return {k: v for k, v in out.items() if v is not None}

    def list_orders(self, kind: str, query: dict[str, list[str]], head: bool = False) -> Any:
        def arg(name: str) -> str | None:
            return (query.get(name) or [None])[0]

        orders = [o for o in self.store.orders.values() if o["kind"] == kind]
        for order in orders:
            self._refresh(order)
        filters: dict[str, Callable[[dict[str, Any], str], bool]] = {
            "commonName": lambda o, v: o.get("common_name") == v,
            "subjectAlternativeName": lambda o, v: v in (o.get("sans") or []),
            "status": lambda o, v: o["status"].lower() == v.replace(" ", "").lower(),
            "state": lambda o, v: ORDER_STATES_SMIME.get(o["status"], "") == v.lower(),
            "sslTypeId": lambda o, v: str(o["cert_type"]) == v,
            "certTypeId": lambda o, v: str(o["cert_type"]) == v,
            "orgId": lambda o, v: str(o.get("org_id")) == v,
            "serialNumber": lambda o, v: (o.get("serial") or "").replace(":", "").upper() == v.replace(":", "").upper(),
            "externalRequester": lambda o, v: o.get("external_requester") == v,
            "email": lambda o, v: o.get("email") == v,
            "backendCertId": lambda o, v: str(o["id"]) == v,
        }
        for name, test in filters.items():
            value = arg(name)
            if value is not None:
                orders = [o for o in orders if test(o, value)]
        orders.sort(key=lambda o: o["id"])
        total = len(orders)
        if head:
            return Headers({"X-Total-Count": str(total)})
        size = min(int(arg("size") or 200), 200)
        position = int(arg("position") or 0)
        page = orders[position:position + size]
        if kind == "ssl":
            items = [{"sslId": o["id"], "commonName": o.get("common_name"), "subjectAlternativeNames": o.get("sans") or [],
                      "serialNumber": o.get("serial")} for o in page]
        else:
            items = [{"id": o["id"], "state": ORDER_STATES_SMIME.get(o["status"], o["status"].lower()), "serialNumber": o.get("serial"),
                      "orderNumber": o["id"], "backendCertId": str(o["id"]), "expires": iso_date(o.get("expires_at")),
                      "comments": o.get("comments", ""), "certificateDetails": {"subject": f"E={o.get('email')}"}} for o in page]
        return WithHeaders(items, {"X-Total-Count": str(total)})


class RawBody:
    """A collect answer: raw bytes, not JSON (SCM_API §3.7)."""

    def __init__(self, data: bytes, filename: str) -> None:
        self.data = data
        self.filename = filename


class Headers:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


class WithHeaders:
    def __init__(self, body: Any, headers: dict[str, str]) -> None:
        self.body = body
        self.headers = headers


class Handler(BaseHTTPRequestHandler):
    server_version = "scm-simulator"
    protocol_version = "HTTP/1.1"
    sim: Simulator  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        return  # quiet: tests read stats instead

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return {"__invalid__": True}

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, content_type: str = "application/json;charset=UTF-8") -> None:
        self.send_response(status)
        if body or status not in (204,):
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _reset(self) -> None:
        """Drop the connection without an answer (RST, not FIN)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        self._dispatch("POST")

    def do_HEAD(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        self._dispatch("HEAD")

    def do_PUT(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body() if method in ("POST", "PUT") else None
        if url.path.startswith("/__sim__/"):
            self._control(method, url.path[len("/__sim__/"):], body)
            return
        private = url.path.startswith("/private/api/")
        prefix = "/private/api" if private else "/api"
        if not (url.path.startswith(prefix + "/")):
            self._json(404, {"code": -1, "description": f"Unknown path {url.path}"})
            return
        api_path = url.path[len(prefix):]
        found = self.sim.route(method, api_path)
        template = f"/api{found[0]}" if found else f"/api{api_path}"
        self.sim.store.count(f"{method} {template}", api=True)
        store = self.sim.store
        fault = store.take_fault(f"{method} /api{api_path}")
        after = bool(store.config.get("fault_after"))
        if fault and not after:
            self._fault(fault)
            return
        try:
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.sim.authenticate(headers, private)
            if found is None:
                raise ApiError(404, -1, f"Unknown path {api_path}")
            if isinstance(body, dict) and body.get("__invalid__"):
                raise bad(-1601, "Request body is not valid JSON.")
            result = found[1](parse_qs(url.query), body, **found[2])
            status, payload = 200, result
        except ApiError as exc:
            status, payload = exc.status, {"code": exc.code, "description": exc.description}
        if fault:
            self._fault(fault)
            return
        if isinstance(payload, RawBody):
            self._send(200, payload.data, {"Content-Disposition": f'attachment; filename="{payload.filename}"'},
                       content_type="application/octet-stream;charset=UTF-8")
        elif isinstance(payload, Headers):
            self._send(200, b"", payload.headers)
        elif isinstance(payload, WithHeaders):
            self._json(200, payload.body, payload.headers)
        elif payload is None:
            self._send(204)
        else:
            self._json(status, payload)

    def _fault(self, fault: str) -> None:
        if fault == "reset":
            self._reset()
        elif fault == "429":
            self._json(429, {"code": -1, "description": "Too many requests"}, {"Retry-After": str(self.sim.store.config.get("retry_after", 1))})
        else:
            self._json(503, {"code": -2, "description": "Internal error. Please contact Support for details."})

    def _control(self, method: str, path: str, body: Any) -> None:
        store = self.sim.store
        store.count(f"{method} /__sim__/{path.split('/')[0]}", api=False)
        if method == "GET" and path == "stats":
            self.sim.refresh_all()
            self._json(200, store.stats())
        elif method == "POST" and path == "stats/reset":
            store.reset_stats()
            self._json(200, store.stats())
        elif method == "GET" and path == "ca":
            self._json(200, {"root": self.sim.ca.root_pem, "intermediate": self.sim.ca.intermediate_pem})
        elif method == "GET" and path == "config":
            self._json(200, store.config)
        elif method == "POST" and path == "config" and isinstance(body, dict):
            with store.lock:
                unknown = sorted(set(body) - set(store.config))
                if unknown:
                    self._json(400, {"code": -1, "description": f"unknown settings: {', '.join(unknown)}"})
                    return
                store.config.update(body)
                store.save()
            self._json(200, store.config)
        elif method == "POST" and path.startswith("approve/"):
            order = store.orders.get(int(path.split("/", 1)[1])) if path.split("/", 1)[1].isdigit() else None
            if order is None or order["status"] != "Requested":
                self._json(400, {"code": -1112, "description": "not approvable"})
                return
            store.apply(order)
            store.save()
            self._json(200, {"id": order["id"], "status": order["status"]})
        elif method == "POST" and path.startswith("status/"):
            order = store.orders.get(int(path.split("/", 1)[1])) if path.split("/", 1)[1].isdigit() else None
            if order is None or not isinstance(body, dict) or not body.get("status"):
                self._json(400, {"code": -1, "description": "unknown order or no status"})
                return
            order["status"] = body["status"]
            if body["status"] == "Applied":
                order["applied_at"] = store.clock()
            store.save()
            self._json(200, {"id": order["id"], "status": order["status"]})
        else:
            self._json(404, {"code": -1, "description": f"unknown control {method} {path}"})


def make_server(host: str, port: int, sim: Simulator, tls_cert: str | None = None, tls_key: str | None = None) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"sim": sim})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if tls_cert and tls_key:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="scm-simulator", daemon=True)
    thread.start()
    return thread
