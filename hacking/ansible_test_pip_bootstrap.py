"""Stand-in for the pip bootstrap script that ``ansible-test`` downloads from its CI file host.

``ansible-test sanity`` creates one virtual environment per test and fills it with pip through a
downloaded ``get-pip.py``. Where only the package index is reachable, ``make sanity`` copies this file
to ansible-test's cache instead: it installs the pip that ships with Python (``ensurepip``) and then
lets that pip install what ansible-test asked for, from the package index as usual.
"""
from __future__ import annotations

import ensurepip
import os
import ssl
import subprocess
import sys

# Options of get-pip.py itself, which pip install does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    # ansible-test hides pip's configuration files; the bundled pip trusts only its own CA list, so point it at the
    # system's (the pip it installs next uses the system trust store by itself).
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile or paths.openssl_cafile
    if cafile and os.path.exists(cafile):
        args = ["--cert", cafile, *args]
    return subprocess.call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    sys.exit(main())
