# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log in to Vault with any method of docs/vault.md ("Logging in"), through hvac's own auth API.

:func:`login` takes an ``hvac.Client`` and validated :class:`VaultOptions`, logs in with
``options.vault_auth_method`` at ``options.auth_mount`` and leaves the client token on the client. hvac builds every
request (aws_iam's signed ``GetCallerIdentity``, the TLS client certificate of cert auth, ...); this file only maps
options to hvac's arguments, fetches what a method needs from elsewhere first (AWS credentials through botocore, an
Azure token through azure-identity), and turns a refused login into a :class:`LoginError` that names the method and the
mount, never a secret.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import redact
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions, VaultOptionsError

# Methods that cannot log in again without a person (a new token, or no token at all).
_NO_RELOGIN = ("token", "none")


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """What a login gave: whether the token can be renewed, for how long it lives, whether :func:`login` may be called again.

    ``lease_duration`` is in seconds, ``0`` when unknown or unlimited (token auth sends no request; ``none`` has no token).
    """

    method: str
    renewable: bool = False
    lease_duration: int = 0
    can_relogin: bool = False
    policies: tuple[str, ...] = ()


class LoginError(Exception):
    """Vault refused the login. The message names the method and the mount; it never holds a secret.

    ``status`` is the HTTP status; ``missing_mount`` is true when nothing is mounted at the mount (HTTP 404).
    """

    def __init__(self, message: str, *, method: str, mount: str, status: int | None = None, missing_mount: bool = False) -> None:
        super().__init__(message)
        self.method = method
        self.mount = mount
        self.status = status
        self.missing_mount = missing_mount


def login(client: Any, options: VaultOptions) -> LoginResult:
    """Log ``client`` (an ``hvac.Client``) in as ``options`` say; ``client.token`` is the new token afterwards.

    Raises :class:`LoginError` when Vault refuses the credentials (HTTP 400, 401, 403) or nothing is mounted there (404),
    and VaultOptionsError when a method's credentials cannot be found before any request (an AWS profile, an Azure
    identity). Other failures (connection, TLS, Vault sealed) are hvac's and requests' exceptions, left to the caller;
    their text is hvac's and holds no credential.
    """
    method = options.vault_auth_method
    if method == "none":
        client.token = None  # hvac.Client reads VAULT_TOKEN and ~/.vault-token by itself: "none" means none of them
        return LoginResult(method=method)
    if method == "token":
        client.token = options.vault_token
        return LoginResult(method=method)
    try:
        reply = _METHODS[method](client, options)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise _refused(exc, options) from None
    auth = (reply or {}).get("auth") if isinstance(reply, dict) else None
    if not isinstance(auth, dict) or not auth.get("client_token"):
        raise LoginError(f"Vault answered the login (vault_auth_method '{method}', mount '{options.auth_mount}') without a client token",
                         method=method, mount=options.auth_mount)
    client.token = auth["client_token"]
    return LoginResult(method=method, renewable=bool(auth.get("renewable")), lease_duration=int(auth.get("lease_duration") or 0),
                       can_relogin=method not in _NO_RELOGIN, policies=tuple(auth.get("policies") or ()))


def _refused(exc: Exception, options: VaultOptions) -> Exception:
    """A LoginError for hvac's refusals (400, 401, 403, 404); any other exception unchanged, for the caller to map."""
    try:
        from hvac import exceptions as hvac_errors  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover - the caller built an hvac.Client
        return exc
    status = {hvac_errors.InvalidRequest: 400, hvac_errors.Unauthorized: 401, hvac_errors.Forbidden: 403,
              hvac_errors.InvalidPath: 404}.get(type(exc))
    if status is None:
        return exc
    method, mount = options.vault_auth_method, options.auth_mount
    detail = redact("; ".join(str(error) for error in (getattr(exc, "errors", None) or [])) or "no details", options.secrets())
    route = "no handler for route" in detail or "unsupported path" in detail
    if status == 404 or route:
        return LoginError(f"no login method is mounted at 'auth/{mount}' (vault_auth_method '{method}'; set vault_auth_mount if it is "
                          f"mounted elsewhere): {detail}", method=method, mount=mount, status=status, missing_mount=True)
    return LoginError(f"Vault refused the login (vault_auth_method '{method}', mount 'auth/{mount}'): {detail}",
                      method=method, mount=mount, status=status)


# ---------------------------------------------------------------------------------------------------------
# One function per method: options to hvac's arguments


def _userpass(client: Any, o: VaultOptions) -> Any:
    return client.auth.userpass.login(username=o.vault_username, password=o.vault_password, mount_point=o.auth_mount, use_token=False)


def _ldap(client: Any, o: VaultOptions) -> Any:
    return client.auth.ldap.login(username=o.vault_username, password=o.vault_password, mount_point=o.auth_mount, use_token=False)


