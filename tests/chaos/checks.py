"""The invariants a chaos run must leave behind, read through Vault's HTTP API, the simulator and openssl.

``verify`` returns a ``Verdict``: the problems found (empty when everything holds), how many SCM orders no Vault
record knows (lost) and how many orders exceed what was intended (duplicates).
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

CONFIG = "chaos"


@dataclasses.dataclass
class Verdict:
    problems: list[str]
    lost: int = 0
    duplicates: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _public(pem_key: str) -> bytes:
    key = serialization.load_pem_private_key(pem_key.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def chains_to_ca(leaf: str, root: str, intermediate: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="chaos-verify-") as tmp:
        paths = {}
        for name, pem in (("root", root), ("intermediate", intermediate), ("leaf", leaf)):
            paths[name] = os.path.join(tmp, f"{name}.pem")
            with open(paths[name], "w", encoding="ascii") as handle:
                handle.write(pem)
        done = subprocess.run(["openssl", "verify", "-CAfile", paths["root"], "-untrusted", paths["intermediate"], paths["leaf"]],
                              capture_output=True, text=True, check=False)
        return done.returncode == 0


def key_matches(leaf: str, private_key: str) -> bool:
    cert = x509.load_pem_x509_certificate(leaf.encode())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return spki == _public(private_key)


def known_order_ids(chaos: Any, kv_path: str, vault: dict[str, Any], id_field: str = "ssl_id") -> set[int]:
    """The SCM order ids Vault knows under ``kv_path``: ``ssl_id`` of SSL records, ``order_number`` of client ones."""
    ids = set()
    for uid in chaos.vault_list(kv_path, f"certs/{CONFIG}", **vault):
        record = chaos.vault_read(kv_path, f"certs/{CONFIG}/{uid}", **vault) or {}
        if record.get(id_field):
            ids.add(int(record[id_field]))
    for name in chaos.vault_list(kv_path, f"names/{CONFIG}", **vault):
        claim = (chaos.vault_read(kv_path, f"names/{CONFIG}/{name}", **vault) or {}).get("claim") or {}
        if (claim.get("record") or {}).get(id_field):
            ids.add(int(claim["record"][id_field]))
    return ids


def verify(chaos: Any, kv_path: str, name: str, common_name: str, *, status: str = "Issued", orders: int = 1,
           simulator: Any = None, vault: dict[str, Any] | None = None, ca: tuple[str, str] | None = None,
           known: set[int] | None = None, id_field: str = "ssl_id", match: str = "common_name") -> Verdict:
    """Check one name: one record, in ``status``, on SCM's newest order, chaining to the CA, with its own key.

    For a client certificate, ``id_field="order_number"`` (the record's id of the order; the simulator's ``id`` of
    an S/MIME order is its order number) and ``match="email"``: SCM's orders are found by the address passed as
    ``common_name``.
    """
    vault = vault or {}
    problems: list[str] = []
    scm_orders = sorted(chaos.orders_for(common_name, simulator, match), key=lambda o: o["id"])
    known = known_order_ids(chaos, kv_path, vault, id_field) if known is None else known
    lost = [o["id"] for o in scm_orders if o["id"] not in known]
    duplicates = max(0, len(scm_orders) - orders)
    if lost:
        problems.append(f"SCM orders unknown to Vault: {lost}")
    if len(scm_orders) != orders:
        problems.append(f"{len(scm_orders)} SCM orders, expected {orders}")
    entry = chaos.vault_read(kv_path, f"names/{CONFIG}/{name}", **vault)
    if not entry:
        return Verdict(problems + ["no name entry in Vault"], len(lost), duplicates)
    if entry.get("claim"):
        problems.append(f"a claim is left on the name ({entry['claim'].get('outcome') or 'no outcome'})")
    uid = entry.get("cert_unique_id")
    record = chaos.vault_read(kv_path, f"certs/{CONFIG}/{uid}", **vault) if uid else None
    if not record:
        return Verdict(problems + ["the name points at no record"], len(lost), duplicates)
    if record.get("status") != status:
        problems.append(f"record status {record.get('status')}, expected {status}")
    if record.get("pending"):
        problems.append(f"a {record['pending'].get('kind')} claim is left on the record")
    if scm_orders:
        newest = scm_orders[-1]
        if record.get(id_field) != newest["id"]:
            problems.append(f"the name is on order {record.get(id_field)}, SCM's newest is {newest['id']}")
        elif (newest.get("status") or "").lower() != status.lower():
            problems.append(f"SCM shows order {newest['id']} {newest.get('status')}")
        elif (newest.get("serial_number") or "").upper() != (record.get("serial_number") or "").upper():
            problems.append("the stored certificate is not SCM's current one for the order")
    leaf, key = record.get("certificate"), record.get("private_key")
    if not leaf or not key:
        problems.append("no certificate or key in the record")
    else:
        root, intermediate = ca or chaos.ca_pems(simulator)
        if not chains_to_ca(leaf, root, intermediate):
            problems.append("the certificate does not chain to the simulator's CA")
        if not key_matches(leaf, key):
            problems.append("the stored key does not match the certificate")
    history = record.get("state") or []
    if not history or history[-1].get("status") != record.get("status"):
        problems.append("history does not end with the record's status")
    stamps = [h.get("time_stamp") or "" for h in history]
    if stamps != sorted(stamps):
        problems.append("history is not in time order")
    for old_uid in chaos.vault_list(kv_path, f"certs/{CONFIG}", **vault):
        if old_uid == uid:
            continue
        old = chaos.vault_read(kv_path, f"certs/{CONFIG}/{old_uid}", **vault) or {}
        if old.get("name") == name and old.get("status") == "Renewed" and not old.get("renewed_to"):
            problems.append(f"renewed record {old_uid} does not say what it was renewed to")
        if old.get("name") == name and old.get("pending"):
            problems.append(f"a claim is left on the older record {old_uid}")
    return Verdict(problems, len(lost), duplicates)
