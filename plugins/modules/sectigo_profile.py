#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_profile
short_description: Keep an SCM certificate profile in Vault
version_added: 0.1.0
description:
  - Downloads one SCM certificate profile (terms, key types) into C(profiles/<config>/<profile_id>) in Vault, or removes it.
  - M(sectigo.vault_pki.sectigo_cert) checks term and key against the stored profile before it places an order, and downloads a
    missing profile by itself; this module lets a playbook fetch or refresh profiles up front.
  - A stored profile is not downloaded again unless O(refresh=true), so a re-run calls SCM zero times.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
attributes:
  check_mode:
    details: With O(refresh=true) check mode reads the profile from SCM to compare it; it never writes.
options:
  profile_id:
    description: SCM profile (certificate type) id.
    type: int
    required: true
    aliases: [sectigo_profile_unique_id, cert_type, sectigo_ssl_cert_type, sectigo_client_cert_type]
  state:
    description: Whether the profile should be stored in Vault.
    type: str
    choices: [present, absent]
    default: present
  org_id:
    description: Ask SCM only for the profiles of this organization or department (faster on large accounts). Defaults to the config's O(org_id).
    type: int
    aliases: [sectigo_cm_org_id]
  refresh:
    description: Download the profile again even if it is stored; SCM's custom-field list of the config's kind is downloaded again too.
    type: bool
    default: false
seealso:
  - module: sectigo.vault_pki.sectigo_profile_info
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Store the OV profile
  sectigo.vault_pki.sectigo_profile:
    config: prod-ssl
    profile_id: 101

- name: Refresh it after an SCM administrator changed its terms
  sectigo.vault_pki.sectigo_profile:
    config: prod-ssl
    profile_id: 101
    refresh: true
"""

RETURN = r"""
profile:
  description: The profile as SCM returns it. Empty after O(state=absent).
  returned: always
  type: dict
  sample: {id: 101, name: OV Multi-Domain, terms: [365, 730], keyTypes: {RSA: ["2048", "3072", "4096"], EC: ["P-256"]}}
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_config_module

ARGUMENT_SPEC = dict(
    profile_id=dict(type="int", required=True, aliases=["sectigo_profile_unique_id", "cert_type", "sectigo_ssl_cert_type", "sectigo_client_cert_type"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    org_id=dict(type="int", aliases=["sectigo_cm_org_id"]),
    refresh=dict(type="bool", default=False),
)


def run_task(task):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import kind_for
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import Profiles

    params = task.params
    service = Profiles(task.store, task.config, kind_for(task.config, task.scm_factory), check_mode=task.check_mode)
    before = service.get(params["profile_id"]) or {}
    if params["state"] == "absent":
        changed, _removed = service.ensure_absent(params["profile_id"])
        profile = {}
    else:
        org_id = params["org_id"] if params["org_id"] is not None else task.config.get("org_id")
        changed, profile = service.ensure_present(params["profile_id"], refresh=params["refresh"], org_id=org_id)
        if params["refresh"]:
            service.custom_fields(refresh=True)  # what sectigo_cert checks mandatory custom fields against
    out = {"changed": changed, "profile": profile}
    out.update(task.diff(before, profile))
    return out


def main():
    run_config_module(ARGUMENT_SPEC, run_task, verb="manage the SCM profile")


if __name__ == "__main__":
    main()
