"""OAuth2 client credentials, as the Admin API uses them ("OAuth2 client credentials" in docs/scm-protocol.md).

A token endpoint takes a form-encoded ``grant_type=client_credentials`` with ``client_id`` and
``client_secret`` (in the body or as HTTP Basic credentials) and answers with a random Bearer token
that expires after ``lifetime`` seconds. ``check`` tells whether an ``Authorization`` header carries
a token it issued that has not expired. Tokens live in memory only: a restart forgets them.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
from typing import Callable
from urllib.parse import parse_qs

# Sectigo's own token path, so a client can be pointed at the simulator by changing the host only.
TOKEN_PATH = "/auth/realms/apiclients/protocol/openid-connect/token"
DEFAULT_LIFETIME = 300.0


class OAuthServer:
    """Issues and checks Bearer tokens for one client id and secret (none configured: every grant is refused)."""

    def __init__(self, client_id: str | None = None, client_secret: str | None = None, lifetime: float = DEFAULT_LIFETIME,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = float(lifetime)
        self.clock = clock
        self.issued = 0
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def token(self, content_type: str, body: bytes, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        """Answer one token request: ``(status, headers, JSON body)`` as RFC 6749 section 5 words them."""
        if "application/x-www-form-urlencoded" not in (content_type or "").lower():
            return _error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "only client_credentials is supported")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = _basic(authorization)
        if basic is not None:
            client_id, client_secret = basic
        if not (self.enabled and client_id is not None and client_secret is not None
                and hmac.compare_digest(client_id, self.client_id or "") and hmac.compare_digest(client_secret, self.client_secret or "")):
            return _error(401, "invalid_client", "Invalid client or Invalid client credentials")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            # Forget expired tokens so a long run does not grow without bound.
            self._tokens = {t: expiry for t, expiry in self._tokens.items() if expiry > now}
            self._tokens[token] = now + self.lifetime
            self.issued += 1
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": int(self.lifetime), "scope": "profile email"}
        return 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}, json.dumps(answer).encode("utf-8")

    def check(self, authorization: str | None) -> bool:
        """Whether ``authorization`` is ``Bearer <a token issued here that has not expired>``."""
        scheme, _space, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        with self._lock:
            expiry = self._tokens.get(token.strip())
        return expiry is not None and self.clock() < expiry

    def expire_all(self) -> int:
        """Make every issued token expire now (a test control); returns how many there were."""
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count


def _basic(authorization: str | None) -> tuple[str, str] | None:
    scheme, _space, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep else None


def _error(status: int, error: str, description: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="apiclients"'
    return status, headers, json.dumps({"error": error, "error_description": description}).encode("utf-8")
