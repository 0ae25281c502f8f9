"""A stand-in for the SCM simulator's process contract, so the test bed's start/stop is tested on its own.

It takes the simulator's options, prints the same "listening" line, and answers the two controls the
test bed wraps (``GET /__sim__/stats``, ``POST /__sim__/config``).
"""
from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG: dict = {}


class Handler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        if self.path == "/__sim__/stats":
            self._reply(200, {"requests": {}, "orders": [], "config": CONFIG})
        else:
            self._reply(404, {"code": -1, "description": "not here"})

    def do_POST(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        length = int(self.headers.get("Content-Length") or 0)
        if self.path == "/__sim__/config":
            CONFIG.update(json.loads(self.rfile.read(length) or b"{}"))
            self._reply(200, CONFIG)
        else:
            self._reply(404, {"code": -1, "description": "not here"})

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-lifetime", type=float, default=60)
    args, _unknown = parser.parse_known_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    threading.Timer(args.max_lifetime, server.shutdown).start()
    print(f"scm-simulator listening on http://{args.host}:{server.server_address[1]}/api", flush=True)
    server.serve_forever()


main()
