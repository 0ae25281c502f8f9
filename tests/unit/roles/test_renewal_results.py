"""The renewal role's summary rows (roles/renewal/templates/results.j2) from sectigo_certs' full and brief results."""
from __future__ import annotations

import json
import os

import jinja2

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "renewal", "templates")


def _rows(results: list[dict], targets: list[dict]) -> list[dict]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), extensions=["jinja2.ext.do"])
    env.filters.update(to_json=json.dumps)
    template = env.get_template("results.j2")
    return json.loads(template.render(sectigo_renewal_results={"results": results}, sectigo_renewal_targets=targets))


def test_rows_take_not_after_from_full_and_from_brief_results():
    targets = [{"config": "prod", "name": n, "not_after": "2026-01-01T00:00:00Z"} for n in ("full", "brief", "failed", "none")]
    certificates = [
        {"name": "full", "action": "renewed", "failed": False, "cert": {"not_after": "2027-02-02T00:00:00Z"}},
        {"name": "brief", "action": "renewed", "failed": False, "status": "Issued", "not_after": "2027-03-03T00:00:00Z"},
        {"name": "failed", "failed": True, "msg": "SCM said no"},
        {"name": "none", "action": "pending", "failed": False, "status": "Applied"},
    ]
    rows = {row["name"]: row for row in _rows([{"item": "prod", "certificates": certificates}], targets)}
    assert rows["full"]["not_after"] == "2027-02-02T00:00:00Z" and rows["brief"]["not_after"] == "2027-03-03T00:00:00Z"
    assert rows["failed"] == {"config": "prod", "name": "failed", "action": "failed", "not_after": "2026-01-01T00:00:00Z",
                              "error": "SCM said no"}
    assert rows["none"]["not_after"] == "2026-01-01T00:00:00Z" and rows["none"]["action"] == "pending"
