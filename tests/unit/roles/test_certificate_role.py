"""The certificate role's tasks, read as data: where the keys and the passphrase may go.

The live proofs are tests/e2e/test_secrets.py and tests/e2e/test_deploy.py (the whole output at -vvvv); this test names
the rules they rely on, so a change to a task file fails here first, in milliseconds.
"""
from __future__ import annotations

import glob
import os
import re

import yaml

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "certificate")
SECRET_WORDS = ("passphrase", "private_key", "__sectigo_certificate_items")


def _tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _all_tasks():
    tasks = []
    for path in sorted(glob.glob(os.path.join(ROLE, "tasks", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            tasks += [(os.path.basename(path), task) for task in _tasks(yaml.safe_load(handle))]
    return tasks


def _arguments(task):
    """What a task hands to its module or prints: everything but its name, its vars and its keywords."""
    keywords = {"name", "vars", "when", "loop", "loop_control", "register", "no_log", "delegate_to", "become", "diff",
                "changed_when", "failed_when", "check_mode", "notify", "until", "retries", "delay", "module_defaults",
                "block", "rescue", "always"}
    return {key: value for key, value in task.items() if key not in keywords}


def test_every_task_that_handles_a_secret_is_no_log():
    for filename, task in _all_tasks():
        text = repr(_arguments(task))
        writes_secret_files = "file_content[item.kind]" in text and "selectattr('secret')" in repr(task.get("loop"))
        templates = " ".join(re.findall(r"\{\{.*?\}\}", text, re.S))
        if any(word in templates for word in SECRET_WORDS) or writes_secret_files:
            assert task.get("no_log") is True, f"{filename}: {task['name']}"


def test_no_secret_in_an_environment_or_a_command_line():
    for filename, task in _all_tasks():
        assert "passphrase" not in repr(task.get("environment", "")), f"{filename}: {task['name']}"
        for module in ("ansible.builtin.shell", "ansible.builtin.command"):
            assert not any(word in repr(task.get(module, "")) for word in SECRET_WORDS), f"{filename}: {task['name']}"


def test_the_bundle_is_built_by_openssl_pkcs12_with_modern_encryption_by_default():
    bundles = [task for _filename, task in _all_tasks() if "community.crypto.openssl_pkcs12" in task and not task.get("check_mode")]
    assert len(bundles) == 1
    args = bundles[0]["community.crypto.openssl_pkcs12"]
    assert bundles[0]["no_log"] is True
    assert args["encryption_level"] == "{{ 'compatibility2022' if item.pkcs12_encryption == 'legacy' else 'auto' }}"


def test_key_files_show_no_diff():
    for _filename, task in _all_tasks():
        loop = repr(task.get("loop", ""))
        if "ansible.builtin.copy" in task and "selectattr('secret')" in loop:
            assert task.get("diff") is False and task.get("no_log") is True, task["name"]


def test_the_defaults_of_an_item_match_the_documented_ones():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)["__sectigo_certificate_item_defaults"]
    with open(os.path.join(ROLE, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        documented = yaml.safe_load(handle)["argument_specs"]["main"]["options"]["sectigo_certificates"]["options"]
    assert set(defaults) - {"cert_path", "chain_path", "fullchain_path", "key_path"} <= set(documented)
    assert set(documented) - set(defaults) <= {"cert_path", "chain_path", "fullchain_path", "key_path"}
    assert documented["pkcs12_passphrase"]["no_log"] is True
