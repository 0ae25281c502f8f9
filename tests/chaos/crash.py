"""Crash at every step where state changes hands: SIGKILL to the ansible-playbook process group, then the same playbook again.

Each case has its own kv path, its own proxies in front of SCM and Vault, and its own common name, so the cases
run side by side on one simulator and one OpenBao. A proxy holds the request (or the answer) of the step, tells
the harness, which kills the run, then lets the held connection go unanswered.

Two verdicts per case:
- target: the re-run started right after the kill ends well, within TARGET_SECONDS of the kill, and leaves every
  invariant of ``checks.verify`` true;
- eventually: if the target failed, the harness waits until a dead run's claim is stale (CLAIM_STALE + margin
  after the kill) and runs the playbook again (up to twice); lost and duplicate orders are counted after that.
"""
from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from checks import verify
from proxy import HoldProxy, Rule

TARGET_SECONDS = 30.0
CLAIM_STALE = 120.0  # the collection's current stale time for a dead run's claim
HIT_TIMEOUT = 90.0


@dataclasses.dataclass(frozen=True)
class Point:
    key: str
    title: str
    proxy: str  # "scm" or "vault"
    rule: Rule
    setup: str = ""  # "", "backdated" (an issued certificate inside its window) or "issued"
    playbook: str = "certs.yml"
    extra: tuple[tuple[str, Any], ...] = ()
    status: str = "Issued"
    orders: int = 1


CERT_WRITE = r"^/v1/secret/data/.*/certs/"
POINTS = [
    Point("enroll-sent", "before the enroll POST reaches SCM", "scm", Rule("POST", r"^/api/ssl/v1/enroll$", "request")),
    Point("enroll-placed", "SCM placed the order, answer not yet back", "scm", Rule("POST", r"^/api/ssl/v1/enroll$", "response")),
    Point("id-unsaved", "answer back, order id not yet in Vault", "vault", Rule("POST|PUT", CERT_WRITE, "request", r'"ssl_id"')),
    Point("polling", "while polling (a collect in flight)", "scm", Rule("GET", r"^/api/ssl/v1/collect/", "request")),
    Point("cert-unsaved", "certificate collected, not yet stored", "vault", Rule("POST|PUT", CERT_WRITE, "request", r'"certificate"')),
    Point("renew-post", "during a renewal POST (SCM renewed, answer not back)", "scm", Rule("POST", r"^/api/ssl/v1/renewById/", "response"),
          setup="backdated", extra=(("expiry_window", 30),), orders=2),
    Point("replace-post", "during a replace POST (SCM replaced, answer not back)", "scm", Rule("POST", r"^/api/ssl/v1/replace/", "response"),
          setup="issued", extra=(("sans_tag", "b"),)),
    Point("revoke-post", "during a revoke (SCM revoked, answer not back)", "scm", Rule("POST", r"^/api/ssl/v1/revoke/", "response"),
          setup="issued", playbook="revoke.yml", status="Revoked"),
]


@dataclasses.dataclass
class CaseResult:
    point: str
    rep: int
    hit: bool = False
    target_ok: bool = False
    target_seconds: float | None = None
    eventual_ok: bool = False
    lost: int = 0
    duplicates: int = 0
    extra_posts: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)


def _extra_vars(point: Point, kv_path: str, name: str) -> dict[str, Any]:
    return {"kv_path": kv_path, "names": [name], "domain": "crash.example.com", **dict(point.extra)}


