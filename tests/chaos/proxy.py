"""A small HTTP proxy on loopback that can hold one matching request, or its answer, until the harness kills the client.

    proxy = HoldProxy("http://127.0.0.1:8200", ttl=600)
    proxy.arm(Rule("POST", r"^/api/ssl/v1/enroll$", phase="response"))
    ... start ansible-playbook pointed at proxy.url ...
    hit = proxy.wait_hit(60)          # the request reached the proxy (phase "request") or SCM answered (phase "response")
    os.killpg(pgid, signal.SIGKILL)
    proxy.release()                   # the held connection is closed without an answer

Only one rule is armed at a time and it fires once. Every forwarded request is counted by method and path, so a
harness can tell how many POSTs of a kind reached the upstream server. The proxy serves one request per
connection, listens on 127.0.0.1 only and shuts itself down after ``ttl`` seconds.
"""
from __future__ import annotations

import dataclasses
import http.client
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade",
              "host", "content-length"}
HOLD_LIMIT = 180.0  # a held connection is never kept longer than this, whatever the harness does


@dataclasses.dataclass
class Rule:
    """Hold the first request whose method and path (query string excluded) match, at ``phase`` request or response.

    ``body`` is a regular expression the request body must contain (e.g. ``"status": "Issued"`` for a Vault write).
    """

    method: str
    path: str
    phase: str = "request"
    body: str = ""

    def matches(self, method: str, path: str, body: bytes) -> bool:
        return (re.fullmatch(self.method, method) is not None and re.search(self.path, path) is not None
                and (not self.body or re.search(self.body, body.decode("utf-8", "replace")) is not None))


@dataclasses.dataclass
class Hit:
    method: str
    path: str
    phase: str
    status: int | None  # the upstream answer's status when held at phase "response"
    at: float  # time.monotonic() of the hit


class HoldProxy:
    """A threaded forwarding proxy in front of one upstream base URL (http only)."""

    def __init__(self, upstream: str, *, ttl: float = 900.0, name: str = "proxy") -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname != LOOPBACK:
            raise ValueError(f"the proxy only forwards to http://{LOOPBACK}:<port>, not {upstream}")
        self.name = name
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self._lock = threading.Lock()
        self._rule: Rule | None = None
        self._hit: Hit | None = None
        self._hit_event = threading.Event()
        self._release = threading.Event()
        self.counts: dict[str, int] = {}
        self.server = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"{name}-serve", daemon=True)
        self._thread.start()
        self._deadline = threading.Timer(ttl, self.stop)
        self._deadline.daemon = True
        self._deadline.start()
        self._stopped = False

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # ---- the harness' side ----------------------------------------------------------------------

    def arm(self, rule: Rule) -> None:
        with self._lock:
            self._rule = rule
            self._hit = None
            self._hit_event.clear()
            self._release.clear()

    def disarm(self) -> None:
        with self._lock:
            self._rule = None
        self._release.set()

    def wait_hit(self, timeout: float) -> Hit | None:
        if self._hit_event.wait(timeout):
            return self._hit
        return None

    def release(self) -> None:
        """Let the held connection go: it is closed without an answer."""
        self._release.set()

    def count(self, method: str, path_pattern: str) -> int:
        with self._lock:
            return sum(n for key, n in self.counts.items() if key.split(" ", 1)[0] == method and re.search(path_pattern, key.split(" ", 1)[1]))

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._release.set()
        self._deadline.cancel()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HoldProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the handler's side ---------------------------------------------------------------------

    def _take(self, method: str, path: str, body: bytes, phase: str) -> bool:
        with self._lock:
            rule = self._rule
            if rule is None or rule.phase != phase or not rule.matches(method, path, body):
                return False
            self._rule = None
            return True

    def _hold(self, method: str, path: str, phase: str, status: int | None) -> None:
        self._hit = Hit(method, path, phase, status, time.monotonic())
        self._hit_event.set()
        self._release.wait(HOLD_LIMIT)

    def _count(self, method: str, path: str) -> None:
        with self._lock:
            key = f"{method} {path}"
            self.counts[key] = self.counts.get(key, 0) + 1


def _handler_for(proxy: HoldProxy) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # quiet
            return

        def _forward(self) -> None:
            self.close_connection = True
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urllib.parse.urlsplit(self.path).path
            method = self.command
            if proxy._take(method, path, body, "request"):
                proxy._hold(method, path, "request", None)
                return  # never forwarded; the connection closes without an answer
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Connection"] = "close"
            upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
            try:
                upstream.request(method, self.path, body=body or None, headers=headers)
                proxy._count(method, path)
                answer = upstream.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                return  # the upstream dropped us: so does the proxy
            finally:
                upstream.close()
            if proxy._take(method, path, body, "response"):
                proxy._hold(method, path, "response", answer.status)
                return
            try:
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)
            except OSError:
                pass

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_LIST = _forward  # noqa: N815

    return Handler
