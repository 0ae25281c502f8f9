"""The collection against a 3-node OpenBao cluster with raft storage (tests/testbed/raft.py).

The cluster forms (one active node, two standbys, three voters) and a killed node rejoins; the collection pointed at a
standby works; the leader killed with SIGKILL during a fleet run of 20 certificates (tests/live/raft_scenario.py; 100
in ``python tests/chaos --only raft``).
"""
from __future__ import annotations

import os
import tempfile
import uuid

import pytest
from raft_scenario import FLEET, fleet_vars, leader_kill, run, setup
from testbed.raft import RaftCluster
from testbed.testbed import start_simulator

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def cluster():
    with RaftCluster(ttl=1800) as started:
        yield started


@pytest.fixture(scope="module")
def simulator():
    server = start_simulator(ttl=1800)
    try:
        yield server
    finally:
        server.stop()


def test_the_cluster_has_one_leader_two_standbys_and_three_voters(cluster):
    assert cluster.healthy()
    assert cluster.leader() is not None and len(cluster.standbys()) == 2
    assert sorted(p["node_id"] for p in cluster.peers() if p["voter"]) == ["bao0", "bao1", "bao2"]


def test_a_killed_standby_restarts_and_rejoins(cluster):
    node = cluster.standbys()[-1]
    cluster.kill(node)
    assert not node.running and node.health()[0] == 0
    cluster.restart(node)
    assert cluster.wait_healthy(120) < 120


def test_the_collection_works_through_a_standby(cluster, simulator):
    kv_path = f"raft-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="raft-") as work_dir:
        env = setup(cluster, simulator, kv_path, work_dir, "live")
        assert env["VAULT_ADDR"] in [n.addr for n in cluster.standbys()]
        names = ["s1", "s2", "s3"]
        log = os.path.join(work_dir, "fleet.log")
        assert run(FLEET, env, fleet_vars(kv_path, names), log) == 0, open(log, encoding="utf-8").read()[-3000:]
        # The second run reads everything through the standby and changes nothing.
        assert run(FLEET, env, fleet_vars(kv_path, names), log) == 0
        assert "changed=0" in open(log, encoding="utf-8").read()


def test_a_fleet_run_rides_over_the_leader_killed(cluster, simulator):
    with tempfile.TemporaryDirectory(prefix="raft-") as work_dir:
        outcome = leader_kill(cluster, simulator, [f"k{i:02d}" for i in range(20)], f"raft-{uuid.uuid4().hex[:8]}", work_dir)
    print(outcome.note())
    assert outcome.rejoin_seconds < 120
    assert outcome.lost == 0 and outcome.duplicates == 0
    assert outcome.ok, outcome.note()
