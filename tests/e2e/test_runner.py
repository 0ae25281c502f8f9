"""The collection through ansible-runner, installed from its tarball: the fleet playbook and the renewal role.

4 jobs started together share one sweep by shards (each certificate handled by exactly one, N orders in all), then the
same 4 jobs without shards (still no certificate ordered twice); every job runs at -vvvv, and no secret (SCM
password, Vault token, AppRole secret_id, private key material) is in any job's stdout or events (tests/e2e/runner_sweep.py).
The same scenario with 400 certificates is ``python tests/chaos --only runner``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import uuid

import pytest
from runner_jobs import install_tarball
from runner_sweep import Sweep
from testbed.testbed import http_json, start_simulator

pytestmark = pytest.mark.live

CERTS = 24


@pytest.fixture(scope="module")
def sweep(openbao):
    password = f"runner-scm-{uuid.uuid4().hex}"
    simulator = start_simulator(ttl=1800, password=password)
    # RUNNER_KEEP_ARTIFACTS=1 keeps the jobs' private data directories for a look after the test.
    keep = os.environ.get("RUNNER_KEEP_ARTIFACTS") == "1"
    with tempfile.TemporaryDirectory(prefix="runner-") if not keep else _kept() as work_dir:
        try:
            collections = install_tarball(work_dir)
            scenario = Sweep(vault_addr=openbao.addr, api=openbao.api, simulator=simulator, scm_password=password,
                             collections=collections, work_dir=work_dir, count=CERTS)
            scenario.rounds = scenario.run()
            yield scenario
        finally:
            simulator.stop()


@contextlib.contextmanager
def _kept():
    work_dir = tempfile.mkdtemp(prefix="runner-")
    print(f"ansible-runner jobs kept in {work_dir}")
    yield work_dir


def _private_keys(openbao, scenario) -> list[tuple[str, str]]:
    """Every private key of the scenario's records, with the record's certificate and CSR."""
    keys = []
    for config in scenario.configs:
        status, listing = http_json("LIST", f"{openbao.addr}/v1/secret/metadata/{scenario.kv_path}/certs/{config}",
                                    headers={"X-Vault-Token": openbao.token})
        assert status == 200, listing
        for uid in listing["data"]["keys"]:
            _status, reply = http_json("GET", f"{openbao.addr}/v1/secret/data/{scenario.kv_path}/certs/{config}/{uid}",
                                       headers={"X-Vault-Token": openbao.token})
            record = reply["data"]["data"]
            keys.append((record["private_key"], (record.get("certificate") or "") + (record.get("csr") or "")))
    return keys


def test_sharded_fleet_jobs_handle_each_certificate_once(sweep):
    fleet = sweep.rounds[0]
    assert not fleet.problems(sweep.names, sharded=True)
    assert fleet.total_orders() == CERTS
    assert sorted(fleet.handled_by) == sweep.names


def test_unsharded_fleet_jobs_order_each_certificate_once(sweep):
    # Every job meets the others on every name: one orders, the others follow its order, and no job fails an item
    # because another collected (or renewed) the certificate first.
    fleet = sweep.rounds[1]
    assert not fleet.problems(sweep.names, sharded=False)
    assert fleet.total_orders() == CERTS
    assert fleet.failures == []


def test_sharded_sweep_jobs_renew_each_certificate_once(sweep):
    renewal = sweep.rounds[2]
    assert not renewal.problems(sweep.names, sharded=True)
    assert renewal.total_orders() == CERTS
    assert all(len(jobs) == 1 for jobs in renewal.handled_by.values())


def test_unsharded_sweep_jobs_renew_each_certificate_once(sweep):
    renewal = sweep.rounds[3]
    assert not renewal.problems(sweep.names, sharded=False)
    assert renewal.total_orders() == CERTS


def test_no_secret_in_any_job_artifact(sweep, openbao):
    keys = _private_keys(openbao, sweep)
    assert len(keys) >= 3 * CERTS  # enrolled A and B, renewed A and B (the renewed records keep their keys)
    assert len(sweep.jobs) == 1 + 4 * 4 and all(job.event_files() for job in sweep.jobs)
    assert sweep.leaks(keys) == []
