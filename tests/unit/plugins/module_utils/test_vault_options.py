"""Unit tests of the shared Vault option family: argspec, validation per auth method, env fallbacks, doc fragment."""
from __future__ import annotations

import dataclasses
import functools

import pytest
import yaml
from vault_fakes import vault_options

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sectigo.vault_pki.plugins.doc_fragments.vault import ModuleDocFragment
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import options as vo
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions, VaultOptionsError

ADDR = "http://127.0.0.1:8200"
SECRETS = {"vault_token": "hvs.TOKEN-must-not-leak", "vault_secret_id": "SECRET-ID-must-not-leak",
           "vault_password": "PASSWORD-must-not-leak", "vault_jwt": "JWT-must-not-leak"}


options = functools.partial(vault_options, ADDR)


# --- argspec -------------------------------------------------------------------------------------------------

def test_argspec_has_every_option_of_the_spec():
    spec = vo.vault_argspec(env_fallback)
    assert list(spec) == list(vo.VAULT_OPTION_NAMES) == [
        "vault_addr", "vault_auth_method", "vault_auth_mount", "vault_token", "vault_token_path", "vault_token_file", "vault_role_id",
        "vault_secret_id", "vault_username", "vault_password", "vault_role", "vault_jwt", "vault_kubernetes_token_path",
        "vault_client_cert", "vault_client_key", "vault_aws_profile", "vault_aws_access_key", "vault_aws_secret_key",
        "vault_aws_security_token", "vault_aws_region", "vault_aws_iam_server_id", "vault_azure_tenant_id", "vault_azure_client_id",
        "vault_azure_client_secret", "vault_azure_resource", "vault_namespace", "vault_ca_cert", "vault_validate_certs",
        "vault_timeout", "vault_proxies", "vault_retries", "kv_mount", "kv_path"]


def test_auth_methods_are_community_hashi_vaults():
    assert vo.AUTH_METHOD_NAMES == ("token", "userpass", "ldap", "approle", "aws_iam", "azure", "jwt", "cert", "kubernetes", "none")


@pytest.mark.parametrize("name, expected", [
    ("vault_addr", {"type": "str", "aliases": ["vault_url", "url"]}),
    ("vault_auth_method", {"type": "str", "default": "token", "choices": list(vo.AUTH_METHOD_NAMES), "aliases": ["auth_method"]}),
    ("vault_auth_mount", {"type": "str", "aliases": ["mount_point"]}),
    ("vault_token", {"type": "str", "no_log": True, "aliases": ["token"]}),
    ("vault_token_path", {"type": "path", "no_log": False, "aliases": ["token_path"]}),
    ("vault_token_file", {"type": "str", "no_log": False, "aliases": ["token_file"], "default": ".vault-token"}),
    ("vault_role_id", {"type": "str", "aliases": ["role_id"]}),
    ("vault_secret_id", {"type": "str", "no_log": True, "aliases": ["secret_id"]}),
    ("vault_password", {"type": "str", "no_log": True}),  # no alias: sectigo_config's password is SCM's
    ("vault_role", {"type": "str"}),
    ("vault_jwt", {"type": "str", "no_log": True, "aliases": ["jwt", "kubernetes_token"]}),
    ("vault_client_cert", {"type": "path", "aliases": ["cert_auth_public_key"]}),
    ("vault_client_key", {"type": "path", "no_log": False, "aliases": ["cert_auth_private_key"]}),
    ("vault_aws_access_key", {"type": "str", "no_log": False, "aliases": ["aws_access_key", "aws_access_key_id"]}),
    ("vault_aws_secret_key", {"type": "str", "no_log": True, "aliases": ["aws_secret_key", "aws_secret_access_key"]}),
    ("vault_aws_security_token", {"type": "str", "no_log": True, "aliases": ["aws_security_token"]}),
    ("vault_azure_client_secret", {"type": "str", "no_log": True, "aliases": ["azure_client_secret"]}),
    ("vault_azure_resource", {"type": "str", "aliases": ["azure_resource"], "default": "https://management.azure.com/"}),
    ("vault_ca_cert", {"type": "path", "aliases": ["ca_cert", "cacert"]}),
    ("vault_validate_certs", {"type": "bool", "aliases": ["validate_certs"]}),  # no default: VAULT_SKIP_VERIFY decides when it is not set
    ("vault_proxies", {"type": "raw", "aliases": ["proxies"]}),
    ("vault_retries", {"type": "raw", "aliases": ["retries"]}),
    ("vault_timeout", {"type": "int", "default": 30, "aliases": ["timeout"]}),
    ("kv_mount", {"type": "str", "default": "secret"}),
    ("kv_path", {"type": "str", "default": "sectigo-vault-pki"}),
])
def test_argspec_entries(name, expected):
    entry = dict(vo.vault_argspec(env_fallback)[name])
    entry.pop("fallback", None)
    assert entry == expected


