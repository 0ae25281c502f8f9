from __future__ import annotations

import importlib


def test_collection_namespace_imports():
    mod = importlib.import_module("ansible_collections.sectigo.vault_pki.plugins")
    assert mod.__name__.endswith("vault_pki.plugins")
