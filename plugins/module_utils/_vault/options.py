# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault option family every module and the lookup share (docs/vault.md): argspec, validation, auth methods.

Nothing here imports AnsibleModule or an HTTP library (booleans are Ansible's own ``boolean``). Modules get the
argspec from :func:`vault_argspec` (given Ansible's ``env_fallback``); the lookup declares the same options through the doc fragment's ``PLUGINS`` section
(:data:`LOOKUP_ENV_AND_INI` is the same data, kept in step by a unit test). Both then build a
:class:`VaultOptions` with :meth:`VaultOptions.from_mapping`, which validates everything before any I/O.

Each auth method is one small class that names its required options and validates them; the login itself is
``_vault/auth.login`` (through hvac).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Callable, Mapping

from ansible.module_utils.parsing.convert_bool import boolean

K8S_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

AUTH_METHOD_NAMES = ("token", "approle", "userpass", "jwt", "cert", "kubernetes")

# Options whose values are secrets: never in a message, a repr or a log.
SECRET_OPTIONS = ("vault_token", "vault_secret_id", "vault_password", "vault_jwt")

# Environment variables per option, first set wins: Vault's own names, then the collection's earlier names, then
# community.hashi_vault's ANSIBLE_HASHI_VAULT_* names where the option means the same (docs/vault.md, "Environment variables").
ENV_FALLBACKS: dict[str, list[str]] = {
    "vault_addr": ["VAULT_ADDR", "ANSIBLE_HASHI_VAULT_ADDR"],
    "vault_auth_method": ["VAULT_AUTH_METHOD", "ANSIBLE_HASHI_VAULT_AUTH_METHOD"],
    "vault_token": ["VAULT_TOKEN", "ANSIBLE_HASHI_VAULT_TOKEN"],
    "vault_role_id": ["VAULT_ROLE_ID", "ANSIBLE_HASHI_VAULT_ROLE_ID"],
    "vault_secret_id": ["VAULT_SECRET_ID", "ANSIBLE_HASHI_VAULT_SECRET_ID"],
    "vault_username": ["ANSIBLE_HASHI_VAULT_USERNAME"],
    "vault_password": ["ANSIBLE_HASHI_VAULT_PASSWORD"],
    "vault_jwt": ["ANSIBLE_HASHI_VAULT_JWT"],
    "vault_client_cert": ["ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY"],
    "vault_client_key": ["ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY"],
    "vault_auth_mount": ["ANSIBLE_HASHI_VAULT_MOUNT_POINT"],
    "vault_namespace": ["VAULT_NAMESPACE", "ANSIBLE_HASHI_VAULT_NAMESPACE"],
    "vault_ca_cert": ["VAULT_CACERT", "ANSIBLE_HASHI_VAULT_CA_CERT"],
    "vault_timeout": ["ANSIBLE_HASHI_VAULT_TIMEOUT"],
    "vault_proxies": ["ANSIBLE_HASHI_VAULT_PROXIES"],
    "vault_retries": ["ANSIBLE_HASHI_VAULT_RETRIES"],
}

# vault_validate_certs, when not set, is the inverse of this variable (as Vault's CLI and community.hashi_vault read it).
SKIP_VERIFY_ENV = "VAULT_SKIP_VERIFY"

# What vault_retries may set when it is a dict (urllib3 Retry arguments); reads only, see _vault/client.retry_policy.
RETRY_KEYS = ("total", "connect", "status", "backoff_factor", "status_forcelist")
DEFAULT_RETRIES: dict[str, Any] = {"total": 3, "connect": 2, "status": 3, "backoff_factor": 0.25,
                                   "status_forcelist": [412, 429, 500, 502, 503, 504]}

ALIASES: dict[str, list[str]] = {"vault_addr": ["vault_url"]}

DEFAULTS: dict[str, Any] = {
    "vault_auth_method": "token",
    "vault_timeout": 30,
    "kv_mount": "secret",
    "kv_path": "sectigo-vault-pki",
}

# name -> (type, no_log); the order is the order of the documentation (docs/vault.md). ``no_log=False`` is
# explicit for vault_client_key, which is a path, not a secret.
_OPTION_TYPES: dict[str, tuple[str, bool | None]] = {
    "vault_addr": ("str", None),
    "vault_auth_method": ("str", None),
    "vault_token": ("str", True),
    "vault_role_id": ("str", None),
    "vault_secret_id": ("str", True),
    "vault_username": ("str", None),
    "vault_password": ("str", True),
    "vault_role": ("str", None),
    "vault_jwt": ("str", True),
    "vault_client_cert": ("path", None),
    "vault_client_key": ("path", False),
    "vault_auth_mount": ("str", None),
    "vault_namespace": ("str", None),
    "vault_ca_cert": ("path", None),
    "vault_validate_certs": ("bool", None),
    "vault_timeout": ("int", None),
    "vault_proxies": ("raw", None),
    "vault_retries": ("raw", None),
    "kv_mount": ("str", None),
    "kv_path": ("str", None),
}

VAULT_OPTION_NAMES: tuple[str, ...] = tuple(_OPTION_TYPES)

LOOKUP_INI_SECTION = "sectigo_vault_pki"

# What the lookup reads besides its direct keywords: the same env variables as the modules' fallbacks,
# an ini key per option in section [sectigo_vault_pki], and a variable ``sectigo_<option>``.
LOOKUP_ENV_AND_INI: dict[str, dict[str, list]] = {
    name: {
        "env": list(ENV_FALLBACKS.get(name, [])),
        "ini": [{"section": LOOKUP_INI_SECTION, "key": name}],
        "vars": [f"sectigo_{name}"],
    }
    for name in VAULT_OPTION_NAMES
}


class VaultOptionsError(ValueError):
    """A Vault option is missing or wrong. ``field`` names the option; the message never holds a secret."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def vault_argspec(env_fallback: Callable[..., Any]) -> dict[str, dict[str, Any]]:
    """The Vault options in ``AnsibleModule`` argument_spec form; pass Ansible's ``env_fallback``.

    ``vault_addr`` is not ``required`` here because ``VAULT_ADDR`` may supply it; :meth:`VaultOptions.from_mapping`
    fails with a message naming both when neither is set.
    """
    spec: dict[str, dict[str, Any]] = {}
    for name, (kind, no_log) in _OPTION_TYPES.items():
        option: dict[str, Any] = {"type": kind}
        if no_log is not None:
            option["no_log"] = no_log
        if name in DEFAULTS:
            option["default"] = DEFAULTS[name]
        if name in ALIASES:
            option["aliases"] = list(ALIASES[name])
        if name in ENV_FALLBACKS:
            option["fallback"] = (env_fallback, list(ENV_FALLBACKS[name]))
        if name == "vault_auth_method":
            option["choices"] = list(AUTH_METHOD_NAMES)
        spec[name] = option
    return spec


# ---------------------------------------------------------------------------------------------------------
# Auth methods


class AuthMethod:
    """One Vault auth method: its required options and their validation (the login is ``_vault/auth.login``)."""

    name = ""
    required: tuple[str, ...] = ()

    def validate(self, values: dict[str, Any], *, k8s_token_path: str = K8S_TOKEN_PATH) -> None:  # pylint: disable=unused-argument
        """Check ``values`` (mutable: a method may complete them) and raise VaultOptionsError naming the option.

        ``k8s_token_path`` is only for kubernetes auth (where the service-account token is read from).
        """
        missing = [option for option in self.required if not values.get(option)]
        if missing:
            raise VaultOptionsError(missing[0], f"vault_auth_method '{self.name}' needs {_and(self.required)}; missing: {', '.join(missing)}")


class TokenAuth(AuthMethod):
    name = "token"
    required = ("vault_token",)


class AppRoleAuth(AuthMethod):
    name = "approle"
    required = ("vault_role_id", "vault_secret_id")


class UserpassAuth(AuthMethod):
    name = "userpass"
    required = ("vault_username", "vault_password")


class JwtAuth(AuthMethod):
    name = "jwt"
    required = ("vault_role", "vault_jwt")


class KubernetesAuth(AuthMethod):
    name = "kubernetes"
    required = ("vault_role",)

    def validate(self, values: dict[str, Any], *, k8s_token_path: str = K8S_TOKEN_PATH) -> None:
        super().validate(values, k8s_token_path=k8s_token_path)
        if values.get("vault_jwt"):
            return
        try:
            with open(k8s_token_path, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            raise VaultOptionsError("vault_jwt", f"vault_auth_method 'kubernetes' needs vault_jwt or the service-account token file "
                                                 f"{k8s_token_path} ({exc.strerror or 'unreadable'})") from None
        if not token:
            raise VaultOptionsError("vault_jwt", f"vault_auth_method 'kubernetes': the service-account token file {k8s_token_path} is empty")
        values["vault_jwt"] = token


class CertAuth(AuthMethod):
    name = "cert"
    required = ("vault_client_cert", "vault_client_key")

    def validate(self, values: dict[str, Any], *, k8s_token_path: str = K8S_TOKEN_PATH) -> None:
        super().validate(values, k8s_token_path=k8s_token_path)
        for option in self.required:
            if not os.path.isfile(values[option]):
                raise VaultOptionsError(option, f"{option}: no such file: {values[option]}")


AUTH_METHODS: dict[str, AuthMethod] = {method.name: method for method in (
    TokenAuth(), AppRoleAuth(), UserpassAuth(), JwtAuth(), CertAuth(), KubernetesAuth())}


def auth_method(name: str) -> AuthMethod:
    """The auth method called ``name``; VaultOptionsError listing the allowed names otherwise."""
    try:
        return AUTH_METHODS[name]
    except KeyError:
        raise VaultOptionsError("vault_auth_method", f"vault_auth_method must be one of {', '.join(AUTH_METHOD_NAMES)}; got {name!r}") from None


# ---------------------------------------------------------------------------------------------------------
# Validated options


def _and(names: tuple[str, ...]) -> str:
    return " and ".join(names) if len(names) <= 2 else f"{', '.join(names[:-1])} and {names[-1]}"


def _to_bool(field: str, value: Any) -> bool:
    """Ansible's own boolean conversion (``yes``, ``on``, ``1``, ``true`` ...), with the option named when it fails."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise VaultOptionsError(field, f"{field} must be a boolean; got {value!r}") from None


def _to_int(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise VaultOptionsError(field, f"{field} must be an integer; got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise VaultOptionsError(field, f"{field} must be an integer; got {value!r}") from None


def _kv_segment(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise VaultOptionsError(field, f"{field} must be a string; got {type(value).__name__}")
    stripped = value.strip().strip("/")
    if not stripped:
        raise VaultOptionsError(field, f"{field} must not be empty")
    parts = stripped.split("/")
    if any(part in ("", ".", "..") for part in parts) or any(char.isspace() for char in stripped):
        raise VaultOptionsError(field, f"{field} must be a Vault path without empty, '.' or '..' segments or spaces; got {value!r}")
    return stripped


def _proxy_url(field: str, value: Any) -> str:
    if not isinstance(value, str) or "://" not in value or not value.split("://", 1)[1].strip("/"):
        raise VaultOptionsError(field, f"{field}: a proxy must be a URL such as http://proxy.example.com:3128; got {_no_userinfo(value)!r}")
    return value.strip()


def _no_userinfo(value: Any) -> Any:
    """A proxy URL as shown in a message: without ``user:password@``."""
    if isinstance(value, str) and "@" in value:
        scheme, sep, rest = value.rpartition("://")
        return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}"
    return value


def _proxies(value: Any) -> dict[str, str] | None:
    """``vault_proxies`` as ``requests`` takes it: one URL for both schemes, or ``{scheme: URL}`` (a dict, or JSON of one)."""
    if value in (None, "", {}):
        return None
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise VaultOptionsError("vault_proxies", "vault_proxies looks like a dict but is not valid JSON") from None
    if isinstance(value, str):
        url = _proxy_url("vault_proxies", value)
        return {"http": url, "https": url}
    if isinstance(value, Mapping):
        out = {}
        for scheme, url in value.items():
            if not isinstance(scheme, str) or not scheme:
                raise VaultOptionsError("vault_proxies", "vault_proxies keys must be URL schemes such as http and https")
            out[scheme] = _proxy_url("vault_proxies", url)
        return out
    raise VaultOptionsError("vault_proxies", f"vault_proxies must be a URL or a dict of scheme to URL; got {type(value).__name__}")


def _retries(value: Any) -> dict[str, Any]:
    """``vault_retries`` as urllib3 Retry arguments: a number sets every count; a dict (or JSON of one) sets RETRY_KEYS."""
    out = {key: (list(v) if isinstance(v, list) else v) for key, v in DEFAULT_RETRIES.items()}
    if value in (None, ""):
        return out
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise VaultOptionsError("vault_retries", "vault_retries looks like a dict but is not valid JSON") from None
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(RETRY_KEYS))
        if unknown:
            raise VaultOptionsError("vault_retries", f"vault_retries: unknown keys {', '.join(map(str, unknown))}; allowed: {', '.join(RETRY_KEYS)}")
        for key, item in value.items():
            if key == "backoff_factor":
                try:
                    out[key] = float(item)
                except (TypeError, ValueError):
                    raise VaultOptionsError("vault_retries", f"vault_retries.backoff_factor must be a number; got {item!r}") from None
                if out[key] < 0:
                    raise VaultOptionsError("vault_retries", "vault_retries.backoff_factor cannot be negative")
            elif key == "status_forcelist":
                if not isinstance(item, list) or not all(isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599 for code in item):
                    raise VaultOptionsError("vault_retries", "vault_retries.status_forcelist must be a list of HTTP statuses (400-599)")
                out[key] = list(item)
            else:
                count = _to_int(f"vault_retries.{key}", item)
                if count < 0:
                    raise VaultOptionsError("vault_retries", f"vault_retries.{key} cannot be negative")
                out[key] = count
        return out
    count = _to_int("vault_retries", value)
    if count < 0:
        raise VaultOptionsError("vault_retries", f"vault_retries cannot be negative; got {count}")
    out.update(total=count, connect=count, status=count)
    return out


@dataclasses.dataclass(frozen=True)
class VaultOptions:
    """The Vault options, validated. Secret fields are left out of ``repr``."""

    vault_addr: str
    vault_auth_method: str = "token"
    vault_token: str | None = dataclasses.field(default=None, repr=False)
    vault_role_id: str | None = None
    vault_secret_id: str | None = dataclasses.field(default=None, repr=False)
    vault_username: str | None = None
    vault_password: str | None = dataclasses.field(default=None, repr=False)
    vault_role: str | None = None
    vault_jwt: str | None = dataclasses.field(default=None, repr=False)
    vault_client_cert: str | None = None
    vault_client_key: str | None = None
    vault_auth_mount: str | None = None
    vault_namespace: str | None = None
    vault_ca_cert: str | None = None
    vault_validate_certs: bool = True
    vault_timeout: int = 30
    vault_proxies: dict[str, str] | None = dataclasses.field(default=None, repr=False)  # a proxy URL may hold a password
    vault_retries: dict[str, Any] | None = None
    kv_mount: str = "secret"
    kv_path: str = "sectigo-vault-pki"

    @property
    def auth_mount(self) -> str:
        """The auth method's mount: ``vault_auth_mount``, else the method's name."""
        return self.vault_auth_mount or self.vault_auth_method

    @property
    def verify(self) -> bool | str:
        """``False`` (no verification), the CA bundle when given, else ``True`` (requests then reads ``REQUESTS_CA_BUNDLE``)."""
        if not self.vault_validate_certs:
            return False
        return self.vault_ca_cert or True

    @property
    def client_cert(self) -> tuple[str, str] | None:
        """The TLS client certificate pair, when both halves are set."""
        if self.vault_client_cert and self.vault_client_key:
            return (self.vault_client_cert, self.vault_client_key)
        return None

    def secrets(self) -> list[str]:
        """The secret values set, so that callers can scrub them from foreign messages."""
        return [value for value in (getattr(self, name) for name in SECRET_OPTIONS) if value]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
                     k8s_token_path: str = K8S_TOKEN_PATH) -> VaultOptions:
        """Validate ``mapping`` (module params, lookup options or a plain dict; other keys are ignored).

        ``vault_url`` is accepted for ``vault_addr``. With ``env`` (e.g. ``os.environ``), options left unset
        take the env variables of :data:`ENV_FALLBACKS`; modules and the lookup have applied them already.
        ``k8s_token_path`` is where kubernetes auth reads the service-account token when ``vault_jwt`` is unset.
        """
        values: dict[str, Any] = {}
        for name in VAULT_OPTION_NAMES:
            value = mapping.get(name)
            for alias in ALIASES.get(name, ()):
                if value in (None, ""):
                    value = mapping.get(alias)
            if value in (None, "") and env is not None:
                value = next((env[var] for var in ENV_FALLBACKS.get(name, ()) if env.get(var)), None)
            if isinstance(value, str) and name not in SECRET_OPTIONS:
                value = value.strip()
            if value == "" and name in ("kv_mount", "kv_path"):
                # An empty path given on purpose is a mistake, not "use the default".
                raise VaultOptionsError(name, f"{name} must not be empty (leave it out for the default {DEFAULTS[name]!r})")
            if value in (None, ""):
                value = DEFAULTS.get(name)
            values[name] = value

        addr = values["vault_addr"]
        if not addr:
            raise VaultOptionsError("vault_addr", "vault_addr is required: set the option (alias vault_url) or the VAULT_ADDR environment variable")
        if not isinstance(addr, str) or not addr.startswith(("http://", "https://")) or len(addr) <= len("https://"):
            raise VaultOptionsError("vault_addr", f"vault_addr must be an http:// or https:// URL; got {addr!r}")
        values["vault_addr"] = addr.rstrip("/")

        method_name = str(values["vault_auth_method"]).lower()
        values["vault_auth_method"] = method_name
        method = auth_method(method_name)
        method.validate(values, k8s_token_path=k8s_token_path)

        if values["vault_validate_certs"] is None:
            # Not set: the inverse of VAULT_SKIP_VERIFY when that is set, else verify.
            skip = (env if env is not None else os.environ).get(SKIP_VERIFY_ENV)
            values["vault_validate_certs"] = not _to_bool(SKIP_VERIFY_ENV, skip) if skip not in (None, "") else True
        values["vault_validate_certs"] = _to_bool("vault_validate_certs", values["vault_validate_certs"])
        values["vault_proxies"] = _proxies(values["vault_proxies"])
        values["vault_retries"] = _retries(values["vault_retries"])
        timeout = _to_int("vault_timeout", values["vault_timeout"])
        if timeout <= 0:
            raise VaultOptionsError("vault_timeout", f"vault_timeout must be a positive number of seconds; got {timeout}")
        values["vault_timeout"] = timeout
        values["kv_mount"] = _kv_segment("kv_mount", values["kv_mount"])
        values["kv_path"] = _kv_segment("kv_path", values["kv_path"])
        if values["vault_auth_mount"]:
            values["vault_auth_mount"] = _kv_segment("vault_auth_mount", values["vault_auth_mount"])
        if values["vault_ca_cert"] and values["vault_validate_certs"] and not os.path.isfile(values["vault_ca_cert"]):
            raise VaultOptionsError("vault_ca_cert", f"vault_ca_cert: no such file: {values['vault_ca_cert']}")
        for name in SECRET_OPTIONS:
            if values[name] is not None and not isinstance(values[name], str):
                raise VaultOptionsError(name, f"{name} must be a string")
        return cls(**values)