@pytest.mark.parametrize("name, variables", sorted(vo.ENV_FALLBACKS.items()))
def test_argspec_env_fallbacks(name, variables):
    assert vo.vault_argspec(env_fallback)[name]["fallback"] == (env_fallback, variables)


def test_env_fallback_table_is_the_spec():
    hashi = "ANSIBLE_HASHI_VAULT_"
    assert vo.ENV_FALLBACKS == {
        "vault_addr": ["VAULT_ADDR", hashi + "ADDR"],
        "vault_auth_method": ["VAULT_AUTH_METHOD", hashi + "AUTH_METHOD"],
        "vault_auth_mount": [hashi + "MOUNT_POINT"],
        "vault_token": ["VAULT_TOKEN", hashi + "TOKEN"],
        "vault_token_path": [hashi + "TOKEN_PATH"],
        "vault_token_file": [hashi + "TOKEN_FILE"],
        "vault_role_id": ["VAULT_ROLE_ID", hashi + "ROLE_ID"],
        "vault_secret_id": ["VAULT_SECRET_ID", hashi + "SECRET_ID"],
        "vault_username": [hashi + "USERNAME"],
        "vault_password": [hashi + "PASSWORD"],
        "vault_jwt": [hashi + "JWT", hashi + "KUBERNETES_TOKEN"],
        "vault_kubernetes_token_path": [hashi + "KUBERNETES_TOKEN_PATH"],
        "vault_client_cert": [hashi + "CERT_AUTH_PUBLIC_KEY"],
        "vault_client_key": [hashi + "CERT_AUTH_PRIVATE_KEY"],
        "vault_aws_profile": ["AWS_DEFAULT_PROFILE", "AWS_PROFILE"],
        "vault_aws_access_key": ["EC2_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID"],
        "vault_aws_secret_key": ["EC2_SECRET_KEY", "AWS_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"],
        "vault_aws_security_token": ["EC2_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"],
        "vault_aws_region": ["EC2_REGION", "AWS_REGION"],
        "vault_aws_iam_server_id": [hashi + "AWS_IAM_SERVER_ID"],
        "vault_azure_tenant_id": [hashi + "AZURE_TENANT_ID"],
        "vault_azure_client_id": [hashi + "AZURE_CLIENT_ID"],
        "vault_azure_client_secret": [hashi + "AZURE_CLIENT_SECRET"],
        "vault_azure_resource": [hashi + "AZURE_RESOURCE"],
        "vault_namespace": ["VAULT_NAMESPACE", hashi + "NAMESPACE"],
        "vault_ca_cert": ["VAULT_CACERT", hashi + "CA_CERT"],
        "vault_timeout": [hashi + "TIMEOUT"],
        "vault_proxies": [hashi + "PROXIES"],
        "vault_retries": [hashi + "RETRIES"],
    }


