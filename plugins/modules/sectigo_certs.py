#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_certs
short_description: Ensure many Sectigo certificates of one config in one task (the fleet path)
version_added: 0.2.0
description:
  - The list form of M(sectigo.vault_pki.sectigo_cert), as package modules take a list of names. Each item of
    O(certificates) is decided exactly as a M(sectigo.vault_pki.sectigo_cert) task with the same options would be
    (claimed in Vault, ordered once, persisted before polling, reconciled when an answer was lost), in one module
    process instead of one per certificate.
  - Options given at the top level apply to every item that does not set them itself; then the config's C(defaults)
    apply, then the built-in defaults.
  - Per item and at the top level, an option takes the same values as in M(sectigo.vault_pki.sectigo_cert), and the
    same names of the Vault plugin's fields (C(sectigo_csr_domain) and so on) as aliases.
  - At most O(concurrency) certificates are worked on at a time. Orders waiting for issuance do not hold a worker
    each; one polling loop checks every pending order, so the waits overlap. One O(max_timeout) bounds the whole task.
  - One result per item in RV(certificates), in the order of O(certificates). A failed item is reported there with
    its message and does not stop the others; the task fails when any item failed, after all items were handled.
  - See the collection's C(docs/lifecycle.md), "The fleet path", for when to prefer it to a loop of
    M(sectigo.vault_pki.sectigo_cert).
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
attributes:
  check_mode:
    details: Predicts each item's action from Vault alone; calls neither SCM nor writes to Vault.
  diff_mode:
    details: One diff per changed item (common name, SANs, status, serial, not_after and key spec; never keys).
