# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``sectigo_inventory``: SCM's certificates of one config next to what Vault holds (docs/inventory.md).

Listing: SSL certificates come from one Report API request (``POST /report/v1/ssl-certificates``), client
certificates from the paged list (``GET /smime/v2``, ``page_size`` a page). Each entry is *known* when Vault
holds a record of its order (``certs/<config>/<id>_<customer_uri>``, one Vault LIST for all of them) or when
its comments carry the collection's ``vault_pki:`` marker (an order of this collection whose answer was lost:
``sectigo_cert`` settles those, the inventory never imports them); otherwise it is *unknown*.

Import: every unknown, issued certificate becomes a record under a name (``name_template``; the common name or
the e-mail address by default), through the fleet path (``_estate/fleet.Fleet``: one bounded pool, one Vault and
one SCM client, the same import of one order as ``sectigo_cert`` with ``ssl_id``/``order_number``). Such a
record has no private key (SCM never had it); ``private_key_held: false`` says so.

Sync (``inventory_sync.py``) records what changed in SCM outside the collection.
"""
from __future__ import annotations

import datetime
import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import MARKER_PREFIX
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.inventory_sync import name_part

STATUS_FILTERS = ("issued", "revoked", "expired", "requested", "any")
COLLISIONS = ("suffix", "skip")
PLACEHOLDERS = ("common_name", "email", "id", "order_number", "profile_id")
DEFAULT_TEMPLATES = {rec.SSL_CERT: "{common_name}", rec.CLIENT_CERT: "{email}"}
DEFAULT_PAGE_SIZE = 200
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def render_name(template: str, facts: dict[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: name_part(facts.get(m.group(1))), template)


def _date(value: Any, option: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(option, f"{option} must be a date YYYY-MM-DD; got {value!r}") from None


@dataclass
class InventoryRequest:
    """What a ``sectigo_inventory`` task asks: its options checked before any I/O (``check_options``), and with the
    config's kind before any SCM call (``validate``)."""

    config: str
    do_import: bool = False
    sync: bool = False
    full: bool = False
    status: list[str] = field(default_factory=lambda: ["any"])
    profile_ids: list[int] = field(default_factory=list)
    organization_ids: list[int] = field(default_factory=list)
    common_name: str | None = None
    requested_since: Any = None
    name_template: str | None = None
    name_collision: str = "suffix"
    page_size: int = DEFAULT_PAGE_SIZE
    concurrency: int = 8
    since: datetime.date | None = None

    def check_options(self) -> None:
        """Every rule that needs neither Vault nor SCM: the module runs it before the Vault login."""
        rec.validate_name(self.config, "config")
        bad = [s for s in self.status if s not in STATUS_FILTERS]
        if bad:
            raise InputError("status", f"status must be among {', '.join(STATUS_FILTERS)}; got {bad[0]!r}")
        if self.name_collision not in COLLISIONS:
            raise InputError("name_collision", f"name_collision must be one of {', '.join(COLLISIONS)}; got {self.name_collision!r}")
        if not 1 <= int(self.page_size) <= DEFAULT_PAGE_SIZE:
            raise InputError("page_size", f"page_size must be from 1 to {DEFAULT_PAGE_SIZE}; got {self.page_size}")
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import MAX_CONCURRENCY

        if not 1 <= int(self.concurrency) <= MAX_CONCURRENCY:
            raise InputError("concurrency", f"concurrency must be from 1 to {MAX_CONCURRENCY}; got {self.concurrency}")
        self.since = _date(self.requested_since, "requested_since")
        if self.name_template:
            check_template(self.name_template)

    def validate(self, config_type: str) -> None:
        """``check_options``, and the default name template of the config's kind."""
        self.check_options()
        self.name_template = self.name_template or DEFAULT_TEMPLATES[config_type]
        check_template(self.name_template)


def check_template(template: str) -> None:
    """A template must name only known facts and give a valid name for any certificate."""
    unknown = [p for p in _PLACEHOLDER.findall(template) if p not in PLACEHOLDERS]
    if unknown or "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise InputError("name_template", f"name_template may use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}; "
                                          f"got {template!r}")
    sample = render_name(template, {"common_name": "www.example.com", "email": "a@example.com", "id": 1, "order_number": 1,
                                    "profile_id": 1})
    if not rec.is_valid_name(sample):
        raise InputError("name_template", f"name_template {template!r} gives names such as {sample!r}, which is not a valid name "
                                          f"({rec.NAME_PATTERN})")


