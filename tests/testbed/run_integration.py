"""Run the ansible-test integration targets against a live OpenBao and SCM simulator.

Usage (from the checkout; ``make integration`` does this): ``python tests/testbed/run_integration.py --collection DIR``
where DIR is the collection copied under ``ansible_collections/sectigo/vault_pki``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from extra_collections import install_beside  # noqa: E402  pylint: disable=wrong-import-position
from testbed import TestBed  # noqa: E402  pylint: disable=wrong-import-position

# Other collections that the targets use (galaxy.yml's dependencies).
DEPENDENCIES = ("community.crypto",)


def write_integration_config(collection: str, bed: TestBed) -> str:
    path = os.path.join(collection, "tests", "integration", "integration_config.yml")
    env = bed.env()
    values = {
        "vault_addr": env["VAULT_ADDR"],
        "vault_token": env["VAULT_TOKEN"],
        "scm_base_url": env["SECTIGO_CM_BASE_URL"],
        "scm_login": env["SECTIGO_CM_USER"],
        "scm_password": env["SECTIGO_CM_PASSWORD"],
        "scm_customer_uri": env["SECTIGO_CM_CUSTOMER_URI"],
        "sim_url": env["SCM_SIM_URL"],
    }
    with open(path, "w", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}: {value!r}\n".replace("'", '"'))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collection", required=True, help="the collection tree under ansible_collections/sectigo/vault_pki")
    parser.add_argument("targets", nargs="*", help="integration targets (default: all)")
    args = parser.parse_args()
    collection = os.path.abspath(args.collection)
    for fqcn in DEPENDENCIES:
        install_beside(fqcn, collection)
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    with TestBed() as bed:
        write_integration_config(collection, bed)
        command = [os.path.join(bin_dir, "ansible-test"), "integration", "--local", "--color", "no", "-v", *args.targets]
        print("+", " ".join(command), flush=True)
        return subprocess.call(command, cwd=collection, env=env)


if __name__ == "__main__":
    sys.exit(main())