def test_no_alias_is_an_option_of_a_module():
    """An alias shared by every module must not be any module's own option (sectigo_config has SCM's password)."""
    import ast
    import pathlib

    aliases = {alias for names in vo.ALIASES.values() for alias in names}
    modules = pathlib.Path(__file__).parents[4] / "plugins" / "modules"
    own = set()
    for path in list(modules.glob("*.py")) + [modules.parent / "module_utils" / "_cert_task.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "dict":
                own.add(node.arg)
            if isinstance(node, ast.Dict):
                own.update(key.value for key in node.keys if isinstance(key, ast.Constant) and isinstance(key.value, str))
    assert "password" in own and "password" not in aliases
    assert not aliases & own, sorted(aliases & own)


def test_argspec_through_ansible_validator_applies_fallbacks_aliases_and_no_log(monkeypatch):
    monkeypatch.setenv("VAULT_ADDR", "http://vault.example:8200")
    monkeypatch.setenv("VAULT_TOKEN", SECRETS["vault_token"])
    result = ArgumentSpecValidator(vo.vault_argspec(env_fallback)).validate({"kv_path": "/x/"})
    assert result.error_messages == []
    params = result.validated_parameters
    assert params["vault_addr"] == "http://vault.example:8200"
    assert params["vault_auth_method"] == "token"
    assert SECRETS["vault_token"] in result._no_log_values  # pylint: disable=protected-access
    assert VaultOptions.from_mapping(params).kv_path == "x"
    aliased = ArgumentSpecValidator(vo.vault_argspec(env_fallback)).validate({"vault_url": "http://other:8200"})
    assert aliased.validated_parameters["vault_addr"] == "http://other:8200"


def test_argspec_refuses_unknown_auth_method_listing_choices():
    result = ArgumentSpecValidator(vo.vault_argspec(env_fallback)).validate({"vault_addr": ADDR, "vault_auth_method": "gcp"})
    assert "approle" in str(result.errors[0]) and "kubernetes" in str(result.errors[0])


# --- validation per auth method ------------------------------------------------------------------------------

@pytest.mark.parametrize("method, given, missing_field", [
    ("token", {"vault_token_path": "/nonexistent/sectigo-test"}, "vault_token"),
    ("approle", {}, "vault_role_id"),
    ("approle", {"vault_secret_id": SECRETS["vault_secret_id"]}, "vault_role_id"),
    ("userpass", {"vault_username": "u"}, "vault_password"),
    ("userpass", {"vault_password": SECRETS["vault_password"]}, "vault_username"),
    ("jwt", {"vault_role": "r"}, "vault_jwt"),
    ("jwt", {"vault_jwt": SECRETS["vault_jwt"]}, "vault_role"),
    ("kubernetes", {"vault_jwt": SECRETS["vault_jwt"]}, "vault_role"),
    ("cert", {"vault_client_cert": "/c.pem"}, "vault_client_key"),
    ("cert", {}, "vault_client_cert"),
    ("ldap", {"vault_username": "u"}, "vault_password"),
    ("ldap", {"vault_password": SECRETS["vault_password"]}, "vault_username"),
    ("azure", {"vault_jwt": SECRETS["vault_jwt"]}, "vault_role"),
    ("aws_iam", {"vault_aws_access_key": "AKIA"}, "vault_aws_secret_key"),
    ("aws_iam", {"vault_aws_secret_key": "aws-secret-must-not-leak"}, "vault_aws_access_key"),
])
def test_each_method_names_its_missing_option(method, given, missing_field):
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method=method, **given)
    assert err.value.field == missing_field
    assert missing_field in str(err.value) and f"'{method}'" in str(err.value)
    for secret in SECRETS.values():
        assert secret not in str(err.value)


