"""Fixtures: simulators served on a free loopback port (in this process, or as a child process), CSRs, a client.

Every server a test starts listens on 127.0.0.1, is stopped by the fixture that started it, and a
child process also carries ``--max-lifetime`` as a bound should the test itself hang.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Iterator

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from scm_simulator.ca import CertificateAuthority
from scm_simulator.server import SimulatorServer, served
from scm_simulator.simulator import Simulator

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTH = {"login": "demo", "password": "demo", "customerUri": "demo"}
LISTENING = "scm-simulator listening on "
TIMEOUT = 10


@pytest.fixture(scope="session")
def shared_ca() -> CertificateAuthority:
    """One CA for the in-process simulators: generating the RSA CA keys is the slow part of a start."""
    return CertificateAuthority.create()


class Keys:
    """Test keys, made once per session: EC P-256 by default, RSA 2048 where a profile wants RSA."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def get(self, kind: str = "ec256") -> Any:
        if kind not in self._cache:
            makers = {
                "ec256": lambda: ec.generate_private_key(ec.SECP256R1()),
                "ec384": lambda: ec.generate_private_key(ec.SECP384R1()),
                "rsa2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
                "rsa3072": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
                "ed25519": _ed25519,
            }
            self._cache[kind] = makers[kind]()
        return self._cache[kind]


def _ed25519() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ed25519  # pylint: disable=import-outside-toplevel
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


def make_csr(key: Any, common_name: str | None = "www.example.com", sans: tuple[str, ...] = (), emails: tuple[str, ...] = ()) -> str:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    names: list[x509.GeneralName] = [x509.DNSName(s) for s in sans] + [x509.RFC822Name(e) for e in emails]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    algorithm = None if _is_ed25519(key) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM).decode("ascii")


def _is_ed25519(key: Any) -> bool:
    return type(key).__name__.startswith("Ed25519")


def key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class Client:
    """Talks to one simulator: ``api`` for /api (authenticated unless told otherwise), ``control`` for /__sim__."""

    def __init__(self, root_url: str, keys: Keys, verify: Any = True) -> None:
        self.root_url = root_url
        self.keys = keys
        self.session = requests.Session()
        self.session.verify = verify

    @property
    def root(self) -> str:
        return self.root_url

    def api(self, method: str, path: str, *, json: Any = None, data: Any = None, headers: dict[str, str] | None = None, auth: bool = True,
            private: bool = False) -> requests.Response:
        sent = dict(AUTH) if auth else {}
        if private:
            sent.pop("password", None)
        sent.update(headers or {})
        prefix = "/private/api" if private else "/api"
        return self.session.request(method, f"{self.root_url}{prefix}{path}", json=json, data=data, headers=sent, timeout=TIMEOUT)

    def control(self, method: str, path: str, json: Any = None, expect: int = 200) -> Any:
        response = self.session.request(method, f"{self.root_url}/__sim__/{path}", json=json, timeout=TIMEOUT)
        assert response.status_code == expect, response.text
        return response.json()

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self.control("POST", "config", settings)

    def ssl_body(self, *, key: str = "ec256", common_name: str = "www.example.com", sans: tuple[str, ...] = (), cert_type: int = 101,
                 term: int = 365, **extra: Any) -> dict[str, Any]:
        body = {"orgId": 1001, "csr": make_csr(self.keys.get(key), common_name, sans), "certType": cert_type, "term": term}
        body.update(extra)
        return body

    def enroll_ssl(self, **kwargs: Any) -> dict[str, Any]:
        response = self.api("POST", "/ssl/v1/enroll", json=self.ssl_body(**kwargs))
        assert response.status_code == 200, response.text
        return response.json()

    def smime_body(self, *, key: str = "ec256", email: str = "alice@example.com", cert_type: int = 201, term: int = 365,
                   **extra: Any) -> dict[str, Any]:
        body = {"orgId": 1001, "csr": make_csr(self.keys.get(key), None), "certType": cert_type, "term": term, "email": email,
                "firstName": "Alice", "lastName": "Doe"}
        body.update(extra)
        return body

    def enroll_smime(self, **kwargs: Any) -> dict[str, Any]:
        response = self.api("POST", "/smime/v1/enroll", json=self.smime_body(**kwargs))
        assert response.status_code == 200, response.text
        return response.json()

    def details(self, ssl_id: Any) -> dict[str, Any]:
        response = self.api("GET", f"/ssl/v1/{ssl_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def collect(self, path: str) -> list[x509.Certificate]:
        response = self.api("GET", path)
        assert response.status_code == 200, response.text
        return x509.load_pem_x509_certificates(response.content)


@pytest.fixture(name="make_csr")
def make_csr_fixture() -> Any:
    return make_csr


@pytest.fixture(name="key_pem")
def key_pem_fixture() -> Any:
    return key_pem


@pytest.fixture
def sim_server(shared_ca: CertificateAuthority) -> Iterator[SimulatorServer]:
    with served(Simulator.create(ca=shared_ca)) as server:
        yield server


@pytest.fixture
def client(sim_server: SimulatorServer, keys: Keys) -> Client:
    return Client(sim_server.root_url, keys)


class SimulatorProcess:
    """``python tests/scm_simulator ...`` as a child process; ``base_url`` from its listening line."""

    def __init__(self, *args: str, lifetime: float = 30) -> None:
        self.stderr = ""
        self.rest_of_stdout = ""
        command = [sys.executable, PACKAGE_DIR, "--port", "0", "--max-lifetime", str(lifetime), *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
        self.line = self.process.stdout.readline() if self.process.stdout else ""
        if not self.line.startswith(LISTENING):
            self.stop()
            raise AssertionError(f"no listening line, got {self.line!r}; stderr: {self.stderr}")
        self.base_url = self.line[len(LISTENING):].strip()
        self.root_url = self.base_url[:-len("/api")]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.rest_of_stdout, self.stderr = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.rest_of_stdout, self.stderr = self.process.communicate()
        return self.process.returncode


@pytest.fixture
def start_process() -> Iterator[Any]:
    """Start simulator processes; all are stopped at the end of the test."""
    started: list[SimulatorProcess] = []

    def start(*args: str, lifetime: float = 30) -> SimulatorProcess:
        proc = SimulatorProcess(*args, lifetime=lifetime)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="session")
def client_class() -> type:
    """The ``Client`` class, for tests that start a simulator of their own (conftest modules are not importable by name)."""
    return Client
