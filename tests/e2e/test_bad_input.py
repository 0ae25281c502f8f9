"""Malformed input over every module, the lookup and both roles (tests/chaos/bad_inputs.yml), as a pytest test.

The table is shared with the chaos harness (``python tests/chaos --only badinput``). Rows without a ``known``
mark must fail naming their field, with no SCM request and nothing written to Vault. Rows marked ``known`` are
what the collection gets wrong today: they must still go wrong, so that a fix shows up here and its mark is removed.
"""
from __future__ import annotations

import importlib.util
import json
import os

import pytest
from playbook_runner import start_playbook, sim

pytestmark = pytest.mark.live

CHAOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "chaos")
_spec = importlib.util.spec_from_file_location("chaos_badinput", os.path.join(CHAOS, "badinput.py"))
badinput = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(badinput)

ROWS = badinput.load_table()
PLAIN = [r for r in ROWS if not r.get("known")]
KNOWN = [r for r in ROWS if r.get("known")]


def _vault_tree(bed) -> dict[str, int]:
    found, todo = {}, [""]
    while todo:
        prefix = todo.pop()
        listed = bed.openbao.api("LIST", f"secret/metadata/{badinput.KV_PATH}/{prefix}", expect_ok=False) or {}
        for key in (listed.get("data") or {}).get("keys", []):
            if key.endswith("/"):
                todo.append(prefix + key)
            else:
                meta = bed.openbao.api("GET", f"secret/metadata/{badinput.KV_PATH}/{prefix}{key}")
                found[prefix + key] = meta["data"]["current_version"]
    return found


def _run(bed, rows, directory) -> dict:
    playbook, results = badinput.write_playbook(rows, str(directory))
    proc = start_playbook(bed, playbook, bad_dir=str(directory))
    out, err = proc.communicate(timeout=600)
    assert os.path.exists(results), f"the bad-input playbook wrote no results (rc {proc.returncode}):\n{out[-3000:]}\n{err[-2000:]}"
    with open(results, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def outcomes(testbed, tmp_path_factory):
    setup = start_playbook(testbed, os.path.join(CHAOS, "playbooks", "certs.yml"), kv_path=badinput.KV_PATH, names=[])
    out, _err = setup.communicate(timeout=300)
    assert setup.returncode == 0, out[-3000:]
    before_tree, before_calls = _vault_tree(testbed), sim(testbed, "stats")["requests"]
    plain = _run(testbed, PLAIN, tmp_path_factory.mktemp("bad-plain"))
    side_effects = {"scm_requests": badinput.scm_requests(before_calls, sim(testbed, "stats")["requests"]),
                    "vault_changes": sorted(k for k, v in _vault_tree(testbed).items() if before_tree.get(k) != v)}
    known = _run(testbed, KNOWN, tmp_path_factory.mktemp("bad-known")) if KNOWN else {}
    return {"plain": plain, "known": known, "side_effects": side_effects}


def test_the_table_covers_every_target():
    targets = {r["target"] for r in ROWS}
    assert len(ROWS) >= 100
    assert {"sectigo_cert", "sectigo_config", "sectigo_revoke", "sectigo_cert_info", "sectigo_config_info", "sectigo_profile",
            "sectigo_profile_info", "lookup", "role:certificate", "role:renewal"} <= targets


@pytest.mark.parametrize("row", PLAIN, ids=[r["id"] for r in PLAIN])
def test_refused_naming_the_field(outcomes, row):
    assert badinput.evaluate(row, outcomes["plain"].get(row["id"])) == "ok"


def test_refused_inputs_reach_neither_scm_nor_vault(outcomes):
    # Only a profile id that is not stored needs SCM's list of profiles (a read); nothing else reaches SCM.
    assert outcomes["side_effects"] == {"scm_requests": {}, "vault_changes": []}


def test_known_gaps_are_still_open(outcomes):
    """A row marked ``known`` is a gap the collection still has; fixed, its mark goes and it joins the rows above."""
    fixed = [row["id"] for row in KNOWN if badinput.evaluate(row, outcomes["known"].get(row["id"])) == "ok"]
    assert fixed == [], f"these rows are refused as they should be now; remove their known mark: {fixed}"
