"""Notifications once per change (_estate/notify, _estate/delivery) against a webhook receiver and an SMTP server,
both started here on 127.0.0.1 and stopped by the tests."""
from __future__ import annotations

import email
import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lifecycle_fakes import FakeScm, FakeStore
from test_fleet import Clock, Locked

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.revoke import RevokeService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import notify
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.delivery import SIGNATURE_HEADER, Mailer, Webhook
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, build_requests

import aiosmtpd.controller as aiosmtpd_controller  # noqa: E402  pylint: disable=wrong-import-position
SECRET = "hook-secret-4711"
CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001,
          "defaults": {"cert_type": 101, "term": 365, "loop_period": 5}}


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps every POST; answers 503 while ``down``."""

    def __init__(self):
        self.posts, self.down = [], False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.down:
                    self.send_response(503)
                else:
                    receiver.posts.append((dict(self.headers), body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *_args):
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def servers():
    receiver, mailbox = Receiver(), Mailbox()
    smtp = aiosmtpd_controller.Controller(mailbox, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
    smtp.start()
    yield receiver, mailbox, smtp.port
    smtp.stop()
    receiver.stop()


@pytest.fixture
def bed():
    lock = threading.RLock()
    store, scm, clock = FakeStore(), FakeScm(), Clock()
    locked_store, locked_scm = Locked(store, lock), Locked(scm, lock)
    locked_store.base_path = store.base_path
    store.data[rec.config_path("prod")] = (CONFIG, 1)

    def fleet(items):
        outcomes = Fleet(locked_store, CONFIG, lambda: locked_scm, concurrency=2, sleep=clock.sleep, monotonic=clock.monotonic).run(
            build_requests(items, {"config": "prod"}))
        assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    return store, scm, fleet


def _send(store, receiver, mail_port, check_mode=False, expiring_days=14):
    channels = {"webhook": Webhook(receiver.url, SECRET, timeout=5), "mail": Mailer(["pki@example.com"], "127.0.0.1", mail_port)}
    return {o.channel: o for o in notify.run_config(store, CONFIG, channels, check_mode=check_mode, now=rec.utc_now(),
                                                    expiring_days=expiring_days, backlog_days=30)}


def _types(receiver):
    return sorted((json.loads(body)["type"].rsplit(".", 1)[1], json.loads(body)["subject"]) for _headers, body in receiver.posts)


def test_one_message_per_change_over_three_runs_signed(bed, servers):
    store, scm, fleet = bed
    receiver, mailbox, mail_port = servers
    fleet([{"name": f"web{i}", "common_name": f"web{i}.example.com"} for i in range(3)])
    first = _send(store, receiver, mail_port)
    assert [len(first["webhook"].sent), len(first["mail"].sent)] == [3, 3]
    assert _types(receiver) == [("enrolled", "web0"), ("enrolled", "web1"), ("enrolled", "web2")]

    # A second run with nothing new sends nothing and writes nothing.
    writes = store.writes
    second = _send(store, receiver, mail_port)
    assert second["webhook"].sent == second["mail"].sent == [] and store.writes == writes

    fleet([{"name": "web1", "state": "renewed"}])
    RevokeService(store, CONFIG, lambda: scm).revoke(name="web2", reason="Key compromise drill", reason_code="keyCompromise")
    third = _send(store, receiver, mail_port)
    assert len(third["webhook"].sent) == len(third["mail"].sent) == 2
    assert _types(receiver) == [("enrolled", "web0"), ("enrolled", "web1"), ("enrolled", "web2"), ("renewed", "web1"), ("revoked", "web2")]
    assert len(mailbox.messages) == 5
    assert sorted(m["Subject"].rsplit(": ", 1)[1] for m in mailbox.messages) == ["enrolled"] * 3 + ["renewed", "revoked"]
    ids = [json.loads(body)["id"] for _h, body in receiver.posts]
    assert len(set(ids)) == 5 and sorted(m["X-Sectigo-Event-Id"] for m in mailbox.messages) == sorted(ids)
    for headers, body in receiver.posts:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
        assert headers["Content-Type"].startswith("application/cloudevents+json")
        document = json.loads(body)
        assert document["specversion"] == "1.0" and document["source"] == "/sectigo-vault-pki/prod"
        assert SECRET not in body.decode()


def test_a_receiver_down_for_one_run_gets_the_missed_events_next_run(bed, servers):
    store, _scm, fleet = bed
    receiver, mailbox, mail_port = servers
    fleet([{"name": "a", "common_name": "a.example.com"}])
    _send(store, receiver, mail_port)
    fleet([{"name": "b", "common_name": "b.example.com"}, {"name": "a", "state": "renewed"}])
    receiver.down = True
    down = _send(store, receiver, mail_port)
    assert down["webhook"].sent == [] and "HTTP 503" in down["webhook"].error and SECRET not in down["webhook"].error
    assert len(down["mail"].sent) == 2
    receiver.down = False
    again = _send(store, receiver, mail_port)
    assert len(again["webhook"].sent) == 2 and again["mail"].sent == []
    assert _types(receiver) == [("enrolled", "a"), ("enrolled", "b"), ("renewed", "a")]
    assert len(mailbox.messages) == 3


def test_check_mode_sends_and_writes_nothing(bed, servers):
    store, _scm, fleet = bed
    receiver, mailbox, mail_port = servers
    fleet([{"name": "a", "common_name": "a.example.com"}])
    writes = store.writes
    predicted = _send(store, receiver, mail_port, check_mode=True)
    assert len(predicted["webhook"].pending) == 1 and predicted["webhook"].sent == []
    assert receiver.posts == [] and mailbox.messages == [] and store.writes == writes


def test_expiring_once_and_failed_and_timed_out_events(bed, servers):
    store, _scm, fleet = bed
    receiver, _mailbox, mail_port = servers
    fleet([{"name": "a", "common_name": "a.example.com"}, {"name": "b", "common_name": "b.example.com"}])
    for path, (record, version) in list(store.data.items()):
        if path.startswith("certs/prod/") and record.get("name") == "a":
            record["not_after"] = rec.iso(rec.utc_now() + timedelta(days=5))
        if path.startswith("certs/prod/") and record.get("name") == "b":
            record["error"] = {"code": -105, "description": "Declined"}
            rec.set_status(record, rec.ERROR_CODE, rec.utc_now())
            rec.set_status(record, rec.TIMEOUT_STATE_SAVED, rec.utc_now())
        store.data[path] = (record, version)
    _send(store, receiver, mail_port)
    _send(store, receiver, mail_port)
    assert _types(receiver) == [("enrolled", "a"), ("enrolled", "b"), ("expiring", "a"), ("failed", "b"), ("timed_out", "b")]
    expiring = [json.loads(b)["data"] for _h, b in receiver.posts if json.loads(b)["type"].endswith("expiring")][0]
    assert expiring["days_left"] in (4, 5) and expiring["within_days"] == 14


def test_first_run_skips_history_older_than_the_backlog(bed):
    store, _scm, fleet = bed
    fleet([{"name": "a", "common_name": "a.example.com"}])
    channel = notify.Channel(None, rec.utc_now() + timedelta(days=40), backlog_days=30)
    assert channel.pending(notify.config_events(store, CONFIG, rec.utc_now(), None)) == []


def test_bad_options_are_named():
    with pytest.raises(InputError) as err:
        notify.check_options({}, 14, 30)
    assert err.value.field == "webhook_url"
    with pytest.raises(InputError) as err:
        Webhook("ftp://x", None)
    assert err.value.field == "webhook_url"
    with pytest.raises(InputError) as err:
        Mailer(["nobody"], "127.0.0.1")
    assert err.value.field == "mail_to"
    with pytest.raises(InputError) as err:
        Mailer(["a@example.com"], "127.0.0.1", 70000)
    assert err.value.field == "smtp_port"