@dataclass
class Entry:
    """One SCM certificate as the inventory sees it, whichever endpoint listed it."""

    order_id: int
    status: str
    common_name: str = ""
    email: str | None = None
    serial_number: str | None = None
    profile_id: int | None = None
    org_id: int | None = None
    comments: str = ""
    requested: str | None = None
    expires: str | None = None
    uid: str = ""
    known: str | None = None  # "order", "marker" or None

    def public(self) -> dict[str, Any]:
        out = {"id": self.order_id, "status": self.status, "common_name": self.common_name, "email": self.email,
               "serial_number": self.serial_number, "profile_id": self.profile_id, "org_id": self.org_id,
               "cert_unique_id": self.uid, "expires": self.expires}
        return {k: v for k, v in out.items() if v not in (None, "")}


def _serial(value: Any) -> str | None:
    """SCM's serial in the records' form (colon-separated upper-case hex)."""
    if not value:
        return None
    digits = str(value).replace(":", "").strip().upper()
    digits = digits if len(digits) % 2 == 0 else "0" + digits
    return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def ssl_entry(item: dict[str, Any]) -> Entry:
    return Entry(order_id=int(item["id"]), status=str(item.get("status") or "").lower(), common_name=item.get("commonName") or "",
                 serial_number=_serial(item.get("serialNumber")), profile_id=item.get("typeId"), org_id=item.get("orgId"),
                 comments=item.get("comments") or "", requested=item.get("requested"), expires=item.get("expires"))


def smime_entry(item: dict[str, Any]) -> Entry:
    subject = str((item.get("certificateDetails") or {}).get("subject") or "")
    email = next((part.strip()[2:] for part in subject.split(",") if part.strip().upper().startswith("E=")), None)
    common_name = next((part.strip()[3:] for part in subject.split(",") if part.strip().upper().startswith("CN=")), "")
    state = str(item.get("state") or "").lower()
    return Entry(order_id=int(item.get("orderNumber") or item.get("backendCertId")), status=_CLIENT_STATES.get(state, state),
                 common_name=common_name, email=(email or "").strip() or None, serial_number=_serial(item.get("serialNumber")),
                 comments=item.get("comments") or "", expires=item.get("expires"))


_CLIENT_STATES = {"requested": "requested", "created": "requested", "blank": "requested", "pre_revoked": "revoked",
                  "rejected": "rejected"}
_REPORT_STATUS = {"issued": "issued", "revoked": "revoked", "expired": "expired", "requested": "requested", "any": "any"}


class ScmListing:
    """The SCM side: one listing of a config's certificates, the requests it took counted in ``requests``."""

    def __init__(self, scm: Any, config_type: str, page_size: int) -> None:
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.report_api import ReportApi

        self.scm = scm
        self.reports = ReportApi(scm)
        self.config_type = config_type
        self.page_size = page_size
        self.pages = [0]

    @property
    def requests(self) -> int:
        return self.reports.requests + self.pages[0]

    def entries(self, req: InventoryRequest) -> list[Entry]:
        if self.config_type == rec.SSL_CERT:
            statuses = ["any"] if "any" in req.status else req.status
            out: list[Entry] = []
            for status in statuses:
                criteria: dict[str, Any] = {"status": _REPORT_STATUS[status], "organization_ids": req.organization_ids or None}
                if req.since:
                    criteria.update(date_attribute="requested", since=req.since)
                out.extend(ssl_entry(item) for item in self.reports.ssl_certificates(**criteria))
        else:
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.report_api import pages

            out = [smime_entry(item) for item in pages(self.scm.list_smime, self.page_size, self.pages)]
            if req.organization_ids or req.since:
                criteria = {"organization_ids": req.organization_ids or None}
                if req.since:
                    criteria.update(date_attribute="issued", since=req.since)
                wanted = {int(i["orderNumber"]) for i in self.reports.client_certificates(**criteria)}
                out = [e for e in out if e.order_id in wanted]
            if "any" not in req.status:
                out = [e for e in out if e.status in req.status]
        return _filtered(out, req)