class Case:
    """One crash point, one repetition: its names, its proxies (kept for the whole case), its result."""

    def __init__(self, chaos: Any, point: Point, rep: int) -> None:
        self.chaos, self.point = chaos, point
        self.result = CaseResult(point.key, rep)
        self.kv_path, self.name = f"chaos-crash-{point.key}-{rep}", f"{point.key}-{rep}"
        self.common_name = f"{self.name}.crash.example.com"
        self.scm = HoldProxy(chaos.simulator.base_url.rsplit("/api", 1)[0], ttl=900, name="scm")
        self.vault = HoldProxy(chaos.openbao.addr, ttl=900, name="vault")
        self.env = chaos.env(vault_addr=self.vault.base, scm_url=f"{self.scm.base}/api")
        self.extra = _extra_vars(point, self.kv_path, self.name)
        self.set_up = not point.setup

    def setup(self) -> None:
        """An issued certificate to renew, replace or revoke (with the default window, it is not renewed yet)."""
        run = self.chaos.run_playbook("certs.yml", self.env, **dict(self.extra, state="present", expiry_window=1, sans_tag="a"))
        self.set_up = run.ok
        if not run.ok:
            self.result.notes.append(f"setup failed: {run.failure()[:200]}")

    def close(self) -> None:
        self.scm.stop()
        self.vault.stop()

    def run(self) -> CaseResult:
        try:
            if self.set_up:
                self._crash_and_rerun()
        finally:
            self.close()
        return self.result

    def _crash_and_rerun(self) -> None:
        chaos, point, result = self.chaos, self.point, self.result
        proxy = self.scm if point.proxy == "scm" else self.vault
        proxy.arm(point.rule)
        kind = {"replace-post": "replace", "revoke-post": "revoke"}.get(point.key)
        posts_before = self.scm.count("POST", rf"/{kind}/") if kind else 0
        run = chaos.start_playbook(point.playbook, self.env, **self.extra)
        hit = proxy.wait_hit(HIT_TIMEOUT)
        run.kill()
        killed_at = time.monotonic()
        proxy.disarm()
        first = run.wait(60)
        result.hit = hit is not None
        if hit is None:
            result.notes.append(f"the step was never reached (rc {first.rc}): {first.failure()[:200]}")
            return
        again = chaos.run_playbook(point.playbook, self.env, timeout=CLAIM_STALE + 120, **self.extra)
        result.target_seconds = round(time.monotonic() - killed_at, 1)
        verdict = verify(chaos, self.kv_path, self.name, self.common_name, status=point.status, orders=point.orders)
        result.target_ok = again.ok and verdict.ok and result.target_seconds <= TARGET_SECONDS
        if not result.target_ok:
            why = "; ".join(verdict.problems[:2])
            result.notes.append(f"re-run rc={again.rc} changed={again.recap.get('changed')} after {result.target_seconds}s"
                                + (f": {why}" if why else "") + ("" if again.ok else f"; {again.failure()[:160]}"))
        attempts = 0
        while not verdict.ok and attempts < 2:
            attempts += 1
            wait = killed_at + CLAIM_STALE + 5 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            later = chaos.run_playbook(point.playbook, self.env, **self.extra)
            verdict = verify(chaos, self.kv_path, self.name, self.common_name, status=point.status, orders=point.orders)
            if not later.ok:
                result.notes.append(f"later run rc={later.rc}: {later.failure()[:160]}")
        result.eventual_ok = verdict.ok
        if not verdict.ok:
            result.notes.append("still: " + "; ".join(verdict.problems))
        result.lost, result.duplicates = verdict.lost, verdict.duplicates
        if kind:
            result.extra_posts = max(0, self.scm.count("POST", rf"/{kind}/") - posts_before - 1)
            if kind == "replace":
                result.duplicates += result.extra_posts


def run(chaos: Any, reps: int = 3, workers: int = 6, points: list[str] | None = None) -> list[CaseResult]:
    """Every crash point ``reps`` times, side by side.

    Renewal cases need an issued certificate inside its window: their setup runs first while the simulator backdates
    new certificates by 360 days; backdating is switched off before any crash run (a renewal is then a fresh
    certificate outside the window, so re-running the playbook after it changes nothing).
    """
    chosen = [p for p in POINTS if not points or p.key in points]
    cases = [Case(chaos, p, r) for p in chosen for r in range(1, reps + 1)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        backdated = [c for c in cases if c.point.setup == "backdated"]
        if backdated:
            chaos.simulator.configure(backdate_days=360)
            try:
                list(pool.map(Case.setup, backdated))
            finally:
                chaos.simulator.configure(backdate_days=0)
        list(pool.map(Case.setup, [c for c in cases if c.point.setup == "issued"]))
        return list(pool.map(Case.run, cases))
