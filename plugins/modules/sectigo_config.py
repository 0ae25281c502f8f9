#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_config
short_description: Manage a Sectigo Certificate Manager connection kept in Vault
version_added: 0.1.0
description:
  - Creates, updates or deletes a named SCM connection (a "config") at C(<kv_mount>/<kv_path>/configs/<name>) in Vault KV v2.
  - The SCM secrets (O(password), O(client_secret), O(scm_client_key_pem)) are stored in Vault and never returned;
    results and diffs show C(password_set), C(client_secret_set) and C(scm_client_key_pem_set) instead.
  - Three SCM logins are supported, see O(scm_auth_method) and C(docs/scm-protocol.md).
  - Certificates, names and profiles live under the config's name; deleting a config leaves them in place.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.attributes
attributes:
  diff_mode:
    details: The diff shows connection fields and defaults, and whether each secret is set; never a secret.
options:
  name:
    description: Name of the config; V([A-Za-z0-9][A-Za-z0-9._-]{0,127}).
    type: str
    required: true
    aliases: [config_name]
  state:
    description: Whether the config should exist.
    type: str
    choices: [present, absent]
    default: present
  config_type:
    description:
      - Kind of certificates the config issues. Required when the config is created.
    type: str
    choices: [ssl_cert, client_cert]
    aliases: [sectigo_config_type]
  base_url:
    description:
      - SCM REST API root, ending in C(/api).
      - Defaults to V(https://cert-manager.com/api) when the config is created, or to the Admin API root
        V(https://admin.enterprise.sectigo.com/api) with O(scm_auth_method=oauth2).
      - Falls back to the E(SECTIGO_CM_BASE_URL) environment variable.
    type: str
    aliases: [sectigo_cm_base_url]
  customer_uri:
    description:
      - Customer URI of the SCM account (the last path segment of the portal's login URL).
      - Required when the config is created. With O(scm_auth_method=oauth2) it is not sent to SCM, but it still names
        the account in every certificate record id (C(cert_unique_id)).
      - Falls back to E(SECTIGO_CM_CUSTOMER_URI).
    type: str
    aliases: [sectigo_cm_customer_uri, sectigo_cm_uri]
  login:
    description:
      - SCM API administrator login. Falls back to E(SECTIGO_CM_USER).
      - Required with O(scm_auth_method=password) and O(scm_auth_method=client_certificate); not used with V(oauth2).
    type: str
    aliases: [sectigo_cm_user]
  password:
    description:
      - SCM API administrator password, stored in Vault. Falls back to E(SECTIGO_CM_PASSWORD).
      - Required with O(scm_auth_method=password) when the config is created.
    type: str
    aliases: [sectigo_cm_password]
  update_password:
    description:
      - V(always) replaces a stored secret (O(password), O(client_secret), O(scm_client_key_pem)) when the task gives a different one;
        V(on_create) sets them only when the config is created.
    type: str
    choices: [always, on_create]
    default: always
  org_id:
    description: SCM organization or department id that orders are placed for. Required when the config is created.
    type: int
    aliases: [sectigo_cm_org_id]
  scm_auth_method:
    description:
      - How to authenticate to SCM. Defaults to V(password) when the config is created.
      - V(password) sends O(login), O(password) and O(customer_uri) as headers.
      - V(client_certificate) presents a TLS client certificate on the C(/private/api) root, with O(login) and O(customer_uri) as headers;
        give the certificate and key as PEM with O(scm_client_cert_pem) and O(scm_client_key_pem) (kept in Vault, so the config is
        self-contained), or as files on the controller with O(scm_client_cert) and O(scm_client_key).
      - V(oauth2) uses the Admin API with OAuth2 client credentials O(client_id) and O(client_secret); a Bearer token is fetched from
        O(scm_token_url) once per task, and once again if SCM refuses it.
    type: str
    choices: [password, client_certificate, oauth2]
  scm_client_cert:
    description: Path (on the controller) of the PEM client certificate for O(scm_auth_method=client_certificate).
    type: path
  scm_client_key:
    description: Path (on the controller) of the PEM key of O(scm_client_cert).
    type: path
  scm_client_cert_pem:
    description:
      - The PEM client certificate (with its chain, if SCM needs it) for O(scm_auth_method=client_certificate), stored in Vault.
      - Takes precedence over O(scm_client_cert).
    type: str
  scm_client_key_pem:
    description:
      - The unencrypted PEM private key of O(scm_client_cert_pem), stored in Vault and never returned (C(scm_client_key_pem_set)).
      - It is written to a file readable only by the user running the task for the moment it is loaded, then removed.
    type: str
  client_id:
    description:
      - OAuth2 client id of the SCM API key for O(scm_auth_method=oauth2). Falls back to E(SECTIGO_CM_CLIENT_ID).
    type: str
  client_secret:
    description:
      - OAuth2 client secret for O(scm_auth_method=oauth2), stored in Vault and never returned (C(client_secret_set)).
      - Falls back to E(SECTIGO_CM_CLIENT_SECRET).
    type: str
  scm_token_url:
    description:
      - The OAuth2 token endpoint for O(scm_auth_method=oauth2).
      - Defaults to V(https://auth.sso.sectigo.com/auth/realms/apiclients/protocol/openid-connect/token) when the config is created.
    type: str
  scm_validate_certs:
    description: Whether to verify SCM's TLS certificate. Defaults to V(true) when the config is created.
    type: bool
  scm_ca_cert:
    description: Path of a CA bundle to verify SCM's TLS certificate with.
    type: path
  verify_connection:
    description:
      - Call SCM with the credentials before saving a change, and fail without saving if SCM refuses them.
      - Works with every O(scm_auth_method); with V(oauth2) it fetches a token, then makes one authenticated call.
    type: bool
    default: false
  defaults:
    description:
      - Defaults for M(sectigo.vault_pki.sectigo_cert) options used by every certificate of this config when a task does not set them.
      - 'Allowed keys: V(cert_type), V(term), V(format_type), V(external_requester), V(comments), V(num_servers), V(server_type),
        V(custom_fields), V(revoke_on_replace), V(wait), V(max_timeout), V(loop_period), V(expiry_window), V(auto_renew),
        V(read_renewed_cert), V(verify_profile), V(renewal_spread) (a config default only: the share of the expiry window over which
        renewal times are spread, 0 to 0.9, default 0.5; C(docs/reporting.md) in the collection describes it).'
      - Each key may also be given by its Vault plugin name (V(sectigo_ssl_cert_type), V(sectigo_client_cert_validity),
        V(sectigo_expiry_window), ...; the collection's C(docs/migrating-from-vault-plugin.md) lists them); it is stored under
        the collection's name. Values are checked by the same rules as the task options before anything is stored.
    type: dict
seealso:
  - module: sectigo.vault_pki.sectigo_config_info
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Store the SCM connection for SSL certificates
  sectigo.vault_pki.sectigo_config:
    name: prod-ssl
    config_type: ssl_cert
    base_url: https://cert-manager.com/api
    customer_uri: example
    login: api-admin
    password: "{{ scm_password }}"
    org_id: 1001
    verify_connection: true
    defaults:
      cert_type: 101
      term: 365
      expiry_window: 30

- name: Store a connection that uses OAuth2 client credentials (SCM Admin API)
  sectigo.vault_pki.sectigo_config:
    name: prod-admin-api
    config_type: ssl_cert
    scm_auth_method: oauth2
    customer_uri: example
    client_id: "{{ scm_client_id }}"
    client_secret: "{{ scm_client_secret }}"
    org_id: 1001
    verify_connection: true

- name: Store a connection that logs in with a client certificate kept in Vault
  sectigo.vault_pki.sectigo_config:
    name: prod-mtls
    config_type: ssl_cert
    scm_auth_method: client_certificate
    customer_uri: example
    login: api-admin
    scm_client_cert_pem: "{{ lookup('ansible.builtin.file', 'scm-api-admin.crt') }}"
    scm_client_key_pem: "{{ scm_client_key_pem }}"
    org_id: 1001

- name: Rotate the stored password
  sectigo.vault_pki.sectigo_config:
    name: prod-ssl
    password: "{{ new_scm_password }}"
    update_password: always

- name: Remove the config (certificates stay in Vault)
  sectigo.vault_pki.sectigo_config:
    name: prod-ssl
    state: absent
"""

RETURN = r"""
config:
  description: The config as stored, without its secrets (flags C(password_set), C(client_secret_set), C(scm_client_key_pem_set)).
    Empty after O(state=absent).
  returned: always
  type: dict
  sample:
    name: prod-ssl
    config_type: ssl_cert
    base_url: https://cert-manager.com/api
    customer_uri: example
    login: api-admin
    org_id: 1001
    scm_auth_method: password
    scm_validate_certs: true
    defaults: {cert_type: 101, term: 365}
    password_set: true
    client_secret_set: false
    scm_client_key_pem_set: false
    updated_at: "2026-11-23T07:40:00Z"
vault_path:
  description: KV v2 path of the entry, relative to O(kv_mount).
  returned: always
  type: str
  sample: sectigo-vault-pki/configs/prod-ssl
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import diff_for, run_module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import CERTIFICATE_TYPES, config_path

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["config_name"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    config_type=dict(type="str", choices=list(CERTIFICATE_TYPES), aliases=["sectigo_config_type"]),
    base_url=dict(type="str", aliases=["sectigo_cm_base_url"], fallback=("env", ["SECTIGO_CM_BASE_URL"])),
    customer_uri=dict(type="str", aliases=["sectigo_cm_customer_uri", "sectigo_cm_uri"], fallback=("env", ["SECTIGO_CM_CUSTOMER_URI"])),
    login=dict(type="str", aliases=["sectigo_cm_user"], fallback=("env", ["SECTIGO_CM_USER"])),
    password=dict(type="str", no_log=True, aliases=["sectigo_cm_password"], fallback=("env", ["SECTIGO_CM_PASSWORD"])),
    update_password=dict(type="str", choices=["always", "on_create"], default="always", no_log=False),
    org_id=dict(type="int", aliases=["sectigo_cm_org_id"]),
    scm_auth_method=dict(type="str", choices=["password", "client_certificate", "oauth2"]),
    scm_client_cert=dict(type="path"),
    scm_client_key=dict(type="path", no_log=False),
    scm_client_cert_pem=dict(type="str"),
    scm_client_key_pem=dict(type="str", no_log=True),
    client_id=dict(type="str", fallback=("env", ["SECTIGO_CM_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=("env", ["SECTIGO_CM_CLIENT_SECRET"])),
    scm_token_url=dict(type="str", no_log=False),
    scm_validate_certs=dict(type="bool"),
    scm_ca_cert=dict(type="path"),
    verify_connection=dict(type="bool", default=False),
    defaults=dict(type="dict"),
)


def _run(module, store):
    params = module.params
    service = ConfigService(store)
    if params["state"] == "absent":
        result = service.ensure_absent(params["name"], check_mode=module.check_mode)
    else:
        result = service.ensure_present(params, update_password=params["update_password"],
                                        verify_connection=params["verify_connection"], check_mode=module.check_mode)
    out = {"changed": result.changed, "config": result.config, "vault_path": f"{store.base_path}/{config_path(params['name'])}"}
    out.update(diff_for(module, result.before, result.after))
    return out


def main():
    run_module(ARGUMENT_SPEC, _run, verb="manage the SCM config")


if __name__ == "__main__":
    main()
