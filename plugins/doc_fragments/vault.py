# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """The Vault options every module and the lookup share (``_vault_options.vault_argspec``).

    ``DOCUMENTATION`` documents them once; ``PLUGINS`` adds the lookup's ``env``, ``ini`` and ``vars``
    sources (``_vault_options.LOOKUP_ENV_AND_INI``, kept in step by a unit test).
    """

    DOCUMENTATION = r"""
options:
  vault_addr:
    description:
      - URL of the Vault (or OpenBao) server, for example V(https://vault.example.com:8200).
      - Required. If not set, the E(VAULT_ADDR) environment variable is used, then E(ANSIBLE_HASHI_VAULT_ADDR).
    type: str
    aliases: [vault_url]
  vault_auth_method:
    description:
      - How to log in to Vault.
      - V(token) uses O(vault_token) and sends no login request; the token is checked when Vault first refuses a request.
      - V(approle) needs O(vault_role_id) and O(vault_secret_id). V(userpass) needs O(vault_username) and O(vault_password).
      - V(jwt) needs O(vault_role) and O(vault_jwt). V(kubernetes) needs O(vault_role) and reads the pod's service-account
        token from C(/var/run/secrets/kubernetes.io/serviceaccount/token) when O(vault_jwt) is not set.
      - V(cert) logs in with the TLS client certificate O(vault_client_cert) and key O(vault_client_key);
        O(vault_role) optionally names the certificate role.
      - If not set, the E(VAULT_AUTH_METHOD) environment variable is used, then E(ANSIBLE_HASHI_VAULT_AUTH_METHOD).
    type: str
    default: token
    choices: [token, approle, userpass, jwt, cert, kubernetes]
  vault_token:
    description:
      - Vault token for O(vault_auth_method=token).
      - If not set, the E(VAULT_TOKEN) environment variable is used, then E(ANSIBLE_HASHI_VAULT_TOKEN).
    type: str
  vault_role_id:
    description:
      - AppRole role ID for O(vault_auth_method=approle).
      - If not set, the E(VAULT_ROLE_ID) environment variable is used, then E(ANSIBLE_HASHI_VAULT_ROLE_ID).
    type: str
  vault_secret_id:
    description:
      - AppRole secret ID for O(vault_auth_method=approle).
      - If not set, the E(VAULT_SECRET_ID) environment variable is used, then E(ANSIBLE_HASHI_VAULT_SECRET_ID).
    type: str
  vault_username:
    description:
      - User name for O(vault_auth_method=userpass).
      - If not set, the E(ANSIBLE_HASHI_VAULT_USERNAME) environment variable is used.
    type: str
  vault_password:
    description:
      - Password for O(vault_auth_method=userpass).
      - If not set, the E(ANSIBLE_HASHI_VAULT_PASSWORD) environment variable is used.
    type: str
  vault_role:
    description:
      - Role to log in as, for O(vault_auth_method=jwt) and O(vault_auth_method=kubernetes) (required there).
      - For O(vault_auth_method=cert), the optional name of the certificate role to match.
    type: str
  vault_jwt:
    description:
      - The JSON Web Token for O(vault_auth_method=jwt) (required there) or O(vault_auth_method=kubernetes).
      - For V(kubernetes), defaults to the content of C(/var/run/secrets/kubernetes.io/serviceaccount/token).
      - If not set, the E(ANSIBLE_HASHI_VAULT_JWT) environment variable is used.
    type: str
  vault_client_cert:
    description:
      - Path to a PEM TLS client certificate presented to Vault. Required for O(vault_auth_method=cert).
      - Also sent with any other auth method when set together with O(vault_client_key) (mutual TLS).
      - If not set, the E(ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY) environment variable is used.
    type: path
  vault_client_key:
    description:
      - Path to the PEM private key of O(vault_client_cert).
      - If not set, the E(ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY) environment variable is used.
    type: path
  vault_auth_mount:
    description:
      - Mount path of the auth method, for an auth method enabled at a non-default path.
      - Defaults to the name of O(vault_auth_method), for example V(approle).
      - Not used by O(vault_auth_method=token).
      - If not set, the E(ANSIBLE_HASHI_VAULT_MOUNT_POINT) environment variable is used.
    type: str
  vault_namespace:
    description:
      - Vault Enterprise namespace (also OpenBao namespaces).
      - Every request, the login included, is made in this namespace (the C(X-Vault-Namespace) header).
      - If not set, the E(VAULT_NAMESPACE) environment variable is used, then E(ANSIBLE_HASHI_VAULT_NAMESPACE).
    type: str
  vault_ca_cert:
    description:
      - Path to a PEM bundle of CA certificates to verify Vault's TLS certificate.
      - If not set, the E(VAULT_CACERT) environment variable is used, then E(ANSIBLE_HASHI_VAULT_CA_CERT); otherwise the system
        trust store is used.
    type: path
  vault_validate_certs:
    description:
      - Verify Vault's TLS certificate. Set to V(false) only for test servers.
      - If not set, the inverse of the E(VAULT_SKIP_VERIFY) environment variable is used (as the Vault CLI and
        community.hashi_vault do); when that is not set either, certificates are verified.
    type: bool
  vault_timeout:
    description:
      - Timeout in seconds of each request to Vault.
      - If not set, the E(ANSIBLE_HASHI_VAULT_TIMEOUT) environment variable is used.
    type: int
    default: 30
  vault_proxies:
    description:
      - Proxy for the requests to Vault. A URL used for both C(http) and C(https), or a dict of URL scheme to proxy URL
        (a string holding a JSON object is read as one).
      - If not set, the E(ANSIBLE_HASHI_VAULT_PROXIES) environment variable is used; otherwise E(HTTP_PROXY),
        E(HTTPS_PROXY), E(ALL_PROXY) and E(NO_PROXY) apply as C(requests) reads them (E(NO_PROXY) may list hosts, domain
        suffixes, C(host:port) and networks such as C(10.0.0.0/8)).
    type: raw
  vault_retries:
    description:
      - How requests to Vault are retried. A number sets how often a failed connection and a read answered with
        HTTP 412, 429 or 5xx are tried again (V(0) turns retries off).
      - A dict (or a string holding a JSON object) sets any of C(total), C(connect), C(status), C(backoff_factor) and
        C(status_forcelist) (urllib3 C(Retry) arguments).
      - Writes are never repeated once they may have reached Vault, whatever this option says.
      - 'When not set: C(total=3), C(connect=2), C(status=3), C(backoff_factor=0.25), statuses 412, 429, 500, 502, 503 and 504.'
      - If not set, the E(ANSIBLE_HASHI_VAULT_RETRIES) environment variable is used.
    type: raw
  kv_mount:
    description:
      - Mount path of the KV version 2 secrets engine that holds the collection's records.
      - Leading and trailing slashes are ignored. A KV version 1 mount is refused with a clear error.
    type: str
    default: secret
  kv_path:
    description:
      - Base path inside O(kv_mount) under which the collection keeps C(configs/), C(certs/), C(names/) and C(profiles/).
      - Leading and trailing slashes are ignored.
    type: str
    default: sectigo-vault-pki
notes:
  - These options are the same for every module of the collection and the P(sectigo.vault_pki.sectigo_cert#lookup) lookup.
    Modules are one action group, so they can be set once with C(module_defaults) for C(group/sectigo.vault_pki.sectigo).
  - See C(docs/vault.md) for the Vault policy the collection needs.
requirements:
  - hvac >= 2.0 (Python library; the Vault client)
  - requests >= 2.28 (Python library; hvac's HTTP library)
"""

    PLUGINS = r"""
options:
  vault_addr:
    env:
      - name: VAULT_ADDR
      - name: ANSIBLE_HASHI_VAULT_ADDR
    ini:
      - section: sectigo_vault_pki
        key: vault_addr
    vars:
      - name: sectigo_vault_addr
  vault_auth_method:
    env:
      - name: VAULT_AUTH_METHOD
      - name: ANSIBLE_HASHI_VAULT_AUTH_METHOD
    ini:
      - section: sectigo_vault_pki
        key: vault_auth_method
    vars:
      - name: sectigo_vault_auth_method
  vault_token:
    env:
      - name: VAULT_TOKEN
      - name: ANSIBLE_HASHI_VAULT_TOKEN
    ini:
      - section: sectigo_vault_pki
        key: vault_token
    vars:
      - name: sectigo_vault_token
  vault_role_id:
    env:
      - name: VAULT_ROLE_ID
      - name: ANSIBLE_HASHI_VAULT_ROLE_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_role_id
    vars:
      - name: sectigo_vault_role_id
  vault_secret_id:
    env:
      - name: VAULT_SECRET_ID
      - name: ANSIBLE_HASHI_VAULT_SECRET_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_secret_id
    vars:
      - name: sectigo_vault_secret_id
  vault_username:
    env:
      - name: ANSIBLE_HASHI_VAULT_USERNAME
    ini:
      - section: sectigo_vault_pki
        key: vault_username
    vars:
      - name: sectigo_vault_username
  vault_password:
    env:
      - name: ANSIBLE_HASHI_VAULT_PASSWORD
    ini:
      - section: sectigo_vault_pki
        key: vault_password
    vars:
      - name: sectigo_vault_password
  vault_role:
    ini:
      - section: sectigo_vault_pki
        key: vault_role
    vars:
      - name: sectigo_vault_role
  vault_jwt:
    env:
      - name: ANSIBLE_HASHI_VAULT_JWT
    ini:
      - section: sectigo_vault_pki
        key: vault_jwt
    vars:
      - name: sectigo_vault_jwt
  vault_client_cert:
    env:
      - name: ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY
    ini:
      - section: sectigo_vault_pki
        key: vault_client_cert
    vars:
      - name: sectigo_vault_client_cert
  vault_client_key:
    env:
      - name: ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY
    ini:
      - section: sectigo_vault_pki
        key: vault_client_key
    vars:
      - name: sectigo_vault_client_key
  vault_auth_mount:
    env:
      - name: ANSIBLE_HASHI_VAULT_MOUNT_POINT
    ini:
      - section: sectigo_vault_pki
        key: vault_auth_mount
    vars:
      - name: sectigo_vault_auth_mount
  vault_namespace:
    env:
      - name: VAULT_NAMESPACE
      - name: ANSIBLE_HASHI_VAULT_NAMESPACE
    ini:
      - section: sectigo_vault_pki
        key: vault_namespace
    vars:
      - name: sectigo_vault_namespace
  vault_ca_cert:
    env:
      - name: VAULT_CACERT
      - name: ANSIBLE_HASHI_VAULT_CA_CERT
    ini:
      - section: sectigo_vault_pki
        key: vault_ca_cert
    vars:
      - name: sectigo_vault_ca_cert
  vault_validate_certs:
    ini:
      - section: sectigo_vault_pki
        key: vault_validate_certs
    vars:
      - name: sectigo_vault_validate_certs
  vault_timeout:
    env:
      - name: ANSIBLE_HASHI_VAULT_TIMEOUT
    ini:
      - section: sectigo_vault_pki
        key: vault_timeout
    vars:
      - name: sectigo_vault_timeout
  vault_proxies:
    env:
      - name: ANSIBLE_HASHI_VAULT_PROXIES
    ini:
      - section: sectigo_vault_pki
        key: vault_proxies
    vars:
      - name: sectigo_vault_proxies
  vault_retries:
    env:
      - name: ANSIBLE_HASHI_VAULT_RETRIES
    ini:
      - section: sectigo_vault_pki
        key: vault_retries
    vars:
      - name: sectigo_vault_retries
  kv_mount:
    ini:
      - section: sectigo_vault_pki
        key: kv_mount
    vars:
      - name: sectigo_kv_mount
  kv_path:
    ini:
      - section: sectigo_vault_pki
        key: kv_path
    vars:
      - name: sectigo_kv_path
"""
