# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM connection entries kept in Vault at ``configs/<name>`` (docs/vault.md "Layout"; the logins are in docs/scm-protocol.md).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import KINDS
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import base_url, choice, validate_defaults, whole_number
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CERTIFICATE_TYPES, config_path, iso, utc_now, validate_name
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import CAS_ATTEMPTS, VaultCasConflict

DEFAULT_BASE_URL = "https://cert-manager.com/api"
# The Admin API root and Sectigo's token endpoint, for scm_auth_method oauth2 (docs/scm-protocol.md, "Authentication").
DEFAULT_ADMIN_BASE_URL = "https://admin.enterprise.sectigo.com/api"
DEFAULT_TOKEN_URL = "https://auth.sso.sectigo.com/auth/realms/apiclients/protocol/openid-connect/token"
SCM_AUTH_METHODS = ("password", "client_certificate", "oauth2")

# Config fields that are secrets: stored in Vault, never returned nor shown in a diff (``<field>_set`` instead).
SECRET_FIELDS = ("password", "client_secret", "scm_client_key_pem")

# Connection fields of a config entry, in the order they are shown.
CONNECTION_FIELDS = ("config_type", "base_url", "customer_uri", "login", "org_id", "scm_auth_method",
                     "scm_client_cert", "scm_client_key", "scm_client_cert_pem", "client_id", "scm_token_url",
                     "scm_validate_certs", "scm_ca_cert")


@dataclass
class ConfigResult:
    changed: bool
    config: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def public_config(entry: dict[str, Any] | None) -> dict[str, Any]:
    """A config entry without its secrets; ``password_set``, ``client_secret_set`` and ``scm_client_key_pem_set`` say which are stored."""
    if not entry:
        return {}
    view = {k: v for k, v in entry.items() if k not in SECRET_FIELDS}
    view.update(_secrets_set(entry))
    return view


def _secrets_set(entry: dict[str, Any]) -> dict[str, bool]:
    return {f"{name}_set": bool(entry.get(name)) for name in SECRET_FIELDS}


def scm_client_for(config: dict[str, Any], timeout: int = 30) -> Any:
    """Build the SCM client a config entry describes (imported here so reads need no requests).

    ``timeout`` is per SCM request; it is not ``vault_timeout``, which bounds Vault requests only.
    """
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.client import ScmClient

    return ScmClient(
        config["base_url"], config.get("customer_uri") or "", config.get("login") or "", config.get("password"),
        auth_method=config.get("scm_auth_method") or "password",
        client_cert=config.get("scm_client_cert"), client_key=config.get("scm_client_key"),
        client_cert_pem=config.get("scm_client_cert_pem"), client_key_pem=config.get("scm_client_key_pem"),
        client_id=config.get("client_id"), client_secret=config.get("client_secret"), token_url=config.get("scm_token_url"),
        verify=config.get("scm_validate_certs", True), ca_cert=config.get("scm_ca_cert"), timeout=timeout,
    )


class ConfigService:
    """Create, update, read and delete config entries. No Ansible here."""

    def __init__(self, store: Any, *, scm_factory: Callable[[dict[str, Any]], Any] = scm_client_for,
                 clock: Callable[[], Any] = utc_now) -> None:
        self.store = store
        self.scm_factory = scm_factory
        self.clock = clock

    def get(self, name: str, field: str = "config") -> dict[str, Any] | None:
        """The config entry, or None; ``field`` is the option that named it (for the error on a bad name)."""
        validate_name(name, field)
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
        merged.setdefault("scm_auth_method", "password")
        merged.setdefault("base_url", DEFAULT_ADMIN_BASE_URL if merged["scm_auth_method"] == "oauth2" else DEFAULT_BASE_URL)
        if merged["scm_auth_method"] == "oauth2":
            merged.setdefault("scm_token_url", DEFAULT_TOKEN_URL)
        merged.setdefault("scm_validate_certs", True)
        defaults = dict(merged.get("defaults") or {})
        for key, value in validate_defaults(desired.get("defaults") or {}).items():
            if value is not None:
                defaults[key] = value
        merged["defaults"] = defaults
        for secret in SECRET_FIELDS:
            value = desired.get(secret)
            if value not in (None, "") and (current is None or update_password == "always"):
                merged[secret] = value
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
        choice(entry.get("config_type"), "config_type", CERTIFICATE_TYPES)
        choice(entry.get("scm_auth_method"), "scm_auth_method", SCM_AUTH_METHODS)
        method = entry["scm_auth_method"]
        # The Admin API (oauth2) knows the account by its client id and needs no login; customer_uri still names the
        # account in every record id (cert_unique_id), so every config has one.
        required = ("customer_uri", "org_id") if method == "oauth2" else ("customer_uri", "login", "org_id")
        for key in required:
            if entry.get(key) in (None, ""):
                raise InputError(key, f"{key} is required to create a config (env fallback for customer_uri and login: "
                                      "SECTIGO_CM_CUSTOMER_URI, SECTIGO_CM_USER)")
        base_url(entry.get("base_url"))
        whole_number(entry["org_id"], "org_id", 1)
        validate_name(entry["customer_uri"], "customer_uri")
        if entry.get("scm_token_url") is not None:
            base_url(entry["scm_token_url"], "scm_token_url")
        if method == "password" and not entry.get("password"):
            raise InputError("password", "password is required when scm_auth_method is password (env SECTIGO_CM_PASSWORD)")
        if method == "client_certificate":
            by_path = bool(entry.get("scm_client_cert") and entry.get("scm_client_key"))
            by_pem = bool(entry.get("scm_client_cert_pem") and entry.get("scm_client_key_pem"))
            if not (by_path or by_pem):
                raise InputError("scm_client_cert_pem", "scm_auth_method client_certificate needs scm_client_cert_pem and scm_client_key_pem "
                                                        "(kept in Vault), or scm_client_cert and scm_client_key (files on the controller)")
            for pem_field, marker in (("scm_client_cert_pem", "CERTIFICATE"), ("scm_client_key_pem", "PRIVATE KEY")):
                value = entry.get(pem_field)
                if value and (not isinstance(value, str) or "-----BEGIN " not in value or marker not in value):
                    raise InputError(pem_field, f"{pem_field} must be PEM text (-----BEGIN ... {marker}-----)")
        if method == "oauth2":
            for key, env in (("client_id", "SECTIGO_CM_CLIENT_ID"), ("client_secret", "SECTIGO_CM_CLIENT_SECRET")):
                if not entry.get(key):
                    raise InputError(key, f"{key} is required when scm_auth_method is oauth2 (env {env})")


def _comparable(entry: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (entry or {}).items() if k != "updated_at"}


def _config_diff_view(entry: dict[str, Any] | None) -> dict[str, Any]:
    if not entry:
        return {}
    view = {k: entry.get(k) for k in ("name",) + CONNECTION_FIELDS if entry.get(k) is not None}
    view["defaults"] = entry.get("defaults") or {}
    view.update(_secrets_set(entry))
    return view
