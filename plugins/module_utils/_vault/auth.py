# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vault logins, through hvac's auth API: ``login(client, options) -> LoginResult``.

``client`` is an ``hvac.Client`` (the one ``_vault/client.VaultClient`` keeps); ``login`` sets its token and says
what ``VaultClient`` needs to keep the token alive for a long run (docs/vault.md "Token lifetime"): whether the token
is renewable, its lease in seconds, and whether the method can simply log in again. The options were validated by
``_vault/options`` (which names the options each method needs); an hvac or requests exception means Vault refused or
could not be reached, and ``_vault/store`` translates it.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """What a login tells about its token. ``lease_duration`` 0: unknown, or a token that does not expire."""

    renewable: bool = False
    lease_duration: int = 0
    can_relogin: bool = False


class LoginError(Exception):
    """Vault answered a login without a client token."""


def _token(client: Any, options: Any) -> Any:
    # No request: the token is checked lazily, when a first request is refused (see _vault/store).
    client.token = options.vault_token
    return None


def _approle(client: Any, options: Any) -> Any:
    return client.auth.approle.login(role_id=options.vault_role_id, secret_id=options.vault_secret_id, mount_point=options.auth_mount)


def _userpass(client: Any, options: Any) -> Any:
    return client.auth.userpass.login(username=options.vault_username, password=options.vault_password, mount_point=options.auth_mount)


def _jwt(client: Any, options: Any) -> Any:
    return client.auth.jwt.jwt_login(role=options.vault_role, jwt=options.vault_jwt, path=options.auth_mount)


def _kubernetes(client: Any, options: Any) -> Any:
    return client.auth.kubernetes.login(role=options.vault_role, jwt=options.vault_jwt, mount_point=options.auth_mount)


def _cert(client: Any, options: Any) -> Any:
    # The client certificate is on the session already (every request presents it, docs/vault.md "TLS"); hvac's
    # cert.login wants the PEM files again and a CA setting of its own, so the login is posted through its adapter.
    body = {"name": options.vault_role} if options.vault_role else {}
    return client.adapter.login(f"/v1/auth/{options.auth_mount}/login", json=body)


LOGINS: dict[str, Callable[[Any, Any], Any]] = {
    "token": _token, "approle": _approle, "userpass": _userpass, "jwt": _jwt, "kubernetes": _kubernetes, "cert": _cert,
}


def login(client: Any, options: Any) -> LoginResult:
    """Log ``client`` in with ``options.vault_auth_method`` at ``options.auth_mount``; the token is set on ``client``."""
    method = options.vault_auth_method
    if method not in LOGINS:
        raise ValueError(f"vault_auth_method must be one of {', '.join(LOGINS)}; got {method!r}")
    client.token = ""
    try:
        reply = LOGINS[method](client, options)
    except (KeyError, TypeError):
        # hvac read the token out of an answer that had none (no 'auth', or not JSON).
        raise LoginError(f"Vault answered the login at 'auth/{options.auth_mount}' without a client token") from None
    if method == "token":
        return LoginResult()
    auth = reply.get("auth") if isinstance(reply, dict) else None
    if not isinstance(auth, dict) or not auth.get("client_token"):
        raise LoginError(f"Vault answered the login at 'auth/{options.auth_mount}' without a client token")
    return LoginResult(renewable=bool(auth.get("renewable")), lease_duration=int(auth.get("lease_duration") or 0), can_relogin=True)
