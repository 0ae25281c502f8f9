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
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the task can run on the controller.
    support: full
    details:
      - With O(state=present) on the controller (connection C(local), no C(become), no task C(environment), not C(async)),
        a certificate that needs nothing is answered by the action plugin from the same Vault reads, without starting the
        module; anything that would change runs the module. This needs C(requests) and C(cryptography) in the Python that runs Ansible.
  check_mode:
    details: Predicts the action from Vault alone; calls neither SCM nor writes to Vault.
  diff_mode:
    details: Before and after of common name, SANs, status, serial, not_after and key spec; never keys.
options:
  name:
    description:
      - Stable name of the certificate within the config; it follows renewals and replacements. Recommended.
      - Required to enroll or import.
    type: str
  cert_unique_id:
    description: Address a record directly by C(<ssl_id>_<customer_uri>) or C(<order_number>_<customer_uri>).
    type: str
    aliases: [sectigo_cert_unique_id]
  state:
    description:
      - V(present) ensures a valid certificate (see the description).
      - V(renewed) renews now; V(replaced) replaces now (needs O(reason)).
      - V(absent) removes the record and its name from Vault; the SCM order is left untouched.
    type: str
    choices: [present, renewed, replaced, absent]
    default: present
  ssl_id:
    description: Import the existing SCM SSL order with this id (SSL configs).
    type: int
    aliases: [sectigo_ssl_cert_ssl_id]
  order_number:
    description: Import the existing SCM client-certificate order with this number (client configs).
    type: int
    aliases: [sectigo_client_cert_order_number]
  org_id:
    description:
      - SCM organization or department id of a new order; the config's O(sectigo.vault_pki.sectigo_config#module:org_id)
        when omitted. Renewals keep the order's organization.
    type: int
    aliases: [sectigo_cm_org_id]
  common_name:
    description:
      - Subject CN. Required to enroll an SSL certificate unless O(csr) is given.
      - The Vault plugin's enroll name is C(sectigo_csr_domain), its replace name C(sectigo_ssl_cert_common_name).
    type: str
    aliases: [sectigo_csr_domain, sectigo_common_name, sectigo_ssl_cert_common_name]
  country:
    description: Subject C (two letters).
    type: str
    aliases: [sectigo_csr_country]
  province:
    description: Subject ST.
    type: str
    aliases: [sectigo_csr_state]
  locality:
    description: Subject L.
    type: str
    aliases: [sectigo_csr_location]
  organization:
    description: Subject O.
    type: str
    aliases: [sectigo_csr_organization]
  organizational_unit:
    description: Subject OU.
    type: str
    aliases: [sectigo_csr_organization_unit]
  email_address:
    description: Subject emailAddress.
    type: str
    aliases: [sectigo_csr_email_address]
  subject_alt_names:
    description:
      - SANs, as a list or a comma-separated string. Plain names are DNS names, addresses are IP SANs, C(user@host) are
        e-mail SANs; prefixes C(DNS:), C(IP:), C(email:), C(URI:) are also accepted. A DNS common name is always added.
    type: list
    elements: str
    aliases: [sectigo_ssl_cert_subject_alt_names]
  key_algo:
    description: Key algorithm of a generated key. Default V(RSA) for new certificates.
    type: str
    choices: [RSA, EC, ECDSA]
    aliases: [sectigo_csr_key_algo]
  key_size:
    description: Key size; 2048, 3072 or 4096 for RSA (default 2048), 256, 384 or 521 for EC (default 256).
    type: int
    choices: [2048, 3072, 4096, 256, 384, 521]
    aliases: [sectigo_csr_key_size]
  key_curve:
    description: EC curve, an alternative to O(key_size) for EC keys.
    type: str
    choices: [P-256, P-384, P-521]
  csr:
    description: Bring your own PEM CSR instead of a generated one. The record then holds a key only if O(private_key) is given.
    type: str
    aliases: [sectigo_csr]
  private_key:
    description: Bring your own PEM private key; must match O(csr) when both are given.
    type: str
    aliases: [sectigo_private_key]
  rotate_key_on_renew:
    description:
      - Generate a new key for each SSL renewal. Client-certificate renewals keep their key (SCM's S/MIME renew takes
        no CSR); use O(state=replaced) for a new key.
    type: bool
    default: true
  cert_type:
    description: SCM profile id. Default-able in the config; required to enroll.
    type: int
    aliases: [sectigo_ssl_cert_type, sectigo_client_cert_type]
  term:
    description: Validity in days; one of the profile's terms. Default-able; required to enroll.
    type: int
    aliases: [sectigo_ssl_cert_validity, sectigo_client_cert_validity]
  format_type:
    description:
      - SCM collect format. Whatever the format, the record holds the leaf PEM and the chain PEMs.
      - One of V(x509), V(x509CO), V(x509IO), V(base64), V(bin), V(x509IOR), V(x509R), V(pem), V(pemco), V(pemia); the case is
        ignored (the Vault plugin's samples write V(X509)).
      - Default-able; V(x509) when neither the task nor the config sets it.
    type: str
    aliases: [sectigo_ssl_cert_format_type]
  external_requester:
    description: E-mail address(es) of the external requester. Default-able.
    type: str
    aliases: [sectigo_ssl_cert_external_requester]
  comments:
    description:
      - Order comments. Default-able. The collection appends C(vault_pki:<request_id>) so that an order whose answer was
        lost can be found again instead of placed twice.
    type: str
    aliases: [sectigo_ssl_cert_comments]
  num_servers:
    description: Legacy C(numberServers) enroll field. Default-able.
    type: int
    aliases: [sectigo_ssl_cert_num_servers]
  server_type:
    description: Legacy C(serverType) enroll field. Default-able.
    type: int
    aliases: [sectigo_ssl_cert_server_type]
  custom_fields:
    description:
      - SCM custom fields, a list of C({name, value}), or the Vault plugin's JSON text of that list. Default-able.
      - With O(verify_profile), every field SCM marks mandatory for the config's kind must have a value; SCM's list is
        downloaded into Vault once (C(custom_fields/<config>)) and checked before any order.
    type: raw
    aliases: [sectigo_ssl_cert_custom_fields, sectigo_client_cert_custom_fields]
  email:
    description: E-mail address of the client certificate's owner. Required to enroll a client certificate.
    type: str
    aliases: [sectigo_client_cert_email]
  first_name:
    description: Owner's first name (client certificates). First, middle and last name together at most 64 characters.
    type: str
    aliases: [sectigo_client_cert_first_name]
  middle_name:
    description: Owner's middle name (client certificates).
    type: str
    aliases: [sectigo_client_cert_middle_name]
  last_name:
    description: Owner's last name (client certificates).
    type: str
    aliases: [sectigo_client_cert_last_name]
  revoke_on_replace:
    description: Revoke the old client certificate when it is replaced. Default-able; V(false) by default.
    type: bool
    aliases: [sectigo_client_cert_revoked_on_replace, sectigo_client_cert_revoke_on_replace]
  reason:
    description: Reason sent to SCM with a replacement (1 to 512 characters). Required with O(state=replaced).
    type: str
    aliases: [sectigo_reason, sectigo_replace_reason]
  wait:
    description: Wait for issuance. V(false) returns right after the order id is saved. Default-able; V(true) by default.
    type: bool
  max_timeout:
    description: Seconds to wait for issuance. Default-able; 600 by default. V(0) checks once.
    type: int
    aliases: [sectigo_max_timeout]
  loop_period:
    description: Longest gap in seconds between two polls; polling starts at one second and backs off with jitter. Default-able; 30 by default.
    type: int
    aliases: [sectigo_loop_period]
  expiry_window:
    description:
      - Renew this many days before expiry, or a percentage of the lifetime such as V(33%). Default-able; 7 days by default.
      - When the window is not shorter than the certificate's lifetime, one third of the lifetime is used and a warning says so.
    type: str
    aliases: [sectigo_expiry_window]
  auto_renew:
    description: Renew an issued certificate inside O(expiry_window) with O(state=present). Default-able; V(true) by default.
    type: bool
    aliases: [sectigo_auto_renew]
  read_renewed_cert:
    description: When addressed by O(cert_unique_id), follow C(renewed_to) to the newest certificate. Default-able; V(true) by default.
    type: bool
    aliases: [sectigo_read_renewed_cert]
  verify_profile:
    description:
      - Check O(term) and the key against the profile (downloaded into Vault when missing) before placing an order, and
        that O(custom_fields) holds every field SCM marks mandatory. Default-able; V(true) by default.
    type: bool
  return_private_key:
    description:
      - Include the private key in RV(cert). Use with C(no_log) on the task.
      - The same option name as in M(sectigo.vault_pki.sectigo_cert_info); O(include_private_key) is its alias.
    type: bool
    default: false
    aliases: [include_private_key]
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

from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_task import ARGUMENT_SPEC, CONSTRAINTS, task_output
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_module


def run_task(module, store):
    """One certificate: the service decides; this turns its result into the task result."""
    service = CertificateService.for_config(store, module.params["config"], check_mode=module.check_mode)
    out, _result = task_output(service, module.params, diff=module._diff)  # pylint: disable=protected-access
    return out


def main():
    run_module(ARGUMENT_SPEC, run_task, verb="manage the certificate", **CONSTRAINTS)


if __name__ == "__main__":
    main()
