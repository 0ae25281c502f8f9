"""A simulator of the Sectigo Certificate Manager (SCM) REST API with a real CA, for tests and demos.

Run it with ``python3 tests/scm_simulator``; docs/scm-simulator.md describes options and controls.
Modules: ``profiles`` (seed data), ``ca`` (root, intermediate, signing), ``store`` (orders and
persistence), ``config`` (runtime settings), ``validation`` (request checks with SCM's codes),
``issuance`` (the order life cycle), ``views`` (JSON shapes), ``formats`` (collect output),
``handlers`` (the endpoints), ``faults``, ``stats`` and ``controls`` (test hooks), ``simulator``
(all of it as one object) and ``server`` (HTTP).
"""
from __future__ import annotations
