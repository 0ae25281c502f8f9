"""``python3 tests/scm_simulator [options]``: run the SCM simulator until SIGTERM, SIGINT or --max-lifetime.

Prints exactly one line once it serves, ``scm-simulator listening on <base_url>``. See docs/scm-simulator.md.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

# Running a directory executes this file as a script, with the package directory itself first on
# sys.path. Put its parent there instead, so the package imports by name and none of its module
# names (config, errors, ...) can shadow another module.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__" and not __package__:
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _PACKAGE_DIR]
    sys.path.insert(0, os.path.dirname(_PACKAGE_DIR))

from scm_simulator.ca import CaError  # noqa: E402  pylint: disable=wrong-import-position
from scm_simulator.server import make_server  # noqa: E402  pylint: disable=wrong-import-position
from scm_simulator.simulator import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from scm_simulator.store import StateError  # noqa: E402  pylint: disable=wrong-import-position


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scm_simulator", description="A Sectigo Certificate Manager REST API simulator with a real CA.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 (the default) picks a free one")
    parser.add_argument("--state-dir", help="keep orders, id counters and the CA here, across restarts (default: in memory)")
    parser.add_argument("--issue-delay", type=float, default=0.0, help="seconds from an order being applied to its issuance (default: 0)")
    parser.add_argument("--login", default="demo", help="the API account's login header (default: demo)")
    parser.add_argument("--password", default="demo", help="its password header (default: demo)")
    parser.add_argument("--customer-uri", default="demo", help="its customerUri header (default: demo)")
    parser.add_argument("--client-id", help="enable the OAuth2 token endpoint for this client id (needs --client-secret)")
    parser.add_argument("--client-secret", help="the client secret of --client-id (default: read it from the SCM_SIM_CLIENT_SECRET environment variable)")
    parser.add_argument("--token-lifetime", type=float, default=300.0, help="seconds an OAuth2 token stays valid (default: 300)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert (PEM; default: read it from --tls-cert)")
    parser.add_argument("--tls-client-ca", help="ask for client certificates signed by this CA; /private/api then requires one")
    parser.add_argument("--max-lifetime", type=float, default=0.0, help="stop by itself after this many seconds (default: 0, never)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.issue_delay < 0 or args.max_lifetime < 0:
        parser.error("--issue-delay and --max-lifetime cannot be negative")
    if (args.tls_key or args.tls_client_ca) and not args.tls_cert:
        parser.error("--tls-key and --tls-client-ca need --tls-cert")
    args.client_secret = args.client_secret or os.environ.get("SCM_SIM_CLIENT_SECRET") or None
    if bool(args.client_id) != bool(args.client_secret):
        parser.error("--client-id and --client-secret (or SCM_SIM_CLIENT_SECRET) go together")
    if args.token_lifetime <= 0:
        parser.error("--token-lifetime must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sim = Simulator.create(state_dir=args.state_dir, issue_delay=args.issue_delay, login=args.login, password=args.password,
                               customer_uri=args.customer_uri, client_id=args.client_id, client_secret=args.client_secret,
                               token_lifetime=args.token_lifetime)
        server = make_server(sim, args.host, args.port, tls_cert=args.tls_cert, tls_key=args.tls_key, tls_client_ca=args.tls_client_ca,
                             verbose=args.verbose)
    except (CaError, StateError, OSError) as exc:
        print(f"scm-simulator: cannot start: {exc}", file=sys.stderr)
        return 1

    stopping = threading.Event()

    def stop(*_args: object) -> None:
        # shutdown() waits for serve_forever to return, so it must not run in the serving (main) thread.
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.max_lifetime:
        timer = threading.Timer(args.max_lifetime, stop)
        timer.daemon = True
        timer.start()
    print(f"scm-simulator listening on {server.base_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
