# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a task asks for, the defaults it falls back to, and every check made on input.

Private to this collection: no compatibility is promised to code outside it.

All validation lives here and runs before any Vault write or SCM request: the options of a
``sectigo_cert`` task (or a lookup read), the ``defaults`` a config stores, and the fields of the
other modules (revocation reasons, serial numbers, SCM ids, base URLs). Each rule is declared once
and names the option and what it allows (docs/lifecycle.md "Options and defaults"). The subject,
drift and CSR helpers below are plain functions of their arguments.
"""
from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import MARKER_LENGTH, CertKind
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.schedule import DEFAULT_SPREAD, renewal_spread
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError

STATES = ("present", "renewed", "replaced", "absent")


def _crypto() -> Any:
    """``_crypto``, imported on first use: a request that gives no key, CSR, subject or SANs (every lookup, most
    re-runs) never needs it, and a process compiles what it imports (docs/bench.md)."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto

    return crypto


# The argspec choices of the key options; normalize_key_spec (``_lifecycle/crypto``) checks how they combine.
KEY_ALGOS = rec.KEY_ALGOS
KEY_SIZES = rec.RSA_SIZES + rec.EC_SIZES
KEY_CURVES = tuple(rec.CURVE_NAMES.values())

_BOOL_TRUE = ("yes", "on", "1", "true", "y", "t")
_BOOL_FALSE = ("no", "off", "0", "false", "n", "f")
# One address: something@domain.tld, no spaces; SCM checks more, this catches typing slips up front.
_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_WINDOW_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")
_HEX_SERIAL_RE = re.compile(r"^[0-9A-Fa-f]{1,40}$")
_URL_RE = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$")


# ---- field checks (each returns the normalised value or raises InputError naming the field) ----------


def whole_number(value: Any, field: str, minimum: int | None = None) -> int:
    """An int (or a string of digits, as templated config defaults arrive), at least ``minimum``."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
        number = int(value)
    if number is None or (minimum is not None and number < minimum):
        bound = "" if minimum is None else (" greater than 0" if minimum == 1 else f" of at least {minimum}")
        raise InputError(field, f"{field} must be a whole number{bound}; got {value!r}")
    return number


def boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOL_TRUE + _BOOL_FALSE:
        return value.lower() in _BOOL_TRUE
    raise InputError(field, f"{field} must be a boolean (true or false); got {value!r}")


def choice(value: Any, field: str, allowed: tuple[str, ...], *, ignore_case: bool = False) -> str:
    """One of ``allowed``; with ``ignore_case`` the allowed spelling is returned (the Vault plugin wrote ``X509``)."""
    if ignore_case and isinstance(value, str):
        for item in allowed:
            if item.lower() == value.lower():
                return item
    if value not in allowed:
        raise InputError(field, f"{field} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def text(value: Any, field: str, maximum: int, minimum: int = 0) -> str:
    """A string of ``minimum`` to ``maximum`` characters without control characters."""
    if not isinstance(value, str):
        raise InputError(field, f"{field} must be a string; got {type(value).__name__}")
    if not minimum <= len(value) <= maximum:
        span = f"at most {maximum}" if minimum == 0 else f"{minimum} to {maximum}"
        raise InputError(field, f"{field} must be {span} characters long; got {len(value)}")
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise InputError(field, f"{field} must not contain control characters such as line breaks")
    return value


def email(value: Any, field: str, maximum: int = rec.EMAIL_MAX) -> str:
    text(value, field, maximum, 1)
    if not _EMAIL_RE.match(value):
        raise InputError(field, f"{field} must be an e-mail address such as someone@example.com; got {value!r}")
    return value


def emails(value: Any, field: str, maximum: int) -> str:
    """One e-mail address or a comma-separated list of them, ``maximum`` characters in all."""
    text(value, field, maximum, 1)
    for part in value.split(","):
        email(part.strip(), field, maximum)
    return value


def base_url(value: Any, field: str = "base_url") -> str:
    if not isinstance(value, str) or not _URL_RE.match(value):
        raise InputError(field, f"{field} must be an http:// or https:// URL such as https://cert-manager.com/api; got {value!r}")
    return value.rstrip("/")


def serial_number(value: Any, field: str = "serial_number") -> str:
    """A certificate serial in hex, with or without colons (``0A:1B`` or ``0a1b``)."""
    digits = value.replace(":", "") if isinstance(value, str) else ""
    if not _HEX_SERIAL_RE.match(digits):
        raise InputError(field, f"{field} must be hexadecimal digits, optionally separated by colons (such as 0A:1B:2C); got {value!r}")
    return value


def reason_code(value: Any, field: str = "reason_code") -> int:
    """A revocation reason given as a name (``keyCompromise``) or a number (``1``)."""
    if isinstance(value, str) and value in rec.REASON_CODES:
        return rec.REASON_CODES[value]
    try:
        number = int(value) if not isinstance(value, bool) else -1
    except (TypeError, ValueError):
        number = -1
    if number not in rec.REASON_CODES.values():
        allowed = ", ".join(f"{name} ({code})" for name, code in rec.REASON_CODES.items())
        raise InputError(field, f"{field} must be one of {allowed}; got {value!r}")
    return number


def custom_fields(value: Any, field: str = "custom_fields") -> list[dict[str, str]]:
    """A list of ``{name, value}``; the Vault plugin's JSON string of that list is accepted too."""
    if isinstance(value, str) and not value.strip():
        return []  # the Vault plugin's sample files carry "" for "no custom fields"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError(field, f"{field} must be a list of {{name, value}} dictionaries or its JSON text; got {value!r}") from None
    if not isinstance(value, list) or not all(isinstance(i, dict) and set(i) == {"name", "value"} for i in value):
        raise InputError(field, f"{field} must be a list of {{name, value}} dictionaries")
    return [{"name": text(i["name"], f"{field}.name", 256, 1), "value": text(str(i["value"]), f"{field}.value", 1024)} for i in value]


