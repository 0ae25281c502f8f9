"""`make bench`, simulator part: request times of the SCM simulator with its state on disk, at 100 and at 10,000 orders.

For each size a fresh simulator (SQLite state in a temporary directory) is seeded through /__sim__/seed, then
each request below is timed (median of a few); the table shows both sizes side by side and their ratio. Well
under a minute: seeding 10,000 orders signs 10,000 certificates, the rest is milliseconds.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from scm_simulator.handlers import Request  # noqa: E402  pylint: disable=wrong-import-position
from scm_simulator.simulator import Simulator  # noqa: E402  pylint: disable=wrong-import-position

SIZES = (100, 10000)
REPEAT = 5
AUTH = {"login": "demo", "password": "demo", "customeruri": "demo"}


def _api(sim: Simulator, method: str, path: str, body: Any = None, query: dict[str, list[str]] | None = None) -> Callable[[], Any]:
    def call() -> Any:
        response = sim.api.handle(Request(method=method, path=path, query=query or {}, headers=dict(AUTH), body=body))
        assert response.status < 300, response.body[:200]
        return response
    return call


def measure(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as state:
        sim = Simulator.create(state_dir=state)
        started = time.monotonic()
        sim.controls.handle("POST", "seed", {"count": size - size // 10})
        sim.controls.handle("POST", "seed", {"count": size // 10, "kind": "smime"})
        seeded = time.monotonic() - started
        first = sim.store.all("ssl")[0].id
        enroll_csr = sim.store.all("ssl")[0].csr
        cases: dict[str, Callable[[], Any]] = {
            "GET /__sim__/stats": lambda: sim.controls.handle("GET", "stats", None),
            "GET /ssl/v1/{id}": _api(sim, "GET", f"/ssl/v1/{first}"),
            "GET /ssl/v1?commonName=": _api(sim, "GET", "/ssl/v1", query={"commonName": ["host-7.example.com"]}),
            "GET /ssl/v1 (a page of 200)": _api(sim, "GET", "/ssl/v1", query={"size": ["200"], "position": ["0"]}),
            "POST /ssl/v1/enroll": _api(sim, "POST", "/ssl/v1/enroll", {"orgId": 1001, "csr": enroll_csr, "certType": 101, "term": 365}),
            "POST /report (revoked since)": _api(sim, "POST", "/report/v1/ssl-certificates",
                                                 {"certificateStatus": 3, "certificateDateAttribute": 2, "from": "2020-01-01"}),
            "POST /__sim__/revoke/{id}": lambda: sim.controls.handle("POST", f"revoke/{sim.store.all('ssl')[-REPEAT - 1].id}", {}),
        }
        out = {"seed (s)": seeded}
        for name, call in cases.items():
            times = []
            for _round in range(REPEAT):
                begin = time.perf_counter()
                call()
                times.append(time.perf_counter() - begin)
            out[name] = statistics.median(times) * 1000
        sim.store.close()
        return out


def main() -> int:
    started = time.monotonic()
    results = {size: measure(size) for size in SIZES}
    small, large = results[SIZES[0]], results[SIZES[1]]
    print(f"\nSCM simulator, state on disk (SQLite): request time in ms, median of {REPEAT}")
    print(f"{'request':34} {SIZES[0]:>10,} {SIZES[1]:>10,}   ratio")
    for name in small:
        ratio = large[name] / small[name] if small[name] else 0.0
        print(f"{name:34} {small[name]:10.2f} {large[name]:10.2f}   {ratio:5.1f}x")
    print(f"(simulator bench: {time.monotonic() - started:.0f} s)")
    slow = [name for name in large if name != "seed (s)" and large[name] > 1000]
    if slow:
        print(f"too slow at {SIZES[1]:,} orders: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
