"""Unit tests run under two runners: pytest with the checkout's pytest.ini (``make unit``) and ``ansible-test units``
(``make units``), which runs pytest with its own configuration file (``-c``) and ``--strict-markers``.

Two things pytest.ini gives that ansible-test's configuration does not are set up here instead:

- the ``live`` marker (tests that need the live test bed live in ``tests/live``, but a unit test that is marked
  ``live`` by mistake must fail on the marker's meaning, not on an unknown marker);
- helper modules beside the tests (such as ``lifecycle_fakes``) import as top-level modules: pytest's default
  import mode puts a test's directory on ``sys.path``, ansible-test's collection loader does not.
"""
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _helper_dirs(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")) and d != "fixtures")
        if dirpath != root and any(f.endswith(".py") and not f.startswith(("test_", "conftest")) for f in filenames):
            found.append(dirpath)
    return found


for _entry in _helper_dirs(_HERE):
    if _entry not in sys.path:
        sys.path.append(_entry)


def pytest_configure(config):
    config.addinivalue_line("markers", "live: needs the live test bed (OpenBao and/or the SCM simulator started by fixtures)")