def expiry_window(value: Any, field: str = "expiry_window") -> float | str:
    """Days (``7``, ``1.5``) or a share of the lifetime (``'33%'``, at most 100 %)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return value
    elif isinstance(value, str):
        match = _WINDOW_RE.match(value)
        if match and not (match.group(2) and float(match.group(1)) > 100):
            return value.strip() if match.group(2) else float(match.group(1))
    raise InputError(field, f"{field} must be a number of days (0 or more) or a percentage of the lifetime (0 to 100%) such as 33%; got {value!r}")


def parse_expiry_window(value: Any, lifetime_days: float) -> tuple[float, str | None]:
    """``(window_days, warning)``. When the window is not shorter than the lifetime, one third of the
    lifetime is used and the warning says so: otherwise a short-lived certificate would renew on every read."""
    checked = expiry_window(BUILTIN_DEFAULTS["expiry_window"] if value is None else value)
    if isinstance(checked, str):
        window = lifetime_days * float(checked.rstrip("%").strip()) / 100.0
    else:
        window = float(checked)
    if lifetime_days > 0 and window >= lifetime_days:
        third = lifetime_days / 3.0
        return third, (f"expiry_window {value} is not shorter than the certificate's lifetime of {_fmt(lifetime_days)} days; "
                       f"using one third of the lifetime ({_fmt(third)} days)")
    return window, None


def _fmt(days: float) -> str:
    return f"{days:.2f}".rstrip("0").rstrip(".")


# ---- the options of one certificate: one declaration each --------------------------------------------

# Where an option applies besides sectigo_cert (which takes them all): per item of sectigo_certs' ``certificates``
# (ITEM: what names one certificate), at sectigo_certs' top level for every item (SHARED: one polling loop, one
# deadline, settings of the whole task), both (BOTH), or neither (TASK: one record addressed by id).
TASK, ITEM, SHARED, BOTH = "task", "item", "shared", "both"


@dataclass(frozen=True)
class Option:
    """One certificate option: its AnsibleModule argspec entry (``type`` .. ``no_log``), where it applies (``scope``),
    the rule that checks and converts a value of a default-able option (``rule``: a task's value and a config's stored
    default alike; the option is default-able when it has one), the value used when neither the task nor the config
    sets it (``builtin``) and whether it describes the order rather than the certificate (``issuance``: never drifts).
    Its documentation is the one entry of the same name in plugins/doc_fragments/cert_options.py."""

    type: str
    aliases: tuple[str, ...] = ()
    choices: tuple[Any, ...] | None = None
    elements: str | None = None
    default: Any = None
    no_log: bool = False
    scope: str = BOTH
    rule: Callable[[Any, str], Any] | None = None
    builtin: Any = None
    issuance: bool = False

    def argspec(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": self.type}
        for key in ("elements", "choices", "default", "no_log", "aliases"):
            value = getattr(self, key)
            if value is not None and value is not False and value != ():
                entry[key] = list(value) if isinstance(value, tuple) else value
        return entry


def option(type_: str, *aliases: str, **declared: Any) -> Any:
    """A ``CertRequest`` field declared as a certificate option; its dataclass default is the argspec default."""
    # A field() for the CertRequest dataclass below, which declares every option through this function.
    return field(default=declared.get("default"), metadata={"option": Option(type_, tuple(aliases), **declared)})  # pylint: disable=invalid-field-call


def _count(minimum: int) -> Callable[[Any, str], int]:
    return lambda value, name: whole_number(value, name, minimum)


def _boolean(value: Any, name: str) -> bool:
    return boolean(value, name)


@dataclass
class CertRequest:  # pylint: disable=too-many-instance-attributes
    """What a task asks for, one field per certificate option. ``None`` means "not given": keep what the record has or
    use the default. Each field's ``option(...)`` is the option's one declaration: the argspecs of sectigo_cert and
    sectigo_certs, the rules, defaults and Vault plugin names below are all read from it."""

    config: str
    name: str | None = option("str", scope=ITEM)
    cert_unique_id: str | None = option("str", "sectigo_cert_unique_id", scope=TASK)
    state: str = option("str", choices=STATES, default="present")
    ssl_id: int | None = option("int", "sectigo_ssl_cert_ssl_id", scope=ITEM)
    order_number: int | None = option("int", "sectigo_client_cert_order_number", scope=ITEM)
    org_id: int | None = option("int", "sectigo_cm_org_id")
    common_name: str | None = option("str", "sectigo_csr_domain", "sectigo_common_name", "sectigo_ssl_cert_common_name", scope=ITEM)
    country: str | None = option("str", "sectigo_csr_country")
    province: str | None = option("str", "sectigo_csr_state")
    locality: str | None = option("str", "sectigo_csr_location")
    organization: str | None = option("str", "sectigo_csr_organization")
    organizational_unit: str | None = option("str", "sectigo_csr_organization_unit")
    email_address: str | None = option("str", "sectigo_csr_email_address", scope=ITEM)
    subject_alt_names: list[str] | str | None = option("list", "sectigo_ssl_cert_subject_alt_names", elements="str", scope=ITEM)
    key_algo: str | None = option("str", "sectigo_csr_key_algo", choices=KEY_ALGOS)
    key_size: int | None = option("int", "sectigo_csr_key_size", choices=KEY_SIZES)
    key_curve: str | None = option("str", choices=KEY_CURVES)
    csr: str | None = option("str", "sectigo_csr", scope=ITEM)
    private_key: str | None = option("str", "sectigo_private_key", no_log=True, scope=ITEM)
    rotate_key_on_renew: bool | None = option("bool", default=True, scope=SHARED, builtin=True)
    cert_type: int | None = option("int", "sectigo_ssl_cert_type", "sectigo_client_cert_type", rule=_count(1), issuance=True)
    term: int | None = option("int", "sectigo_ssl_cert_validity", "sectigo_client_cert_validity", rule=_count(1), issuance=True)
    format_type: str | None = option("str", "sectigo_ssl_cert_format_type", scope=SHARED, builtin="x509", issuance=True,
                                     rule=lambda v, f: choice(v, f, rec.FORMAT_TYPES, ignore_case=True))
    external_requester: str | None = option("str", "sectigo_ssl_cert_external_requester", issuance=True,
                                            rule=lambda v, f: emails(v, f, rec.EXTERNAL_REQUESTER_MAX))
    # The collection appends its marker to the comments; SCM's limit counts both.
    comments: str | None = option("str", "sectigo_ssl_cert_comments", rule=lambda v, f: text(v, f, rec.COMMENTS_MAX - MARKER_LENGTH))
    num_servers: int | None = option("int", "sectigo_ssl_cert_num_servers", scope=SHARED, rule=_count(0), issuance=True)
    server_type: int | None = option("int", "sectigo_ssl_cert_server_type", scope=SHARED, rule=_count(-1), issuance=True)
    # raw: a list of {name, value} or the Vault plugin's JSON text of it; the rule custom_fields() checks both.
    custom_fields: list[dict[str, str]] | str | None = option(
        "raw", "sectigo_ssl_cert_custom_fields", "sectigo_client_cert_custom_fields", rule=custom_fields, issuance=True)
    email: str | None = option("str", "sectigo_client_cert_email", scope=ITEM)
    first_name: str | None = option("str", "sectigo_client_cert_first_name", scope=ITEM)
    middle_name: str | None = option("str", "sectigo_client_cert_middle_name", scope=ITEM)
    last_name: str | None = option("str", "sectigo_client_cert_last_name", scope=ITEM)
    revoke_on_replace: bool | None = option("bool", "sectigo_client_cert_revoked_on_replace", "sectigo_client_cert_revoke_on_replace",
                                            scope=SHARED, rule=_boolean, builtin=False)
    reason: str | None = option("str", "sectigo_reason", "sectigo_replace_reason")
    wait: bool | None = option("bool", scope=SHARED, rule=_boolean, builtin=True)
    max_timeout: int | None = option("int", "sectigo_max_timeout", scope=SHARED, rule=_count(0), builtin=600)
    loop_period: int | None = option("int", "sectigo_loop_period", scope=SHARED, rule=_count(1), builtin=30)
    expiry_window: str | int | None = option("str", "sectigo_expiry_window", rule=expiry_window, builtin=7)
    auto_renew: bool | None = option("bool", "sectigo_auto_renew", rule=_boolean, builtin=True)
    read_renewed_cert: bool | None = option("bool", "sectigo_read_renewed_cert", scope=TASK, rule=_boolean, builtin=True)
    verify_profile: bool | None = option("bool", scope=SHARED, rule=_boolean, builtin=True)
    # A task's own decision, never a config default: replace a certificate the last sync saw revoked in SCM.
    replace_revoked_outside: bool | None = option("bool")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "CertRequest":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in params.items() if k in names})

    @property
    def gives_key_spec(self) -> bool:
        return self.key_algo is not None or self.key_size is not None or self.key_curve is not None


# Everything below is read from the declarations above.
OPTIONS: dict[str, Option] = {f.name: f.metadata["option"] for f in fields(CertRequest) if "option" in f.metadata}
# The options as AnsibleModule argspec entries: sectigo_cert's, and sectigo_certs' per-item and shared ones (``cert_options``).
CERT_OPTIONS: dict[str, dict[str, Any]] = {name: opt.argspec() for name, opt in OPTIONS.items()}
# Options of sectigo_cert that a config may hold defaults for, and the rule of each (docs/lifecycle.md "Options and defaults").
# Default-able options that only a config sets, with no task option: their rule and built-in default. How renewals
# spread over the window (docs/reporting.md "Renewal spread").
CONFIG_ONLY_OPTIONS: dict[str, tuple[Callable[[Any, str], Any], Any]] = {"renewal_spread": (renewal_spread, DEFAULT_SPREAD)}
OPTION_RULES: dict[str, Callable[[Any, str], Any]] = {name: opt.rule for name, opt in OPTIONS.items() if opt.rule is not None}
OPTION_RULES.update({name: rule for name, (rule, _builtin) in CONFIG_ONLY_OPTIONS.items()})
DEFAULTABLE_OPTIONS = tuple(OPTION_RULES)
BUILTIN_DEFAULTS: dict[str, Any] = {name: opt.builtin for name, opt in OPTIONS.items() if opt.builtin is not None}
BUILTIN_DEFAULTS.update({name: builtin for name, (_rule, builtin) in CONFIG_ONLY_OPTIONS.items()})
# The Vault plugin's names of the default-able options (their aliases): a config's ``defaults`` may use either name
# (docs/migrating-from-vault-plugin.md).
PLUGIN_NAMES: dict[str, tuple[str, ...]] = {
    name: OPTIONS[name].aliases for name in DEFAULTABLE_OPTIONS if name in OPTIONS and OPTIONS[name].aliases
}
_OPTION_OF_PLUGIN_NAME = {alias: option for option, aliases in PLUGIN_NAMES.items() for alias in aliases}
# Options that describe the order rather than the certificate; they never drift (docs/lifecycle.md).
ISSUANCE_OPTIONS = tuple(name for name, opt in OPTIONS.items() if opt.issuance)
# What sectigo_certs takes per item, and at its top level for every item.
ITEM_OPTIONS = tuple(name for name, opt in OPTIONS.items() if opt.scope in (ITEM, BOTH))
SHARED_OPTIONS = tuple(name for name, opt in OPTIONS.items() if opt.scope in (SHARED, BOTH))


def cert_options(exclude: tuple[str, ...] = (), *, defaults: bool = True, required: tuple[str, ...] = (),
                 only: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """Argspec entries of the certificate options (``only`` those, if given) without the options in ``exclude``;
    with ``defaults=False`` no entry has a default (a per-item option must stay None when not given, so that the
    shared value applies); the options in ``required`` are required."""
    unknown = (set(exclude) | set(only or ())) - set(CERT_OPTIONS)
    if unknown:
        raise KeyError(f"not certificate options: {', '.join(sorted(unknown))}")
    out = {}
    for name, entry in CERT_OPTIONS.items():
        if name in exclude or (only is not None and name not in only):
            continue
        entry = copy.deepcopy(entry)
        if not defaults:
            entry.pop("default", None)
        if name in required:
            entry["required"] = True
        out[name] = entry
    return out


# The three option sets the modules take, and their docs (plugins/doc_fragments/cert_options.py) are built from: every
# option (sectigo_cert), one item of sectigo_certs' ``certificates`` (addressed by its name, no defaults: what an item
# does not set comes from the top level, then the config's defaults, then the built-in ones), and sectigo_certs' top
# level (what applies to every item that does not set it).
VIEWS: dict[str, dict[str, Any]] = {
    "task": {},
    "item": {"only": ITEM_OPTIONS, "defaults": False, "required": ("name",)},
    "shared": {"only": SHARED_OPTIONS},
}


def cert_options_for(view: str) -> dict[str, dict[str, Any]]:
    """The argspec entries of one of VIEWS."""
    return cert_options(**VIEWS[view])


def validate_defaults(defaults: Any) -> dict[str, Any]:
    """A config's ``defaults``: only default-able options, each checked by its rule (``defaults.<option>``)."""
    if not isinstance(defaults, dict):
        raise InputError("defaults", f"defaults must be a dictionary of certificate options; got {type(defaults).__name__}")
    out: dict[str, Any] = {}
    given: dict[str, str] = {}
    for key, value in defaults.items():
        option = _OPTION_OF_PLUGIN_NAME.get(key, key)
        if option not in OPTION_RULES:
            raise InputError(f"defaults.{key}", f"defaults.{key} is not a default-able option; allowed: {', '.join(DEFAULTABLE_OPTIONS)} "
                                                "(or their Vault plugin names)")
        if option in given:
            raise InputError(f"defaults.{key}", f"defaults.{key} and defaults.{given[option]} name the same option {option}; give one")
        given[option] = key
        out[option] = None if value is None else OPTION_RULES[option](value, f"defaults.{key}")
    return out


