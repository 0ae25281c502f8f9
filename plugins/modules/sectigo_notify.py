#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_notify
short_description: Send each change of the certificates kept in Vault once, to a webhook and/or by e-mail
version_added: 0.2.0
description:
  - Reads the state histories of every certificate record of each config in O(configs) from Vault — never SCM — and
    sends every event that happened since its last run, namely V(enrolled), V(renewed), V(replaced), V(revoked), V(cancelled),
    V(failed) (an SCM error), V(timed_out), and V(expiring) when an issued certificate enters its last
    O(expiring_within_days) days without a pending renewal.
  - To a webhook (O(webhook_url)) as one CloudEvents 1.0 JSON message per event (structured mode), signed with HMAC-SHA256
    over the body in the C(X-Sectigo-Signature) header; and/or by e-mail (O(mail_to)) over SMTP, one message per event.
  - What each channel delivered is kept in Vault at C(notify/<config>) under the collection's KV path. A delivery that
    fails stops that channel for this run; the next run sends it and what followed. An event delivered is never sent again.
  - The collection's C(docs/reporting.md) describes the events, the payload and how to verify the signature.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.attributes
options:
  configs:
    description: Names of the configs whose events are sent.
    type: list
    elements: str
    required: true
  webhook_url:
    description: URL (http or https) to POST each event to, as C(application/cloudevents+json).
    type: str
  webhook_secret:
    description: Shared secret of the HMAC-SHA256 signature over the body (header C(X-Sectigo-Signature) V(sha256=<hex>)). Without it, no signature is sent.
    type: str
  webhook_timeout:
    description: Seconds to wait for the webhook's answer.
    type: int
    default: 10
  webhook_validate_certs:
    description: Verify the webhook's TLS certificate.
    type: bool
    default: true
  mail_to:
    description: Addresses to send one e-mail per event to.
    type: list
    elements: str
  mail_from:
    description: Sender address of the e-mails.
    type: str
    default: sectigo-vault-pki@localhost
  smtp_host:
    description: SMTP server.
    type: str
    default: localhost
  smtp_port:
    description: SMTP port.
    type: int
    default: 25
  smtp_starttls:
    description: Upgrade the SMTP connection with STARTTLS (the server's certificate is verified).
    type: bool
    default: false
  smtp_username:
    description: Log in to the SMTP server with this user.
    type: str
  smtp_password:
    description: Password of O(smtp_username).
    type: str
  expiring_within_days:
    description: Send one V(expiring) event when an issued certificate has this many days left and no renewal pending; V(0) sends none.
    type: int
    default: 14
  backlog_days:
    description: On a channel's first run, events older than this many days count as delivered (no flood of old history).
    type: int
    default: 30
attributes:
  check_mode:
    details: Lists what would be sent; sends nothing and writes nothing to Vault.
  diff_mode:
    support: none
  platform:
    details: Runs on the controller; it reads Vault and sends to the webhook or the SMTP server, never to SCM.
seealso:
  - module: sectigo.vault_pki.sectigo_report
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Send new events of two configs to a webhook and by e-mail
  sectigo.vault_pki.sectigo_notify:
    configs: [prod-ssl, prod-smime]
    webhook_url: https://hooks.example.com/pki
    webhook_secret: "{{ pki_webhook_secret }}"
    mail_to: [pki-team@example.com]
    smtp_host: smtp.example.com
    smtp_port: 587
    smtp_starttls: true
    smtp_username: pki-notify
    smtp_password: "{{ smtp_password }}"
"""

RETURN = r"""
events:
  description: The events sent (in check mode, those that would be sent), oldest first, each once even when sent on two channels.
  returned: always
  type: list
  elements: dict
  sample: [{id: prod-ssl/1042_demo/3, type: renewed, time: "2026-12-07T10:00:00Z", config: prod-ssl, name: web01}]
sent:
  description: How many events each channel delivered in this run.
  returned: always
  type: dict
  sample: {webhook: 3, mail: 3}
undelivered:
  description: Per channel, how many events are left for the next run after a failed delivery.
  returned: always
  type: dict
  sample: {}
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_module

ARGUMENT_SPEC = dict(
    configs=dict(type="list", elements="str", required=True),
    webhook_url=dict(type="str"),
    webhook_secret=dict(type="str", no_log=True),
    webhook_timeout=dict(type="int", default=10),
    webhook_validate_certs=dict(type="bool", default=True),
    mail_to=dict(type="list", elements="str"),
    mail_from=dict(type="str", default="sectigo-vault-pki@localhost"),
    smtp_host=dict(type="str", default="localhost"),
    smtp_port=dict(type="int", default=25),
    smtp_starttls=dict(type="bool", default=False),
    smtp_username=dict(type="str"),
    smtp_password=dict(type="str", no_log=True),
    expiring_within_days=dict(type="int", default=14),
    backlog_days=dict(type="int", default=30),
)


def _channels(params):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.delivery import Mailer, Webhook

    channels = {}
    if params["webhook_url"]:
        channels["webhook"] = Webhook(params["webhook_url"], params["webhook_secret"], params["webhook_timeout"], params["webhook_validate_certs"])
    if params["mail_to"]:
        channels["mail"] = Mailer(params["mail_to"], params["smtp_host"], params["smtp_port"], params["mail_from"], params["smtp_starttls"],
                                  params["smtp_username"], params["smtp_password"])
    return channels


def _run(module, store):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import notify
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _config_service
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec

    params = module.params
    channels = _channels(params)
    notify.check_options(channels, params["expiring_within_days"], params["backlog_days"])
    configs = [_config_service.ConfigService(store).require(name) for name in dict.fromkeys(params["configs"])]
    now = rec.utc_now()
    events, sent, undelivered, warnings = {}, {name: 0 for name in channels}, {}, []
    for config in configs:
        for outcome in notify.run_config(store, config, channels, check_mode=module.check_mode, now=now,
                                         expiring_days=params["expiring_within_days"] or None, backlog_days=params["backlog_days"]):
            for event in outcome.sent if not module.check_mode else outcome.pending:
                events.setdefault(event.id, event.public())
            sent[outcome.channel] += len(outcome.sent)
            if outcome.error:
                left = len(outcome.pending) - len(outcome.sent)
                undelivered[outcome.channel] = undelivered.get(outcome.channel, 0) + left
                warnings.append(f"{outcome.channel} of config '{outcome.config}': {outcome.error}; {left} event(s) left for the next run")
    ordered = sorted(events.values(), key=lambda e: (e["time"], e["id"]))
    changed = bool(ordered) if module.check_mode else any(sent.values())
    return {"changed": changed, "events": ordered, "sent": sent, "undelivered": undelivered, "warnings": warnings}


def main():
    run_module(ARGUMENT_SPEC, _run, verb="send the notifications", need_scm=False)


if __name__ == "__main__":
    main()
