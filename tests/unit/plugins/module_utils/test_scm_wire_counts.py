"""The SCM requests that keep the product cheap, counted by the SCM simulator itself (served in this process on loopback).

A certificate service on an in-memory Vault talks to the simulator through the real ``ScmClient``: what the simulator
counts is what went over the wire, retries included. Pinned here: an order is one POST, a re-run sends nothing to SCM,
an issued certificate costs at most two collects, an order that never issues at most MAX_COLLECTS, under injected
faults a POST is never sent twice, and an OAuth2 token is fetched once, again before it expires and after a 401.
"""
from __future__ import annotations

import pytest

from lifecycle_fakes import FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.collector import MAX_COLLECTS
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import scm_client_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

ENROLL = "POST /api/ssl/v1/enroll"


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def simulator():
    from scm_simulator.server import served  # pylint: disable=import-outside-toplevel
    from scm_simulator.simulator import Simulator  # pylint: disable=import-outside-toplevel

    with served(Simulator.create()) as server:
        yield server


@pytest.fixture
def bed(simulator):
    config = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "demo", "login": "demo", "password": "demo", "org_id": 1001,
              "base_url": simulator.base_url, "scm_auth_method": "password",
              "defaults": {"cert_type": 101, "term": 365, "max_timeout": 600, "loop_period": 5}}
    store, clock, built = FakeStore(), FakeTime(), []

    def factory():
        built.append(scm_client_for(config, timeout=5))
        return built[-1]

    def ensure(name="web01", **options):
        service = CertificateService(store, config, factory, sleep=clock.sleep, monotonic=clock.monotonic, rand=lambda: 0.5)
        return service.ensure(CertRequest(config="prod", name=name, common_name=f"{name}.example.com", **options))
    return simulator.sim, ensure, built


def test_an_order_is_one_post_and_a_rerun_sends_nothing_to_scm(bed):
    sim, ensure, built = bed
    result = ensure()
    assert result.record["status"] == "Issued"
    requests = sim.stats.requests()
    assert requests[ENROLL] == 1
    assert sum(sim.stats.collects_per_order().values()) <= 2
    assert built[0].requests_sent == sim.stats.total

    before = sim.stats.total
    again = ensure()
    assert not again.changed and sim.stats.total == before and len(built) == 1  # no client built, no request sent


def test_an_order_that_never_issues_is_collected_at_most_max_collects_times(bed):
    sim, ensure, _built = bed
    sim.config.merge({"issue_delay": 10 ** 6})
    with pytest.raises(OperationError):
        ensure(max_timeout=900)
    (collects,) = sim.stats.collects_per_order().values()
    assert 1 <= collects <= MAX_COLLECTS
    assert sim.stats.requests()[ENROLL] == 1


@pytest.mark.parametrize("fault", ["reset", "5xx"])
def test_a_post_whose_answer_is_lost_is_sent_once_and_looked_up(bed, fault):
    sim, ensure, _built = bed
    sim.config.merge({f"fault_{fault}_count": 1, "fault_after": True, "fault_match": "^POST /api/ssl/v1/enroll"})
    result = ensure()
    # SCM placed the order, its answer was lost: the run finds the order by its request id instead of ordering again.
    assert sim.faults.after_count() == 1 and sim.faults.counts()[fault] == 1
    assert result.record["status"] == "Issued" and sim.stats.requests()[ENROLL] == 1


def test_gets_are_retried_through_429_and_5xx_with_retry_after(bed):
    sim, ensure, _built = bed
    sim.config.merge({"fault_429_count": 2, "fault_5xx_count": 2, "retry_after": 0, "fault_match": "^GET "})
    result = ensure()
    assert result.record["status"] == "Issued" and sim.faults.counts() == {"5xx": 2, "429": 2, "reset": 0}
    assert sim.stats.requests()[ENROLL] == 1


@pytest.fixture
def oauth_simulator():
    from scm_simulator.server import served  # pylint: disable=import-outside-toplevel
    from scm_simulator.simulator import Simulator  # pylint: disable=import-outside-toplevel

    with served(Simulator.create(client_id="cid", client_secret="csecret", token_lifetime=300)) as server:
        yield server


def test_oauth2_one_token_for_many_requests_again_after_expiry_and_after_a_401(oauth_simulator):
    from scm_simulator.server import TOKEN_PATH  # pylint: disable=import-outside-toplevel

    sim, clock = oauth_simulator.sim, FakeTime()
    root = oauth_simulator.base_url.rsplit("/api", 1)[0]
    client = scm_client_for({"base_url": oauth_simulator.base_url, "scm_auth_method": "oauth2", "client_id": "cid",
                             "client_secret": "csecret", "scm_token_url": root + TOKEN_PATH})
    client.auth.clock = clock.monotonic

    def tokens():
        return sim.stats.requests().get(f"POST {TOKEN_PATH}", 0)

    for _request in range(5):
        client.list_ssl_types()
    assert tokens() == 1 and client.tokens_fetched == 1
    clock.now = 300 - 29  # inside the last 30 s of the token's 300: fetched again before SCM refuses it
    client.list_ssl_types()
    assert tokens() == 2
    sim.oauth.expire_all()  # SCM forgets the token early: one 401, one new token, the request once more
    before = sim.stats.total
    client.enroll_ssl(org_id=1001, csr=_csr(), cert_type=101, term=365)
    assert tokens() == 3 and sim.stats.total - before == 3 and sim.stats.requests()[ENROLL] == 2  # the refused one and the one placed
    assert len(sim.stats_snapshot()["orders"]) == 1


def _csr():
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto  # pylint: disable=import-outside-toplevel

    key = crypto.generate_private_key(crypto.normalize_key_spec("EC", key_curve="P-256"))
    return crypto.build_csr(key, common_name="oauth.example.com")