@pytest.mark.parametrize("method, given", [
    ("token", {"vault_token": "t"}),
    ("approle", {"vault_role_id": "r", "vault_secret_id": "s"}),
    ("userpass", {"vault_username": "u", "vault_password": "p"}),
    ("jwt", {"vault_role": "r", "vault_jwt": "j"}),
    ("kubernetes", {"vault_role": "r", "vault_jwt": "j"}),
    ("ldap", {"vault_username": "u", "vault_password": "p"}),
    ("approle", {"vault_role_id": "r"}),  # a role without bind_secret_id
    ("aws_iam", {"vault_aws_access_key": "AKIA", "vault_aws_secret_key": "s"}),
    ("azure", {"vault_role": "r", "vault_jwt": "j"}),
    ("none", {}),
])
def test_each_method_accepts_its_options(method, given):
    opts = options(vault_auth_method=method, **given)
    assert opts.vault_auth_method == method
    assert opts.auth_mount == ("aws" if method == "aws_iam" else method)


@pytest.mark.parametrize("method, extra", [("jwt", {"vault_jwt": "j"}), ("kubernetes", {"vault_jwt": "j"}), ("azure", {"vault_jwt": "j"}),
                                           ("aws_iam", {"vault_aws_access_key": "a", "vault_aws_secret_key": "s"})])
def test_role_id_names_the_role_as_community_hashi_vault_has_it(method, extra):
    assert options(vault_auth_method=method, vault_role_id="ci", **extra).vault_role == "ci"
    assert options(vault_auth_method=method, vault_role_id="ci", vault_role="mine", **extra).vault_role == "mine"


def test_community_names_are_aliases_of_a_plain_mapping():
    opts = VaultOptions.from_mapping({"url": ADDR, "auth_method": "approle", "role_id": "r", "secret_id": "s", "mount_point": "ci"})
    assert (opts.vault_addr, opts.vault_auth_method, opts.vault_role_id, opts.vault_secret_id, opts.auth_mount) == (ADDR, "approle", "r", "s", "ci")


def test_token_from_the_token_file(tmp_path):
    (tmp_path / ".vault-token").write_text(SECRETS["vault_token"] + "\n")
    assert options(vault_token_path=str(tmp_path)).vault_token == SECRETS["vault_token"]
    (tmp_path / "other").write_text("other-token")
    assert options(vault_token_path=str(tmp_path), vault_token_file="other").vault_token == "other-token"
    assert options(vault_token_path=str(tmp_path), vault_token="given").vault_token == "given"
    home = VaultOptions.from_mapping({"vault_addr": ADDR}, env={"HOME": str(tmp_path)})
    assert home.vault_token == SECRETS["vault_token"]
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token_path=str(tmp_path / "nothing"))
    assert err.value.field == "vault_token" and "vault_token_path" in str(err.value)


def test_kubernetes_token_path_option(tmp_path):
    token_file = tmp_path / "sa-token"
    token_file.write_text("k8s-jwt")
    opts = options(vault_auth_method="kubernetes", vault_role="r", vault_kubernetes_token_path=str(token_file))
    assert opts.vault_jwt == "k8s-jwt"
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method="kubernetes", vault_role="r", vault_kubernetes_token_path=str(tmp_path / "none"))
    assert err.value.field == "vault_jwt" and "vault_kubernetes_token_path" in str(err.value)


def test_a_missing_optional_library_is_named_before_any_request(monkeypatch):
    monkeypatch.setattr(vo, "_installed", lambda name: False)
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method="aws_iam", vault_role="r")
    assert err.value.field == "vault_aws_access_key" and "boto3" in str(err.value)
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method="azure", vault_role="r")
    assert err.value.field == "vault_jwt" and "azure-identity" in str(err.value)
    # With keys (aws_iam) or a JWT (azure), neither library is needed.
    options(vault_auth_method="aws_iam", vault_aws_access_key="a", vault_aws_secret_key="s")
    options(vault_auth_method="azure", vault_role="r", vault_jwt="j")


def test_an_azure_service_principal_needs_its_tenant(monkeypatch):
    monkeypatch.setattr(vo, "_installed", lambda name: True)
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method="azure", vault_role="r", vault_azure_client_id="c", vault_azure_client_secret="azure-secret-xyz")
    assert err.value.field == "vault_azure_tenant_id" and "azure-secret-xyz" not in str(err.value)