def _filtered(entries: list[Entry], req: InventoryRequest) -> list[Entry]:
    seen: set[int] = set()
    out = []
    for entry in entries:
        if entry.order_id in seen:
            continue
        seen.add(entry.order_id)
        if req.profile_ids and entry.profile_id not in req.profile_ids:
            continue
        if req.common_name and not any(fnmatch.fnmatchcase(value.lower(), req.common_name.lower())
                                       for value in (entry.common_name, entry.email or "") if value):
            continue
        out.append(entry)
    return sorted(out, key=lambda e: e.order_id)


def mark_known(entries: list[Entry], known_uids: set[str], customer_uri: str) -> None:
    for entry in entries:
        entry.uid = rec.cert_unique_id(entry.order_id, customer_uri)
        if entry.uid in known_uids:
            entry.known = "order"
        elif MARKER_PREFIX in entry.comments:
            entry.known = "marker"


def choose_names(unknown: list[Entry], template: str, taken: Callable[[str], bool], collision: str) -> list[tuple[Entry, str | None]]:
    """A name for each unknown certificate: the template's; when that is taken (in Vault or earlier in this batch),
    ``<name>-<order id>`` (``collision: suffix``) or none (``skip``: the certificate is left out and listed as such)."""
    used: set[str] = set()
    out: list[tuple[Entry, str | None]] = []
    for entry in unknown:
        name = render_name(template, {"common_name": entry.common_name, "email": entry.email or entry.common_name, "id": entry.order_id,
                                      "order_number": entry.order_id, "profile_id": entry.profile_id})
        if not rec.is_valid_name(name):
            name = name_part(f"cert-{entry.order_id}")
        if name in used or taken(name):
            name = f"{name[:110]}-{entry.order_id}" if collision == "suffix" else None
        if name is not None:
            used.add(name)
        out.append((entry, name))
    return out


def _details(scm: Any, config_type: str, counter: list[int]) -> Callable[[Any], dict[str, Any]]:
    def details(oid: Any) -> dict[str, Any]:
        if config_type != rec.SSL_CERT or oid is None:
            return {}  # client details take SCM's record id, which a record does not keep: renewals are followed for SSL
        counter[0] += 1
        return scm.get_ssl(oid) or {}
    return details


