"""Install the built collection tarball into an empty collections path and run a playbook from it.

Usage (``make galaxy`` does this after ``ansible-galaxy collection build``)::

    python tests/testbed/run_installed.py --tarball .build/galaxy/sectigo-vault_pki-X.Y.Z.tar.gz

The tarball is installed with ``ansible-galaxy collection install --offline`` into ``.build/installed``
(emptied first), so only what the tarball ships is there. Galaxy is not reachable from the test bed: the collections
that galaxy.yml's ``dependencies`` name (community.crypto) are copied into that path first, from the ``ansible``
package (tests/testbed/extra_collections.py), so the install resolves them offline and checks their version range. Then OpenBao and the SCM simulator start on
loopback and ``ansible-playbook`` runs the quick start *from the installed copy*
(``docs/examples/quickstart.yml``), with ``ANSIBLE_COLLECTIONS_PATH`` naming the empty path only: a file
that ``build_ignore`` left out by mistake, or a plugin that only resolves from the checkout, fails here.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from extra_collections import collection_path  # noqa: E402  pylint: disable=wrong-import-position
from testbed import TestBed  # noqa: E402  pylint: disable=wrong-import-position

INSTALLED = os.path.join(ROOT, ".build", "installed")
# galaxy.yml's dependencies, put into the collections path before the install.
DEPENDENCIES = ("community.crypto",)


def install(bin_dir: str, tarball: str, dest: str) -> str:
    """Install *tarball* into the empty directory *dest*; return the installed collection's root."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for fqcn in DEPENDENCIES:
        namespace, name = fqcn.split(".")
        shutil.copytree(os.path.join(collection_path(fqcn), "ansible_collections", namespace, name),
                        os.path.join(dest, "ansible_collections", namespace, name))
    command = [os.path.join(bin_dir, "ansible-galaxy"), "collection", "install", "--offline", "--force",
               "--collections-path", dest, tarball]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=dest))
    root = os.path.join(dest, "ansible_collections", "sectigo", "vault_pki")
    with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as handle:
        info = json.load(handle)["collection_info"]
    print(f"installed {info['namespace']}.{info['name']} {info['version']} into {dest}", flush=True)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tarball", required=True, help="the tarball that ansible-galaxy collection build wrote")
    parser.add_argument("--playbook", default="docs/examples/quickstart.yml",
                        help="playbook to run, relative to the installed collection (default: %(default)s)")
    args = parser.parse_args()
    bin_dir = os.path.dirname(sys.executable)
    root = install(bin_dir, os.path.abspath(args.tarball), INSTALLED)
    playbook = os.path.join(root, args.playbook)
    with TestBed() as bed:
        env = dict(os.environ, **bed.env())
        env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=INSTALLED,
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        command = [os.path.join(bin_dir, "ansible-playbook"), playbook]
        print("+", " ".join(command), flush=True)
        # Run outside the checkout, so that nothing resolves from it by accident.
        return subprocess.call(command, env=env, cwd=INSTALLED)


if __name__ == "__main__":
    sys.exit(main())
