"""The test bed's nginx and the collections unpacked from the ansible package: loopback only, stopped for real."""
from __future__ import annotations

import os
import ssl
import zipfile

import pytest

from testbed import extra_collections
from testbed.nginx import Nginx, Site, render_config
from testbed.testbed import group_alive, port_open


def test_the_config_listens_on_loopback_only_and_keeps_everything_under_its_prefix():
    config = render_config("/tmp/p", 8443, [Site("a.test", "/f/a.crt", "/f/a.key"), Site("b.test", "/f/b.crt", "/f/b.key")])
    listens = [line.strip() for line in config.splitlines() if line.strip().startswith("listen")]
    assert listens == ["listen 127.0.0.1:8443 ssl default_server;", "listen 127.0.0.1:8443 ssl;"]
    assert "pid /tmp/p/nginx.pid;" in config and "error_log /tmp/p/error.log" in config
    assert "/var/" not in config


def test_a_collection_is_unpacked_from_the_cached_wheel_only(tmp_path, monkeypatch):
    wheel_dir = tmp_path / "cache"
    wheel_dir.mkdir()
    with zipfile.ZipFile(wheel_dir / "ansible-11.0.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("ansible_collections/community/crypto/MANIFEST.json", "{}")
        wheel.writestr("ansible_collections/community/crypto/plugins/modules/x.py", "")
        wheel.writestr("ansible_collections/community/other/MANIFEST.json", "{}")
    monkeypatch.setattr(extra_collections, "CACHE", str(wheel_dir))
    monkeypatch.setattr(extra_collections, "BUILD", str(tmp_path / "build"))
    monkeypatch.setattr(extra_collections, "ANSIBLE_MAJOR", "11")
    path = extra_collections.collection_path("community.crypto")
    assert os.path.isfile(os.path.join(path, "ansible_collections", "community", "crypto", "plugins", "modules", "x.py"))
    assert not os.path.exists(os.path.join(path, "ansible_collections", "community", "other"))
    assert extra_collections.collection_path("community.crypto") == path  # the second call reuses it
    with pytest.raises(extra_collections.CollectionUnavailable):
        extra_collections.collection_path("community.missing")


@pytest.mark.live
def test_nginx_serves_its_placeholder_on_loopback_and_stops(tmp_path):
    site = Site("a.test", str(tmp_path / "a.crt"), str(tmp_path / "a.key"))
    with Nginx([site], ttl=120) as web:
        assert web.endpoint.startswith("127.0.0.1:")
        pem = ssl.get_server_certificate(("127.0.0.1", web.port), timeout=10)
        assert "BEGIN CERTIFICATE" in pem
        web.reload()
        pid = web.process.pid
    assert not port_open(web.port)
    assert not group_alive(pid)