def test_cert_method_needs_existing_files(vault_cert_files, tmp_path):
    cert, key = vault_cert_files
    opts = options(vault_auth_method="cert", vault_client_cert=cert, vault_client_key=key)
    assert opts.client_cert == (cert, key)
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method="cert", vault_client_cert=cert, vault_client_key=str(tmp_path / "missing.key"))
    assert err.value.field == "vault_client_key" and "missing.key" in str(err.value)


def test_kubernetes_reads_the_service_account_token_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(SECRETS["vault_jwt"] + "\n")
    opts = VaultOptions.from_mapping({"vault_addr": ADDR, "vault_auth_method": "kubernetes", "vault_role": "app"},
                                     k8s_token_path=str(token_file))
    assert opts.vault_jwt == SECRETS["vault_jwt"]
    assert SECRETS["vault_jwt"] not in repr(opts)


@pytest.mark.parametrize("content", [None, ""])
def test_kubernetes_without_token_file_or_jwt_fails_clearly(tmp_path, content):
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    with pytest.raises(VaultOptionsError) as err:
        VaultOptions.from_mapping({"vault_addr": ADDR, "vault_auth_method": "kubernetes", "vault_role": "app"}, k8s_token_path=str(token_file))
    assert err.value.field == "vault_jwt" and str(token_file) in str(err.value)


def test_unknown_method_lists_the_allowed_ones():
    with pytest.raises(VaultOptionsError) as err:
        options(vault_auth_method="gcp", vault_token="t")
    assert err.value.field == "vault_auth_method"
    for name in vo.AUTH_METHOD_NAMES:
        assert name in str(err.value)


def test_method_name_is_case_insensitive_and_mount_overridable():
    opts = options(vault_auth_method="AppRole", vault_role_id="r", vault_secret_id="s", vault_auth_mount="/ci/approle/")
    assert opts.vault_auth_method == "approle" and opts.auth_mount == "ci/approle"


# --- the other options ---------------------------------------------------------------------------------------

def test_missing_addr_names_option_and_env_variable():
    with pytest.raises(VaultOptionsError) as err:
        VaultOptions.from_mapping({"vault_token": "t"})
    assert err.value.field == "vault_addr"
    assert "vault_addr" in str(err.value) and "VAULT_ADDR" in str(err.value)


@pytest.mark.parametrize("addr", ["vault.example:8200", "ftp://vault", "http://"])
def test_addr_must_be_a_url(addr):
    with pytest.raises(VaultOptionsError) as err:
        VaultOptions.from_mapping({"vault_addr": addr, "vault_token": "t"})
    assert err.value.field == "vault_addr"


def test_addr_alias_and_trailing_slash():
    assert VaultOptions.from_mapping({"vault_url": "https://vault.example:8200/", "vault_token": "t"}).vault_addr == "https://vault.example:8200"


def test_env_is_used_only_when_asked_and_only_for_unset_options():
    env = {"VAULT_ADDR": "http://from-env:8200", "VAULT_TOKEN": "env-token", "VAULT_NAMESPACE": "ns1", "VAULT_CACERT": "",
           "VAULT_AUTH_METHOD": "token"}
    with pytest.raises(VaultOptionsError):
        VaultOptions.from_mapping({})
    opts = VaultOptions.from_mapping({}, env=env)
    assert (opts.vault_addr, opts.vault_token, opts.vault_namespace, opts.vault_ca_cert) == ("http://from-env:8200", "env-token", "ns1", None)
    given = VaultOptions.from_mapping({"vault_addr": ADDR, "vault_token": "mine"}, env=env)
    assert (given.vault_addr, given.vault_token) == (ADDR, "mine")


def test_approle_credentials_from_env():
    opts = VaultOptions.from_mapping({"vault_addr": ADDR}, env={"VAULT_AUTH_METHOD": "approle", "VAULT_ROLE_ID": "rid", "VAULT_SECRET_ID": "sid"})
    assert (opts.vault_auth_method, opts.vault_role_id, opts.vault_secret_id) == ("approle", "rid", "sid")


