"""Jobs through ``ansible-runner run``, the engine AWX and Ansible Automation Platform use, from an installed tarball.

``install_tarball`` builds the checkout with ``ansible-galaxy collection build`` and installs the tarball into an
empty collections path; ``RunnerJob`` lays out one private data directory (project, inventory, env/envvars,
env/extravars, env/cmdline) and starts ``ansible-runner run`` on it. What the job leaves is read back from its
artifacts: ``job_events/*.json`` and ``stdout``, which AWX keeps and shows.

ansible-runner also writes the environment it gave the playbook into the private data directory (``env/envvars`` and
the ``command`` artifact): that is the job's input, protected like the credentials it came from (docs/scale.md), and
not searched here.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from typing import Any, Iterator

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def install_tarball(work_dir: str) -> str:
    """Build the collection's tarball and install it into ``work_dir/collections``; returns that collections path."""
    out = os.path.join(work_dir, "galaxy")
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", out, ROOT], check=True,
                   capture_output=True, text=True)
    tarball = glob.glob(os.path.join(out, "sectigo-vault_pki-*.tar.gz"))[0]
    collections = os.path.join(work_dir, "collections")
    # --no-deps: community.crypto (a galaxy.yml dependency, for the certificate role) is not used by these jobs.
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "--force", "--collections-path",
                    collections, tarball], check=True, capture_output=True, text=True, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections))
    return collections


def installed_file(collections: str, relative: str) -> str:
    """A file of the installed collection (e.g. docs/examples/fleet.yml)."""
    return os.path.join(collections, "ansible_collections", "sectigo", "vault_pki", relative)


class RunnerJob:
    """One ``ansible-runner run`` of ``playbook`` (copied into the job's project) with ``envvars`` and ``extravars``."""

    def __init__(self, base_dir: str, ident: str, playbook: str, *, collections: str, envvars: dict[str, str],
                 extravars: dict[str, Any], verbosity: str = "-vvvv") -> None:
        self.ident = ident
        self.private = os.path.join(base_dir, ident)
        for sub in ("project", "env", "inventory"):
            os.makedirs(os.path.join(self.private, sub), exist_ok=True)
        shutil.copy(playbook, os.path.join(self.private, "project", os.path.basename(playbook)))
        # ansible-runner (and AWX) drop a task's result from its event when it is longer than MAX_EVENT_RES characters
        # (700,000): a sectigo_certs task over a hundred certificates or more. The tests read which job handled which
        # certificate from the results, and search them for secrets, so they keep them whole.
        env = dict(envvars, MAX_EVENT_RES="100000000", ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.private, "tmp"), ANSIBLE_HOME=os.path.join(self.private, "ansible-home"))
        self._write("env/envvars", json.dumps(env))
        self._write("env/extravars", json.dumps(extravars))
        self._write("env/cmdline", verbosity)
        self._write("inventory/hosts", f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        process_env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "SECTIGO_", "ANSIBLE_"))}
        process_env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        command = [os.path.join(BIN, "ansible-runner"), "run", self.private, "--playbook", os.path.basename(playbook), "--ident", ident, "-q"]
        # pylint: disable-next=consider-using-with
        self.proc = subprocess.Popen(command, env=process_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)

    def _write(self, relative: str, text: str) -> None:
        with open(os.path.join(self.private, relative), "w", encoding="utf-8") as handle:
            handle.write(text)

    @property
    def artifacts(self) -> str:
        return os.path.join(self.private, "artifacts", self.ident)

    def wait(self, timeout: float = 600) -> int:
        """The job's return code (ansible-playbook's, as ansible-runner writes it to artifacts/<ident>/rc)."""
        try:
            _out, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
            raise
        with open(os.path.join(self.artifacts, "rc"), encoding="ascii") as handle:
            return int(handle.read().strip() or -1)

    def stdout(self) -> str:
        with open(os.path.join(self.artifacts, "stdout"), encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def event_files(self) -> list[str]:
        return sorted(glob.glob(os.path.join(self.artifacts, "job_events", "*.json")))

    def events(self) -> Iterator[dict[str, Any]]:
        for path in self.event_files():
            with open(path, encoding="utf-8") as handle:
                yield json.load(handle)

    def texts(self) -> Iterator[tuple[str, str]]:
        """``(where, text)`` of everything the job's artifacts keep for AWX: stdout and each event."""
        yield "stdout", self.stdout()
        for path in self.event_files():
            with open(path, encoding="utf-8", errors="replace") as handle:
                yield os.path.basename(path), handle.read()

    def results(self) -> list[dict[str, Any]]:
        """Every ``sectigo_certs`` result in the job's events (one per task, or one per loop item)."""
        found: list[dict[str, Any]] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                if isinstance(value.get("certificates"), list) and isinstance(value.get("summary"), dict):
                    found.append(value)
                    return
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        for event in self.events():
            if event.get("event") in ("runner_on_ok", "runner_on_failed", "runner_item_on_ok", "runner_item_on_failed"):
                walk((event.get("event_data") or {}).get("res"))
        return found

    def handled(self) -> dict[str, str]:
        """``{name: action}`` of every certificate a ``sectigo_certs`` task of this job worked on."""
        handled: dict[str, str] = {}
        for result in self.results():
            for item in result["certificates"]:
                handled[item["name"]] = item.get("action") or ("failed" if item.get("failed") else "?")
        return handled


def start_together(jobs: list[tuple[str, str, dict[str, Any]]], base_dir: str, *, collections: str, envvars: dict[str, str],
                   verbosity: str = "-vvvv") -> list[RunnerJob]:
    """Start one job per ``(ident, playbook, extravars)`` at once."""
    return [RunnerJob(base_dir, ident, playbook, collections=collections, envvars=envvars, extravars=extravars, verbosity=verbosity)
            for ident, playbook, extravars in jobs]
