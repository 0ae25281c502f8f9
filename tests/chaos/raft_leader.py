"""The leader of a 3-node OpenBao cluster killed with SIGKILL during a fleet run (tests/live/raft_scenario.py).

The fleet run talks to a standby; once a quarter of its orders exist the active node is killed, a new one is elected,
and the same run must end with every certificate issued, no order lost and none twice; the killed node is restarted
on its data and rejoins as a voter.
"""
from __future__ import annotations

import os
import sys
import uuid
from typing import Any

from report import Row

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "live"))

from raft_scenario import leader_kill  # noqa: E402  pylint: disable=wrong-import-position
from testbed.raft import RaftCluster  # noqa: E402  pylint: disable=wrong-import-position


def run(chaos: Any, certs: int = 100) -> list[Row]:
    sim = chaos.new_simulator()
    work_dir = os.path.join(chaos.work_dir, "raft")
    os.makedirs(work_dir, exist_ok=True)
    with RaftCluster(ttl=chaos.ttl, base_dir=os.path.join(work_dir, "cluster")) as cluster:
        chaos.secrets += [cluster.token, cluster.unseal_key]
        outcome = leader_kill(cluster, sim, [f"l{i:03d}" for i in range(certs)], f"chaos-raft-{uuid.uuid4().hex[:6]}", work_dir, purpose="chaos")
        chaos.outputs.append(os.path.join(work_dir, "fleet.log"))
        rejoined = cluster.healthy()
    return [Row("raft", f"leader of a 3-node OpenBao cluster killed (SIGKILL) during a {certs}-certificate fleet run", certs, outcome.issued,
                outcome.lost, outcome.duplicates, outcome.note() + ("" if rejoined else " | the killed node did NOT rejoin"),
                ok=outcome.ok and rejoined)]