def resolve_option(req: CertRequest, config: dict[str, Any], key: str) -> Any:
    """Task value, else the config's default, else the built-in default; normalised by the option's rule."""
    value = getattr(req, key, None)
    field = key
    if value is None:
        value = (config.get("defaults") or {}).get(key)
        field = f"defaults.{key}"
    if value is None:
        return BUILTIN_DEFAULTS.get(key)
    rule = OPTION_RULES.get(key)
    return rule(value, field) if rule else value


def validate_request(req: CertRequest, config: dict[str, Any], kind: CertKind) -> None:
    """Refuse bad input before any Vault write or SCM call, naming the option and what it allows."""
    choice(req.state, "state", STATES)
    if req.name is not None:
        rec.validate_name(req.name, "name")
    if req.cert_unique_id is not None:
        rec.validate_unique_id(req.cert_unique_id)
    if req.name is None and req.cert_unique_id is None:
        raise InputError("name", "one of name or cert_unique_id is required")
    if req.name is not None and req.cert_unique_id is not None:
        raise InputError("cert_unique_id", "give name or cert_unique_id, not both (a name follows its certificate; an id is one record)")
    for key in kind.foreign_options:
        if getattr(req, key) is not None:
            raise InputError(key, f"{key} does not apply to config '{config.get('name')}' of type {kind.name}")
    own_id = getattr(req, kind.id_option)
    if getattr(req, kind.other_id_option) is not None:
        raise InputError(kind.other_id_option, f"{kind.other_id_option} does not fit config '{config.get('name')}' of type "
                                               f"{kind.name}; import an existing order with {kind.id_option}")
    if own_id is not None:
        whole_number(own_id, kind.id_option, 1)
    if req.org_id is not None:
        whole_number(req.org_id, "org_id", 1)
    if req.state == "replaced" and not req.reason:
        raise InputError("reason", f"reason is required with state=replaced (1 to {rec.REASON_MAX} characters)")
    if req.reason is not None:
        text(req.reason, "reason", rec.REASON_MAX, 1)
    for key in DEFAULTABLE_OPTIONS:
        resolve_option(req, config, key)
    validate_subject(req, kind)
    if req.gives_key_spec:
        _crypto().normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
    if req.csr is not None:
        _crypto().csr_info(req.csr)
    if req.private_key is not None:
        _crypto().private_key_info(req.private_key)
        if req.csr is not None:
            _crypto().check_key_matches_csr(req.private_key, req.csr)