def _approle(client: Any, o: VaultOptions) -> Any:
    return client.auth.approle.login(role_id=o.vault_role_id, secret_id=o.vault_secret_id, mount_point=o.auth_mount, use_token=False)


def _jwt(client: Any, o: VaultOptions) -> Any:
    return client.auth.jwt.jwt_login(role=o.vault_role, jwt=o.vault_jwt, path=o.auth_mount, use_token=False)


def _kubernetes(client: Any, o: VaultOptions) -> Any:
    return client.auth.kubernetes.login(role=o.vault_role, jwt=o.vault_jwt, mount_point=o.auth_mount, use_token=False)


def _cert(client: Any, o: VaultOptions) -> Any:
    """TLS client certificate login: the certificate goes with the request, ``vault_role`` optionally names the role.

    hvac's ``auth.cert.login`` refuses to run with verification off (it wants a CA); then the same request goes through
    hvac's generic ``login`` with the certificate on it.
    """
    name = o.vault_role or ""
    if o.verify is False:
        return client.login(f"/v1/auth/{o.auth_mount}/login", json={"name": name} if name else {},
                            cert=(o.vault_client_cert, o.vault_client_key))
    return client.auth.cert.login(name=name, cert_pem=o.vault_client_cert, key_pem=o.vault_client_key, mount_point=o.auth_mount, use_token=False)


def aws_credentials(o: VaultOptions) -> tuple[str, str, str | None]:
    """``(access key, secret key, session token)``: the options' when set, else botocore's chain (profile, environment,
    container or instance role). VaultOptionsError naming the option when none are found.
    """
    if o.vault_aws_access_key and o.vault_aws_secret_key:
        return o.vault_aws_access_key, o.vault_aws_secret_key, o.vault_aws_security_token
    try:
        import botocore.exceptions  # pylint: disable=import-outside-toplevel
        import botocore.session  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise VaultOptionsError("vault_aws_access_key", "vault_auth_method 'aws_iam' without vault_aws_access_key and vault_aws_secret_key "
                                                        "needs boto3 (pip install boto3)") from None
    try:
        found = botocore.session.Session(profile=o.vault_aws_profile).get_credentials()
    except botocore.exceptions.ProfileNotFound:
        raise VaultOptionsError("vault_aws_profile", f"vault_aws_profile: the AWS profile '{o.vault_aws_profile}' was not found") from None
    if found is None:
        raise VaultOptionsError("vault_aws_access_key", "vault_auth_method 'aws_iam': no AWS credentials in vault_aws_access_key and "
                                                        "vault_aws_secret_key, vault_aws_profile, the environment or an instance role")
    frozen = found.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


def _aws_iam(client: Any, o: VaultOptions) -> Any:
    """hvac signs ``sts:GetCallerIdentity`` with the credentials (SigV4) and sends the signed request, not the secret key."""
    access_key, secret_key, session_token = aws_credentials(o)
    return client.auth.aws.iam_login(access_key=access_key, secret_key=secret_key, session_token=session_token,
                                     header_value=o.vault_aws_iam_server_id, role=o.vault_role,
                                     region=o.vault_aws_region or "us-east-1", mount_point=o.auth_mount, use_token=False)


def azure_token(o: VaultOptions) -> str:
    """An access token for ``vault_azure_resource`` from azure-identity: a service principal when a client secret is set,
    else a managed identity (user-assigned with ``vault_azure_client_id``, else system-assigned).
    """
    try:
        from azure import identity  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise VaultOptionsError("vault_jwt", "vault_auth_method 'azure' without vault_jwt needs azure-identity (pip install azure-identity)") from None
    if o.vault_azure_client_secret:
        credential = identity.ClientSecretCredential(o.vault_azure_tenant_id, o.vault_azure_client_id, o.vault_azure_client_secret)
    elif o.vault_azure_client_id:
        credential = identity.ManagedIdentityCredential(client_id=o.vault_azure_client_id)
    else:
        credential = identity.ManagedIdentityCredential()
    try:
        return credential.get_token(f"{o.vault_azure_resource}/.default").token
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # azure-identity's errors can quote the request; keep its class name and scrub what could be a secret.
        raise LoginError(f"vault_auth_method 'azure': no token from Azure for {o.vault_azure_resource}: "
                         f"{redact(f'{type(exc).__name__}: {exc}', o.secrets())[:300]}",
                         method="azure", mount=o.auth_mount) from None


def _azure(client: Any, o: VaultOptions) -> Any:
    return client.auth.azure.login(role=o.vault_role, jwt=o.vault_jwt or azure_token(o), mount_point=o.auth_mount, use_token=False)


_METHODS: dict[str, Callable[[Any, VaultOptions], Any]] = {
    "userpass": _userpass, "ldap": _ldap, "approle": _approle, "aws_iam": _aws_iam, "azure": _azure,
    "jwt": _jwt, "cert": _cert, "kubernetes": _kubernetes,
}
