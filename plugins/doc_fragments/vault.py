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
    aliases: [vault_url, url]
  vault_auth_method:
    description:
      - How to log in to Vault; the names are community.hashi_vault's. C(docs/vault.md) has a section for each.
      - V(token) uses O(vault_token), else the token in O(vault_token_path)/O(vault_token_file); it sends no login request
        (the token is checked when Vault first refuses a request).
      - V(userpass) and V(ldap) need O(vault_username) and O(vault_password).
      - V(approle) needs O(vault_role_id), and O(vault_secret_id) unless the role does not ask for one.
      - V(aws_iam) signs an C(sts:GetCallerIdentity) request with O(vault_aws_access_key) and O(vault_aws_secret_key), or with the
        credentials boto3 finds (O(vault_aws_profile), the environment, an instance role); O(vault_role) names the Vault role.
      - V(azure) needs O(vault_role) and a token of the machine's managed identity or a service principal (O(vault_jwt), else
        fetched with azure-identity, see O(vault_azure_client_id)).
      - V(jwt) needs O(vault_role) and O(vault_jwt). V(kubernetes) needs O(vault_role) and reads the pod's service-account
        token from O(vault_kubernetes_token_path) when O(vault_jwt) is not set.
      - V(cert) logs in with the TLS client certificate O(vault_client_cert) and key O(vault_client_key);
        O(vault_role) optionally names the certificate role.
      - V(none) sends no token at all (for a Vault agent or proxy that adds one).
      - For V(jwt), V(kubernetes), V(cert), V(aws_iam) and V(azure), O(vault_role_id) names the role when O(vault_role) is not set,
        as community.hashi_vault's C(role_id) does.
      - If not set, the E(VAULT_AUTH_METHOD) environment variable is used, then E(ANSIBLE_HASHI_VAULT_AUTH_METHOD).
    type: str
    default: token
    choices: [token, userpass, ldap, approle, aws_iam, azure, jwt, cert, kubernetes, none]
    aliases: [auth_method]
  vault_auth_mount:
    description:
      - Mount path of the login method, for a method enabled at a non-default path.
      - Defaults to the name of O(vault_auth_method), for example V(approle); V(aws) for O(vault_auth_method=aws_iam).
      - Not used by O(vault_auth_method=token) and O(vault_auth_method=none).
      - If not set, the E(ANSIBLE_HASHI_VAULT_MOUNT_POINT) environment variable is used.
    type: str
    aliases: [mount_point]
  vault_token:
    description:
      - Vault token for O(vault_auth_method=token).
      - If not set, the E(VAULT_TOKEN) environment variable is used, then E(ANSIBLE_HASHI_VAULT_TOKEN), then the token file
        (O(vault_token_path), O(vault_token_file)).
    type: str
    aliases: [token]
  vault_token_path:
    description:
      - Directory of the token file read by O(vault_auth_method=token) when no O(vault_token) is set. Defaults to the home directory.
      - If not set, the E(ANSIBLE_HASHI_VAULT_TOKEN_PATH) environment variable is used.
    type: path
    aliases: [token_path]
  vault_token_file:
    description:
      - Name of the token file in O(vault_token_path) (the Vault CLI keeps its token in C(~/.vault-token)).
      - If not set, the E(ANSIBLE_HASHI_VAULT_TOKEN_FILE) environment variable is used.
    type: str
    default: .vault-token
    aliases: [token_file]
  vault_role_id:
    description:
      - AppRole role ID for O(vault_auth_method=approle).
      - For V(jwt), V(kubernetes), V(cert), V(aws_iam) and V(azure), the role's name when O(vault_role) is not set.
      - If not set, the E(VAULT_ROLE_ID) environment variable is used, then E(ANSIBLE_HASHI_VAULT_ROLE_ID).
    type: str
    aliases: [role_id]
  vault_secret_id:
    description:
      - AppRole secret ID for O(vault_auth_method=approle).
      - If not set, the E(VAULT_SECRET_ID) environment variable is used, then E(ANSIBLE_HASHI_VAULT_SECRET_ID).
    type: str
    aliases: [secret_id]
  vault_username:
    description:
      - User name for O(vault_auth_method=userpass) and O(vault_auth_method=ldap).
      - If not set, the E(ANSIBLE_HASHI_VAULT_USERNAME) environment variable is used.
    type: str
    aliases: [username]
  vault_password:
    description:
      - Password for O(vault_auth_method=userpass) and O(vault_auth_method=ldap).
      - If not set, the E(ANSIBLE_HASHI_VAULT_PASSWORD) environment variable is used.
      - community.hashi_vault's name C(password) is not an alias here, because P(sectigo.vault_pki.sectigo_config#module) has
        an option C(password) of its own (SCM's).
    type: str
  vault_role:
    description:
      - Role to log in as, for O(vault_auth_method=jwt), V(kubernetes) and V(azure) (required there) and V(aws_iam).
      - For O(vault_auth_method=cert), the optional name of the certificate role to match.
      - When not set, O(vault_role_id) is used for these methods.
    type: str
  vault_jwt:
    description:
      - The JSON Web Token for O(vault_auth_method=jwt) (required there), V(kubernetes) or V(azure).
      - For V(kubernetes), defaults to the content of O(vault_kubernetes_token_path); for V(azure), to a token from azure-identity.
      - If not set, the E(ANSIBLE_HASHI_VAULT_JWT) environment variable is used, then E(ANSIBLE_HASHI_VAULT_KUBERNETES_TOKEN).
    type: str
    aliases: [jwt, kubernetes_token]
  vault_kubernetes_token_path:
    description:
      - File with the service-account token for O(vault_auth_method=kubernetes) when O(vault_jwt) is not set.
      - Defaults to C(/var/run/secrets/kubernetes.io/serviceaccount/token).
      - If not set, the E(ANSIBLE_HASHI_VAULT_KUBERNETES_TOKEN_PATH) environment variable is used.
    type: path
    aliases: [kubernetes_token_path]
  vault_client_cert:
    description:
      - Path to a PEM TLS client certificate presented to Vault. Required for O(vault_auth_method=cert).
      - Also sent with any other login method when set together with O(vault_client_key) (mutual TLS).
      - If not set, the E(ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY) environment variable is used.
    type: path
    aliases: [cert_auth_public_key]
  vault_client_key:
    description:
      - Path to the PEM private key of O(vault_client_cert).
      - If not set, the E(ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY) environment variable is used.
    type: path
    aliases: [cert_auth_private_key]
  vault_aws_profile:
    description:
      - AWS profile whose credentials O(vault_auth_method=aws_iam) uses when O(vault_aws_access_key) is not set (needs boto3).
      - If not set, the E(AWS_DEFAULT_PROFILE) environment variable is used, then E(AWS_PROFILE).
    type: str
    aliases: [aws_profile, boto_profile]
  vault_aws_access_key:
    description:
      - AWS access key ID for O(vault_auth_method=aws_iam).
      - If not set, the E(EC2_ACCESS_KEY) environment variable is used, then E(AWS_ACCESS_KEY), then E(AWS_ACCESS_KEY_ID).
    type: str
    aliases: [aws_access_key, aws_access_key_id]
  vault_aws_secret_key:
    description:
      - AWS secret access key of O(vault_aws_access_key). It signs the request; it is never sent.
      - If not set, the E(EC2_SECRET_KEY) environment variable is used, then E(AWS_SECRET_KEY), then E(AWS_SECRET_ACCESS_KEY).
    type: str
    aliases: [aws_secret_key, aws_secret_access_key]
  vault_aws_security_token:
    description:
      - AWS session token, for temporary credentials.
      - If not set, the E(EC2_SECURITY_TOKEN) environment variable is used, then E(AWS_SESSION_TOKEN), then E(AWS_SECURITY_TOKEN).
    type: str
    aliases: [aws_security_token]
  vault_aws_region:
    description:
      - AWS region the C(sts:GetCallerIdentity) request is signed for; V(us-east-1) when not set.
      - If not set, the E(EC2_REGION) environment variable is used, then E(AWS_REGION).
    type: str
    aliases: [region]
  vault_aws_iam_server_id:
    description:
      - Value of the C(X-Vault-AWS-IAM-Server-ID) header, when Vault's aws auth asks for one.
      - If not set, the E(ANSIBLE_HASHI_VAULT_AWS_IAM_SERVER_ID) environment variable is used.
    type: str
    aliases: [aws_iam_server_id]
  vault_azure_tenant_id:
    description:
      - Azure tenant (directory) ID of the service principal; required with O(vault_azure_client_secret).
      - If not set, the E(ANSIBLE_HASHI_VAULT_AZURE_TENANT_ID) environment variable is used.
    type: str
    aliases: [azure_tenant_id]
  vault_azure_client_id:
    description:
      - Client (application) ID of the service principal or of a user-assigned managed identity.
        Without it, the system-assigned managed identity is used.
      - If not set, the E(ANSIBLE_HASHI_VAULT_AZURE_CLIENT_ID) environment variable is used.
    type: str
    aliases: [azure_client_id]
  vault_azure_client_secret:
    description:
      - Client secret of the service principal.
      - If not set, the E(ANSIBLE_HASHI_VAULT_AZURE_CLIENT_SECRET) environment variable is used.
    type: str
    aliases: [azure_client_secret]
  vault_azure_resource:
    description:
      - Resource the Azure token is asked for; it must be the resource Vault's azure auth is configured with.
      - If not set, the E(ANSIBLE_HASHI_VAULT_AZURE_RESOURCE) environment variable is used.
    type: str
    default: https://management.azure.com/
    aliases: [azure_resource]
  vault_namespace:
    description:
      - Vault Enterprise namespace (also OpenBao namespaces).
      - Every request, the login included, is made in this namespace (the C(X-Vault-Namespace) header).
      - If not set, the E(VAULT_NAMESPACE) environment variable is used, then E(ANSIBLE_HASHI_VAULT_NAMESPACE).
    type: str
    aliases: [namespace]
  vault_ca_cert:
    description:
      - Path to a PEM bundle of CA certificates to verify Vault's TLS certificate.
      - If not set, the E(VAULT_CACERT) environment variable is used, then E(ANSIBLE_HASHI_VAULT_CA_CERT); otherwise the system
        trust store is used.
    type: path
    aliases: [ca_cert, cacert]
  vault_validate_certs:
    description:
      - Verify Vault's TLS certificate. Set to V(false) only for test servers.
      - If not set, the inverse of the E(VAULT_SKIP_VERIFY) environment variable is used (as the Vault CLI and
        community.hashi_vault do); when that is not set either, certificates are verified.
    type: bool
    aliases: [validate_certs]
  vault_timeout:
    description:
      - Timeout in seconds of each request to Vault.
      - If not set, the E(ANSIBLE_HASHI_VAULT_TIMEOUT) environment variable is used.
    type: int
    default: 30
    aliases: [timeout]
  vault_proxies:
    description:
      - Proxy for the requests to Vault. A URL used for both C(http) and C(https), or a dict of URL scheme to proxy URL
        (a string holding a JSON object is read as one).
      - If not set, the E(ANSIBLE_HASHI_VAULT_PROXIES) environment variable is used; otherwise E(HTTP_PROXY),
        E(HTTPS_PROXY), E(ALL_PROXY) and E(NO_PROXY) apply as C(requests) reads them (E(NO_PROXY) may list hosts, domain
        suffixes, C(host:port) and networks such as C(10.0.0.0/8)).
    type: raw
    aliases: [proxies]
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
    aliases: [retries]
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
  - hvac >= 2.0 (Python library; the Vault client, for every O(vault_auth_method))
  - requests >= 2.28 (Python library; hvac's HTTP library)
  - boto3 (Python library), for O(vault_auth_method=aws_iam) without O(vault_aws_access_key) and O(vault_aws_secret_key) only
  - azure-identity (Python library), for O(vault_auth_method=azure) without O(vault_jwt) only
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
      - section: hashi_vault_collection
        key: url
    vars:
      - name: sectigo_vault_addr
      - name: ansible_hashi_vault_url
  vault_auth_method:
    env:
      - name: VAULT_AUTH_METHOD
      - name: ANSIBLE_HASHI_VAULT_AUTH_METHOD
    ini:
      - section: sectigo_vault_pki
        key: vault_auth_method
      - section: hashi_vault_collection
        key: auth_method
    vars:
      - name: sectigo_vault_auth_method
      - name: ansible_hashi_vault_auth_method
  vault_auth_mount:
    env:
      - name: ANSIBLE_HASHI_VAULT_MOUNT_POINT
    ini:
      - section: sectigo_vault_pki
        key: vault_auth_mount
      - section: hashi_vault_collection
        key: mount_point
    vars:
      - name: sectigo_vault_auth_mount
      - name: ansible_hashi_vault_mount_point
  vault_token:
    env:
      - name: VAULT_TOKEN
      - name: ANSIBLE_HASHI_VAULT_TOKEN
    ini:
      - section: sectigo_vault_pki
        key: vault_token
    vars:
      - name: sectigo_vault_token
      - name: ansible_hashi_vault_token
  vault_token_path:
    env:
      - name: ANSIBLE_HASHI_VAULT_TOKEN_PATH
    ini:
      - section: sectigo_vault_pki
        key: vault_token_path
      - section: hashi_vault_collection
        key: token_path
    vars:
      - name: sectigo_vault_token_path
      - name: ansible_hashi_vault_token_path
  vault_token_file:
    env:
      - name: ANSIBLE_HASHI_VAULT_TOKEN_FILE
    ini:
      - section: sectigo_vault_pki
        key: vault_token_file
      - section: hashi_vault_collection
        key: token_file
    vars:
      - name: sectigo_vault_token_file
      - name: ansible_hashi_vault_token_file
  vault_role_id:
    env:
      - name: VAULT_ROLE_ID
      - name: ANSIBLE_HASHI_VAULT_ROLE_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_role_id
      - section: hashi_vault_collection
        key: role_id
    vars:
      - name: sectigo_vault_role_id
      - name: ansible_hashi_vault_role_id
  vault_secret_id:
    env:
      - name: VAULT_SECRET_ID
      - name: ANSIBLE_HASHI_VAULT_SECRET_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_secret_id
    vars:
      - name: sectigo_vault_secret_id
      - name: ansible_hashi_vault_secret_id
  vault_username:
    env:
      - name: ANSIBLE_HASHI_VAULT_USERNAME
    ini:
      - section: sectigo_vault_pki
        key: vault_username
      - section: hashi_vault_collection
        key: username
    vars:
      - name: sectigo_vault_username
      - name: ansible_hashi_vault_username
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
      - name: ANSIBLE_HASHI_VAULT_KUBERNETES_TOKEN
    ini:
      - section: sectigo_vault_pki
        key: vault_jwt
    vars:
      - name: sectigo_vault_jwt
      - name: ansible_hashi_vault_jwt
  vault_kubernetes_token_path:
    env:
      - name: ANSIBLE_HASHI_VAULT_KUBERNETES_TOKEN_PATH
    ini:
      - section: sectigo_vault_pki
        key: vault_kubernetes_token_path
      - section: hashi_vault_collection
        key: kubernetes_token_path
    vars:
      - name: sectigo_vault_kubernetes_token_path
      - name: ansible_hashi_vault_kubernetes_token_path
  vault_client_cert:
    env:
      - name: ANSIBLE_HASHI_VAULT_CERT_AUTH_PUBLIC_KEY
    ini:
      - section: sectigo_vault_pki
        key: vault_client_cert
      - section: hashi_vault_collection
        key: cert_auth_public_key
    vars:
      - name: sectigo_vault_client_cert
      - name: ansible_hashi_vault_cert_auth_public_key
  vault_client_key:
    env:
      - name: ANSIBLE_HASHI_VAULT_CERT_AUTH_PRIVATE_KEY
    ini:
      - section: sectigo_vault_pki
        key: vault_client_key
      - section: hashi_vault_collection
        key: cert_auth_private_key
    vars:
      - name: sectigo_vault_client_key
      - name: ansible_hashi_vault_cert_auth_private_key
  vault_aws_profile:
    env:
      - name: AWS_DEFAULT_PROFILE
      - name: AWS_PROFILE
    ini:
      - section: sectigo_vault_pki
        key: vault_aws_profile
      - section: hashi_vault_collection
        key: aws_profile
    vars:
      - name: sectigo_vault_aws_profile
      - name: ansible_hashi_vault_aws_profile
  vault_aws_access_key:
    env:
      - name: EC2_ACCESS_KEY
      - name: AWS_ACCESS_KEY
      - name: AWS_ACCESS_KEY_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_aws_access_key
      - section: hashi_vault_collection
        key: aws_access_key
    vars:
      - name: sectigo_vault_aws_access_key
      - name: ansible_hashi_vault_aws_access_key
  vault_aws_secret_key:
    env:
      - name: EC2_SECRET_KEY
      - name: AWS_SECRET_KEY
      - name: AWS_SECRET_ACCESS_KEY
    ini:
      - section: sectigo_vault_pki
        key: vault_aws_secret_key
    vars:
      - name: sectigo_vault_aws_secret_key
      - name: ansible_hashi_vault_aws_secret_key
  vault_aws_security_token:
    env:
      - name: EC2_SECURITY_TOKEN
      - name: AWS_SESSION_TOKEN
      - name: AWS_SECURITY_TOKEN
    ini:
      - section: sectigo_vault_pki
        key: vault_aws_security_token
    vars:
      - name: sectigo_vault_aws_security_token
      - name: ansible_hashi_vault_aws_security_token
  vault_aws_region:
    env:
      - name: EC2_REGION
      - name: AWS_REGION
    ini:
      - section: sectigo_vault_pki
        key: vault_aws_region
      - section: hashi_vault_collection
        key: region
    vars:
      - name: sectigo_vault_aws_region
      - name: ansible_hashi_vault_region
  vault_aws_iam_server_id:
    env:
      - name: ANSIBLE_HASHI_VAULT_AWS_IAM_SERVER_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_aws_iam_server_id
      - section: hashi_vault_collection
        key: aws_iam_server_id
    vars:
      - name: sectigo_vault_aws_iam_server_id
      - name: ansible_hashi_vault_aws_iam_server_id
  vault_azure_tenant_id:
    env:
      - name: ANSIBLE_HASHI_VAULT_AZURE_TENANT_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_azure_tenant_id
      - section: hashi_vault_collection
        key: azure_tenant_id
    vars:
      - name: sectigo_vault_azure_tenant_id
      - name: ansible_hashi_vault_azure_tenant_id
  vault_azure_client_id:
    env:
      - name: ANSIBLE_HASHI_VAULT_AZURE_CLIENT_ID
    ini:
      - section: sectigo_vault_pki
        key: vault_azure_client_id
      - section: hashi_vault_collection
        key: azure_client_id
    vars:
      - name: sectigo_vault_azure_client_id
      - name: ansible_hashi_vault_azure_client_id
  vault_azure_client_secret:
    env:
      - name: ANSIBLE_HASHI_VAULT_AZURE_CLIENT_SECRET
    ini:
      - section: sectigo_vault_pki
        key: vault_azure_client_secret
    vars:
      - name: sectigo_vault_azure_client_secret
      - name: ansible_hashi_vault_azure_client_secret
  vault_azure_resource:
    env:
      - name: ANSIBLE_HASHI_VAULT_AZURE_RESOURCE
    ini:
      - section: sectigo_vault_pki
        key: vault_azure_resource
      - section: hashi_vault_collection
        key: azure_resource
    vars:
      - name: sectigo_vault_azure_resource
      - name: ansible_hashi_vault_azure_resource
  vault_namespace:
    env:
      - name: VAULT_NAMESPACE
      - name: ANSIBLE_HASHI_VAULT_NAMESPACE
    ini:
      - section: sectigo_vault_pki
        key: vault_namespace
      - section: hashi_vault_collection
        key: namespace
    vars:
      - name: sectigo_vault_namespace
      - name: ansible_hashi_vault_namespace
  vault_ca_cert:
    env:
      - name: VAULT_CACERT
      - name: ANSIBLE_HASHI_VAULT_CA_CERT
    ini:
      - section: sectigo_vault_pki
        key: vault_ca_cert
      - section: hashi_vault_collection
        key: ca_cert
    vars:
      - name: sectigo_vault_ca_cert
      - name: ansible_hashi_vault_ca_cert
  vault_validate_certs:
    ini:
      - section: sectigo_vault_pki
        key: vault_validate_certs
      - section: hashi_vault_collection
        key: validate_certs
    vars:
      - name: sectigo_vault_validate_certs
      - name: ansible_hashi_vault_validate_certs
  vault_timeout:
    env:
      - name: ANSIBLE_HASHI_VAULT_TIMEOUT
    ini:
      - section: sectigo_vault_pki
        key: vault_timeout
      - section: hashi_vault_collection
        key: timeout
    vars:
      - name: sectigo_vault_timeout
      - name: ansible_hashi_vault_timeout
  vault_proxies:
    env:
      - name: ANSIBLE_HASHI_VAULT_PROXIES
    ini:
      - section: sectigo_vault_pki
        key: vault_proxies
      - section: hashi_vault_collection
        key: proxies
    vars:
      - name: sectigo_vault_proxies
      - name: ansible_hashi_vault_proxies
  vault_retries:
    env:
      - name: ANSIBLE_HASHI_VAULT_RETRIES
    ini:
      - section: sectigo_vault_pki
        key: vault_retries
      - section: hashi_vault_collection
        key: retries
    vars:
      - name: sectigo_vault_retries
      - name: ansible_hashi_vault_retries
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