def validate_subject(req: CertRequest, kind: CertKind) -> None:
    """The subject, SANs and client identity a task gives, within X.509's and SCM's limits."""
    if req.common_name is not None:
        _crypto().check_subject_value("common_name", req.common_name)
        kind.check_common_name(req.common_name)
    for key in rec.SUBJECT_FIELDS:
        if getattr(req, key) is not None:
            _crypto().check_subject_value(key, getattr(req, key))
    if req.subject_alt_names is not None:
        # The Vault plugin's samples write "" for "no SANs" (a list of one empty entry once Ansible has read it); an
        # empty entry beside real ones is a mistake.
        entries = req.subject_alt_names if isinstance(req.subject_alt_names, list) else []
        if any(not str(item).strip() for item in entries) and any(str(item).strip() for item in entries):
            raise InputError("subject_alt_names", "subject_alt_names must not hold empty entries")
        _crypto().normalize_sans(req.subject_alt_names)
    if req.email_address is not None:
        email(req.email_address, "email_address", 255)
    if req.email is not None:
        email(req.email, "email")
    for key in ("first_name", "middle_name", "last_name"):
        if getattr(req, key) is not None:
            text(getattr(req, key), key, rec.PERSON_NAME_MAX, 1 if key != "middle_name" else 0)
    names = " ".join(x for x in (req.first_name, req.middle_name, req.last_name) if x)
    if len(names) > rec.PERSON_NAME_MAX:
        raise InputError("first_name", f"first_name, middle_name and last_name together must be at most {rec.PERSON_NAME_MAX} characters")


