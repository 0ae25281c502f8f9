"""Unit tests of _vault/auth.login: the requests hvac builds for each login method, recorded, and Vault's answers replayed.

A real ``hvac.Client`` on a real ``requests.Session``; only the transport adapter is replaced by a recorder, so what is
checked is exactly what would go over the wire (path, headers, JSON body, the TLS client certificate). The answers are
Vault's login replies as Vault sends them. aws_iam and azure cannot run against OpenBao (docs/vault.md, "Logging in"):
their signed request and their token fetch are checked here.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import sys
import types

import hvac
import pytest
import requests
from requests.adapters import BaseAdapter
from vault_fakes import vault_options

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import auth
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import options as vo
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptionsError

ADDR = "https://vault.example:8200"
PASSWORD = "PASSWORD-must-not-leak"
SECRET_ID = "SECRET-ID-must-not-leak"
JWT = "eyJhbGciOiJFUzI1NiJ9.JWT-must-not-leak.sig"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/AWS-SECRET-must-not-leak"
AWS_SESSION = "AWS-SESSION-TOKEN-must-not-leak"
AZURE_SECRET = "AZURE-CLIENT-SECRET-must-not-leak"
SECRETS = (PASSWORD, SECRET_ID, JWT, AWS_SECRET, AWS_SESSION, AZURE_SECRET)


def login_reply(token="s.new-token", renewable=True, ttl=3600, policies=("default", "sectigo")):
    """Vault's answer to a successful login (the shape every auth method shares)."""
    return {"request_id": "r-1", "lease_id": "", "renewable": False, "lease_duration": 0, "data": None, "wrap_info": None,
            "warnings": None, "auth": {"client_token": token, "accessor": "acc", "policies": list(policies), "token_policies": list(policies),
                                       "metadata": {}, "lease_duration": ttl, "renewable": renewable, "entity_id": "e", "token_type": "service",
                                       "orphan": True}}


class Recorder(BaseAdapter):
    """A transport adapter that records each request and answers from a list of ``(status, JSON body)``."""

    def __init__(self, *answers):
        super().__init__()
        self.answers = list(answers) or [(200, login_reply())]
        self.sent = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # pylint: disable=too-many-arguments
        self.sent.append({"method": request.method, "url": request.url, "headers": dict(request.headers),
                          "body": json.loads(request.body) if request.body else None, "cert": cert, "verify": verify})
        status, body = self.answers.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()  # pylint: disable=protected-access
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass

    def wire(self) -> str:
        """Everything sent, as one text: to look for secrets."""
        return json.dumps(self.sent, default=str)


def client_with(recorder, *, verify=True):
    session = requests.Session()
    session.mount("https://", recorder)
    session.verify = verify  # hvac takes verify from a given session (hvac issue 991), whatever its own argument says
    return hvac.Client(url=ADDR, session=session, verify=verify)


options = functools.partial(vault_options, ADDR)


# --- each method: the request hvac sends --------------------------------------------------------------------

@pytest.mark.parametrize("given, path, body", [
    ({"vault_auth_method": "userpass", "vault_username": "ci", "vault_password": PASSWORD}, "/v1/auth/userpass/login/ci", {"password": PASSWORD}),
    ({"vault_auth_method": "ldap", "vault_username": "alice", "vault_password": PASSWORD, "vault_auth_mount": "corp-ldap"},
     "/v1/auth/corp-ldap/login/alice", {"password": PASSWORD}),
    ({"vault_auth_method": "approle", "vault_role_id": "rid", "vault_secret_id": SECRET_ID}, "/v1/auth/approle/login",
     {"role_id": "rid", "secret_id": SECRET_ID}),
    ({"vault_auth_method": "approle", "vault_role_id": "rid"}, "/v1/auth/approle/login", {"role_id": "rid", "secret_id": None}),
    ({"vault_auth_method": "jwt", "vault_role": "ci", "vault_jwt": JWT, "vault_auth_mount": "gitlab"}, "/v1/auth/gitlab/login",
     {"role": "ci", "jwt": JWT}),
    ({"vault_auth_method": "kubernetes", "vault_role_id": "deployer", "vault_jwt": JWT}, "/v1/auth/kubernetes/login",
     {"role": "deployer", "jwt": JWT}),
    ({"vault_auth_method": "azure", "vault_role": "vm", "vault_jwt": JWT}, "/v1/auth/azure/login", {"role": "vm", "jwt": JWT}),
])
def test_each_method_sends_its_login_and_keeps_the_token(given, path, body):
    recorder = Recorder()
    client = client_with(recorder)
    result = auth.login(client, options(**given))
    assert [(sent["method"], sent["url"]) for sent in recorder.sent] == [("POST", ADDR + path)]
    assert recorder.sent[0]["body"] == body
    assert client.token == "s.new-token"
    assert result == auth.LoginResult(method=given["vault_auth_method"], renewable=True, lease_duration=3600, can_relogin=True,
                                      policies=("default", "sectigo"))


