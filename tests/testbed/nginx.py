"""A real nginx for the deploy tests: loopback only, its own config, pid and logs in a scratch directory, bounded in time.

    with Nginx([Site("shop.example.test", cert, key), Site("api.example.test", cert2, key2)]) as web:
        web.port          # one TLS port on 127.0.0.1; the site is chosen by SNI (the first one is the default)
        web.reload_argv   # the command a handler runs to reload it (``nginx -s reload`` on its own pid file)

Not a system service: the Debian package's binary is started in the foreground under the test bed's supervisor (see
testbed.py), which stops it with the test, or after ``ttl`` seconds at the latest. A certificate or key file that does
not exist yet gets a self-signed placeholder (as Debian's "snakeoil"), so nginx starts before the first deployment.
Needs ``nginx`` (bindep.txt, ``make system-deps``) and ``openssl``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Sequence

from testbed.testbed import LOOPBACK, ServerProcess, TestBedError, free_port, port_open

READY_TIMEOUT = 15.0


@dataclass(frozen=True)
class Site:
    """One TLS server block: its SNI name and the files nginx loads (full chain and key)."""

    server_name: str
    certificate: str
    key: str


def find_nginx() -> str:
    """The nginx binary (Debian installs it in /usr/sbin, which a user's PATH may lack)."""
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise TestBedError("nginx is not installed: run `make system-deps` (bindep.txt lists it)")


def snakeoil(certificate: str, key: str, name: str) -> None:
    """A self-signed placeholder certificate and key, for files the role has not written yet."""
    for path in (certificate, key):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-keyout", key, "-out", certificate], check=True, capture_output=True)


def render_config(prefix: str, port: int, sites: Sequence[Site]) -> str:
    """nginx.conf: one worker, everything under ``prefix``, one ``listen`` on loopback shared by the sites (SNI)."""
    servers = []
    for index, site in enumerate(sites):
        default = " default_server" if index == 0 else ""
        servers.append(f"""
    server {{
        listen {LOOPBACK}:{port} ssl{default};
        server_name {site.server_name};
        ssl_certificate {site.certificate};
        ssl_certificate_key {site.key};
        location / {{ return 200 "{site.server_name}\\n"; }}
    }}""")
    return f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;{''.join(servers)}
}}
"""


class Nginx:
    """nginx serving ``sites`` on one free loopback port; a context manager that stops it."""

    def __init__(self, sites: Sequence[Site], *, ttl: float = 900, port: int | None = None) -> None:
        self.sites = list(sites)
        self.ttl = ttl
        self.port = port or free_port()
        self.prefix = tempfile.mkdtemp(prefix="testbed-nginx-")
        self.config = os.path.join(self.prefix, "nginx.conf")
        self.binary = find_nginx()
        self.process: ServerProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def _argv(self, *extra: str) -> list[str]:
        return [self.binary, "-p", self.prefix, "-e", os.path.join(self.prefix, "error.log"), "-c", self.config, *extra]

    @property
    def reload_argv(self) -> list[str]:
        return self._argv("-s", "reload")

    def start(self) -> Nginx:
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        for site in self.sites:
            if not (os.path.exists(site.certificate) and os.path.exists(site.key)):
                snakeoil(site.certificate, site.key, site.server_name)
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write(render_config(self.prefix, self.port, self.sites))
        subprocess.run(self._argv("-t", "-q"), check=True, capture_output=True)
        self.process = ServerProcess("nginx", self._argv("-g", "daemon off;"), ttl=self.ttl,
                                     log_path=os.path.join(self.prefix, "supervisor.log"))
        deadline = time.monotonic() + READY_TIMEOUT
        while not port_open(self.port):
            if not self.process.running or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise TestBedError(f"nginx did not listen on {self.endpoint}:\n{tail}")
            time.sleep(0.1)
        return self

    def reload(self) -> None:
        subprocess.run(self.reload_argv, check=True, capture_output=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(os.path.join(self.prefix, "error.log"), encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
