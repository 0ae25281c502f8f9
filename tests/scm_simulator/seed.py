"""Seed data of the simulator (SPEC §7): organizations, profiles, custom fields."""
from __future__ import annotations

ORGANIZATIONS = [
    {"id": 1001, "name": "Example Org", "certTypes": ["SSL", "SMIME"],
     "departments": [{"id": 1002, "name": "Example Department", "parentName": "Example Org", "certTypes": ["SSL", "SMIME"]}]},
]
ORG_IDS = {1001, 1002}

_RSA_ALL = ["2048", "3072", "4096"]
_EC_ALL = ["P-256", "P-384", "P-521"]

SSL_PROFILES = [
    {"id": 101, "name": "OV Multi-Domain", "description": "Organization validated, auto-approved", "terms": [365, 730],
     "keyTypes": {"RSA": _RSA_ALL, "EC": _EC_ALL}, "useSecondaryOrgName": False},
    {"id": 102, "name": "EV Multi-Domain", "description": "Extended validation, needs approval", "terms": [365],
     "keyTypes": {"RSA": _RSA_ALL}, "useSecondaryOrgName": False},
    {"id": 103, "name": "Short-lived", "description": "Short-lived certificates", "terms": [1, 3, 7],
     "keyTypes": {"RSA": _RSA_ALL, "EC": _EC_ALL}, "useSecondaryOrgName": False},
    {"id": 104, "name": "Legacy", "description": "Legacy RSA-2048 only", "terms": [365],
     "keyTypes": {"RSA": ["2048"]}, "useSecondaryOrgName": False},
]
SMIME_PROFILES = [
    {"id": 201, "name": "S/MIME Standard", "description": "Client certificates", "terms": [365, 730],
     "keyTypes": {"RSA": _RSA_ALL, "EC": _EC_ALL}, "useSecondaryOrgName": False},
    {"id": 202, "name": "S/MIME Short-lived", "description": "Short-lived client certificates", "terms": [3],
     "keyTypes": {"RSA": _RSA_ALL, "EC": _EC_ALL}, "useSecondaryOrgName": False},
]
# Profiles whose orders wait for an administrator's approval.
NEEDS_APPROVAL = {102}

CUSTOM_FIELDS = [{"id": 1, "name": "Cost Center", "mandatory": False}, {"id": 2, "name": "Owner", "mandatory": False}]
