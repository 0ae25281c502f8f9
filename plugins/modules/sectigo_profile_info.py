#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_profile_info
short_description: Read SCM certificate profiles kept in Vault
version_added: 0.1.0
description:
  - Lists the profiles of a config stored in Vault, or returns one of them. Reads Vault only; never calls SCM.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes.info_module
  - sectigo.vault_pki.attributes
options:
  profile_id:
    description: Return only this profile.
    type: int
    aliases: [sectigo_profile_unique_id, cert_type]
seealso:
  - module: sectigo.vault_pki.sectigo_profile
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Profiles stored for prod-ssl
  sectigo.vault_pki.sectigo_profile_info:
    config: prod-ssl
  register: profiles
"""

RETURN = r"""
profiles:
  description: Stored profiles, by id.
  returned: always
  type: list
  elements: dict
  sample: [{id: 101, name: OV Multi-Domain, terms: [365, 730], keyTypes: {RSA: ["2048"]}}]
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import kind_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION, run_module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import Profiles

ARGUMENT_SPEC = dict(
    config=CONFIG_OPTION,
    profile_id=dict(type="int", aliases=["sectigo_profile_unique_id", "cert_type"]),
)


def _no_scm():
    raise AssertionError("sectigo_profile_info reads Vault only")


def _run(module, store):
    params = module.params
    config = ConfigService(store).require(params["config"])
    service = Profiles(store, config, kind_for(config, _no_scm))
    if params["profile_id"] is not None:
        profile = service.get(params["profile_id"])
        if profile is None:
            raise InputError("profile_id", f"profile {params['profile_id']} is not stored for config '{params['config']}'")
        return {"changed": False, "profiles": [profile]}
    return {"changed": False, "profiles": service.list()}


def main():
    run_module(ARGUMENT_SPEC, _run, verb="read SCM profiles", need_scm=False)


if __name__ == "__main__":
    main()
