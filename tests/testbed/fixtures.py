"""pytest fixtures for the live test bed, shared by every suite that needs it.

Register them in a ``conftest.py`` with::

    from testbed.fixtures import openbao, scm_simulator, testbed  # noqa: F401

Each server is started once per session, on demand, and stopped at the end of the session. Tests that
use them carry ``@pytest.mark.live``.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from testbed.testbed import OpenBao, Simulator, TestBed, start_openbao, start_simulator

SESSION_TTL = 3 * 3600  # an upper bound for one test session; the servers stop earlier with the session


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBao]:
    """A ``bao server -dev`` on loopback; ``addr``, ``token`` (root), ``api()``. ``secret/`` is KV v2."""
    server = start_openbao(ttl=SESSION_TTL)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def scm_simulator() -> Iterator[Simulator]:
    """The SCM simulator on loopback; ``base_url``, ``root_url``, credentials, ``stats()``, ``configure()``."""
    server = start_simulator(ttl=SESSION_TTL)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def testbed(openbao: OpenBao, scm_simulator: Simulator) -> TestBed:  # pylint: disable=redefined-outer-name
    """Both servers, with ``env()`` for subprocesses (VAULT_ADDR, VAULT_TOKEN, SECTIGO_CM_*, SCM_SIM_URL)."""
    return TestBed(openbao=openbao, simulator=scm_simulator)