def test_the_namespace_goes_with_the_login():
    recorder = Recorder()
    session = requests.Session()
    session.mount("https://", recorder)
    client = hvac.Client(url=ADDR, session=session, namespace="team-a")
    auth.login(client, options(vault_auth_method="userpass", vault_username="ci", vault_password=PASSWORD))
    assert recorder.sent[0]["headers"]["X-Vault-Namespace"] == "team-a"


def test_cert_login_sends_the_client_certificate(vault_cert_files):
    cert, key = vault_cert_files
    recorder = Recorder((200, login_reply()), (200, login_reply(token="s.second")))
    client = client_with(recorder)
    auth.login(client, options(vault_auth_method="cert", vault_client_cert=cert, vault_client_key=key, vault_role="web"))
    auth.login(client, options(vault_auth_method="cert", vault_client_cert=cert, vault_client_key=key))
    assert [sent["url"] for sent in recorder.sent] == [ADDR + "/v1/auth/cert/login"] * 2
    assert [sent["body"] for sent in recorder.sent] == [{"name": "web"}, {}]
    assert [sent["cert"] for sent in recorder.sent] == [(cert, key)] * 2
    assert client.token == "s.second"


def test_cert_login_without_tls_verification(vault_cert_files):
    """hvac's auth.cert.login refuses verify=False; the same request then goes through hvac's generic login."""
    cert, key = vault_cert_files
    recorder = Recorder()
    client = client_with(recorder, verify=False)
    auth.login(client, options(vault_auth_method="cert", vault_client_cert=cert, vault_client_key=key, vault_role="web",
                               vault_validate_certs=False))
    assert recorder.sent[0]["url"] == ADDR + "/v1/auth/cert/login" and recorder.sent[0]["body"] == {"name": "web"}
    assert recorder.sent[0]["cert"] == (cert, key) and recorder.sent[0]["verify"] is False
    assert client.token == "s.new-token"


def test_token_sends_nothing_and_cannot_log_in_again():
    recorder = Recorder()
    client = client_with(recorder)
    result = auth.login(client, options(vault_token="s.given"))
    assert recorder.sent == [] and client.token == "s.given"
    assert result == auth.LoginResult(method="token", renewable=False, lease_duration=0, can_relogin=False)


def test_none_sends_no_token_even_with_vault_token_in_the_environment(monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "s.from-env")
    recorder = Recorder((200, {"data": {"data": {}, "metadata": {"version": 1}}}))
    client = client_with(recorder)
    assert client.token == "s.from-env"  # what hvac does by itself
    result = auth.login(client, options(vault_auth_method="none"))
    assert client.token is None and not result.can_relogin
    client.read("secret/data/x")
    assert "X-Vault-Token" not in recorder.sent[0]["headers"]


def test_the_token_of_a_login_goes_with_the_next_request():
    recorder = Recorder((200, login_reply(token="s.approle")), (200, {"data": {"data": {}, "metadata": {"version": 1}}}))
    client = client_with(recorder)
    auth.login(client, options(vault_auth_method="approle", vault_role_id="rid", vault_secret_id=SECRET_ID))
    client.read("secret/data/x")
    assert "X-Vault-Token" not in recorder.sent[0]["headers"] and recorder.sent[1]["headers"]["X-Vault-Token"] == "s.approle"


# --- refusals: the method named, never the secret ------------------------------------------------------------

REFUSALS = [
    ({"vault_auth_method": "userpass", "vault_username": "ci", "vault_password": PASSWORD}, 400, ["invalid username or password"]),
    ({"vault_auth_method": "ldap", "vault_username": "ci", "vault_password": PASSWORD}, 400, ["ldap operation failed: failed to bind as user"]),
    ({"vault_auth_method": "approle", "vault_role_id": "rid", "vault_secret_id": SECRET_ID}, 400, ["invalid role or secret ID"]),
    ({"vault_auth_method": "jwt", "vault_role": "ci", "vault_jwt": JWT}, 400, ["error validating token: invalid audience (aud) claim"]),
    ({"vault_auth_method": "kubernetes", "vault_role": "ci", "vault_jwt": JWT}, 403, ["permission denied"]),
    ({"vault_auth_method": "azure", "vault_role": "vm", "vault_jwt": JWT}, 400, ["oidc: malformed jwt"]),
    ({"vault_auth_method": "aws_iam", "vault_role": "ec2", "vault_aws_access_key": "AKIAEXAMPLE", "vault_aws_secret_key": AWS_SECRET},
     400, ["error making upstream request: received error code 403 from STS"]),
    # A server that echoes what it was sent: the message is scrubbed all the same.
    ({"vault_auth_method": "userpass", "vault_username": "ci", "vault_password": PASSWORD}, 401, [f"bad password {PASSWORD}"]),
]


