#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_config_info
short_description: Read SCM connection configs kept in Vault
version_added: 0.1.0
description:
  - Lists the configs stored by M(sectigo.vault_pki.sectigo_config), or returns one of them.
  - Reads Vault only; never calls SCM and never returns a password.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.attributes.info_module
  - sectigo.vault_pki.attributes
options:
  name:
    description: Return only this config. Without it, all configs are returned.
    type: str
    aliases: [config_name]
seealso:
  - module: sectigo.vault_pki.sectigo_config
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: List every config
  sectigo.vault_pki.sectigo_config_info:
  register: configs

- name: Read one config
  sectigo.vault_pki.sectigo_config_info:
    name: prod-ssl
  register: prod
"""

RETURN = r"""
configs:
  description: Configs by name, without their secrets (C(password_set), C(client_secret_set) and C(scm_client_key_pem_set)
    say which are stored).
  returned: always
  type: list
  elements: dict
  sample:
    - name: prod-ssl
      config_type: ssl_cert
      customer_uri: example
      login: api-admin
      org_id: 1001
      password_set: true
      client_secret_set: false
      scm_client_key_pem_set: false
names:
  description: Names of the configs returned.
  returned: always
  type: list
  elements: str
  sample: [prod-ssl]
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService, public_config
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_module

ARGUMENT_SPEC = dict(
    name=dict(type="str", aliases=["config_name"]),
)


def _run(module, store):
    service = ConfigService(store)
    name = module.params["name"]
    if name:
        entry = service.get(name, "name")
        if entry is None:
            raise InputError("name", f"config '{name}' does not exist in Vault")
        configs = [public_config(entry)]
    else:
        configs = [public_config(service.get(n)) for n in service.list_names()]
        configs = [c for c in configs if c]
    return {"changed": False, "configs": configs, "names": [c["name"] for c in configs]}


def main():
    run_module(ARGUMENT_SPEC, _run, verb="read SCM configs", need_scm=False)


if __name__ == "__main__":
    main()
