"""`make env`: start OpenBao and the SCM simulator in the background and print `export` lines to use them.

    eval "$(python3 tests/testbed/env.py)"      # start (or show the running ones)
    python3 tests/testbed/env.py --stop         # stop (also: make env-stop)

The servers run detached from the calling shell and stop by themselves after ``--ttl`` seconds (default
4 hours). Their process ids, log files and the export lines are kept in ``.build/env/``.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from testbed import (  # noqa: E402  pylint: disable=wrong-import-position
    TestBedError, group_alive, start_openbao, start_simulator, stop_group)

DEFAULT_DIR = os.path.join(ROOT, ".build", "env")
DEFAULT_TTL = 4 * 3600
SERVICES = ("openbao", "scm-simulator")


def _pids_file(state: str) -> str:
    return os.path.join(state, "pids")


def _env_file(state: str) -> str:
    return os.path.join(state, "env.sh")


def _read_pids(state: str) -> list[tuple[str, int]]:
    try:
        with open(_pids_file(state), encoding="utf-8") as handle:
            rows = [line.split() for line in handle if line.strip()]
    except OSError:
        return []
    return [(row[0], int(row[1])) for row in rows if len(row) == 2 and row[1].isdigit()]


def _ours(pid: int) -> bool:
    """Whether ``pid`` is still one of our supervisors (guards against a recycled pid)."""
    if not group_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"--supervise" in handle.read()
    except OSError:
        return True  # no /proc (macOS): trust the pid file


def stop(state: str) -> int:
    entries = _read_pids(state)
    for name, pid in entries:
        if _ours(pid):
            stop_group(pid)
            print(f"# stopped {name} (pid {pid})")
    for path in (_pids_file(state), _env_file(state)):
        if os.path.exists(path):
            os.remove(path)
    if not entries:
        print("# nothing to stop")
    return 0


def start(state: str, ttl: float, services: list[str], issue_delay: float) -> int:
    running = [(name, pid) for name, pid in _read_pids(state) if _ours(pid)]
    if running and os.path.exists(_env_file(state)):
        with open(_env_file(state), encoding="utf-8") as handle:
            sys.stdout.write(handle.read())
        print(f"# already running ({', '.join(name for name, _pid in running)}); stop with: python3 tests/testbed/env.py --stop")
        return 0
    stop_quietly(state)
    os.makedirs(state, exist_ok=True)
    exports: dict[str, str] = {}
    pids: list[tuple[str, int]] = []
    try:
        if "openbao" in services:
            bao = start_openbao(ttl=ttl, detached=True, log_dir=state)
            pids.append(("openbao", bao.pid))
            exports.update(VAULT_ADDR=bao.addr, VAULT_TOKEN=bao.token)
        if "scm-simulator" in services:
            sim = start_simulator(ttl=ttl, issue_delay=issue_delay, detached=True, log_dir=state)
            pids.append(("scm-simulator", sim.pid))
            exports.update(SECTIGO_CM_BASE_URL=sim.base_url, SECTIGO_CM_USER=sim.login, SECTIGO_CM_PASSWORD=sim.password,
                           SECTIGO_CM_CUSTOMER_URI=sim.customer_uri, SCM_SIM_URL=sim.root_url)
    except TestBedError as exc:
        for _name, pid in pids:
            stop_group(pid)
        print(f"make env: {exc}", file=sys.stderr)
        return 1
    with open(_pids_file(state), "w", encoding="utf-8") as handle:
        handle.writelines(f"{name} {pid}\n" for name, pid in pids)
    until = time.strftime("%H:%M", time.localtime(time.time() + ttl))
    lines = [f"export {key}={shlex.quote(value)}\n" for key, value in exports.items()]
    lines.append(f"# test bed running until {until} (logs in {state}); stop with: python3 tests/testbed/env.py --stop  (or: make env-stop)\n")
    with open(_env_file(state), "w", encoding="utf-8") as handle:
        handle.writelines(lines)
    sys.stdout.writelines(lines)
    return 0


def stop_quietly(state: str) -> None:
    for _name, pid in _read_pids(state):
        if _ours(pid):
            stop_group(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stop", action="store_true", help="stop the servers started before")
    parser.add_argument("--ttl", type=float, default=DEFAULT_TTL, help="seconds after which the servers stop by themselves (default: 4 h)")
    parser.add_argument("--issue-delay", type=float, default=0.0, help="seconds the simulator takes to issue a certificate")
    parser.add_argument("--services", default=",".join(SERVICES), help=f"comma-separated subset of {', '.join(SERVICES)}")
    parser.add_argument("--dir", default=DEFAULT_DIR, help="where pids, logs and the export lines are kept (default: .build/env)")
    args = parser.parse_args(argv)
    state = os.path.abspath(args.dir)
    if args.stop:
        return stop(state)
    services = [name.strip() for name in args.services.split(",") if name.strip()]
    unknown = sorted(set(services) - set(SERVICES))
    if unknown or not services:
        parser.error(f"--services: choose from {', '.join(SERVICES)}")
    if args.ttl <= 0:
        parser.error("--ttl must be positive")
    return start(state, args.ttl, services, args.issue_delay)


if __name__ == "__main__":
    sys.exit(main())
