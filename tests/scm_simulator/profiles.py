"""Seed data (docs/scm-simulator.md): the organization tree, SSL and S/MIME profiles, custom fields.

Shapes follow docs/scm-protocol.md: "Organizations", and "Profiles and custom fields" for profiles ("types") and custom fields.
The data is immutable at run time; only which custom fields are mandatory can change (runtime config).
"""
from __future__ import annotations

import copy
from typing import Any

SSL = "ssl"
SMIME = "smime"

_BOTH = ["SSL", "SMIME"]
ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "id": 1001, "name": "Example Org", "certTypes": _BOTH,
        "departments": [{"id": 1002, "name": "Example Department", "parentName": "Example Org", "certTypes": _BOTH}],
    },
]

_RSA = ["2048", "3072", "4096"]
_EC = ["P-256", "P-384", "P-521"]

# keyTypes values are strings: RSA sizes as digits, EC curves by name (docs/scm-protocol.md "Profiles and custom fields").
SSL_PROFILES: list[dict[str, Any]] = [
    {"id": 101, "name": "OV Multi-Domain", "description": "Organization validated (OV), auto-approved",
     "terms": [365, 730], "keyTypes": {"RSA": _RSA, "EC": _EC}, "useSecondaryOrgName": False},
    {"id": 102, "name": "EV Multi-Domain", "description": "Extended validation (EV), needs an administrator's approval",
     "terms": [365], "keyTypes": {"RSA": _RSA}, "useSecondaryOrgName": False},
    {"id": 103, "name": "Short-lived", "description": "Short-lived certificates, auto-approved",
     "terms": [1, 3, 7], "keyTypes": {"RSA": _RSA, "EC": _EC}, "useSecondaryOrgName": False},
    {"id": 104, "name": "Legacy", "description": "Legacy profile, RSA 2048 only",
     "terms": [365], "keyTypes": {"RSA": ["2048"]}, "useSecondaryOrgName": False},
]
SMIME_PROFILES: list[dict[str, Any]] = [
    {"id": 201, "name": "S/MIME Standard", "description": "Client certificates for signing and encryption",
     "terms": [365, 730], "keyTypes": {"RSA": _RSA, "EC": _EC}, "useSecondaryOrgName": False},
    {"id": 202, "name": "S/MIME Short-lived", "description": "Short-lived client certificates",
     "terms": [3], "keyTypes": {"RSA": _RSA, "EC": _EC}, "useSecondaryOrgName": False},
]

# Profiles whose orders stay Requested until approved (docs/scm-protocol.md "Approve and decline", "Status values"); all others are auto-approved.
NEEDS_APPROVAL = frozenset({102})

VALIDATION_TYPES = {101: "Organization Validation (OV)", 102: "Extended Validation (EV)", 103: "Organization Validation (OV)",
                    104: "Organization Validation (OV)"}

CUSTOM_FIELDS: list[dict[str, Any]] = [
    {"id": 1, "name": "Cost Center", "mandatory": False},
    {"id": 2, "name": "Owner", "mandatory": False},
]


def org_ids() -> set[int]:
    """Every id that is valid as ``orgId``: organizations and their departments (docs/scm-protocol.md "Organizations")."""
    ids = set()
    for org in ORGANIZATIONS:
        ids.add(org["id"])
        ids.update(dept["id"] for dept in org["departments"])
    return ids


def profiles(kind: str) -> list[dict[str, Any]]:
    """A copy of the profiles of ``kind`` (``ssl`` or ``smime``), safe for the caller to change."""
    return copy.deepcopy(SSL_PROFILES if kind == SSL else SMIME_PROFILES)


def profile(kind: str, profile_id: int) -> dict[str, Any] | None:
    return next((p for p in profiles(kind) if p["id"] == profile_id), None)


def custom_fields(mandatory_names: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The custom fields; names from the runtime config are mandatory (a name not seeded becomes a new field)."""
    wanted = list(dict.fromkeys(mandatory_names))
    fields = [dict(field, mandatory=bool(field["mandatory"] or field["name"] in wanted)) for field in CUSTOM_FIELDS]
    known = {field["name"] for field in fields}
    next_id = max(field["id"] for field in fields) + 1
    for name in wanted:
        if name not in known:
            fields.append({"id": next_id, "name": name, "mandatory": True})
            next_id += 1
    return fields
