"""The simulator as one object: store, CA, runtime config, the SCM API, faults, counters and controls.

``server.py`` puts HTTP in front of it; tests may also build one directly (``Simulator.create``).
"""
from __future__ import annotations

import random
from typing import Any

from scm_simulator.ca import CertificateAuthority
from scm_simulator.config import RuntimeConfig
from scm_simulator.controls import Controls, order_summary
from scm_simulator.faults import FaultInjector
from scm_simulator.handlers import Credentials, ScmApi
from scm_simulator.oauth import DEFAULT_LIFETIME, OAuthServer
from scm_simulator.stats import RequestStats
from scm_simulator.store import Store


class Simulator:
    def __init__(self, *, store: Store, ca: CertificateAuthority, config: RuntimeConfig, credentials: Credentials,
                 rng: random.Random | None = None, oauth: OAuthServer | None = None) -> None:
        self.store = store
        self.ca = ca
        self.config = config
        self.credentials = credentials
        self.oauth = oauth or OAuthServer()
        self.api = ScmApi(store, ca, config, credentials, self.oauth)
        self.faults = FaultInjector(config, rng)
        self.stats = RequestStats()
        self.controls = Controls(self)

    @classmethod
    def create(cls, *, state_dir: str | None = None, issue_delay: float = 0.0, login: str = "demo", password: str = "demo",
               customer_uri: str = "demo", ca: CertificateAuthority | None = None, client_id: str | None = None,
               client_secret: str | None = None, token_lifetime: float = DEFAULT_LIFETIME, **settings: Any) -> Simulator:
        """A simulator with its state in ``state_dir`` (or in memory); ``ca`` replaces the one kept there.

        ``client_id`` and ``client_secret`` enable the OAuth2 token endpoint; its tokens expire after ``token_lifetime`` seconds.
        """
        store = Store(state_dir)
        authority = ca or CertificateAuthority.load_or_create(state_dir)
        config = RuntimeConfig(issue_delay=issue_delay, **settings)
        return cls(store=store, ca=authority, config=config, credentials=Credentials(login, password, customer_uri),
                   oauth=OAuthServer(client_id, client_secret, token_lifetime))

    def stats_snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            orders = [order_summary(order, self.store) for order in self.store]
        return {"requests": self.stats.requests(), "total_requests": self.stats.total, "faults_injected": self.faults.counts(),
                "tokens_issued": self.oauth.issued, "faults_after": self.faults.after_count(),
                "collects_per_order": self.stats.collects_per_order(), "orders": orders}
