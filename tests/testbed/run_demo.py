"""`make demo`: start OpenBao and the SCM simulator, run docs/examples/quickstart.yml, stop both."""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from testbed import TestBed  # noqa: E402  pylint: disable=wrong-import-position


def collections_path() -> str:
    """A directory where ``ansible_collections/sectigo/vault_pki`` is this checkout."""
    base = os.path.join(ROOT, ".build", "demo")
    link = os.path.join(base, "ansible_collections", "sectigo", "vault_pki")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


def main() -> int:
    bin_dir = os.path.dirname(sys.executable)
    with TestBed() as bed:
        env = dict(os.environ, **bed.env())
        env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=collections_path(),
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        command = [os.path.join(bin_dir, "ansible-playbook"), os.path.join(ROOT, "docs", "examples", "quickstart.yml")]
        return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