# ---- what a new CSR gets, and what changed -----------------------------------------------------------


def desired_subject(req: CertRequest, record: rec.CertRecord | None) -> dict[str, Any]:
    """The subject, SANs and key spec a new CSR gets: task values over the record's."""
    crypto = _crypto()
    base: dict[str, Any] = dict(record or {})
    subject = dict(base.get("subject") or {})
    for key in rec.SUBJECT_FIELDS:
        if getattr(req, key) is not None:
            subject[key] = getattr(req, key)
    common_name = req.common_name if req.common_name is not None else base.get("domain")
    if req.subject_alt_names is not None:
        sans = crypto.normalize_sans(req.subject_alt_names)
    else:
        sans = list(base.get("requested_sans") or [])
    if req.csr is not None:
        info = crypto.csr_info(req.csr)
        spec = crypto.normalize_key_spec(info["key_algo"], info["key_size"])
    elif req.private_key is not None:
        info = crypto.private_key_info(req.private_key)
        spec = crypto.normalize_key_spec(info["key_algo"], info["key_size"])
    elif req.gives_key_spec:
        spec = crypto.normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
    elif base.get("key_algo"):
        spec = crypto.normalize_key_spec(base["key_algo"], base.get("key_size"))
    else:
        spec = crypto.normalize_key_spec()
    return {"common_name": common_name, "subject": subject, "sans": sans, "spec": spec}


