"""Collections of other publishers that the tests need (community.crypto, community.hashi_vault), without Galaxy.

The test bed cannot reach Galaxy, so these collections come from the ``ansible`` package of the Python package index:
its wheel is downloaded once into ``.build/cache/pypi`` and only the named collection is unpacked, into
``.build/collections/<namespace>.<name>/ansible_collections/<namespace>/<name>``:

    paths = os.pathsep.join([collections_path("e2e"), collection_path("community.crypto")])

``ansible>=11,<12`` ships community.crypto 2.x, which still supports the oldest ansible-core that the collection
accepts (2.16); community.crypto 3.x needs ansible-core 2.17. Standard library only.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, ".build")
CACHE = os.path.join(BUILD, "cache", "pypi")
# The wheel's major version: the spec to download and the file name to look for in the cache.
ANSIBLE_MAJOR = os.environ.get("TESTBED_ANSIBLE_MAJOR", "11")


class CollectionUnavailable(RuntimeError):
    """The ``ansible`` wheel could not be downloaded, or it holds no such collection."""


def ansible_wheel() -> str:
    """The cached ``ansible`` wheel of ``ANSIBLE_MAJOR``, downloaded once."""
    pattern = os.path.join(CACHE, f"ansible-{ANSIBLE_MAJOR}.*.whl")
    wheels = sorted(glob.glob(pattern))
    if not wheels:
        os.makedirs(CACHE, exist_ok=True)
        spec = f"ansible>={ANSIBLE_MAJOR},<{int(ANSIBLE_MAJOR) + 1}"
        # stdout is the collections path the Makefile reads: progress goes to stderr.
        print(f"downloading {spec} once into .build/cache/pypi (large)", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                        "--only-binary=:all:", "--dest", CACHE, spec], check=True, stdout=sys.stderr)
        wheels = sorted(glob.glob(pattern))
        if not wheels:
            raise CollectionUnavailable(f"pip downloaded no wheel matching {pattern}")
    return wheels[-1]


def collection_path(fqcn: str) -> str:
    """A collections path (a directory holding ``ansible_collections``) with the collection *fqcn* in it."""
    namespace, name = fqcn.split(".")
    base = os.path.join(BUILD, "collections", fqcn)
    if os.path.isfile(os.path.join(base, "ansible_collections", namespace, name, "MANIFEST.json")):
        return base
    wheel = ansible_wheel()
    shutil.rmtree(base, ignore_errors=True)  # what an interrupted unpack may have left
    prefix = f"ansible_collections/{namespace}/{name}/"
    os.makedirs(os.path.dirname(base), exist_ok=True)
    # Unpacked beside the target and renamed into place, so that tests started side by side never see half a tree.
    staging = tempfile.mkdtemp(prefix=f".{fqcn}.", dir=os.path.dirname(base))
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith(prefix)]
            if not members:
                raise CollectionUnavailable(f"{os.path.basename(wheel)} holds no {prefix}")
            archive.extractall(staging, members)
        try:
            os.rename(staging, base)
        except OSError:
            if not os.path.isdir(base):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return base


def install_beside(fqcn: str, collection_root: str) -> str:
    """Copy *fqcn* next to the collection at ``<root>/ansible_collections/<ns>/<name>`` (for ansible-test, which
    looks for other collections only in the collection's own ``ansible_collections`` tree); return the copy."""
    namespace, name = fqcn.split(".")
    source = os.path.join(collection_path(fqcn), "ansible_collections", namespace, name)
    tree = os.path.dirname(os.path.dirname(os.path.abspath(collection_root)))
    target = os.path.join(tree, namespace, name)
    if not os.path.isfile(os.path.join(target, "MANIFEST.json")):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
    return target


if __name__ == "__main__":
    # `python tests/testbed/extra_collections.py community.crypto [...]`: the collections paths, joined for
    # ANSIBLE_COLLECTIONS_PATH (the Makefile's lint uses it).
    print(os.pathsep.join(collection_path(fqcn) for fqcn in sys.argv[1:]))
