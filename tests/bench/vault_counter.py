"""A counting HTTP proxy in front of OpenBao, on loopback, for the untimed counting runs of ``make bench``.

OpenBao 2.x refuses to enable audit devices through its API, so the bench counts the requests the collection
sends by pointing ``VAULT_ADDR`` at this proxy for a run. The timed runs talk to OpenBao directly.
"""
from __future__ import annotations

import collections
import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that belong to one connection, not to the request or reply; the proxy sets its own.
_HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        counter = self.server.counter
        counter.count(self.command, self.path)
        headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(counter.upstream_host, counter.upstream_port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        self.send_response(reply.status, reply.reason)
        for key, value in reply.getheaders():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = _forward

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    counter: VaultCounter


class VaultCounter:
    """``with VaultCounter(vault_addr) as counter:`` point ``VAULT_ADDR`` at ``counter.url``; ``counts()``, ``reset()``."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the counting proxy only forwards to a loopback http address, not {upstream}")
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self._lock = threading.Lock()
        self._counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the counting proxy is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self, method: str, path: str) -> None:
        with self._lock:
            self._counts[(method, path)] += 1

    def counts(self) -> list[tuple[str, str, int]]:
        """``(method, path, count)`` of every request since the last ``reset()``."""
        with self._lock:
            return [(method, path, number) for (method, path), number in sorted(self._counts.items())]

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def start(self) -> VaultCounter:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.counter = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="vault-counter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> VaultCounter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
