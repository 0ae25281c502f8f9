#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_revoke
short_description: Revoke a Sectigo certificate and mark its Vault record revoked
version_added: 0.1.0
description:
  - Revokes one certificate in SCM, found by its name, record id, SCM id or serial number.
  - Any certificate SCM still holds valid can be revoked, whatever its status in Vault, by any of these identities; a
    superseded one (status C(Renewed), or the predecessor of a replacement) is found by its record id, SCM id or serial.
  - The record stays in Vault with status C(Revoked) and C(revoked) details; revoking does not delete it.
  - A certificate that is already revoked is C(changed=false); when Vault already says so, SCM is not called.
  - An order SCM has not issued yet is cancelled instead when O(cancel_pending=true) (an SSL order is declined, a client
    order withdrawn); its record gets status C(Cancelled) and C(cancelled) details.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
attributes:
  check_mode:
    details: Predicts from Vault alone; a certificate known only to SCM (by O(ssl_id), O(order_number) or O(serial_number)) is predicted to change.
options:
  name:
    description: Certificate name.
    type: str
  cert_unique_id:
    description: Record id.
    type: str
    aliases: [sectigo_cert_unique_id]
  ssl_id:
    description: SCM id of an SSL certificate (SSL configs); it need not be in Vault.
    type: int
    aliases: [sectigo_ssl_cert_ssl_id]
  order_number:
    description: SCM order number of a client certificate (client configs); it need not be in Vault.
    type: int
    aliases: [sectigo_client_cert_order_number]
  serial_number:
    description: Serial number, colon-separated hex as SCM prints it (C(AB:CD:...)) or plain hex.
    type: str
  reason:
    description: Why; 1 to 512 characters for SSL certificates, at most 512 for client certificates.
    type: str
    required: true
    aliases: [sectigo_reason, sectigo_revoke_reason]
  reason_code:
    description: RFC 5280 reason, by name or number. SCM allows only these five.
    type: str
    choices: [unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, '0', '1', '3', '4', '5']
    default: unspecified
  cancel_pending:
    description:
      - What to do when the certificate is an order SCM has not issued yet (status C(Applied), C(TimeoutStateSaved) or
        C(ErrorCode) in Vault).
      - V(false) fails and says so. V(true) cancels the order in SCM (SSL is declined, which SCM allows while the order
        awaits approval; a client order is revoked before issuance) and marks the record C(Cancelled).
      - A later O(sectigo.vault_pki.sectigo_cert#module:state=present) on the name enrolls anew.
    type: bool
    default: false
seealso:
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Revoke web01 after a key compromise
  sectigo.vault_pki.sectigo_revoke:
    config: prod-ssl
    name: web01
    reason: Private key exposed in incident 4711
    reason_code: keyCompromise

- name: Revoke the superseded predecessor of a renewal, still valid in SCM
  sectigo.vault_pki.sectigo_revoke:
    config: prod-ssl
    cert_unique_id: 1041_demo
    reason: Renewed early; old key retired
    reason_code: superseded

- name: Cancel an order still waiting for approval
  sectigo.vault_pki.sectigo_revoke:
    config: prod-ssl
    name: ev-site
    reason: Ordered with the wrong profile
    cancel_pending: true

- name: Revoke an order that was never in Vault
  sectigo.vault_pki.sectigo_revoke:
    config: prod-ssl
    ssl_id: 655043
    reason: Decommissioned
    reason_code: cessationOfOperation
"""

RETURN = r"""
action:
  description: V(revoked), V(cancelled) (O(cancel_pending)) or V(none).
  returned: always
  type: str
  sample: revoked
cert:
  description: The record (without C(private_key)) when the certificate is in Vault.
  returned: when the certificate is in Vault
  type: dict
  sample:
    cert_unique_id: 1042_demo
    status: Revoked
    revoked: {reason: Decommissioned, reason_code: 5, time_stamp: "2026-11-23T07:40:00Z"}
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService, scm_client_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION, diff_for, run_module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import REASON_CODES, public_view
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.revoke import IDENTITIES, RevokeService

ARGUMENT_SPEC = dict(
    config=CONFIG_OPTION,
    name=dict(type="str"),
    cert_unique_id=dict(type="str", aliases=["sectigo_cert_unique_id"]),
    ssl_id=dict(type="int", aliases=["sectigo_ssl_cert_ssl_id"]),
    order_number=dict(type="int", aliases=["sectigo_client_cert_order_number"]),
    serial_number=dict(type="str"),
    reason=dict(type="str", required=True, aliases=["sectigo_reason", "sectigo_revoke_reason"]),
    reason_code=dict(type="str", default="unspecified", choices=list(REASON_CODES) + [str(code) for code in REASON_CODES.values()]),
    cancel_pending=dict(type="bool", default=False),
)


def _run(module, store):
    params = module.params
    config = ConfigService(store).require(params["config"])
    service = RevokeService(store, config, lambda: scm_client_for(config), check_mode=module.check_mode)
    result = service.revoke(reason=params["reason"], reason_code=params["reason_code"], cancel_pending=params["cancel_pending"],
                            **{k: params[k] for k in IDENTITIES})
    out = {"changed": result.changed, "action": result.action}
    if result.record:
        out["cert"] = public_view(result.record)
    out.update(diff_for(module, result.before, result.after))
    return out


def main():
    run_module(ARGUMENT_SPEC, _run, verb="revoke the certificate", mutually_exclusive=[list(IDENTITIES)], required_one_of=[list(IDENTITIES)])


if __name__ == "__main__":
    main()
