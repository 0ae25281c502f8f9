"""Fixtures: a simulator served in this process on a free loopback port, stopped after each test."""
from __future__ import annotations

import pytest
import requests

from scm_simulator.ca import CertificateAuthority
from scm_simulator.server import Simulator, make_server, serve_in_thread
from scm_simulator.store import Store

AUTH = {"login": "demo", "password": "demo", "customerUri": "demo"}
_CA = {}


def shared_ca() -> CertificateAuthority:
    """One CA for the whole session: making RSA CA keys is the slow part of a start."""
    if "ca" not in _CA:
        _CA["ca"] = CertificateAuthority()
    return _CA["ca"]


class Client:
    def __init__(self, root: str) -> None:
        self.root = root
        self.session = requests.Session()

    def api(self, method: str, path: str, *, json=None, headers=None, auth=True, private=False):
        merged = dict(AUTH if auth else {})
        if private:
            merged.pop("password", None)
        merged.update(headers or {})
        prefix = "/private/api" if private else "/api"
        return self.session.request(method, f"{self.root}{prefix}{path}", json=json, headers=merged, timeout=10)

    def control(self, method: str, path: str, json=None):
        response = self.session.request(method, f"{self.root}/__sim__/{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def sim_server(tmp_path):
    store = Store()
    sim = Simulator(store, shared_ca(), login="demo", password="demo", customer_uri="demo")
    server = make_server("127.0.0.1", 0, sim)
    serve_in_thread(server)
    try:
        yield server, sim
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client(sim_server):
    server, _sim = sim_server
    host, port = server.server_address[:2]
    return Client(f"http://{host}:{port}")
