"""Where a sectigo_cert task runs: on localhost, in Ansible's worker process without a module process (the default), or
in a module process per task (``run_in_worker: false``); the same orders, records and results either way, and a re-run
that changes nothing and sends nothing to SCM either way.

Which one ran is told by Ansible's own -vvv output, which names every module payload it sends (``AnsiballZ_<module>``).
"""
from __future__ import annotations

import pytest
from playbook_runner import orders_for, recap, sim, start_playbook, vault_read

pytestmark = pytest.mark.live

PAYLOAD = "AnsiballZ_sectigo_cert.py"


def run(testbed, prefix, *, in_worker, first_run):
    proc = start_playbook(testbed, "worker.yml", options=("-vvv",), prefix=prefix, in_worker=in_worker, first_run=first_run)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"ansible-playbook failed:\n{out[-6000:]}\n{err[-3000:]}"
    return recap(out), out


@pytest.mark.parametrize("in_worker", [True, False], ids=["worker", "module"])
def test_the_same_certificates_from_the_worker_and_from_the_module(testbed, in_worker):
    prefix = "wk-in" if in_worker else "wk-mod"
    stats, out = run(testbed, prefix, in_worker=in_worker, first_run=True)
    assert stats["failed"] == 0
    assert (PAYLOAD in out) is not in_worker
    for item in "abc":
        assert len(orders_for(testbed, f"{prefix}-{item}.example.com")) == 1
        entry = vault_read(testbed, f"e2e-worker/names/wk/{prefix}-{item}")
        record = vault_read(testbed, f"e2e-worker/certs/wk/{entry['cert_unique_id']}")
        assert record["status"] == "Issued" and record["private_key"].startswith("-----BEGIN")
        assert not entry.get("claim") and not record.get("pending")  # no claim is left once the order is stored
    before = sim(testbed, "stats")["total_requests"]
    stats, out = run(testbed, prefix, in_worker=in_worker, first_run=False)
    assert stats["failed"] == 0 and stats["changed"] == 0
    assert sim(testbed, "stats")["total_requests"] == before
    assert (PAYLOAD in out) is not in_worker
