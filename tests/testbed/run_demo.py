"""`make demo`: start OpenBao and the SCM simulator, run docs/examples/quickstart.yml, stop both."""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from testbed import TestBed, collections_path  # noqa: E402  pylint: disable=wrong-import-position


def main() -> int:
    bin_dir = os.path.dirname(sys.executable)
    with TestBed() as bed:
        env = dict(os.environ, **bed.env())
        env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=collections_path("demo"),
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        command = [os.path.join(bin_dir, "ansible-playbook"), os.path.join(ROOT, "docs", "examples", "quickstart.yml")]
        return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
