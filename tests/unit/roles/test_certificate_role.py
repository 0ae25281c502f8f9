"""The certificate role's tasks, read as data: how a secret reaches the commands the role runs on the host.

The live proof is tests/e2e/test_secrets.py (the whole output at -vvvv); this test names the rule it relies on, so a
change to the task file fails here first, in milliseconds.
"""
from __future__ import annotations

import os

import yaml

TASKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "certificate", "tasks", "main.yml")


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _all_tasks():
    with open(TASKS, encoding="utf-8") as handle:
        return list(_tasks(yaml.safe_load(handle)))


def test_the_passphrase_is_in_no_environment_and_no_command_line():
    # A task's environment is written into the command that starts the module on the host: -vvv prints it and the
    # host's process list shows it.
    for task in _all_tasks():
        assert "passphrase" not in repr(task.get("environment", "")), task["name"]
        shell = task.get("ansible.builtin.shell") or task.get("ansible.builtin.command") or {}
        command = shell.get("cmd", "") if isinstance(shell, dict) else shell
        assert "sectigo_certificate_pkcs12_passphrase" not in command, task["name"]


def test_the_bundle_takes_the_passphrase_on_standard_input_and_logs_nothing():
    bundle = next(task for task in _all_tasks() if task["name"] == "Build the PKCS#12 bundle")
    assert "-passout stdin" in bundle["ansible.builtin.shell"]["cmd"]
    assert bundle["ansible.builtin.shell"]["stdin"] == "{{ sectigo_certificate_pkcs12_passphrase }}"
    assert bundle["no_log"] is True
