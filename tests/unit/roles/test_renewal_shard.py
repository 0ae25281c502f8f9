"""The renewal role's shard (roles/renewal/templates/sort.j2) is the one sectigo_certs computes.

sort.j2 is rendered with Jinja and ansible-core's own ``hash`` filter on listings of many names, and its targets and
rows are compared with ``_estate/shard.py``: for every count, the shards hold the same names, disjoint and covering.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import jinja2
import pytest
from ansible.plugins.filter.core import get_hash

from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.shard import shard_of

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "renewal", "templates")
CONFIGS = ("prod-ssl", "prod-smime")
STATUSES = ("Issued", "Applied", "Revoked", "TimeoutStateSaved")


def _render(index: int, count: int, listings: list[dict], max_orders: int | None = None) -> dict:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), extensions=["jinja2.ext.do"])
    env.filters.update(hash=get_hash, to_json=json.dumps)
    env.globals["now"] = lambda utc=False: datetime.now(timezone.utc)
    text = env.get_template("sort.j2").render(sectigo_renewal_lists={"results": listings}, sectigo_renewal_shard_index=index,
                                              sectigo_renewal_shard_count=count, sectigo_renewal_max_orders=max_orders)
    return json.loads(text)


def _listings() -> list[dict]:
    return [{"item": config, "certificates": [{"name": f"n{i:03d}", "status": STATUSES[i % len(STATUSES)], "days_remaining": 30}
                                              for i in range(300)]} for config in CONFIGS]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_the_role_shards_as_sectigo_certs_does(count):
    listings = _listings()
    seen: list[tuple[str, str]] = []
    for index in range(count):
        sorted_ = _render(index, count, listings)
        mine = [(t["config"], t["name"]) for t in sorted_["targets"]] + [(r["config"], r["name"]) for r in sorted_["rows"]]
        assert all(shard_of(config, name, count) == index for config, name in mine)
        seen += mine
    everything = [(listing["item"], cert["name"]) for listing in listings for cert in listing["certificates"]]
    assert sorted(seen) == sorted(everything)  # disjoint and covering


def test_a_config_that_could_not_be_listed_is_reported_by_every_shard():
    listings = [{"item": "broken", "msg": "Failed to list certificates: permission denied"}]
    for index in range(3):
        assert _render(index, 3, listings)["rows"][0]["action"] == "failed"


def test_the_budget_counts_only_the_certificates_of_the_jobs_shard():
    """With shards and sectigo_renewal_max_orders, each job spends its budget on its own shard's due certificates."""
    due = [{"item": "prod-ssl", "certificates": [{"name": f"n{i:03d}", "status": "Issued", "days_remaining": 10 + i,
                                                  "not_after": f"2027-01-{1 + i % 28:02d}T00:00:00Z",
                                                  "renew_after": "2026-01-01T00:00:00Z"} for i in range(40)]}]
    for index in range(4):
        mine = sum(1 for cert in due[0]["certificates"] if shard_of("prod-ssl", cert["name"], 4) == index)
        assert _render(index, 4, due, max_orders=5)["quota"] == {"prod-ssl": min(5, mine)}
        assert _render(index, 4, due, max_orders=100)["quota"] == {"prod-ssl": mine}
