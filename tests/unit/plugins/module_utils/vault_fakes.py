"""For the Vault unit tests (no network): a recording requests transport adapter, the task's Vault options, a real
VaultClient and VaultStore on a scripted transport."""
from __future__ import annotations

import json

import requests
from requests.adapters import BaseAdapter

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.client import VaultClient
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultStore

SCRIPTED_ADDR = "http://127.0.0.1:8200"
MOUNT_OK = {"data": {"type": "kv", "options": {"version": "2"}}}


class _Raw:
    _original_response = None

    def release_conn(self):
        pass

    def close(self):
        pass


class Recorded(BaseAdapter):
    """A requests transport adapter: answers each request with the next reply (or ``answer(request)``) and records
    the method, URL, token header and body of every request sent."""

    def __init__(self, replies=(), answer=None):
        super().__init__()
        self.replies = list(replies)
        self.answer = answer
        self.sent = []

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        self.sent.append((request.method, request.url, request.headers.get("X-Vault-Token"),
                          json.loads(request.body) if request.body else None))
        status, headers, body = self.answer(request) if self.answer else self.replies.pop(0)
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers or {})
        if body is not None:
            response.headers.setdefault("Content-Type", "application/json")
        response._content = json.dumps(body).encode() if body is not None else b""  # pylint: disable=protected-access
        response.url = request.url
        response.request = request
        response.raw = _Raw()
        return response

    def close(self):
        pass


def vault_options(addr, **values):
    """The Vault options of a task with ``vault_addr`` ``addr`` and ``values``, as the modules build them."""
    return VaultOptions.from_mapping({"vault_addr": addr, **values})


def scripted(script, clock=None, cost=0.0, login=None, method="token"):
    """A real VaultClient whose transport answers each request with the next item of ``script`` (an exception is
    raised: what requests' own adapter would raise); the mount check is answered apart. ``sent``: (method, path)."""
    sent = []

    def answer(request):
        path = request.url.split("/v1/", 1)[1]
        if path.startswith("sys/internal/ui/mounts/"):
            return 200, {}, MOUNT_OK
        sent.append((request.method, path))
        if clock is not None:
            clock.now += cost
        item = script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    values = {"vault_addr": SCRIPTED_ADDR, "vault_token": "s.token-value"}
    if method == "approle":
        values.update(vault_auth_method="approle", vault_role_id="r", vault_secret_id="s")
    client = VaultClient(VaultOptions.from_mapping(values), login)
    client.token = "s.token-value"
    adapter = Recorded(answer=answer)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    return client, sent


def store_for(client, clock):
    return VaultStore(client, "secret", "base", sleep=clock.sleep, monotonic=clock.monotonic)
