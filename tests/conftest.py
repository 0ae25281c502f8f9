"""Make the checkout importable the way Ansible imports it.

Plugins import each other as ``ansible_collections.sectigo.vault_pki...``. pytest runs from the
checkout, so a link ``.build/pytest/ansible_collections/sectigo/vault_pki`` -> the checkout is put
on ``sys.path``. ``tests/`` itself is added so that ``scm_simulator`` and ``testbed`` import.
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LINK_BASE = os.path.join(ROOT, ".build", "pytest")
_LINK = os.path.join(_LINK_BASE, "ansible_collections", "sectigo", "vault_pki")

if not os.path.islink(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    try:
        os.symlink(ROOT, _LINK)
    except FileExistsError:
        pass

for entry in (_LINK_BASE, os.path.join(ROOT, "tests")):
    if entry not in sys.path:
        sys.path.insert(0, entry)
