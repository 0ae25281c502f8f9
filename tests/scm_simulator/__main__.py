"""``python3 tests/scm_simulator``: run the SCM simulator (see docs/scm-simulator.md)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

# Run as a directory, this file is a script: make the package importable by its name.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scm_simulator.ca import CertificateAuthority  # noqa: E402  pylint: disable=wrong-import-position
from scm_simulator.server import Simulator, make_server  # noqa: E402  pylint: disable=wrong-import-position
from scm_simulator.store import Store  # noqa: E402  pylint: disable=wrong-import-position


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scm-simulator", description="A Sectigo Certificate Manager REST API simulator with a real CA.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--state-dir", help="keep orders and the CA here, across restarts")
    parser.add_argument("--issue-delay", type=float, default=0.0, help="seconds from order to issuance")
    parser.add_argument("--login", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--customer-uri", default="demo")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="key of --tls-cert (PEM)")
    parser.add_argument("--max-lifetime", type=float, default=0, help="stop by itself after this many seconds (0: never)")
    return parser.parse_args(argv)


def build(args: argparse.Namespace):
    store = Store(args.state_dir)
    if args.issue_delay:
        store.config["issue_delay"] = args.issue_delay
    ca = CertificateAuthority(args.state_dir)
    sim = Simulator(store, ca, login=args.login, password=args.password, customer_uri=args.customer_uri)
    return make_server(args.host, args.port, sim, args.tls_cert, args.tls_key)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = build(args)
    host, port = server.server_address[:2]
    scheme = "https" if args.tls_cert else "http"
    shown = f"[{host}]" if ":" in str(host) else host

    def stop(*_args: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.max_lifetime:
        timer = threading.Timer(args.max_lifetime, stop)
        timer.daemon = True
        timer.start()
    print(f"scm-simulator listening on {scheme}://{shown}:{port}/api", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