options:
  certificates:
    description:
      - The certificates, one dict each. Any option of M(sectigo.vault_pki.sectigo_cert) listed here may be set per item.
      - At least one of O(certificates) and O(names) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description: Stable name of the certificate within the config.
        type: str
        required: true
      state:
        description: As M(sectigo.vault_pki.sectigo_cert)'s; defaults to the top-level O(state).
        type: str
        choices: [present, renewed, replaced, absent]
      common_name:
        description: Subject CN. Required to enroll an SSL certificate unless O(certificates[].csr) is given.
        type: str
        aliases: [sectigo_csr_domain, sectigo_common_name, sectigo_ssl_cert_common_name]
      subject_alt_names:
        description: SANs, as in M(sectigo.vault_pki.sectigo_cert).
        type: list
        elements: str
        aliases: [sectigo_ssl_cert_subject_alt_names]
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
      key_algo:
        description: Key algorithm of a generated key.
        type: str
        choices: [RSA, EC, ECDSA]
        aliases: [sectigo_csr_key_algo]
      key_size:
        description: Key size.
        type: int
        choices: [2048, 3072, 4096, 256, 384, 521]
        aliases: [sectigo_csr_key_size]
      key_curve:
        description: EC curve.
        type: str
        choices: [P-256, P-384, P-521]
      csr:
        description: Bring your own PEM CSR.
        type: str
        aliases: [sectigo_csr]
      private_key:
        description: Bring your own PEM private key.
        type: str
        aliases: [sectigo_private_key]
      ssl_id:
        description: Import the existing SCM SSL order with this id.
        type: int
        aliases: [sectigo_ssl_cert_ssl_id]
      order_number:
        description: Import the existing SCM client-certificate order with this number.
        type: int
        aliases: [sectigo_client_cert_order_number]
      cert_type:
        description: SCM profile id.
        type: int
        aliases: [sectigo_ssl_cert_type, sectigo_client_cert_type]
      term:
        description: Validity in days.
        type: int
        aliases: [sectigo_ssl_cert_validity, sectigo_client_cert_validity]
      org_id:
        description: SCM organization or department id of this certificate's new order.
        type: int
        aliases: [sectigo_cm_org_id]
      comments:
        description: Order comments.
        type: str
        aliases: [sectigo_ssl_cert_comments]
      external_requester:
        description: E-mail address(es) of the external requester.
        type: str
        aliases: [sectigo_ssl_cert_external_requester]
      custom_fields:
        description: SCM custom fields, a list of C({name, value}), or the Vault plugin's JSON text of that list.
        type: raw
        aliases: [sectigo_ssl_cert_custom_fields, sectigo_client_cert_custom_fields]
      email:
        description: E-mail of a client certificate.
        type: str
        aliases: [sectigo_client_cert_email]
      first_name:
        description: First name of a client certificate.
        type: str
        aliases: [sectigo_client_cert_first_name]
      middle_name:
        description: Middle name of a client certificate.
        type: str
        aliases: [sectigo_client_cert_middle_name]
      last_name:
        description: Last name of a client certificate.
        type: str
        aliases: [sectigo_client_cert_last_name]
      reason:
        description: Reason of a replacement.
        type: str
        aliases: [sectigo_reason, sectigo_replace_reason]
      expiry_window:
        description: Renewal window in days or as a percentage of the lifetime.
        type: str
        aliases: [sectigo_expiry_window]
      auto_renew:
        description: Renew inside the window.
        type: bool
        aliases: [sectigo_auto_renew]
      replace_revoked_outside:
        description: As the top-level O(replace_revoked_outside), for this certificate.
        type: bool
  names:
    description:
      - Names of certificates that need no option of their own, each one item C({name}) after those of O(certificates);
        for example every name that M(sectigo.vault_pki.sectigo_cert_info) lists, to collect pending orders and renew
        inside the window (the C(name)-only form of M(sectigo.vault_pki.sectigo_cert)).
    type: list
    elements: str
  state:
    description: The state of every item that does not set its own; see M(sectigo.vault_pki.sectigo_cert).
    type: str
    choices: [present, renewed, replaced, absent]
    default: present
  concurrency:
    description:
      - How many certificates are worked on at a time (key generation, Vault reads and writes, SCM orders and checks).
      - Pending orders do not take a worker while they wait. 1 to 64.
    type: int
    default: 8
  max_timeout:
    description:
      - Seconds the whole task may wait for issuance, counted from its start. An order not issued by then is saved with
        status C(TimeoutStateSaved) (its item fails; the next run collects the same order); an item not started by then
        fails without ordering anything.
      - Default the config's default, else 600.
    type: int
    aliases: [sectigo_max_timeout]
  loop_period:
    description: Longest pause between two checks of one pending order, in seconds. Default-able in the config.
    type: int
    aliases: [sectigo_loop_period]
  wait:
    description: Wait for issuance. With V(false) every order is saved with action C(pending) and not collected.
    type: bool
  return_private_key:
    description:
      - Include each item's private key in its RV(certificates[].cert). Never shown in a diff.
      - O(include_private_key) is its alias, as in M(sectigo.vault_pki.sectigo_cert).
    type: bool
    default: false
    aliases: [include_private_key]
  country:
    description: Subject C of every item that does not set it.
    type: str
    aliases: [sectigo_csr_country]
  province:
    description: Subject ST of every item that does not set it.
    type: str
    aliases: [sectigo_csr_state]
  locality:
    description: Subject L of every item that does not set it.
    type: str
    aliases: [sectigo_csr_location]
  organization:
    description: Subject O of every item that does not set it.
    type: str
    aliases: [sectigo_csr_organization]
  organizational_unit:
    description: Subject OU of every item that does not set it.
    type: str
    aliases: [sectigo_csr_organization_unit]
  key_algo:
    description: Key algorithm of every item that does not set it.
    type: str
    choices: [RSA, EC, ECDSA]
    aliases: [sectigo_csr_key_algo]
  key_size:
    description: Key size of every item that does not set it.
    type: int
    choices: [2048, 3072, 4096, 256, 384, 521]
    aliases: [sectigo_csr_key_size]
  key_curve:
    description: EC curve of every item that does not set it.
    type: str
    choices: [P-256, P-384, P-521]
  rotate_key_on_renew:
    description: Generate a new key for each SSL renewal.
    type: bool
    default: true
  cert_type:
    description: SCM profile id of every item that does not set it.
    type: int
    aliases: [sectigo_ssl_cert_type, sectigo_client_cert_type]
  term:
    description: Validity in days of every item that does not set it.
    type: int
    aliases: [sectigo_ssl_cert_validity, sectigo_client_cert_validity]
  org_id:
    description:
      - SCM organization or department id of the new orders of every item that does not set it; the config's
        O(sectigo.vault_pki.sectigo_config#module:org_id) when omitted. Renewals keep the order's organization.
    type: int
    aliases: [sectigo_cm_org_id]
  format_type:
    description:
      - SCM collect format, one of V(x509), V(x509CO), V(x509IO), V(base64), V(bin), V(x509IOR), V(x509R), V(pem), V(pemco),
        V(pemia) (any case, as in M(sectigo.vault_pki.sectigo_cert)).
    type: str
    aliases: [sectigo_ssl_cert_format_type]
  external_requester:
    description: External requester of every item that does not set it.
    type: str
    aliases: [sectigo_ssl_cert_external_requester]
  comments:
    description: Order comments of every item that does not set them.
    type: str
    aliases: [sectigo_ssl_cert_comments]
  num_servers:
    description: SCM's number of servers.
    type: int
    aliases: [sectigo_ssl_cert_num_servers]
  server_type:
    description: SCM's server type.
    type: int
    aliases: [sectigo_ssl_cert_server_type]
  custom_fields:
    description:
      - SCM custom fields of every item that does not set them, a list of C({name, value}), or the Vault plugin's JSON
        text of that list.
    type: raw
    aliases: [sectigo_ssl_cert_custom_fields, sectigo_client_cert_custom_fields]
  revoke_on_replace:
    description: Revoke a replaced client certificate.
    type: bool
    aliases: [sectigo_client_cert_revoked_on_replace, sectigo_client_cert_revoke_on_replace]
  reason:
    description: Reason of every replacement that does not give one.
    type: str
    aliases: [sectigo_reason, sectigo_replace_reason]
  expiry_window:
    description: Renewal window of every item that does not set it.
    type: str
    aliases: [sectigo_expiry_window]
  auto_renew:
    description: Renew inside the window.
    type: bool
    aliases: [sectigo_auto_renew]
  replace_revoked_outside:
    description:
      - When the name's certificate was revoked in SCM outside the collection (seen by
        M(sectigo.vault_pki.sectigo_inventory)'s sync), enroll a new one with O(state=present). Without it such a task
        fails naming the certificate and what happened, and orders nothing.
    type: bool
  verify_profile:
    description: Check term and key against the SCM profile before each order.
    type: bool
seealso:
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Ensure one certificate per host name, eight at a time, within ten minutes
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    key_algo: EC
    cert_type: 101
    term: 365
    concurrency: 8
    max_timeout: 600
    certificates: "{{ fleet_names | map('community.general.dict_kv', 'name') | list }}"
  register: fleet

- name: The same, with names and common names side by side
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    certificates:
      - name: web01
        common_name: web01.example.com
        subject_alt_names: [www.example.com]
      - name: api
        common_name: api.example.com
        key_algo: RSA
        key_size: 3072

- name: Maintain every certificate of a config (collect pending orders, renew inside the window)
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    names: "{{ (listing.certificates | map(attribute='name') | list) }}"

- name: Show the items that failed without hiding the others
  ansible.builtin.debug:
    msg: "{{ fleet.certificates | selectattr('failed') | map(attribute='msg') | list }}"
  when: fleet is failed
"""

RETURN = r"""
certificates:
  description: One result per item of O(certificates), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The item's name.
      type: str
      sample: web01
    changed:
      description: Whether this item changed.
      type: bool
    failed:
      description: Whether this item failed.
      type: bool
    action:
      description: What was done, as M(sectigo.vault_pki.sectigo_cert)'s RV(sectigo.vault_pki.sectigo_cert#module:action).
      type: str
      returned: unless the item failed
      sample: enrolled
    msg:
      description: Why the item failed.
      type: str
      returned: when the item failed
    status:
      description: The record's status when the item failed after an order was placed (for example V(TimeoutStateSaved)).
      type: str
      returned: when known
    cert:
      description: The record, as M(sectigo.vault_pki.sectigo_cert) returns it (no key unless O(return_private_key)).
      type: dict
      returned: when there is a record
    vault_path:
      description: KV v2 path of the record.
      type: str
      returned: when there is a record
    days_remaining:
      description: Whole days until C(not_after).
      type: int
      returned: when the certificate is issued
    warnings:
      description: Warnings about this item (also shown as task warnings).
      type: list
      elements: str
      returned: when there are some
summary:
  description: How many items ended how.
  returned: always
  type: dict
  sample: {total: 200, changed: 200, failed: 0, actions: {enrolled: 200}}
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import cert_options
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION, failure_fields, run_module

# Both option sets are sectigo_cert's certificate options (CERT_OPTIONS, one table for the three argspecs: the
# same types, choices and Vault plugin names), less those that have no place there.

# Not per item: an item is addressed by its name (no cert_unique_id, so no read_renewed_cert); the batch has one
# polling loop and one deadline (wait, max_timeout, loop_period); the rest are set for the whole task only.
NOT_PER_ITEM = ("cert_unique_id", "read_renewed_cert", "wait", "max_timeout", "loop_period", "rotate_key_on_renew",
                "format_type", "num_servers", "server_type", "revoke_on_replace", "verify_profile")
# Not shared: what names one certificate (its name, identity, subject name, SANs, key, CSR or existing order).
NOT_SHARED = ("name", "cert_unique_id", "read_renewed_cert", "ssl_id", "order_number", "common_name", "email_address",
              "subject_alt_names", "csr", "private_key", "email", "first_name", "middle_name", "last_name")

# Options of one certificate (an item of ``certificates``). No defaults: what an item does not set comes from the
# top level (SHARED_SPEC), then the config's defaults, then the built-in ones.
ITEM_SPEC = cert_options(NOT_PER_ITEM, defaults=False, required=("name",))

# Options that apply to every item that does not set them.
SHARED_SPEC = cert_options(NOT_SHARED)

ARGUMENT_SPEC = dict(
    SHARED_SPEC,
    config=CONFIG_OPTION,
    certificates=dict(type="list", elements="dict", options=ITEM_SPEC),
    names=dict(type="list", elements="str"),
    concurrency=dict(type="int", default=8),
    return_private_key=dict(type="bool", default=False, aliases=["include_private_key"]),
)


def item_result(outcome, include_private_key, diff):
    """The result of one item: what sectigo_cert would return, plus its name, or its failure."""
    out = {"name": outcome.name, "changed": False, "failed": False}
    if outcome.error is not None:
        try:
            fields = failure_fields(outcome.error, f"ensure certificate '{outcome.name}'")
        except Exception:  # pylint: disable=broad-exception-caught
            fields = {"msg": f"Failed to ensure certificate '{outcome.name}': {type(outcome.error).__name__}: {outcome.error}"}
        out.update(fields)
        out["failed"] = True
    else:
        out.update(outcome.service.task_result(outcome.result, include_private_key=include_private_key))
        if diff and outcome.result.changed:
            out["diff"] = {"before_header": outcome.name, "after_header": outcome.name,
                           "before": outcome.result.before, "after": outcome.result.after}
    if outcome.warnings:
        out["warnings"] = list(outcome.warnings)
    return out


def run_task(module, store):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _config_service
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import MAX_CONCURRENCY, Fleet, build_requests

    params = module.params
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg=f"concurrency must be from 1 to {MAX_CONCURRENCY}; got {params['concurrency']}", field="concurrency")
    config = _config_service.ConfigService(store).require(params["config"])
    fleet = Fleet(store, config, lambda: _config_service.scm_client_for(config), concurrency=params["concurrency"],
                  max_timeout=params["max_timeout"], check_mode=module.check_mode)
    shared = {key: params[key] for key in SHARED_SPEC}
    shared["config"] = params["config"]
    items = list(params["certificates"] or []) + [{"name": name} for name in params["names"] or []]
    outcomes = fleet.run(build_requests(items, shared))

    diff = bool(module._diff)  # pylint: disable=protected-access
    items = [item_result(o, params["return_private_key"], diff) for o in outcomes]
    actions = {}
    for item in items:
        if not item["failed"]:
            actions[item["action"]] = actions.get(item["action"], 0) + 1
    failed = [item["name"] for item in items if item["failed"]]
    out = {"changed": any(item["changed"] for item in items), "certificates": items,
           "summary": {"total": len(items), "changed": sum(1 for i in items if i["changed"]), "failed": len(failed), "actions": actions},
           "warnings": [f"{item['name']}: {w}" for item in items for w in item.get("warnings", [])]}
    diffs = [item.pop("diff") for item in items if "diff" in item]
    if diff:
        out["diff"] = diffs
    if failed:
        shown = ", ".join(str(n) for n in failed[:10]) + (", ..." if len(failed) > 10 else "")
        out["failed_msg"] = f"Failed to ensure {len(failed)} of {len(items)} certificates: {shown} (see certificates[].msg)"
    return out


def main():
    run_module(ARGUMENT_SPEC, run_task, verb="ensure the certificates", required_one_of=[("certificates", "names")])


if __name__ == "__main__":
    main()
