"""Malformed input (bad_inputs.yml): every row must fail naming its field, with no SCM request and no Vault write.

One generated playbook holds every row as a block whose rescue records the failure message, so the whole table
costs one ansible-playbook process. ``build_playbook``, ``evaluate`` and ``key_material`` are shared with
tests/e2e/test_bad_input.py.
"""
from __future__ import annotations

import json
import os
from typing import Any

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "bad_inputs.yml")
KV_PATH = "chaos-bad"
CONFIG = "chaos"
TARGETS_WITH_CONFIG = ("sectigo_cert", "sectigo_revoke", "sectigo_cert_info", "sectigo_profile", "sectigo_profile_info")


def load_table(path: str = TABLE) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _jinja(value: Any) -> str:
    """A Jinja literal for a YAML value of the table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_jinja(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)}: {_jinja(v)}" for k, v in value.items()) + "}"


def _probe(row: dict[str, Any]) -> dict[str, Any]:
    args = dict(row["args"])
    target = row["target"]
    for key in ("name", "sectigo_certificate_name"):
        if args.get(key) in ("bad", "rolebad"):
            args[key] = row["id"]  # a name of its own: a row that is wrongly accepted cannot change what later rows meet
    if target == "lookup":
        terms = args.pop("terms", [])
        args.setdefault("config", CONFIG)
        args.setdefault("kv_path", KV_PATH)
        call = ", ".join([json.dumps("sectigo.vault_pki.sectigo_cert"), *(_jinja(t) for t in terms),
                          *(f"{k}={_jinja(v)}" for k, v in args.items())])
        return {"ansible.builtin.set_fact": {"_bad_probe": "{{ lookup(" + call + ") }}"}}
    if target.startswith("role:"):
        role = target.split(":", 1)[1]
        if role == "certificate":
            base = os.path.join("{{ bad_dir }}", row["id"])
            args = dict({"sectigo_certificate_cert_path": f"{base}/c.crt", "sectigo_certificate_chain_path": f"{base}/chain.crt",
                         "sectigo_certificate_fullchain_path": f"{base}/full.crt", "sectigo_certificate_key_path": f"{base}/k.key",
                         "sectigo_certificate_owner": "{{ lookup('env', 'USER') | default(omit, true) }}",
                         "sectigo_certificate_group": "{{ omit }}"}, **args)
        return {"ansible.builtin.include_role": {"name": f"sectigo.vault_pki.{role}"}, "vars": args}
    if target in TARGETS_WITH_CONFIG:
        args.setdefault("config", CONFIG)
    return {f"sectigo.vault_pki.{target}": args}


def build_playbook(rows: list[dict[str, Any]], results_path: str) -> list[dict[str, Any]]:
    """A play of one block per row; the rescue stores ``{failed, msg}`` under the row's id, a last task writes them."""
    tasks: list[dict[str, Any]] = [{"name": "Start with no results", "ansible.builtin.set_fact": {"bad_results": {}}}]
    for row in rows:
        rid = row["id"]
        tasks.append({
            "name": f"bad input {rid}",
            "block": [dict(_probe(row), name=f"probe {rid}"),
                      {"name": f"accepted {rid}", "ansible.builtin.set_fact": {
                          "bad_results": "{{ bad_results | combine({%s: {'failed': false, 'msg': ''}}) }}" % json.dumps(rid)}}],
            "rescue": [{"name": f"refused {rid}", "ansible.builtin.set_fact": {
                "bad_results": "{{ bad_results | combine({%s: {'failed': true, 'msg': (ansible_failed_result.msg | default('') | string)}}) }}"
                % json.dumps(rid)}}],
        })
    write = {"content": "{{ bad_results | to_nice_json }}", "dest": results_path, "mode": "0600"}
    tasks.append({"name": "Write the results", "ansible.builtin.copy": write})
    return [{"name": "Malformed input", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/sectigo.vault_pki.sectigo": {"kv_path": KV_PATH}}, "tasks": tasks}]


def key_material() -> dict[str, str]:
    """A CSR and a private key that does not belong to it (the mismatched-key row)."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel
    key_a, key_b = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bad.example.com")]))
    pem = csr.sign(key_a, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    other = key_b.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {"csr_a": pem, "key_b": other}


def evaluate(row: dict[str, Any], outcome: dict[str, Any] | None) -> str:
    """``"ok"`` when the row failed naming its field (and what is allowed), else what went wrong."""
    if outcome is None:
        return "no result (the playbook stopped before this row)"
    if not outcome["failed"]:
        return "accepted"
    msg = outcome["msg"]
    if row["field"] not in msg:
        return f"does not name {row['field']}: {msg[:160]}"
    if row.get("allowed") and row["allowed"].lower() not in msg.lower():
        return f"does not say what is allowed ({row['allowed']}): {msg[:160]}"
    return "ok"


def write_playbook(rows: list[dict[str, Any]], directory: str) -> tuple[str, str]:
    """``(playbook path, results path)`` in ``directory``.

    The key material of the mismatched-key row goes into a vars file beside the playbook (mode 0600), not onto the
    command line: ``ansible-playbook -vvvv`` prints its extra vars, and the secrets check would rightly flag a key there.
    """
    results = os.path.join(directory, "bad_results.json")
    path = os.path.join(directory, "bad_inputs_playbook.yml")
    keys = os.path.join(directory, "bad_keys.yml")
    with open(os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        yaml.safe_dump(key_material(), handle)
    plays = build_playbook(rows, results)
    for play in plays:
        play["vars_files"] = [keys]
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(plays, handle, sort_keys=False, allow_unicode=True, width=1000)
    return path, results


# Read-only look-ups a refusal may need: whether a profile id exists is only SCM's to say.
PROFILE_LOOKUPS = ("GET /api/ssl/v1/types", "GET /api/smime/v1/types")


def scm_requests(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Requests SCM received between two ``stats()["requests"]`` readings, profile look-ups left out."""
    return {route: count - before.get(route, 0) for route, count in after.items()
            if count != before.get(route, 0) and route not in PROFILE_LOOKUPS}


def run(chaos: Any) -> dict[str, Any]:
    """Run the table; ``{rows, verdicts, scm_requests, vault_changes, rc}``."""
    rows = load_table()
    setup = chaos.run_playbook("certs.yml", kv_path=KV_PATH, names=[])
    if not setup.ok:
        raise RuntimeError(f"bad input setup failed: {setup.failure()}")
    before_tree = chaos.vault_tree(KV_PATH)
    before_calls = chaos.simulator.stats()["requests"]
    directory = os.path.join(chaos.work_dir, "bad")
    os.makedirs(directory, exist_ok=True)
    playbook, results_path = write_playbook(rows, directory)
    run_ = chaos.start_playbook(playbook, bad_dir=directory).wait(900)
    try:
        with open(results_path, encoding="utf-8") as handle:
            outcomes = json.load(handle)
    except OSError:
        outcomes = {}
    after_tree = chaos.vault_tree(KV_PATH)
    changes = sorted(k for k in set(before_tree) | set(after_tree) if before_tree.get(k) != after_tree.get(k))
    return {"rows": rows, "verdicts": {r["id"]: evaluate(r, outcomes.get(r["id"])) for r in rows}, "rc": run_.rc,
            "scm_requests": sum(scm_requests(before_calls, chaos.simulator.stats()["requests"]).values()), "vault_changes": changes}


def rows(result: dict[str, Any]) -> list[Any]:
    from report import Row  # pylint: disable=import-outside-toplevel
    table, verdicts = result["rows"], result["verdicts"]
    good = [r for r in table if verdicts[r["id"]] == "ok"]
    bad = [r for r in table if verdicts[r["id"]] != "ok"]
    known = [r for r in bad if r.get("known")]
    unexpected = [r for r in bad if not r.get("known")]
    fixed = [r for r in good if r.get("known")]
    note = (f"{len(good)} refused naming the field; {len(known)} marked known: " + ", ".join(r["id"] for r in known))[:600]
    if unexpected:
        note += " | NEW: " + "; ".join(f"{r['id']}: {verdicts[r['id']]}" for r in unexpected)[:600]
    if fixed:
        note += " | now fixed (drop the mark): " + ", ".join(r["id"] for r in fixed)
    by_target: dict[str, int] = {}
    for r in table:
        by_target[r["target"]] = by_target.get(r["target"], 0) + 1
    out = [Row("bad input", f"malformed inputs over {len(by_target)} targets", len(table), len(good), note=note,
               ok=not bad),
           Row("bad input", "no SCM request, nothing new in Vault", 1, int(not result["scm_requests"] and not result["vault_changes"]),
               note=f"SCM requests {result['scm_requests']}; Vault keys written {len(result['vault_changes'])}"
                    + (f": {', '.join(result['vault_changes'][:5])}" if result["vault_changes"] else ""),
               ok=not result["scm_requests"] and not result["vault_changes"])]
    return out
