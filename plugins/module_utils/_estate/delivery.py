# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sending one event (docs/reporting.md "Notifications"): a CloudEvents 1.0 JSON message (structured mode) to a
webhook, signed with HMAC-SHA256 over the body, or one e-mail over SMTP (STARTTLS and login optional). Standard
library only. A failure raises ``DeliveryError`` with a message that never holds the secret or the password.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from ansible.module_utils.urls import ConnectionError as UrlError, open_url

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, redact
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.notify import TYPE_PREFIX, Event

SIGNATURE_HEADER = "X-Sectigo-Signature"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
SOURCE = "/sectigo-vault-pki"


class DeliveryError(Exception):
    """One event could not be delivered; the channel stops and the next run sends it again."""


def cloudevent(event: Event) -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode document of an event."""
    return {"specversion": "1.0", "id": event.id, "source": f"{SOURCE}/{event.config}", "type": TYPE_PREFIX + event.type,
            "subject": event.data.get("name") or event.data.get("cert_unique_id"), "time": event.time,
            "datacontenttype": "application/json", "data": event.data}


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass
class Webhook:
    url: str
    secret: str | None = None
    timeout: float = 10.0
    validate_certs: bool = True

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise InputError("webhook_url", "webhook_url must be an http:// or https:// URL")

    def __call__(self, event: Event) -> None:
        body = json.dumps(cloudevent(event), sort_keys=True, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": CONTENT_TYPE, "User-Agent": "sectigo.vault_pki-notify"}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        try:
            response = open_url(self.url, data=body, headers=headers, method="POST", timeout=self.timeout,
                                validate_certs=self.validate_certs, follow_redirects="none")
            status = response.status
            response.close()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"the webhook answered HTTP {exc.code} to event {event.id}") from None
        except (urllib.error.URLError, UrlError, OSError) as exc:
            raise DeliveryError(redact(f"the webhook could not be reached for event {event.id}: {getattr(exc, 'reason', exc)}",
                                       [self.secret])) from None
        if not 200 <= status < 300:
            raise DeliveryError(f"the webhook answered HTTP {status} to event {event.id}")


@dataclass
class Mailer:
    to: list[str]
    host: str
    port: int = 25
    sender: str | None = None
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.to or not all(isinstance(a, str) and "@" in a for a in self.to):
            raise InputError("mail_to", "mail_to must be a list of e-mail addresses")
        if not 1 <= int(self.port) <= 65535:
            raise InputError("smtp_port", f"smtp_port must be from 1 to 65535; got {self.port}")
        if self.password and not self.username:
            raise InputError("smtp_username", "smtp_password needs smtp_username")

    def message(self, event: Event) -> EmailMessage:
        data = event.data
        what = data.get("name") or data.get("cert_unique_id")
        message = EmailMessage()
        message["Subject"] = f"[{event.config}] certificate {what}: {event.type.replace('_', ' ')}"
        message["From"] = self.sender or "sectigo-vault-pki@localhost"
        message["To"] = ", ".join(self.to)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain="sectigo-vault-pki")
        message["X-Sectigo-Event-Id"] = event.id
        lines = [f"Certificate {what} of config {event.config}: {event.type.replace('_', ' ')} at {event.time}.", ""]
        lines += [f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}" for key, value in sorted(data.items())]
        lines += ["", "CloudEvent:", json.dumps(cloudevent(event), indent=2, sort_keys=True)]
        message.set_content("\n".join(lines) + "\n")
        return message

    def __call__(self, event: Event) -> None:
        try:
            with smtplib.SMTP(self.host, int(self.port), timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(event))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(redact(f"the mail for event {event.id} could not be sent via {self.host}:{self.port}: "
                                       f"{type(exc).__name__}: {exc}", [self.password])) from None
