"""sectigo_notify against the live test bed: a webhook receiver and an SMTP server, both in this process on
127.0.0.1, receive exactly one message per change over several runs (enroll, renew, revoke); every signature
verifies; a receiver down for one run gets the missed events on the next; check mode sends nothing; the secret
never appears at -vvvv."""
from __future__ import annotations

import email
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playbook_runner import sim, start_playbook

pytestmark = pytest.mark.live
import aiosmtpd.controller as aiosmtpd_controller  # noqa: E402  pylint: disable=wrong-import-position

KV_PATH = "e2e-notify"
SECRET = "e2e-webhook-secret-9d3f"


class Receivers:
    """A webhook receiver (answers 503 while ``down``) and an SMTP server; both keep what they received."""

    def __init__(self):
        self.posts, self.mails, self.down = [], [], False
        receivers = self

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not receivers.down:
                    receivers.posts.append((self.headers[("X-Sectigo-Signature")], body))
                self.send_response(503 if receivers.down else 200)
                self.end_headers()

            def log_message(self, *_args):
                pass

        class Mailbox:
            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's name)
                receivers.mails.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.smtp = aiosmtpd_controller.Controller(Mailbox(), hostname="127.0.0.1", port=port, ready_timeout=10)
        self.smtp.start()

    def vars(self):
        return {"kv_path": KV_PATH, "webhook_url": f"http://127.0.0.1:{self.http.server_address[1]}/hook",
                "smtp_port": self.smtp.port}

    def webhook_types(self):
        return [(json.loads(body)["type"].rsplit(".", 1)[1], json.loads(body)["subject"]) for _sig, body in self.posts]

    def mail_types(self):
        return [(m["Subject"].rsplit(": ", 1)[1], m["Subject"].split("certificate ")[1].split(":")[0]) for m in self.mails]

    def stop(self):
        self.smtp.stop()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receivers():
    started = Receivers()
    yield started
    started.stop()


def _run(bed, receivers, phase, options=()):
    # The secret goes through the environment: an extra var would be echoed by ansible-playbook itself at -vvvv.
    proc = start_playbook(bed, "notify.yml", options=options, env={"E2E_WEBHOOK_SECRET": SECRET}, phase=phase, **receivers.vars())
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, f"ansible-playbook failed:\n{out[-5000:]}\n{err[-2000:]}"
    return out + err


def _posts(bed):
    return sum(count for route, count in sim(bed, "stats")["requests"].items() if route.startswith("POST "))


def test_one_message_per_change_signed_retried_after_an_outage(testbed, receivers):
    _run(testbed, receivers, "enroll")
    enrolled = [("enrolled", "n1"), ("enrolled", "n2"), ("enrolled", "n3")]
    assert sorted(receivers.webhook_types()) == enrolled and sorted(receivers.mail_types()) == enrolled

    # Check mode predicts the renewal and its message; it orders and sends nothing.
    posts = _posts(testbed)
    _run(testbed, receivers, "renew", options=("--check",))
    assert _posts(testbed) == posts and len(receivers.posts) == 3 and len(receivers.mails) == 3

    # The webhook is down for this run: the mail goes out, the webhook's message waits for the next run.
    receivers.down = True
    out = _run(testbed, receivers, "renew")
    assert "HTTP 503" in out and len(receivers.posts) == 3
    assert receivers.mail_types()[3:] == [("renewed", "n1")]

    receivers.down = False
    out = _run(testbed, receivers, "revoke", options=("-vvvv",))
    assert receivers.webhook_types()[3:] == [("renewed", "n1"), ("revoked", "n3")]
    assert receivers.mail_types()[3:] == [("renewed", "n1"), ("revoked", "n3")]
    assert SECRET not in out

    ids = [json.loads(body)["id"] for _sig, body in receivers.posts]
    assert len(ids) == len(set(ids)) == 5
    for signature, body in receivers.posts:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert signature and hmac.compare_digest(signature, expected)
        assert SECRET not in body.decode()
