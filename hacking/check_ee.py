"""make ee: the execution environment's build context, made and checked without a container engine.

1. ``ansible-galaxy collection build`` the checkout and install the tarball into an empty collections path, so only
   what the tarball ships is seen (meta/execution-environment.yml, requirements.txt, bindep.txt).
2. ``ansible-builder create`` the example definition (docs/examples/execution-environment.yml) into a build context:
   its Containerfile installs the collection from Galaxy and then runs the context's own ``introspect.py`` over it.
3. Run that very ``introspect.py`` of the context, and ``ansible-builder introspect``, over the installed collection:
   the pip list and what an image build takes of the bindep list (bindep's default profile: the ``test`` profile,
   the live test bed's servers, is left out) must hold every package the collection needs, on a Debian-based and on
   an RPM-based image.

Exits non-zero naming what is missing. Output under .build/ee.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

import yaml
from bindep.depends import Depends  # installed with ansible-builder, which depends on it

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
OUT = os.path.join(ROOT, ".build", "ee")
DEFINITION = os.path.join(ROOT, "docs", "examples", "execution-environment.yml")
# What the collection imports at run time (requirements.txt) and the system package its roles call (bindep.txt).
PIP_NEEDED = ("requests", "cryptography", "urllib3", "hvac")
BINDEP_NEEDED = ("openssl",)
# An image build installs the bindep list's packages of the default profile (ansible-builder's assemble script runs
# ``bindep -l newline`` without a profile) for the image's package platform; other profiles are left out.
IMAGE_PLATFORMS = {"Debian-based": "platform:dpkg", "RPM-based": "platform:rpm"}


def run(*command: str, **kwargs) -> str:
    print("+", " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in command), flush=True)
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs).stdout


def names(requirements: str) -> set[str]:
    """Package names of a pip or bindep list (comments, versions and profiles left out)."""
    found = set()
    for line in requirements.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            found.add(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower())
    return found


def image_packages(bindep: str) -> dict[str, set[str]]:
    """What an image build installs from a bindep list, per package platform (bindep's own rules decide)."""
    depends = Depends(bindep)
    return {name: {rule[0].lower() for rule in depends.active_rules(["default", profile])} for name, profile in IMAGE_PLATFORMS.items()}


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    collections = os.path.join(OUT, "collections")
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", os.path.join(OUT, "galaxy"), ROOT)
    tarball = glob.glob(os.path.join(OUT, "galaxy", "sectigo-vault_pki-*.tar.gz"))[0]
    # --no-deps: community.crypto (a galaxy.yml dependency) comes from Galaxy when an image is built; offline here.
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "--force", "--collections-path", collections, tarball,
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections))
    context = os.path.join(OUT, "context")
    run(os.path.join(BIN, "ansible-builder"), "create", "--file", DEFINITION, "--context", context, "--output-filename", "Containerfile")
    problems = []
    containerfile = open(os.path.join(context, "Containerfile"), encoding="utf-8").read()
    galaxy = yaml.safe_load(open(os.path.join(context, "_build", "requirements.yml"), encoding="utf-8"))
    if "sectigo.vault_pki" not in [c.get("name") for c in galaxy.get("collections", [])]:
        problems.append("the context's _build/requirements.yml does not install sectigo.vault_pki")
    if "introspect.py introspect" not in containerfile:
        problems.append("the Containerfile does not introspect the installed collections")
    lists = {}
    pip_out, bindep_out = os.path.join(OUT, "context-requirements.txt"), os.path.join(OUT, "context-bindep.txt")
    run(sys.executable, os.path.join(context, "_build", "scripts", "introspect.py"), "introspect", collections,
        f"--write-pip={pip_out}", f"--write-bindep={bindep_out}")
    lists["the context's introspect.py"] = (open(pip_out, encoding="utf-8").read(), open(bindep_out, encoding="utf-8").read())
    report = yaml.safe_load(run(os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", collections))
    lists["ansible-builder introspect"] = ("\n".join(report.get("python") or []), "\n".join(report.get("system") or []))
    for source, (pip, bindep) in lists.items():
        for package in PIP_NEEDED:
            if package not in names(pip):
                problems.append(f"{source}: Python package {package} missing from {sorted(names(pip))}")
        for platform, installed in image_packages(bindep).items():
            for package in BINDEP_NEEDED:
                if package not in installed:
                    problems.append(f"{source}: system package {package} missing on {platform} images from {sorted(installed)}")
    if problems:
        print("\n".join(["execution environment:"] + [f"  {p}" for p in problems]), file=sys.stderr)
        return 1
    pip_text, bindep_text = lists["the context's introspect.py"]
    system = "; ".join(f"{', '.join(sorted(packages))} on {platform} images" for platform, packages in image_packages(bindep_text).items())
    print(f"execution environment: build context in {os.path.relpath(context, ROOT)}; the image would install "
          f"{', '.join(sorted(names(pip_text)))} (pip) and {system} (system)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
