"""Run playbooks against the live test bed and read the results back by independent routes.

``ansible-playbook`` runs in a subprocess with the test bed's environment (``TestBed.env()``), from
the same virtualenv as pytest. Results are checked through the simulator's counters and orders and
through Vault's HTTP API, never through the collection's own code.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import requests
from testbed.extra_collections import collection_path
from testbed.testbed import collections_path

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, "playbooks")
BIN = os.path.dirname(sys.executable)


def e2e_collections_path() -> str:
    """The checkout as sectigo.vault_pki, and community.crypto (the certificate role's dependency)."""
    return os.pathsep.join([collections_path("e2e"), collection_path("community.crypto")])


def playbook_env(bed, overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, **bed.env())
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=e2e_collections_path(),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.update(overrides or {})
    return env


def start_playbook(bed, name: str, *, env: dict[str, str] | None = None, options: tuple[str, ...] = (),
                   wrapper: tuple[str, ...] = (), **extra_vars) -> subprocess.Popen:
    """Start ``playbooks/<name>``; ``env`` overrides variables of the test bed's environment, ``options`` adds CLI options,
    ``wrapper`` runs ansible-playbook under another command (e.g. ``("faketime", "-f", "+600s")``)."""
    command = [*wrapper, os.path.join(BIN, "ansible-playbook"), os.path.join(PLAYBOOKS, name), *options, "-e", json.dumps(extra_vars)]
    return subprocess.Popen(command, env=playbook_env(bed, env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def recap(out: str) -> dict[str, int]:
    """The PLAY RECAP counters of localhost, e.g. {"ok": 7, "changed": 1, "failed": 0, ...}."""
    match = re.search(r"^localhost\s+:\s+(.*)$", out, re.MULTILINE)
    assert match, f"no PLAY RECAP in:\n{out[-3000:]}"
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def finish(proc: subprocess.Popen, timeout: float = 300) -> dict[str, int]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"ansible-playbook failed ({proc.returncode}):\n{out[-6000:]}\n{err[-3000:]}"
    return recap(out)


def run_playbook(bed, name: str, **extra_vars) -> dict[str, int]:
    return finish(start_playbook(bed, name, **extra_vars))


def run_failing_playbook(bed, name: str, **extra_vars) -> tuple[dict[str, int], str]:
    """Run a playbook that must fail; its recap and its output (stdout and stderr)."""
    proc = start_playbook(bed, name, **extra_vars)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode != 0, f"ansible-playbook should have failed:\n{out[-6000:]}"
    return recap(out), out + err


def sim(bed, path: str, payload: dict | None = None) -> dict:
    url = f"{bed.env()['SCM_SIM_URL']}/__sim__/{path}"
    response = requests.post(url, json=payload, timeout=10) if payload is not None else requests.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


def vault_read(bed, path: str) -> dict | None:
    env = bed.env()
    response = requests.get(f"{env['VAULT_ADDR']}/v1/secret/data/{path}", headers={"X-Vault-Token": env["VAULT_TOKEN"]}, timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()["data"]["data"]


def orders_for(bed, common_name: str) -> list[dict]:
    return [o for o in sim(bed, "stats")["orders"] if o.get("common_name") == common_name]
