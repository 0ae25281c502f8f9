"""`make bench`, estate part: the scale figures of sectigo_inventory (docs/inventory.md) on a live test bed.

OpenBao and the SCM simulator (issuance delay 0) on loopback; the inventory's own service, as the module runs it:

1. 450 SSL and 30 client certificates ordered outside the collection (more than two pages of 200) are listed as
   unknown, imported by one run each, and a second run imports none; every imported record chains to the
   simulator's CA and its serial is SCM's;
2. an incremental sync of 1,000 known certificates of which 5 changed (revoked, replaced, renewed in the web UI)
   makes at most 10 SCM requests;
3. the import of 1,000 unknown orders takes at most 60 s.

Prints one table; exits 1 when a figure misses its bound.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)

import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import  # the checkout as ansible_collections.sectigo.vault_pki
from testbed.testbed import TestBed  # noqa: E402  pylint: disable=wrong-import-position


def _imports() -> Any:
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import inventory  # pylint: disable=import-outside-toplevel
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs  # pylint: disable=import-outside-toplevel
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertRecords  # pylint: disable=import-outside-toplevel
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions  # pylint: disable=import-outside-toplevel
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import open_store  # pylint: disable=import-outside-toplevel
    return inventory, configs, CertRecords, VaultOptions, open_store


class Estate:
    def __init__(self, bed: TestBed) -> None:
        self.inventory, self.configs, self.records_cls, options, open_store = _imports()
        self.bed = bed
        self.sim = bed.simulator
        self.store = open_store(options.from_mapping({"vault_addr": bed.openbao.addr, "vault_token": bed.openbao.token,
                                                      "kv_path": f"bench-estate-{uuid.uuid4().hex[:6]}"}))
        service = self.configs.ConfigService(self.store)
        for name, kind in (("web", "ssl_cert"), ("people", "client_cert"), ("big", "ssl_cert")):
            service.ensure_present({"name": name, "config_type": kind, "base_url": self.sim.base_url, "org_id": 1001,
                                    "customer_uri": self.sim.customer_uri, "login": self.sim.login, "password": self.sim.password})

    def run(self, config: str, **options: Any) -> tuple[dict[str, Any], float]:
        entry = self.configs.ConfigService(self.store).require(config)
        service = self.inventory.Inventory(self.store, entry, lambda: self.configs.scm_client_for(entry))
        started = time.monotonic()
        result = service.run(self.inventory.InventoryRequest(config=config, concurrency=16, **options))
        return result, time.monotonic() - started

    def seed(self, kind: str, count: int, template: str) -> list[int]:
        return self.sim.control("POST", "seed", {"kind": kind, "count": count, "common_name": template})["ids"]

    def chains_and_serials(self, config: str, imported: list[dict[str, Any]]) -> bool:
        from cryptography import x509  # pylint: disable=import-outside-toplevel

        intermediate = x509.load_pem_x509_certificate(self.sim.ca()["intermediate"].encode())
        records = self.records_cls(self.store, config)
        for item in imported:
            record, _version = records.read(item["cert_unique_id"])
            x509.load_pem_x509_certificate(record["certificate"].encode()).verify_directly_issued_by(intermediate)
            if item.get("serial_number") and record["serial_number"] != item["serial_number"]:
                return False
        return True


def adopt(estate: Estate, rows: list[list[str]], failures: list[str]) -> None:
    prefix = uuid.uuid4().hex[:6]
    ssl = estate.seed("ssl", 450, f"a{prefix}-{{n}}.example.com")
    estate.seed("smime", 30, f"a{prefix}{{n}}@example.com")
    for config, count, pattern in (("web", len(ssl), f"a{prefix}-*"), ("people", 30, f"*a{prefix}*")):
        listed, _t = estate.run(config, common_name=pattern, page_size=200)
        first, seconds = estate.run(config, common_name=pattern, do_import=True)
        second, _t = estate.run(config, common_name=pattern, do_import=True)
        good = (len(listed["unknown"]) == count and first["summary"]["imported"] == count and first["summary"]["import_failed"] == 0
                and second["summary"]["imported"] == 0 and estate.chains_and_serials(config, first["imported"]))
        rows.append([f"adopt {count} {config} certificates (unknown, imported once, chains, serials)", f"{seconds:.1f} s",
                     "ok" if good else "FAILED"])
        if not good:
            failures.append(f"adopting {config}")


def big(estate: Estate, rows: list[list[str]], failures: list[str]) -> None:
    prefix = uuid.uuid4().hex[:6]
    ids = estate.seed("ssl", 1000, f"b{prefix}-{{n}}.example.com")
    result, seconds = estate.run("big", common_name=f"b{prefix}-*", do_import=True)
    good = result["summary"]["imported"] == 1000 and result["summary"]["import_failed"] == 0 and seconds <= 60
    rows.append(["import of 1,000 unknown SSL orders (<= 60 s)", f"{seconds:.1f} s", "ok" if good else "FAILED"])
    if not good:
        failures.append("import of 1,000")
    estate.run("big", sync=True, full=True)  # the sync state: from now on incremental
    for oid in ids[:3]:
        estate.sim.control("POST", f"revoke/{oid}", {"reason": "bench"})
    estate.sim.control("POST", f"replace/{ids[3]}", {})
    estate.sim.control("POST", f"renew/{ids[4]}", {})
    synced, seconds = estate.run("big", sync=True)
    changes = len(synced["changed_outside"])
    good = synced["scm_requests"] <= 10 and changes == 5
    rows.append(["incremental sync, 1,000 known, 5 changed (<= 10 SCM requests)", f"{synced['scm_requests']} requests, "
                 f"{changes} changes, {seconds:.1f} s", "ok" if good else "FAILED"])
    if not good:
        failures.append("incremental sync")


def main() -> int:
    started = time.monotonic()
    rows: list[list[str]] = []
    failures: list[str] = []
    with TestBed(issue_delay=0.0) as bed:
        estate = Estate(bed)
        adopt(estate, rows, failures)
        big(estate, rows, failures)
    width = max(len(r[0]) for r in rows)
    print("\nsectigo_inventory at scale (OpenBao + SCM simulator, issuance delay 0)")
    for name, figure, verdict in rows:
        print(f"{name:{width}}  {figure:>34}  {verdict}")
    print(f"(estate bench: {time.monotonic() - started:.0f} s)")
    if failures:
        print(f"estate bench failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
