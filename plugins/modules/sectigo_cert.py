#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_cert
short_description: Enroll, collect, renew, replace, import or forget a Sectigo certificate kept in Vault
version_added: 0.1.0
description:
  - Keeps one SSL/TLS or client (S/MIME) certificate of Sectigo Certificate Manager (SCM) and its private key, order and
    status history in Vault KV v2 (see the collection's C(docs/vault.md) for the layout).
  - With O(state=present) the task is idempotent. No record yet means enroll (or import when O(ssl_id) or
    O(order_number) is given); a pending order is collected; an issued certificate inside O(expiry_window) is renewed
    when O(auto_renew); a change of subject, SANs or key spec replaces it; a revoked or expired certificate is enrolled
    anew. Otherwise nothing happens and SCM is not called.
  - Drift is judged only on options the task gives (or the config supplies as defaults); an omitted option keeps what
    the record has, so O(config) and O(name) alone read and maintain an existing certificate.
  - Order ids are saved in Vault before polling starts. A certificate not issued within O(max_timeout) fails the task
    with status C(TimeoutStateSaved) and its order id; the next run collects the same order.
  - Two runs started together for the same new name place one SCM order (Vault check-and-set).
  - Options named after the Vault plugin's fields (C(sectigo_csr_domain) and so on) are accepted as aliases, so the
    plugin's sample JSON files work as task arguments.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
  - sectigo.vault_pki.cert_options
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the task can run on the controller.
    support: full
    details:
      - On the controller (connection C(local), no C(become), no task C(environment), not C(async), no task C(timeout)) the
        action plugin runs the task in Ansible's worker process with the module's own code and results, without starting
        a module process. This needs C(hvac), C(requests) and C(cryptography) in the Python that runs Ansible; without
        them, elsewhere, or with O(run_in_worker=false), the module runs the task.
  check_mode:
    details: Predicts the action from Vault alone; calls neither SCM nor writes to Vault.
  diff_mode:
    details: Before and after of common name, SANs, status, serial, not_after and key spec; never keys.
options:
  return_private_key:
    description:
      - Include the private key in RV(cert). Use with C(no_log) on the task.
      - The same option name as in M(sectigo.vault_pki.sectigo_cert_info); O(include_private_key) is its alias.
    type: bool
    default: false
    aliases: [include_private_key]
  run_in_worker:
    description:
      - Where the task runs when the module would run on the controller itself (see the C(action) attribute).
      - V(true) runs it in Ansible's worker process, with the module's own code, results and failures; no module
        process starts, which makes a loop of new certificates several times quicker.
      - V(false) always starts a module process, as for any module.
      - Read by the action plugin only.
    type: bool
    default: true
    version_added: 0.3.0
notes:
  - "Runs on the controller: use C(delegate_to: localhost) or C(hosts: localhost)."
  - Changing O(cert_type) or O(term) of an issued certificate does not trigger a new order; they apply to the next enrollment.
seealso:
  - module: sectigo.vault_pki.sectigo_config
  - plugin: sectigo.vault_pki.sectigo_cert
    plugin_type: lookup
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Ensure a TLS certificate for web01 (enrolls once, then renews inside the window)
  sectigo.vault_pki.sectigo_cert:
    config: prod-ssl
    name: web01
    common_name: web01.example.com
    subject_alt_names: [www.example.com]
    key_algo: EC
    key_size: 256
    cert_type: 101
    term: 365
    expiry_window: 30

- name: Renew now
  sectigo.vault_pki.sectigo_cert:
    config: prod-ssl
    name: web01
    state: renewed

- name: Replace (new key, same SCM order id)
  sectigo.vault_pki.sectigo_cert:
    config: prod-ssl
    name: web01
    state: replaced
    reason: Key rotation after incident 4711

- name: Import an order placed outside Ansible
  sectigo.vault_pki.sectigo_cert:
    config: prod-ssl
    name: legacy-portal
    ssl_id: 655043

- name: Client certificate
  sectigo.vault_pki.sectigo_cert:
    config: prod-smime
    name: alice
    email: alice@example.com
    first_name: Alice
    last_name: Doe
    cert_type: 201
    term: 365

- name: Arguments in the Vault plugin's field names work too
  sectigo.vault_pki.sectigo_cert:
    config: prod-ssl
    name: api
    sectigo_csr_domain: api.example.com
    sectigo_ssl_cert_subject_alt_names: api.example.com,api2.example.com
    sectigo_csr_key_algo: RSA
    sectigo_csr_key_size: "2048"
    sectigo_ssl_cert_type: "101"
    sectigo_ssl_cert_validity: "365"

- name: Forget the certificate in Vault (the SCM order stays)
  sectigo.vault_pki.sectigo_cert:
    config: prod-ssl
    name: web01
    state: absent
"""

RETURN = r"""
action:
  description: What happened.
  returned: always
  type: str
  choices: [none, enrolled, imported, collected, renewed, replaced, deleted, pending]
  sample: enrolled
cert:
  description:
    - The certificate record (see C(docs/vault.md)), without C(private_key) unless O(return_private_key=true).
    - Also returned (with its order id) when the task fails after an order was placed.
  returned: unless O(state=absent)
  type: dict
  contains:
    cert_unique_id:
      description: Id of the record.
      type: str
      sample: 1042_demo
    status:
      description: Requested, Applied, Issued, TimeoutStateSaved, ErrorCode, Renewed or Revoked.
      type: str
      sample: Issued
    certificate:
      description: Leaf certificate PEM.
      type: str
    chain:
      description: Intermediate(s) then root, PEM; the leaf excluded.
      type: list
      elements: str
    serial_number:
      description: Serial, colon-separated upper-case hex as SCM prints it.
      type: str
    not_after:
      description: Expiry, ISO-8601 UTC.
      type: str
      sample: "2027-11-23T07:40:00Z"
    state:
      description: Status history, oldest first.
      type: list
      elements: dict
  sample:
    cert_unique_id: 1042_demo
    name: web01
    config_name: prod-ssl
    certificate_type: ssl_cert
    ssl_id: 1042
    domain: web01.example.com
    subject_alt_names: [web01.example.com, www.example.com]
    key_algo: EC
    key_size: 256
    status: Issued
    not_after: "2027-11-23T07:40:00Z"
days_remaining:
  description: Whole days until C(not_after).
  returned: when the certificate is issued
  type: int
  sample: 364
vault_path:
  description: KV v2 path of the record, relative to O(kv_mount).
  returned: unless O(state=absent)
  type: str
  sample: sectigo-vault-pki/certs/prod-ssl/1042_demo
status:
  description: The record's status when the task fails after an order was placed (for example V(TimeoutStateSaved)).
  returned: failure
  type: str
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_task import ARGUMENT_SPEC, CONSTRAINTS, VERB, run_task as run_cert_task
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_module


def run_task(module, store):
    """One certificate: the same function the action plugin runs in Ansible's worker."""
    return run_cert_task(store, module.params, check_mode=module.check_mode, diff=module._diff)  # pylint: disable=protected-access


def main():
    run_module(ARGUMENT_SPEC, run_task, verb=VERB, **CONSTRAINTS)


if __name__ == "__main__":
    main()