def test_defaults():
    opts = options(vault_token="t", vault_auth_method=None, kv_mount=None, kv_path=None, vault_timeout=None, vault_validate_certs=None)
    assert (opts.vault_auth_method, opts.kv_mount, opts.kv_path, opts.vault_timeout, opts.vault_validate_certs) == (
        "token", "secret", "sectigo-vault-pki", 30, True)
    assert opts.verify is True and opts.client_cert is None and opts.vault_namespace is None


@pytest.mark.parametrize("field, value, expected", [
    ("kv_mount", "/kv/", "kv"),
    ("kv_mount", "teams/pki", "teams/pki"),
    ("kv_path", "/a/b/", "a/b"),
    ("vault_timeout", "5", 5),
    ("vault_validate_certs", "no", False),
    ("vault_validate_certs", False, False),
])
def test_normalised_values(field, value, expected):
    assert getattr(options(vault_token="t", **{field: value}), field) == expected


@pytest.mark.parametrize("field, value", [
    ("kv_mount", "/"),
    ("kv_mount", "a//b"),
    ("kv_path", "a/../b"),
    ("kv_path", "with space"),
    ("vault_timeout", 0),
    ("vault_timeout", -1),
    ("vault_timeout", "soon"),
    ("vault_timeout", True),
    ("vault_validate_certs", "maybe"),
])
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t", **{field: value})
    assert err.value.field == field and field in str(err.value)