@pytest.mark.parametrize("given, status, errors", REFUSALS, ids=[f"{refusal[0]['vault_auth_method']}-{refusal[1]}" for refusal in REFUSALS])
def test_a_refused_login_names_the_method_and_mount_not_the_secret(given, status, errors):
    client = client_with(Recorder((status, {"errors": errors})))
    opts = options(**given)
    with pytest.raises(auth.LoginError) as err:
        auth.login(client, opts)
    message = str(err.value)
    assert f"vault_auth_method '{given['vault_auth_method']}'" in message and f"auth/{opts.auth_mount}" in message
    assert err.value.status == status and err.value.method == given["vault_auth_method"] and not err.value.missing_mount
    for secret in SECRETS:
        assert secret not in message and secret not in repr(err.value.args)
    assert client.token is None


def test_a_missing_mount_is_named():
    client = client_with(Recorder((404, {"errors": []})))
    with pytest.raises(auth.LoginError) as err:
        auth.login(client, options(vault_auth_method="approle", vault_role_id="r", vault_secret_id=SECRET_ID, vault_auth_mount="nope"))
    assert err.value.missing_mount and "auth/nope" in str(err.value) and "vault_auth_mount" in str(err.value)


def test_a_reply_without_a_token_is_a_login_error():
    client = client_with(Recorder((200, {"auth": None, "warnings": ["nothing"]})))
    with pytest.raises(auth.LoginError) as err:
        auth.login(client, options(vault_auth_method="userpass", vault_username="ci", vault_password=PASSWORD))
    assert "without a client token" in str(err.value)


def test_other_failures_are_left_to_the_caller():
    client = client_with(Recorder((503, {"errors": ["Vault is sealed"]})))
    with pytest.raises(hvac.exceptions.VaultDown):
        auth.login(client, options(vault_auth_method="approle", vault_role_id="r", vault_secret_id=SECRET_ID))


# --- aws_iam: the signed GetCallerIdentity request -----------------------------------------------------------

def _signature(secret_key: str, amz_date: str, region: str, canonical_request: str) -> str:
    """AWS Signature Version 4 (the STS service), computed independently of hvac."""
    scope = f"{amz_date[:8]}/{region}/sts/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (amz_date[:8], region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("region", [None, "eu-west-1"])
