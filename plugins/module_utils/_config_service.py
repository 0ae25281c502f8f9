# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM connection entries kept in Vault at ``configs/<name>`` (docs/vault.md "Layout").

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_kinds import KINDS
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import base_url, validate_defaults, whole_number
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._records import CERTIFICATE_TYPES, config_path, iso, utc_now, validate_name
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault_store import CAS_ATTEMPTS, VaultCasConflict

DEFAULT_BASE_URL = "https://cert-manager.com/api"
SCM_AUTH_METHODS = ("password", "client_certificate")

# Connection fields of a config entry, in the order they are shown.
CONNECTION_FIELDS = ("config_type", "base_url", "customer_uri", "login", "org_id", "scm_auth_method",
                     "scm_client_cert", "scm_client_key", "scm_validate_certs", "scm_ca_cert")


@dataclass
class ConfigResult:
    changed: bool
    config: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def public_config(entry: dict[str, Any] | None) -> dict[str, Any]:
    """A config entry without its password; ``password_set`` says whether one is stored."""
    if not entry:
        return {}
    view = {k: v for k, v in entry.items() if k != "password"}
    view["password_set"] = bool(entry.get("password"))
    return view


def scm_client_for(config: dict[str, Any], timeout: int = 30) -> Any:
    """Build the SCM client a config entry describes (imported here so reads need no requests).

    ``timeout`` is per SCM request; it is not ``vault_timeout``, which bounds Vault requests only.
    """
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm_client import ScmClient

    return ScmClient(
        config["base_url"], config["customer_uri"], config["login"], config.get("password"),
        auth_method=config.get("scm_auth_method") or "password",
        client_cert=config.get("scm_client_cert"), client_key=config.get("scm_client_key"),
        verify=config.get("scm_validate_certs", True), ca_cert=config.get("scm_ca_cert"), timeout=timeout,
    )


class ConfigService:
    """Create, update, read and delete config entries. No Ansible here."""

    def __init__(self, store: Any, *, scm_factory: Callable[[dict[str, Any]], Any] = scm_client_for,
                 clock: Callable[[], Any] = utc_now) -> None:
        self.store = store
        self.scm_factory = scm_factory
        self.clock = clock

    def get(self, name: str) -> dict[str, Any] | None:
        validate_name(name, "config")
        data, _version = self.store.read(config_path(name))
        return data

    def require(self, name: str) -> dict[str, Any]:
        entry = self.get(name)
        if not entry:
            raise InputError("config", f"config '{name}' does not exist in Vault; create it with sectigo.vault_pki.sectigo_config")
        return entry

    def list_names(self) -> list[str]:
        return sorted(k.rstrip("/") for k in self.store.list("configs") if not k.endswith("/"))

    def ensure_present(self, desired: dict[str, Any], *, update_password: str = "always", verify_connection: bool = False,
                       check_mode: bool = False) -> ConfigResult:
        """Make ``configs/<name>`` hold ``desired``; options given as None keep their stored value.

        The write is a check-and-set on the version read. When another run wrote the entry in between
        (two playbooks creating the same config), the entry is read again and the decision made again:
        if the other run already stored what this one wants, nothing changes.
        """
        name = validate_name(desired.get("name"), "name")
        for attempt in range(CAS_ATTEMPTS):
            current, version = self.store.read(config_path(name))
            merged = self._merge(current, name, desired, update_password)
            changed = _comparable(current) != _comparable(merged)
            if not changed or check_mode:
                break
            if verify_connection:
                # Refuse to save credentials SCM does not accept.
                self.scm_factory(merged).verify_credentials(kind=KINDS[merged["config_type"]].scm_area)
                verify_connection = False  # once per task, even when the write has to be tried again
            merged["updated_at"] = iso(self.clock())
            try:
                self.store.write(config_path(name), merged, cas=version)
                break
            except VaultCasConflict:
                if attempt == CAS_ATTEMPTS - 1:
                    raise
        return ConfigResult(changed=changed, config=public_config(merged if changed else current),
                            before=_config_diff_view(current), after=_config_diff_view(merged))

    def _merge(self, current: dict[str, Any] | None, name: str, desired: dict[str, Any], update_password: str) -> dict[str, Any]:
        merged = copy.deepcopy(current) if current else {"name": name}
        for key in CONNECTION_FIELDS:
            if desired.get(key) is not None:
                merged[key] = desired[key]
        merged.setdefault("base_url", DEFAULT_BASE_URL)
        merged.setdefault("scm_auth_method", "password")
        merged.setdefault("scm_validate_certs", True)
        defaults = dict(merged.get("defaults") or {})
        for key, value in validate_defaults(desired.get("defaults") or {}).items():
            if value is not None:
                defaults[key] = value
        merged["defaults"] = defaults
        password = desired.get("password")
        if password is not None and (current is None or update_password == "always"):
            merged["password"] = password
        self._validate(merged)
        return merged

    def ensure_absent(self, name: str, *, check_mode: bool = False) -> ConfigResult:
        validate_name(name, "name")
        current, _version = self.store.read(config_path(name))
        if current is None:
            return ConfigResult(changed=False, config={})
        if not check_mode:
            self.store.delete(config_path(name))
        return ConfigResult(changed=True, config={}, before=_config_diff_view(current), after={})

    @staticmethod
    def _validate(entry: dict[str, Any]) -> None:
        if entry.get("config_type") not in CERTIFICATE_TYPES:
            raise InputError("config_type", f"config_type must be one of {', '.join(CERTIFICATE_TYPES)}; got {entry.get('config_type')!r}")
        if entry.get("scm_auth_method") not in SCM_AUTH_METHODS:
            raise InputError("scm_auth_method", f"scm_auth_method must be one of {', '.join(SCM_AUTH_METHODS)}")
        for key in ("customer_uri", "login", "org_id"):
            if entry.get(key) in (None, ""):
                raise InputError(key, f"{key} is required to create a config (env fallback for customer_uri and login: "
                                      "SECTIGO_CM_CUSTOMER_URI, SECTIGO_CM_USER)")
        base_url(entry.get("base_url"))
        whole_number(entry["org_id"], "org_id", 1)
        validate_name(entry["customer_uri"], "customer_uri")
        if entry["scm_auth_method"] == "password" and not entry.get("password"):
            raise InputError("password", "password is required when scm_auth_method is password (env SECTIGO_CM_PASSWORD)")
        if entry["scm_auth_method"] == "client_certificate" and not (entry.get("scm_client_cert") and entry.get("scm_client_key")):
            raise InputError("scm_client_cert", "scm_client_cert and scm_client_key are required when scm_auth_method is client_certificate")


def _comparable(entry: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (entry or {}).items() if k != "updated_at"}


def _config_diff_view(entry: dict[str, Any] | None) -> dict[str, Any]:
    if not entry:
        return {}
    view = {k: entry.get(k) for k in ("name",) + CONNECTION_FIELDS if entry.get(k) is not None}
    view["defaults"] = entry.get("defaults") or {}
    view["password_set"] = bool(entry.get("password"))
    return view