def test_ca_cert_and_validate_certs_make_verify(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("ca")
    assert options(vault_token="t", vault_ca_cert=str(bundle)).verify == str(bundle)
    assert options(vault_token="t", vault_ca_cert=str(bundle), vault_validate_certs=False).verify is False
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t", vault_ca_cert=str(tmp_path / "nope.pem"))
    assert err.value.field == "vault_ca_cert"


def test_options_are_frozen_and_secrets_stay_out_of_repr():
    opts = options(vault_auth_method="approle", vault_role_id="rid", vault_secret_id=SECRETS["vault_secret_id"],
                   vault_token=SECRETS["vault_token"], vault_password=SECRETS["vault_password"], vault_jwt=SECRETS["vault_jwt"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.kv_path = "x"  # type: ignore[misc]
    for secret in SECRETS.values():
        assert secret not in repr(opts)
    assert sorted(opts.secrets()) == sorted(SECRETS.values())


@pytest.mark.parametrize("broken", [{"vault_timeout": "x"}, {"kv_mount": "a//b"}, {"vault_auth_method": "nope"}, {"vault_addr": "nope"}])
def test_no_message_holds_a_secret(broken):
    with pytest.raises(VaultOptionsError) as err:
        VaultOptions.from_mapping({"vault_addr": ADDR, **SECRETS, **broken})
    for secret in SECRETS.values():
        assert secret not in str(err.value)


# --- the doc fragment ----------------------------------------------------------------------------------------

def test_doc_fragment_documents_the_argspec():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = vo.vault_argspec(env_fallback)
    assert list(doc) == list(spec)
    for name, entry in spec.items():
        assert doc[name]["type"] == entry["type"], name
        assert doc[name].get("default") == entry.get("default"), name
        assert doc[name].get("aliases") == entry.get("aliases"), name
        assert doc[name].get("choices") == entry.get("choices"), name
        for variable in vo.ENV_FALLBACKS.get(name, []):
            assert f"E({variable})" in " ".join(doc[name]["description"]), name


def test_doc_fragment_plugins_section_is_the_lookup_sources():
    plugins = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
    expected = {}
    for name, sources in vo.LOOKUP_ENV_AND_INI.items():
        entry = {"env": [{"name": var} for var in sources["env"]], "ini": sources["ini"], "vars": [{"name": var} for var in sources["vars"]]}
        expected[name] = {key: value for key, value in entry.items() if value}
    assert plugins == expected
    assert plugins["vault_addr"]["vars"] == [{"name": "sectigo_vault_addr"}, {"name": "ansible_hashi_vault_url"}]
    assert plugins["vault_role_id"]["ini"] == [{"section": "sectigo_vault_pki", "key": "vault_role_id"},
                                               {"section": "hashi_vault_collection", "key": "role_id"}]
    assert plugins["kv_mount"]["ini"] == [{"section": "sectigo_vault_pki", "key": "kv_mount"}]


# --- community.hashi_vault env names, VAULT_SKIP_VERIFY, proxies, retries -----------------------------------

def test_ansible_hashi_vault_names_are_read_after_vault_names():
    env = {"ANSIBLE_HASHI_VAULT_ADDR": "http://hashi:8200", "ANSIBLE_HASHI_VAULT_AUTH_METHOD": "userpass",
           "ANSIBLE_HASHI_VAULT_USERNAME": "ci", "ANSIBLE_HASHI_VAULT_PASSWORD": "pw-from-env", "ANSIBLE_HASHI_VAULT_MOUNT_POINT": "people",
           "ANSIBLE_HASHI_VAULT_NAMESPACE": "team-a", "ANSIBLE_HASHI_VAULT_TIMEOUT": "7"}
    opts = VaultOptions.from_mapping({}, env=env)
    assert (opts.vault_addr, opts.vault_auth_method, opts.vault_username, opts.vault_password, opts.auth_mount, opts.vault_namespace,
            opts.vault_timeout) == ("http://hashi:8200", "userpass", "ci", "pw-from-env", "people", "team-a", 7)
    both = VaultOptions.from_mapping({}, env=dict(env, VAULT_ADDR="http://vault:8200", VAULT_AUTH_METHOD="token", VAULT_TOKEN="t"))
    assert (both.vault_addr, both.vault_auth_method) == ("http://vault:8200", "token")


def test_ansible_hashi_vault_names_through_the_ansible_validator(monkeypatch):
    for name in [n for n in __import__("os").environ if n.startswith(("VAULT_", "ANSIBLE_HASHI_VAULT_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ANSIBLE_HASHI_VAULT_ADDR", "http://hashi:8200")
    monkeypatch.setenv("ANSIBLE_HASHI_VAULT_ROLE_ID", "rid")
    monkeypatch.setenv("ANSIBLE_HASHI_VAULT_SECRET_ID", "sid-from-hashi-env")
    result = ArgumentSpecValidator(vo.vault_argspec(env_fallback)).validate({"vault_auth_method": "approle"})
    assert result.error_messages == []
    opts = VaultOptions.from_mapping(result.validated_parameters)
    assert (opts.vault_addr, opts.vault_role_id, opts.vault_secret_id) == ("http://hashi:8200", "rid", "sid-from-hashi-env")
    assert "sid-from-hashi-env" in result._no_log_values  # pylint: disable=protected-access


@pytest.mark.parametrize("given, skip, expected", [
    (None, None, True),
    (None, "1", False),
    (None, "true", False),
    (None, "0", True),
    (None, "false", True),
    (True, "1", True),   # an explicit option wins over the environment
    (False, "0", False),
])
def test_vault_skip_verify_is_the_inverse_default(given, skip, expected):
    env = {} if skip is None else {"VAULT_SKIP_VERIFY": skip}
    opts = VaultOptions.from_mapping({"vault_addr": ADDR, "vault_token": "t", "vault_validate_certs": given}, env=env)
    assert opts.vault_validate_certs is expected and (opts.verify is False) is (not expected)


def test_vault_skip_verify_is_read_from_the_process_environment(monkeypatch):
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "yes")
    assert options(vault_token="t").verify is False
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "maybe")
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t")
    assert err.value.field == "VAULT_SKIP_VERIFY"


@pytest.mark.parametrize("given, expected", [
    ("http://proxy:3128", {"http": "http://proxy:3128", "https": "http://proxy:3128"}),
    ({"https": "http://p1:3128"}, {"https": "http://p1:3128"}),
    ('{"http": "http://p2:1", "https": "socks5h://p3:2"}', {"http": "http://p2:1", "https": "socks5h://p3:2"}),
    (None, None),
    ("", None),
])
def test_proxies(given, expected):
    assert options(vault_token="t", vault_proxies=given).vault_proxies == expected


@pytest.mark.parametrize("given", ["proxy:3128", {"https": 5}, ["http://p"], "{not json"])
def test_bad_proxies_name_the_option(given):
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t", vault_proxies=given)
    assert err.value.field == "vault_proxies"


def test_proxy_password_stays_out_of_repr_and_messages():
    opts = options(vault_token="t", vault_proxies="http://user:proxy-pass@proxy:3128")
    assert "proxy-pass" not in repr(opts)
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t", vault_proxies={"https": "user:proxy-pass@proxy"})
    assert "proxy-pass" not in str(err.value)


@pytest.mark.parametrize("given, expected", [
    (None, {"total": 3, "connect": 2, "status": 3, "backoff_factor": 0.25}),
    (0, {"total": 0, "connect": 0, "status": 0, "backoff_factor": 0.25}),
    ("5", {"total": 5, "connect": 5, "status": 5}),
    ({"total": 2, "backoff_factor": 1}, {"total": 2, "connect": 2, "backoff_factor": 1.0}),
    ('{"status_forcelist": [503]}', {"status_forcelist": [503], "total": 3}),
])
def test_retries(given, expected):
    retries = options(vault_token="t", vault_retries=given).vault_retries
    assert {key: retries[key] for key in expected} == expected


@pytest.mark.parametrize("given", [-1, "many", {"read": 3}, {"total": -2}, {"status_forcelist": [200]}, {"backoff_factor": "x"}])
def test_bad_retries_name_the_option(given):
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t", vault_retries=given)
    assert err.value.field.startswith("vault_retries")


@pytest.mark.parametrize("given, expected", [("yes", True), ("on", True), ("1", True), (1, True), ("Y", True),
                                             ("no", False), ("off", False), ("0", False), (False, False)])
def test_booleans_are_ansibles_own(given, expected):
    assert options(vault_token="t", vault_validate_certs=given).vault_validate_certs is expected


@pytest.mark.parametrize("given", ["maybe", "2", 2])
def test_a_bad_boolean_names_the_option(given):
    with pytest.raises(VaultOptionsError) as err:
        options(vault_token="t", vault_validate_certs=given)
    assert err.value.field == "vault_validate_certs"


@pytest.mark.parametrize("field", ["kv_mount", "kv_path"])
def test_an_empty_kv_path_given_on_purpose_is_refused(field):
    with pytest.raises(ValueError) as err:
        options(vault_token="t", **{field: ""})
    assert field in str(err.value) and "must not be empty" in str(err.value)


def test_community_names_through_the_ansible_validator(monkeypatch):
    for name in [n for n in __import__("os").environ if n.startswith(("VAULT_", "ANSIBLE_HASHI_VAULT_", "AWS_", "EC2_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-from-env")
    result = ArgumentSpecValidator(vo.vault_argspec(env_fallback)).validate(
        {"url": ADDR, "auth_method": "aws_iam", "role_id": "ec2", "aws_access_key_id": "AKIA", "region": "eu-west-1", "cacert": None})
    assert result.error_messages == []
    opts = VaultOptions.from_mapping(result.validated_parameters)
    assert (opts.vault_addr, opts.vault_auth_method, opts.vault_role, opts.vault_aws_access_key, opts.vault_aws_secret_key,
            opts.vault_aws_region, opts.auth_mount) == (ADDR, "aws_iam", "ec2", "AKIA", "aws-secret-from-env", "eu-west-1", "aws")
    assert "aws-secret-from-env" in result._no_log_values  # pylint: disable=protected-access
    assert "aws-secret-from-env" not in repr(opts)