def test_aws_iam_sends_a_signed_get_caller_identity_and_never_the_secret_key(region):
    recorder = Recorder()
    client = client_with(recorder)
    opts = options(vault_auth_method="aws_iam", vault_role_id="ec2-role", vault_aws_access_key="AKIAEXAMPLE", vault_aws_secret_key=AWS_SECRET,
                   vault_aws_security_token=AWS_SESSION, vault_aws_iam_server_id="vault.example", vault_aws_region=region)
    result = auth.login(client, opts)
    assert result.can_relogin and client.token == "s.new-token"
    sent = recorder.sent[0]
    assert sent["url"] == ADDR + "/v1/auth/aws/login"
    body = sent["body"]
    assert body["role"] == "ec2-role" and body["iam_http_request_method"] == "POST"
    assert base64.b64decode(body["iam_request_url"]).decode() == "https://sts.amazonaws.com/"
    payload = base64.b64decode(body["iam_request_body"]).decode()
    assert payload == "Action=GetCallerIdentity&Version=2011-06-15"
    headers = {name: values[0] for name, values in json.loads(base64.b64decode(body["iam_request_headers"])).items()}
    assert headers["Host"] == "sts.amazonaws.com" and headers["X-Vault-AWS-IAM-Server-ID"] == "vault.example"
    # The session token is a header of the signed request: STS needs it. The secret key only signs.
    assert headers["X-Amz-Security-Token"] == AWS_SESSION
    used_region = region or "us-east-1"
    authorization = headers["Authorization"]
    amz_date = headers["X-Amz-Date"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/{amz_date[:8]}/{used_region}/sts/aws4_request, ")
    signed = authorization.split("SignedHeaders=")[1].split(",")[0]
    canonical_headers = "".join(f"{name.lower()}:{headers[name]}\n" for name in sorted(headers) if name != "Authorization")
    assert signed == ";".join(name.lower() for name in sorted(headers) if name != "Authorization")
    canonical = "\n".join(["POST", "/", "", canonical_headers, signed, hashlib.sha256(payload.encode()).hexdigest()])
    assert authorization.endswith(f"Signature={_signature(AWS_SECRET, amz_date, used_region, canonical)}")
    assert AWS_SECRET not in recorder.wire()


def test_aws_iam_credentials_from_a_profile_through_botocore(tmp_path, monkeypatch):
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[ci]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = {AWS_SECRET}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    opts = options(vault_auth_method="aws_iam", vault_aws_profile="ci")
    assert auth.aws_credentials(opts) == ("AKIAPROFILE", AWS_SECRET, None)
    recorder = Recorder()
    auth.login(client_with(recorder), opts)
    headers = json.loads(base64.b64decode(recorder.sent[0]["body"]["iam_request_headers"]))
    assert "Credential=AKIAPROFILE/" in headers["Authorization"][0] and AWS_SECRET not in recorder.wire()
    with pytest.raises(VaultOptionsError) as err:
        auth.login(client_with(Recorder()), options(vault_auth_method="aws_iam", vault_aws_profile="nope"))
    assert err.value.field == "vault_aws_profile" and "nope" in str(err.value)


def test_aws_iam_without_botocore_is_named_before_any_request(monkeypatch):
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    monkeypatch.setattr(vo, "_installed", lambda name: True)  # validation passed; the import fails at login
    recorder = Recorder()
    with pytest.raises(VaultOptionsError) as err:
        auth.login(client_with(recorder), options(vault_auth_method="aws_iam", vault_role="r"))
    assert err.value.field == "vault_aws_access_key" and "boto3" in str(err.value) and recorder.sent == []


# --- azure: a token from azure-identity, then Vault's login --------------------------------------------------

class _FakeIdentity(types.ModuleType):
    """Stands in for ``azure.identity`` (not installed in the test tool chain): records which credential was built."""

    def __init__(self, token="azure-access-token", error=None):
        super().__init__("azure.identity")
        self.built = []
        outer = self

        class _Credential:
            def __init__(self, kind, *args, **kwargs):
                outer.built.append((kind, args, kwargs))

            def get_token(self, scope):
                outer.built.append(("scope", scope))
                if error:
                    raise error
                return types.SimpleNamespace(token=token, expires_on=0)

        self.ClientSecretCredential = lambda *a, **k: _Credential("ClientSecretCredential", *a, **k)
        self.ManagedIdentityCredential = lambda *a, **k: _Credential("ManagedIdentityCredential", *a, **k)


@pytest.fixture
def fake_identity(monkeypatch):
    def install(**kwargs):
        identity = _FakeIdentity(**kwargs)
        package = types.ModuleType("azure")
        package.identity = identity
        monkeypatch.setitem(sys.modules, "azure", package)
        monkeypatch.setitem(sys.modules, "azure.identity", identity)
        monkeypatch.setattr(vo, "_installed", lambda name: True)
        return identity
    return install


@pytest.mark.parametrize("given, built", [
    ({}, ("ManagedIdentityCredential", (), {})),
    ({"vault_azure_client_id": "uami-id"}, ("ManagedIdentityCredential", (), {"client_id": "uami-id"})),
    ({"vault_azure_client_id": "sp-id", "vault_azure_client_secret": AZURE_SECRET, "vault_azure_tenant_id": "tenant"},
     ("ClientSecretCredential", ("tenant", "sp-id", AZURE_SECRET), {})),
])
def test_azure_gets_a_token_from_azure_identity_then_logs_in(fake_identity, given, built):
    identity = fake_identity()
    recorder = Recorder()
    client = client_with(recorder)
    auth.login(client, options(vault_auth_method="azure", vault_role="vm", **given))
    assert identity.built == [built, ("scope", "https://management.azure.com//.default")]
    assert recorder.sent[0]["url"] == ADDR + "/v1/auth/azure/login"
    assert recorder.sent[0]["body"] == {"role": "vm", "jwt": "azure-access-token"}
    assert AZURE_SECRET not in recorder.wire() and client.token == "s.new-token"


def test_azure_token_failure_names_the_method_not_the_secret(fake_identity):
    fake_identity(error=RuntimeError(f"AADSTS7000215: Invalid client secret provided: {AZURE_SECRET}"))
    recorder = Recorder()
    with pytest.raises(auth.LoginError) as err:
        auth.login(client_with(recorder), options(vault_auth_method="azure", vault_role="vm", vault_azure_client_id="sp",
                                                  vault_azure_client_secret=AZURE_SECRET, vault_azure_tenant_id="t"))
    assert "vault_auth_method 'azure'" in str(err.value) and AZURE_SECRET not in str(err.value)
    assert recorder.sent == []