def drift(req: CertRequest, record: rec.CertRecord, kind: CertKind) -> list[str]:
    """Options the task gives whose value differs from the record (omitted options never drift)."""
    found = []
    if req.common_name is not None and req.common_name != record.get("domain"):
        found.append("common_name")
    if req.subject_alt_names is not None and set(_crypto().normalize_sans(req.subject_alt_names)) != set(record.get("requested_sans") or []):
        found.append("subject_alt_names")
    subject = record.get("subject") or {}
    found.extend(key for key in rec.SUBJECT_FIELDS if getattr(req, key) is not None and getattr(req, key) != subject.get(key))
    if req.gives_key_spec:
        spec = _crypto().normalize_key_spec(req.key_algo, req.key_size, req.key_curve)
        if (spec.algo, spec.size) != (record.get("key_algo"), record.get("key_size")):
            found.append("key spec")
    if req.private_key is not None and record.get("public_key_sha256") and \
            _crypto().private_key_info(req.private_key)["public_key_sha256"] != record["public_key_sha256"]:
        found.append("private_key")
    if req.csr is not None and req.csr.strip() != (record.get("csr") or "").strip():
        found.append("csr")
    found.extend(kind.drift(req, record))
    return found


def key_and_csr(req: CertRequest, desired: dict[str, Any], kind: CertKind, *, rotate: bool,
                record: rec.CertRecord | None) -> tuple[str | None, str]:
    """The private key (None when the user brings only a CSR) and CSR for a new order."""
    crypto = _crypto()
    if req.csr is not None:
        return req.private_key, req.csr
    if req.private_key is not None:
        key = req.private_key
    elif record is not None and not rotate and record.get("private_key"):
        key = record["private_key"]  # type: ignore[assignment]
    else:
        key = crypto.generate_private_key(desired["spec"])
    common_name = kind.csr_common_name(desired["common_name"], req.email or (record or {}).get("email"))
    csr = crypto.build_csr(key, common_name=common_name, subject_alt_names=desired["sans"] or None, **desired["subject"])
    return key, csr


def apply_csr(record: rec.CertRecord, key: str | None, csr: str, desired: dict[str, Any]) -> None:
    """Put the CSR, its key and the facts read from the CSR into ``record``."""
    crypto = _crypto()
    info = crypto.csr_info(csr)
    record.update({  # type: ignore[typeddict-item]
        "csr": csr, "private_key": key, "domain": info["common_name"], "subject": {k: v for k, v in info["subject"].items() if v},
        "subject_alt_names": info["subject_alt_names"], "requested_sans": desired["sans"],
        "key_algo": info["key_algo"], "key_size": info["key_size"], "public_key_sha256": info["public_key_sha256"],
    })