class Inventory:
    """One ``sectigo_inventory`` task: list, mark, import, sync (module docstring); ``run`` returns the task's result."""

    def __init__(self, store: Any, config: dict[str, Any], scm_factory: Callable[[], Any], *, check_mode: bool = False,
                 clock: Callable[[], datetime.datetime] = rec.utc_now, fleet_factory: Callable[..., Any] | None = None) -> None:
        self.store = store
        self.config = config
        self.config_name = config.get("name") or ""
        self.config_type = config.get("config_type") or rec.SSL_CERT
        self.scm_factory = scm_factory
        self.check_mode = check_mode
        self.clock = clock
        self.fleet_factory = fleet_factory
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords

        self.records = CertRecords(store, self.config_name, clock)
        self._known_names: set[str] | None = None

    def _names(self) -> set[str]:
        """Every name of the config: one Vault LIST, so a name is checked without a read."""
        if self._known_names is None:
            self._known_names = set(self.records.names())
        return self._known_names

    def _taken(self, name: str) -> str | None:
        """The record a name points at ("claimed" while an order is placed for it); None when the name is free."""
        if name not in self._names():
            return None
        entry, _version = self.records.read_name(name)
        return (entry or {}).get("cert_unique_id") or ("claimed" if entry else None)

    def run(self, req: InventoryRequest) -> dict[str, Any]:
        req.validate(self.config_type)
        scm = self.scm_factory()
        listing = ScmListing(scm, self.config_type, req.page_size)
        listing.details = _details(scm, self.config_type, listing.pages)  # type: ignore[attr-defined]
        known = set(self.records.ids())
        entries = listing.entries(req)
        mark_known(entries, known, self.config.get("customer_uri") or "")
        unknown = [e for e in entries if e.known is None]
        result: dict[str, Any] = {"changed": False, "unknown": [e.public() for e in unknown], "imported": [], "skipped": [],
                                  "changed_outside": []}
        if req.do_import:
            self._import(req, [e for e in unknown if e.status == "issued"], scm, result)
        if req.sync:
            self._sync(req, listing, known, scm, result)
        counts = {"listed": len(entries), "known": sum(1 for e in entries if e.known), "unknown": len(unknown),
                  "known_by_marker": sum(1 for e in entries if e.known == "marker"), "imported": len(result["imported"]),
                  "import_failed": sum(1 for i in result["imported"] if i.get("failed")), "skipped": len(result["skipped"]),
                  "changed_outside": len(result["changed_outside"])}
        result["summary"] = counts
        result["scm_requests"] = int(getattr(scm, "requests_sent", 0) or 0) or listing.requests
        return result

    def _import(self, req: InventoryRequest, candidates: list[Entry], scm: Any, result: dict[str, Any]) -> None:
        names = self._names()
        named = choose_names(candidates, req.name_template or "", names.__contains__, req.name_collision)
        result["skipped"] = [dict(e.public(), reason="name taken") for e, name in named if name is None]
        todo = [(e, name) for e, name in named if name is not None]
        if not todo:
            return
        if self.check_mode:
            result["imported"] = [dict(e.public(), name=name) for e, name in todo]
            result["changed"] = True
            return
        outcomes = self._fleet(req, scm, list(todo))
        for (entry, name), outcome in zip(todo, outcomes):
            item = dict(entry.public(), name=name)
            if outcome.error is not None:
                item.update(failed=True, msg=str(outcome.error))
            result["imported"].append(item)
        result["changed"] = any(not i.get("failed") for i in result["imported"]) or result["changed"]

    def _fleet(self, req: InventoryRequest, scm: Any, todo: list[tuple[Entry, str]]) -> list[Any]:
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, build_requests

        option = "ssl_id" if self.config_type == rec.SSL_CERT else "order_number"
        items = []
        for entry, name in todo:
            item: dict[str, Any] = {"name": name, option: entry.order_id}
            if self.config_type != rec.SSL_CERT:
                item.update(email=entry.email, cert_type=entry.profile_id)
            items.append(item)
        fleet = (self.fleet_factory or Fleet)(self.store, self.config, lambda: scm, concurrency=req.concurrency,
                                              check_mode=self.check_mode, clock=self.clock)
        return fleet.run(build_requests(items, {"config": self.config_name, "state": "present"}))

    def _renewal_entry(self, item: dict[str, Any]) -> Entry:
        if self.config_type == rec.SSL_CERT:
            return ssl_entry(item)
        return Entry(order_id=int(item["orderNumber"]), status="issued", email=item.get("email"))

    def _sync(self, req: InventoryRequest, listing: ScmListing, known: set[str], scm: Any, result: dict[str, Any]) -> None:
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.inventory_sync import Sync

        sync = Sync(self.store, self.records, listing, customer_uri=self.config.get("customer_uri") or "",
                    config_type=self.config_type, check_mode=self.check_mode, clock=self.clock)
        last_day, version = sync.last_day(self.config_name)
        sync.apply(sync.events(None if req.full else last_day), known, self._taken)
        if sync.renewals and not self.check_mode:
            todo = [(self._renewal_entry(item), name) for item, name, _old in sync.renewals]
            outcomes = self._fleet(req, scm, todo)
            for (entry, _name), (_item, _n, old_uid), outcome in zip(todo, sync.renewals, outcomes):
                if outcome.error is None:
                    sync.link_renewal(old_uid, rec.cert_unique_id(entry.order_id, self.config.get("customer_uri") or ""))
        result["changed_outside"] = sync.changes
        result["last_sync_day"] = (last_day.isoformat() if last_day else None)
        counts: dict[str, int] = {}
        for change in sync.changes:
            counts[change["change"]] = counts.get(change["change"], 0) + 1
        if sync.changes or last_day != self.clock().date():
            sync.remember(self.config_name, version, counts)  # bookkeeping: not a change of any certificate
        result["changed"] = result["changed"] or bool(sync.changes)
