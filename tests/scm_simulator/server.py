"""HTTP(S) in front of the simulator: parsing, the /api and /private/api prefixes, faults, counters, controls.

Everything SCM-specific lives in ``handlers``; this module only moves bytes. Each connection is
served by its own thread (``ThreadingHTTPServer``); TLS handshakes happen in that thread too, so
one slow client cannot stall the others.
"""
from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from scm_simulator.controls import control_error
from scm_simulator.handlers import INVALID_JSON, Request, Response
from scm_simulator.oauth import TOKEN_PATH
from scm_simulator.simulator import Simulator

API_PREFIX = "/api"
PRIVATE_PREFIX = "/private/api"
CONTROL_PREFIX = "/__sim__/"
MAX_BODY = 1024 * 1024


class SimulatorServer(ThreadingHTTPServer):
    """The listening server; ``base_url`` is what clients use (…/api)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], sim: Simulator, *, tls: ssl.SSLContext | None = None, verbose: bool = False) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SimulatorHandler)
        self.sim = sim
        self.verbose = verbose
        self.tls = tls is not None
        self.client_certs = tls is not None and tls.verify_mode != ssl.CERT_NONE
        if tls is not None:
            # Handshake later, in the connection's own thread (SimulatorHandler.setup).
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    @property
    def root_url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"{'https' if self.tls else 'http'}://{shown}:{port}"

    @property
    def base_url(self) -> str:
        return self.root_url + API_PREFIX

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal under fault injection; anything else is a bug worth a trace.
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class SimulatorHandler(BaseHTTPRequestHandler):
    server_version = "scm-simulator"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes; with Nagle on, a keep-alive client waits for its delayed ACK (~40 ms) each time.
    disable_nagle_algorithm = True
    server: SimulatorServer
    _handshake_failed = False

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.settimeout(30)
                self.request.do_handshake()
                self.request.settimeout(None)
            except (ssl.SSLError, OSError):
                self._handshake_failed = True
        super().setup()

    def handle(self) -> None:
        if not self._handshake_failed:
            super().handle()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    # ---- verbs

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    def do_HEAD(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    def do_PUT(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    def do_DELETE(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    # ---- plumbing

    def _read_body(self) -> bytes | None:
        """The request body; None when it is too large (the answer is then 413)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            size = 0
            while True:
                length = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    @staticmethod
    def _parse(raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return INVALID_JSON

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type and response.status != 204:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no answer: SO_LINGER with a zero timeout, then close."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def _fault(self, kind: str) -> None:
        config = self.server.sim.config
        if kind == "reset":
            self._reset()
        elif kind == "429":
            retry_after = config["retry_after"]
            seconds = int(retry_after) if float(retry_after).is_integer() else retry_after
            self._write(Response.json({"code": -1, "description": "Too many requests."}, 429, {"Retry-After": str(seconds)}))
        else:
            self._write(Response.json({"code": -2, "description": "Internal error. Please contact Support for details."},
                                      int(config["fault_5xx_status"])))

    def _dispatch(self) -> None:
        method = self.command
        url = urlsplit(self.path)
        raw = self._read_body()
        if raw is None:
            self.close_connection = True
            self._write(control_error(413, f"the request body is larger than {MAX_BODY} bytes"))
            return
        if url.path.startswith(CONTROL_PREFIX):
            body = self._parse(raw)
            if body is INVALID_JSON:
                self._write(control_error(400, "the body is not valid JSON"))
                return
            self._write(self.server.sim.controls.handle(method, url.path[len(CONTROL_PREFIX):], body))
            return
        if url.path == TOKEN_PATH:
            self._token(method, raw)
            return
        private = url.path.startswith(PRIVATE_PREFIX + "/")
        prefix = PRIVATE_PREFIX if private else API_PREFIX
        if not url.path.startswith(prefix + "/"):
            self._write(control_error(404, f"nothing at {url.path}: the SCM API is under {API_PREFIX}/, the test controls under {CONTROL_PREFIX}"))
            return
        self._api(method, url.path[len(prefix):], url.query, raw, private)

    def _token(self, method: str, raw: bytes) -> None:
        """The OAuth2 token endpoint; counted like an endpoint, open to faults like one."""
        sim = self.server.sim
        sim.stats.count(f"{method} {TOKEN_PATH}")
        if method != "POST":
            self._write(Response.json({"error": "invalid_request", "error_description": "use POST"}, 405, {"Allow": "POST"}))
            return
        fault = sim.faults.choose(f"{method} {TOKEN_PATH}")
        if fault:
            self._fault(fault)
            return
        status, headers, body = sim.oauth.token(self.headers.get("Content-Type") or "", raw, self.headers.get("Authorization"))
        self._write(Response(status, body, headers, "application/json"))

    def _api(self, method: str, path: str, query: str, raw: bytes, private: bool) -> None:
        sim = self.server.sim
        template = sim.api.template(method, path)
        sim.stats.count(f"{method} {API_PREFIX}{template or path}", path)
        fault = sim.faults.choose(f"{method} {API_PREFIX}{path}")
        # A rate limiter answers before the request is processed: a 429 never strikes after SCM acted.
        after = bool(fault) and fault != "429" and sim.faults.after()
        if fault and not after:
            self._fault(fault)
            return
        verified = None
        if self.server.client_certs and isinstance(self.connection, ssl.SSLSocket):
            verified = bool(self.connection.getpeercert())
        request = Request(method=method, path=path, query=parse_qs(query, keep_blank_values=True),
                          headers={name.lower(): value for name, value in self.headers.items()}, body=self._parse(raw), private=private,
                          client_cert_verified=verified)
        response = sim.api.handle(request)
        if fault:
            # fault_after (or fault_after_rate): the request took effect (an order may now exist), but its answer is lost.
            self._fault(fault)
            return
        self._write(response)


def tls_context(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        # Ask for a client certificate; /private/api then requires one (docs/scm-protocol.md, "Authentication"), /api does not.
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def make_server(sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, tls_cert: str | None = None, tls_key: str | None = None,
                tls_client_ca: str | None = None, verbose: bool = False) -> SimulatorServer:
    tls = tls_context(tls_cert, tls_key or tls_cert, tls_client_ca) if tls_cert else None
    return SimulatorServer((host, port), sim, tls=tls, verbose=verbose)


def serve_in_thread(server: SimulatorServer, poll_interval: float = 0.05) -> threading.Thread:
    """Serve in a daemon thread (tests); stop with ``server.shutdown()`` then ``server.server_close()``."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name="scm-simulator", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def served(sim: Simulator, *, poll_interval: float = 0.01, **options: Any) -> Iterator[SimulatorServer]:
    """``sim`` served on a free loopback port by a thread of this process for the ``with`` block (tests), stopped
    after it; ``options`` are make_server's (``tls_cert``, ``tls_key``, ``tls_client_ca``)."""
    server = make_server(sim, "127.0.0.1", 0, **options)
    serve_in_thread(server, poll_interval=poll_interval)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
