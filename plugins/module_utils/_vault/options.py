# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault option family every module and the lookup share (docs/vault.md): argspec, validation, what each login needs.

Nothing here imports AnsibleModule or an HTTP library (booleans are read by Ansible's own ``boolean``). Every option
is declared once in :data:`OPTIONS` (type, aliases, environment variables, default, secret or not); modules get the
argspec from :func:`vault_argspec` (given Ansible's ``env_fallback``); the lookup declares the same options through
the doc fragment's ``PLUGINS`` section (:data:`LOOKUP_ENV_AND_INI` is the same data, kept in step by a unit test).
Both then build a :class:`VaultOptions` with :meth:`VaultOptions.from_mapping`, which validates everything before
any I/O, including what the chosen login method needs (:func:`validate_login`). The login itself is
``_vault/auth.login``, through hvac's auth API.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
from typing import Any, Callable, Mapping

from ansible.module_utils.parsing.convert_bool import boolean

K8S_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

# community.hashi_vault's login methods, in its order (docs/vault.md, "Logging in"); _vault/auth logs in with each.
AUTH_METHOD_NAMES = ("token", "userpass", "ldap", "approle", "aws_iam", "azure", "jwt", "cert", "kubernetes", "none")

# Where a method is mounted when vault_auth_mount is not set: Vault's default path, the method's name but for aws_iam.
DEFAULT_MOUNTS = {"aws_iam": "aws"}

# Methods that name a Vault role with vault_role; community.hashi_vault names it role_id, so vault_role_id stands in.
ROLE_METHODS = ("jwt", "kubernetes", "cert", "aws_iam", "azure")


@dataclasses.dataclass(frozen=True)
class Option:
    """One Vault option, declared once: argspec, aliases, environment variables, default, whether it is a secret.

    ``aliases`` are community.hashi_vault's names where they cannot be mistaken for another option of a module
    (its ``password`` is not one: ``sectigo_config`` has SCM's). ``env`` is read in order, first set wins: Vault's
    own names, then community.hashi_vault's (docs/vault.md, "Environment variables").
    """

    name: str
    type: str = "str"
    secret: bool = False
    aliases: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    default: Any = None
    no_log: bool | None = None  # an explicit no_log=False for an option whose name looks secret but is not

    @property
    def hashi_name(self) -> str | None:
        """community.hashi_vault's name of the option (its lookup variable is ``ansible_hashi_vault_<name>``)."""
        return next((alias for alias in self.aliases if not alias.startswith("vault_")), None)


_H = "ANSIBLE_HASHI_VAULT_"

# The order is the order of the documentation (docs/vault.md).
OPTIONS: tuple[Option, ...] = (
    Option("vault_addr", aliases=("vault_url", "url"), env=("VAULT_ADDR", _H + "ADDR")),
    Option("vault_auth_method", aliases=("auth_method",), env=("VAULT_AUTH_METHOD", _H + "AUTH_METHOD"), default="token"),
    Option("vault_auth_mount", aliases=("mount_point",), env=(_H + "MOUNT_POINT",)),
    Option("vault_token", secret=True, aliases=("token",), env=("VAULT_TOKEN", _H + "TOKEN")),
    Option("vault_token_path", type="path", aliases=("token_path",), env=(_H + "TOKEN_PATH",), no_log=False),
    Option("vault_token_file", aliases=("token_file",), env=(_H + "TOKEN_FILE",), default=".vault-token", no_log=False),
    Option("vault_role_id", aliases=("role_id",), env=("VAULT_ROLE_ID", _H + "ROLE_ID")),
    Option("vault_secret_id", secret=True, aliases=("secret_id",), env=("VAULT_SECRET_ID", _H + "SECRET_ID")),
    Option("vault_username", aliases=("username",), env=(_H + "USERNAME",)),
    Option("vault_password", secret=True, env=(_H + "PASSWORD",)),
    Option("vault_role"),
    Option("vault_jwt", secret=True, aliases=("jwt", "kubernetes_token"), env=(_H + "JWT", _H + "KUBERNETES_TOKEN")),
    Option("vault_kubernetes_token_path", type="path", aliases=("kubernetes_token_path",), env=(_H + "KUBERNETES_TOKEN_PATH",),
           no_log=False),
    Option("vault_client_cert", type="path", aliases=("cert_auth_public_key",), env=(_H + "CERT_AUTH_PUBLIC_KEY",)),
    Option("vault_client_key", type="path", aliases=("cert_auth_private_key",), env=(_H + "CERT_AUTH_PRIVATE_KEY",), no_log=False),
    Option("vault_aws_profile", aliases=("aws_profile", "boto_profile"), env=("AWS_DEFAULT_PROFILE", "AWS_PROFILE")),
    Option("vault_aws_access_key", aliases=("aws_access_key", "aws_access_key_id"),
           env=("EC2_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID"), no_log=False),
    Option("vault_aws_secret_key", secret=True, aliases=("aws_secret_key", "aws_secret_access_key"),
           env=("EC2_SECRET_KEY", "AWS_SECRET_KEY", "AWS_SECRET_ACCESS_KEY")),
    Option("vault_aws_security_token", secret=True, aliases=("aws_security_token",),
           env=("EC2_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")),
    Option("vault_aws_region", aliases=("region",), env=("EC2_REGION", "AWS_REGION")),
    Option("vault_aws_iam_server_id", aliases=("aws_iam_server_id",), env=(_H + "AWS_IAM_SERVER_ID",)),
    Option("vault_azure_tenant_id", aliases=("azure_tenant_id",), env=(_H + "AZURE_TENANT_ID",)),
    Option("vault_azure_client_id", aliases=("azure_client_id",), env=(_H + "AZURE_CLIENT_ID",)),
    Option("vault_azure_client_secret", secret=True, aliases=("azure_client_secret",), env=(_H + "AZURE_CLIENT_SECRET",)),
    Option("vault_azure_resource", aliases=("azure_resource",), env=(_H + "AZURE_RESOURCE",), default="https://management.azure.com/"),
    Option("vault_namespace", aliases=("namespace",), env=("VAULT_NAMESPACE", _H + "NAMESPACE")),
    Option("vault_ca_cert", type="path", aliases=("ca_cert", "cacert"), env=("VAULT_CACERT", _H + "CA_CERT")),
    Option("vault_validate_certs", type="bool", aliases=("validate_certs",)),
    Option("vault_timeout", type="int", aliases=("timeout",), env=(_H + "TIMEOUT",), default=30),
    Option("vault_proxies", type="raw", aliases=("proxies",), env=(_H + "PROXIES",)),
    Option("vault_retries", type="raw", aliases=("retries",), env=(_H + "RETRIES",)),
    Option("kv_mount", default="secret"),
    Option("kv_path", default="sectigo-vault-pki"),
)

_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}

# Derived views of OPTIONS, for the argspec, the lookup and the tests.
VAULT_OPTION_NAMES: tuple[str, ...] = tuple(_BY_NAME)
# Options whose values are secrets: never in a message, a repr or a log.
SECRET_OPTIONS: tuple[str, ...] = tuple(option.name for option in OPTIONS if option.secret)
ENV_FALLBACKS: dict[str, list[str]] = {option.name: list(option.env) for option in OPTIONS if option.env}
ALIASES: dict[str, list[str]] = {option.name: list(option.aliases) for option in OPTIONS if option.aliases}
DEFAULTS: dict[str, Any] = {option.name: option.default for option in OPTIONS if option.default is not None}

# vault_validate_certs, when not set, is the inverse of this variable (as Vault's CLI and community.hashi_vault read it).
SKIP_VERIFY_ENV = "VAULT_SKIP_VERIFY"

# What vault_retries may set when it is a dict (urllib3 Retry arguments); reads only, see _vault/client.retry_policy.
RETRY_KEYS = ("total", "connect", "status", "backoff_factor", "status_forcelist")
DEFAULT_RETRIES: dict[str, Any] = {"total": 3, "connect": 2, "status": 3, "backoff_factor": 0.25,
                                   "status_forcelist": [412, 429, 500, 502, 503, 504]}

LOOKUP_INI_SECTION = "sectigo_vault_pki"
HASHI_INI_SECTION = "hashi_vault_collection"


def _lookup_sources(option: Option) -> dict[str, list]:
    """The lookup's sources of one option: its env variables, an ini key and a variable, ours then community.hashi_vault's."""
    ini: list[dict[str, str]] = [{"section": LOOKUP_INI_SECTION, "key": option.name}]
    variables = [f"sectigo_{option.name}"]
    if option.hashi_name:
        variables.append(f"ansible_hashi_vault_{option.hashi_name}")
        if not option.secret:
            ini.append({"section": HASHI_INI_SECTION, "key": option.hashi_name})
    return {"env": list(option.env), "ini": ini, "vars": variables}


# What the lookup reads besides its direct keywords (the doc fragment's PLUGINS section, kept in step by a unit test).
LOOKUP_ENV_AND_INI: dict[str, dict[str, list]] = {option.name: _lookup_sources(option) for option in OPTIONS}


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
    for option in OPTIONS:
        entry: dict[str, Any] = {"type": option.type}
        if option.secret or option.no_log is not None:
            entry["no_log"] = option.secret or bool(option.no_log)
        if option.default is not None:
            entry["default"] = option.default
        if option.aliases:
            entry["aliases"] = list(option.aliases)
        if option.env:
            entry["fallback"] = (env_fallback, list(option.env))
        if option.name == "vault_auth_method":
            entry["choices"] = list(AUTH_METHOD_NAMES)
        spec[option.name] = entry
    return spec


# ---------------------------------------------------------------------------------------------------------
# What each login method needs (the login itself is _vault/auth.py, through hvac)

# The options a method cannot do without; a method's own check (below) covers the rest.
REQUIRED: dict[str, tuple[str, ...]] = {
    "userpass": ("vault_username", "vault_password"),
    "ldap": ("vault_username", "vault_password"),
    "approle": ("vault_role_id",),
    "jwt": ("vault_role", "vault_jwt"),
    "kubernetes": ("vault_role",),
    "cert": ("vault_client_cert", "vault_client_key"),
    "azure": ("vault_role",),
}

# Python libraries a method may need, by import name: (pip name, when it is needed).
OPTIONAL_LIBRARIES = {
    "aws_iam": ("botocore", "boto3", "when vault_aws_access_key and vault_aws_secret_key are not both set"),
    "azure": ("azure.identity", "azure-identity", "when vault_jwt is not set"),
}


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (nothing here loads a network library)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _read_token_file(path: str, field: str, what: str) -> str | None:
    """The stripped content of ``path``; ``None`` when there is no such file; VaultOptionsError when it cannot be used."""
    if not os.path.exists(path):
        return None
    if not os.path.isfile(path):
        raise VaultOptionsError(field, f"{field}: {what} {path} is not a file")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError as exc:
        raise VaultOptionsError(field, f"{field}: cannot read {what} {path} ({exc.strerror or 'unreadable'})") from None


def _check_token(values: dict[str, Any], env: Mapping[str, str]) -> None:
    if values.get("vault_token"):
        return
    directory = values.get("vault_token_path") or env.get("HOME") or os.path.expanduser("~")
    path = os.path.join(directory, values.get("vault_token_file") or ".vault-token")
    values["vault_token"] = _read_token_file(path, "vault_token", "the token file")
    if not values["vault_token"]:
        raise VaultOptionsError("vault_token", f"vault_auth_method 'token' needs vault_token (or VAULT_TOKEN), or a token in {path} "
                                               "(vault_token_path, vault_token_file)")


def _check_kubernetes(values: dict[str, Any], k8s_token_path: str) -> None:
    if values.get("vault_jwt"):
        return
    path = values.get("vault_kubernetes_token_path") or k8s_token_path
    token = _read_token_file(path, "vault_jwt", "the service-account token file")
    if token is None and not os.path.exists(path):
        raise VaultOptionsError("vault_jwt", f"vault_auth_method 'kubernetes' needs vault_jwt or the service-account token file {path} "
                                             "(vault_kubernetes_token_path), which does not exist")
    if not token:
        raise VaultOptionsError("vault_jwt", f"vault_auth_method 'kubernetes': the service-account token file {path} is empty")
    values["vault_jwt"] = token


def _check_cert(values: dict[str, Any]) -> None:
    for option in ("vault_client_cert", "vault_client_key"):
        if not os.path.isfile(values[option]):
            raise VaultOptionsError(option, f"{option}: no such file: {values[option]}")


def _check_aws_iam(values: dict[str, Any]) -> None:
    access, secret = values.get("vault_aws_access_key"), values.get("vault_aws_secret_key")
    if access and not secret:
        raise VaultOptionsError("vault_aws_secret_key", "vault_auth_method 'aws_iam': vault_aws_access_key is set, vault_aws_secret_key is not")
    if secret and not access:
        raise VaultOptionsError("vault_aws_access_key", "vault_auth_method 'aws_iam': vault_aws_secret_key is set, vault_aws_access_key is not")
    if not access and not _installed("botocore"):
        raise VaultOptionsError("vault_aws_access_key", "vault_auth_method 'aws_iam' without vault_aws_access_key and vault_aws_secret_key "
                                                        "reads the AWS credentials (profile, environment, instance role) with boto3, "
                                                        "which is not installed (pip install boto3)")


def _check_azure(values: dict[str, Any]) -> None:
    if values.get("vault_jwt"):
        return
    if values.get("vault_azure_client_secret") and not values.get("vault_azure_client_id"):
        raise VaultOptionsError("vault_azure_client_id", "vault_auth_method 'azure': vault_azure_client_secret needs vault_azure_client_id")
    if values.get("vault_azure_client_secret") and not values.get("vault_azure_tenant_id"):
        raise VaultOptionsError("vault_azure_tenant_id", "vault_auth_method 'azure': a service principal (vault_azure_client_id and "
                                                         "vault_azure_client_secret) needs vault_azure_tenant_id")
    if not _installed("azure.identity"):
        raise VaultOptionsError("vault_jwt", "vault_auth_method 'azure' without vault_jwt gets a token from Azure with azure-identity, "
                                             "which is not installed (pip install azure-identity), or set vault_jwt")


def validate_login(values: dict[str, Any], env: Mapping[str, str], k8s_token_path: str = K8S_TOKEN_PATH) -> None:
    """Check what ``values["vault_auth_method"]`` needs (``values`` is completed in place) before any request.

    Raises VaultOptionsError naming the option; a missing optional library is named with its pip name.
    """
    method = values["vault_auth_method"]
    if method not in AUTH_METHOD_NAMES:
        raise VaultOptionsError("vault_auth_method", f"vault_auth_method must be one of {', '.join(AUTH_METHOD_NAMES)}; got {method!r}")
    if method in ROLE_METHODS and not values.get("vault_role"):
        values["vault_role"] = values.get("vault_role_id")  # community.hashi_vault's role_id names the role here
    required = REQUIRED.get(method, ())
    missing = [option for option in required if not values.get(option)]
    if missing:
        raise VaultOptionsError(missing[0], f"vault_auth_method '{method}' needs {_and(required)}; missing: {', '.join(missing)}")
    if method == "token":
        _check_token(values, env)
    elif method == "kubernetes":
        _check_kubernetes(values, k8s_token_path)
    elif method == "cert":
        _check_cert(values)
    elif method == "aws_iam":
        _check_aws_iam(values)
    elif method == "azure":
        _check_azure(values)


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
    vault_auth_mount: str | None = None
    vault_token: str | None = dataclasses.field(default=None, repr=False)
    vault_token_path: str | None = None
    vault_token_file: str = ".vault-token"
    vault_role_id: str | None = None
    vault_secret_id: str | None = dataclasses.field(default=None, repr=False)
    vault_username: str | None = None
    vault_password: str | None = dataclasses.field(default=None, repr=False)
    vault_role: str | None = None
    vault_jwt: str | None = dataclasses.field(default=None, repr=False)
    vault_kubernetes_token_path: str | None = None
    vault_client_cert: str | None = None
    vault_client_key: str | None = None
    vault_aws_profile: str | None = None
    vault_aws_access_key: str | None = None
    vault_aws_secret_key: str | None = dataclasses.field(default=None, repr=False)
    vault_aws_security_token: str | None = dataclasses.field(default=None, repr=False)
    vault_aws_region: str | None = None
    vault_aws_iam_server_id: str | None = None
    vault_azure_tenant_id: str | None = None
    vault_azure_client_id: str | None = None
    vault_azure_client_secret: str | None = dataclasses.field(default=None, repr=False)
    vault_azure_resource: str = "https://management.azure.com/"
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
        """The login method's mount: ``vault_auth_mount``, else Vault's default (the method's name; ``aws`` for aws_iam)."""
        return self.vault_auth_mount or DEFAULT_MOUNTS.get(self.vault_auth_method, self.vault_auth_method)

    @property
    def verify(self) -> bool | str:
        """``False`` (no verification), the CA bundle when given, else ``True`` (see ``_vault_client.ca_bundle``)."""
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

        Aliases (``vault_url``, community.hashi_vault's names) are accepted. With ``env`` (e.g. ``os.environ``), options
        left unset take the env variables of :data:`ENV_FALLBACKS`; modules and the lookup have applied them already.
        ``k8s_token_path`` is where kubernetes auth reads the service-account token when neither ``vault_jwt`` nor
        ``vault_kubernetes_token_path`` is set.
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

        values["vault_auth_method"] = str(values["vault_auth_method"]).lower()
        validate_login(values, env if env is not None else os.environ, k8s_token_path)

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
