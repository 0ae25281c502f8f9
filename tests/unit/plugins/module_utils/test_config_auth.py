"""Config entries for each SCM login: required fields, secrets kept out of results and diffs, the client they build."""
from __future__ import annotations

import pytest
from lifecycle_fakes import FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import (
    DEFAULT_ADMIN_BASE_URL, DEFAULT_TOKEN_URL, SECRET_FIELDS, ConfigService, public_config, scm_client_for)
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.modules.sectigo_config import ARGUMENT_SPEC

CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nkey-material-that-must-stay-hidden\n-----END PRIVATE KEY-----\n"
SECRET = "client-secret-that-must-stay-hidden"
BASE = {"name": "c", "config_type": "ssl_cert", "org_id": 1001}


class FakeScm:
    def __init__(self, seen):
        self.seen = seen

    def verify_credentials(self, kind="ssl"):
        self.seen.append(kind)


def service(store, seen=None):
    return ConfigService(store, scm_factory=lambda config: FakeScm(seen if seen is not None else []))


def test_secret_fields_are_one_tuple_and_no_log_in_the_module():
    assert SECRET_FIELDS == ("password", "client_secret", "scm_client_key_pem")
    for name in SECRET_FIELDS:
        assert ARGUMENT_SPEC[name]["no_log"] is True


def test_oauth2_config_needs_no_login_and_hides_the_secret():
    # customer_uri is not sent with oauth2 but names the records (cert_unique_id), so it stays required.
    store, seen = FakeStore(), []
    result = service(store, seen).ensure_present(dict(BASE, scm_auth_method="oauth2", customer_uri="acme", client_id="cid", client_secret=SECRET),
                                                 verify_connection=True)
    assert result.changed and seen == ["ssl"]
    stored = store.read("configs/c")[0]
    assert stored["client_secret"] == SECRET and stored["base_url"] == DEFAULT_ADMIN_BASE_URL and stored["scm_token_url"] == DEFAULT_TOKEN_URL
    shown = repr(result.config) + repr(result.before) + repr(result.after)
    assert SECRET not in shown
    assert result.config["client_secret_set"] and result.after["client_secret_set"] and not result.config["password_set"]
    assert result.after["client_id"] == "cid"


def test_pem_client_certificate_config_hides_the_key():
    store = FakeStore()
    result = service(store).ensure_present(dict(BASE, scm_auth_method="client_certificate", customer_uri="acme", login="api",
                                                scm_client_cert_pem=CERT_PEM, scm_client_key_pem=KEY_PEM))
    assert store.read("configs/c")[0]["scm_client_key_pem"] == KEY_PEM
    shown = repr(result.config) + repr(result.before) + repr(result.after)
    assert "key-material" not in shown and result.config["scm_client_key_pem_set"] and result.after["scm_client_cert_pem"] == CERT_PEM


@pytest.mark.parametrize("desired, field", [
    ({"scm_auth_method": "oauth2", "customer_uri": "a", "client_id": "cid"}, "client_secret"),
    ({"scm_auth_method": "oauth2", "customer_uri": "a", "client_secret": SECRET}, "client_id"),
    ({"scm_auth_method": "oauth2", "client_id": "cid", "client_secret": SECRET}, "customer_uri"),
    ({"scm_auth_method": "client_certificate", "customer_uri": "a", "login": "b"}, "scm_client_cert_pem"),
    ({"scm_auth_method": "client_certificate", "customer_uri": "a", "login": "b", "scm_client_cert_pem": CERT_PEM,
      "scm_client_key_pem": "/etc/key.pem"}, "scm_client_key_pem"),
    ({"scm_auth_method": "client_certificate", "customer_uri": "a", "scm_client_cert_pem": CERT_PEM, "scm_client_key_pem": KEY_PEM}, "login"),
])
def test_each_login_names_what_it_misses(desired, field):
    store = FakeStore()
    with pytest.raises(InputError) as info:
        service(store).ensure_present(dict(BASE, **desired))
    assert info.value.field == field and store.writes == 0
    assert "key-material" not in str(info.value) and SECRET not in str(info.value)


def test_update_password_on_create_keeps_every_stored_secret():
    store = FakeStore()
    svc = service(store)
    desired = dict(BASE, scm_auth_method="oauth2", customer_uri="acme", client_id="cid", client_secret=SECRET)
    svc.ensure_present(desired)
    assert not svc.ensure_present(dict(desired, client_secret="rotated"), update_password="on_create").changed
    assert svc.ensure_present(dict(desired, client_secret="rotated"), update_password="always").changed
    assert store.read("configs/c")[0]["client_secret"] == "rotated"


def test_public_config_flags_every_secret():
    view = public_config({"name": "x", "password": "p", "client_secret": "s", "scm_client_key_pem": KEY_PEM, "client_id": "cid"})
    assert view == {"name": "x", "client_id": "cid", "password_set": True, "client_secret_set": True, "scm_client_key_pem_set": True}


def test_scm_client_for_builds_each_login():
    oauth = scm_client_for(dict(BASE, base_url="https://scm.example.org/api", scm_auth_method="oauth2", client_id="cid",
                                client_secret=SECRET, scm_token_url="https://sso.example.org/token"))
    assert oauth.auth_method == "oauth2" and oauth.auth.token_url == "https://sso.example.org/token" and "login" not in oauth.session.headers
    password = scm_client_for(dict(BASE, base_url="https://scm.example.org/api", customer_uri="a", login="b", password="p"))
    assert password.auth.headers == {"login": "b", "customerUri": "a", "password": "p"}
