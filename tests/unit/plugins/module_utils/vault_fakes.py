"""A recording requests transport adapter for the Vault client's unit tests (no network)."""
from __future__ import annotations

import json

import requests
from requests.adapters import BaseAdapter


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
