#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_inventory
short_description: List SCM's certificates of one config, import the unknown ones into Vault, sync what changed in SCM
version_added: 0.3.0
description:
  - Lists the certificates Sectigo Certificate Manager (SCM) holds for one config (SSL or client) and marks each as
    known to Vault (a record of its order, or the collection's C(vault_pki:) marker in its comments) or unknown.
    SSL certificates come from one Report API request; client certificates from the list endpoint, page by page.
  - With O(import=true) every unknown, issued certificate is brought into Vault under a name (O(name_template)), with its
    certificate, chain and SCM facts, through the same bounded pool as M(sectigo.vault_pki.sectigo_certs). SCM never
    had the private key, so such a record has none and says so (C(private_key_held=false)). A second run imports none.
  - With O(sync=true) the known records are compared with SCM and what changed outside the collection is recorded -
    revoked (the record becomes C(Revoked)), expired, replaced, renewed (the name follows the new order, C(renewed_from)
    and C(renewed_to) link them) - each with a state-history entry whose C(source) is C(scm). The sync is incremental from
    the last sync's day (kept in Vault under C(<kv_path>/inventory/<config>)), with one day of overlap; O(full=true) compares everything.
  - See the collection's C(docs/inventory.md).
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
attributes:
  check_mode:
    details: Lists and asks SCM as usual; lists what it would import and record, and writes nothing to Vault.
  diff_mode:
    support: none
options:
  import:
    description: Import the unknown issued certificates into Vault.
    type: bool
    default: false
  sync:
    description: Record what changed in SCM outside the collection on the known certificates.
    type: bool
    default: false
  full:
    description: With O(sync), compare every certificate instead of what changed since the last sync's day.
    type: bool
    default: false
  status:
    description: List only certificates with these statuses.
    type: list
    elements: str
    choices: [issued, revoked, expired, requested, any]
    default: [any]
  profile_ids:
    description: List only certificates of these SCM profiles (certificate type ids).
    type: list
    elements: int
    default: []
  organization_ids:
    description: List only certificates of these SCM organizations or departments.
    type: list
    elements: int
    default: []
  common_name:
    description:
      - List only certificates whose common name (client certificates - or e-mail address) matches this shell pattern,
        case-insensitive, e.g. C(*.example.com).
    type: str
  requested_since:
    description: List only certificates requested (client certificates - issued) on or after this day, C(YYYY-MM-DD).
    type: str
  name_template:
    description:
      - The name an imported certificate gets. Placeholders C({common_name}), C({email}), C({id}), C({order_number}),
        C({profile_id}); in their values C(*) becomes C(wildcard), C(@) becomes C(_at_) and any other character a name
        cannot hold C(_).
      - Default C({common_name}) for SSL configs, C({email}) for client configs.
    type: str
  name_collision:
    description:
      - When the name is already taken (in Vault, or by an earlier certificate of the same run).
      - V(suffix) imports it as C(<name>-<order id>); V(skip) leaves it out and lists it in RV(skipped).
    type: str
    choices: [suffix, skip]
    default: suffix
  page_size:
    description: Entries per page of SCM's list endpoint (client certificates), 1 to 200.
    type: int
    default: 200
  concurrency:
    description: Certificates imported at a time, 1 to 64.
    type: int
    default: 8
seealso:
  - module: sectigo.vault_pki.sectigo_certs
  - module: sectigo.vault_pki.sectigo_cert_info
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: See what SCM holds that Vault does not know
  sectigo.vault_pki.sectigo_inventory:
    config: web
  register: inventory

- name: Adopt every issued certificate of the example.com estate
  sectigo.vault_pki.sectigo_inventory:
    config: web
    common_name: "*.example.com"
    import: true

- name: Nightly - record what changed in SCM since the last sync
  sectigo.vault_pki.sectigo_inventory:
    config: web
    sync: true
"""

RETURN = r"""
unknown:
  description: Certificates SCM holds that Vault does not know (public facts only).
  returned: always
  type: list
  elements: dict
  sample: [{id: 10042, status: issued, common_name: www.example.com, serial_number: "5E:0B:...", cert_unique_id: 10042_demo}]
imported:
  description: The certificates imported (in check mode - that would be), each with the C(name) it got; C(failed) and C(msg) when it failed.
  returned: always
  type: list
  elements: dict
skipped:
  description: Unknown certificates not imported because their name was taken (O(name_collision=skip)).
  returned: always
  type: list
  elements: dict
changed_outside:
  description: What the sync found changed in SCM - C(cert_unique_id), C(name), C(change) (revoked, expired, replaced, renewed), C(source=scm).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts - listed, known, known_by_marker, unknown, imported, import_failed, skipped, changed_outside.
  returned: always
  type: dict
scm_requests:
  description: The number of SCM requests the task made.
  returned: always
  type: int
last_sync_day:
  description: The day of the sync before this one (none for a first sync).
  returned: when O(sync=true)
  type: str
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_config_module

ARGUMENT_SPEC = {
    "import": {"type": "bool", "default": False},
    "sync": {"type": "bool", "default": False},
    "full": {"type": "bool", "default": False},
    "status": {"type": "list", "elements": "str", "default": ["any"], "choices": ["issued", "revoked", "expired", "requested", "any"]},
    "profile_ids": {"type": "list", "elements": "int", "default": []},
    "organization_ids": {"type": "list", "elements": "int", "default": []},
    "common_name": {"type": "str"},
    "requested_since": {"type": "str"},
    "name_template": {"type": "str"},
    "name_collision": {"type": "str", "default": "suffix", "choices": ["suffix", "skip"]},
    "page_size": {"type": "int", "default": 200},
    "concurrency": {"type": "int", "default": 8},
}


def request_of(params):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.inventory import InventoryRequest

    return InventoryRequest(
        config=params["config"], do_import=params["import"], sync=params["sync"], full=params["full"], status=params["status"],
        profile_ids=params["profile_ids"], organization_ids=params["organization_ids"], common_name=params["common_name"],
        requested_since=params["requested_since"], name_template=params["name_template"], name_collision=params["name_collision"],
        page_size=params["page_size"], concurrency=params["concurrency"])


def validate(params):
    """The options that need no I/O (the config's name, dates, the name template, the page size, the concurrency), before the
    Vault login."""
    request_of(params).check_options()


def run_task(task):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.inventory import Inventory

    return Inventory(task.store, task.config, task.scm_factory, check_mode=task.check_mode).run(request_of(task.params))


def main():
    run_config_module(ARGUMENT_SPEC, run_task, verb="take the inventory", validate=validate)


if __name__ == "__main__":
    main()
