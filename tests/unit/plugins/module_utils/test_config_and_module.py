"""ConfigService, cert_info queries and the module helpers (argspec merge, one place for failures)."""
from __future__ import annotations

import pytest

from lifecycle_fakes import FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertQuery as CertInfoQuery, query_certificates
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.configs import ConfigService, public_config
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import argument_spec, failure_fields
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmAuthError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultAuthError, VaultCasConflict

DESIRED = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "login": "api", "password": "s3cret-pw", "org_id": 1001,
           "defaults": {"cert_type": 101, "term": 365}}


class FakeScmForConfig:
    def __init__(self, refuse=False):
        self.refuse = refuse
        self.calls = 0

    def verify_credentials(self, kind="ssl"):
        self.calls += 1
        if self.refuse:
            raise ScmAuthError("SCM refused the credentials (GET /ssl/v1/types): -16 Invalid auth data (HTTP 401)", status=401, scm_code=-16)


def test_config_create_idempotent_and_password_never_shown():
    store, scm = FakeStore(), FakeScmForConfig()
    service = ConfigService(store, scm_factory=lambda config: scm)
    created = service.ensure_present(dict(DESIRED), verify_connection=True)
    assert created.changed and created.config["password_set"] and "password" not in created.config
    assert "s3cret-pw" not in repr(created.before) + repr(created.after) + repr(created.config)
    assert store.read("configs/prod")[0]["password"] == "s3cret-pw"
    again = service.ensure_present(dict(DESIRED), verify_connection=True)
    assert not again.changed and scm.calls == 1


def test_config_update_password_modes():
    store = FakeStore()
    service = ConfigService(store, scm_factory=lambda config: FakeScmForConfig())
    service.ensure_present(dict(DESIRED))
    assert not service.ensure_present(dict(DESIRED, password="other"), update_password="on_create").changed
    assert service.ensure_present(dict(DESIRED, password="other"), update_password="always").changed
    assert store.read("configs/prod")[0]["password"] == "other"


def test_config_refused_credentials_save_nothing():
    store = FakeStore()
    service = ConfigService(store, scm_factory=lambda config: FakeScmForConfig(refuse=True))
    with pytest.raises(ScmAuthError):
        service.ensure_present(dict(DESIRED), verify_connection=True)
    assert store.read("configs/prod") == (None, 0)


class RacingStore(FakeStore):
    """Another run writes ``rival`` to the path between this run's read and its write, ``times`` times."""

    def __init__(self, rival, times=1):
        super().__init__()
        self.rival, self.times = rival, times

    def write(self, path, value, cas):
        if self.times:
            self.times -= 1
            super().write(path, dict(self.rival), cas=self.read(path)[1])
        return super().write(path, value, cas)


def test_config_lost_race_to_same_content_is_unchanged():
    rival = dict(DESIRED, base_url="https://cert-manager.com/api", scm_auth_method="password", scm_validate_certs=True,
                 updated_at="2026-01-01T00:00:00Z")
    store = RacingStore(rival)
    result = ConfigService(store, scm_factory=lambda config: FakeScmForConfig()).ensure_present(dict(DESIRED))
    assert not result.changed
    assert store.writes == 1 and store.read("configs/prod")[0]["updated_at"] == "2026-01-01T00:00:00Z"


def test_config_lost_race_to_other_content_decides_again():
    store, scm = RacingStore(dict(DESIRED, org_id=9999)), FakeScmForConfig()
    result = ConfigService(store, scm_factory=lambda config: scm).ensure_present(dict(DESIRED), verify_connection=True)
    assert result.changed and result.before["org_id"] == 9999
    assert store.read("configs/prod")[0]["org_id"] == 1001 and scm.calls == 1


def test_config_endless_race_gives_up_with_the_conflict():
    store = RacingStore(dict(DESIRED, org_id=9999), times=100)
    with pytest.raises(VaultCasConflict):
        ConfigService(store, scm_factory=lambda config: FakeScmForConfig()).ensure_present(dict(DESIRED))


def test_config_check_mode_writes_nothing_and_absent():
    store = FakeStore()
    service = ConfigService(store, scm_factory=lambda config: FakeScmForConfig())
    assert service.ensure_present(dict(DESIRED), check_mode=True).changed and store.writes == 0
    service.ensure_present(dict(DESIRED))
    assert service.ensure_absent("prod").changed
    assert not service.ensure_absent("prod").changed


@pytest.mark.parametrize("change, field", [
    ({"config_type": "code_signing"}, "config_type"),
    ({"org_id": None}, "org_id"),
    ({"password": None}, "password"),
    ({"name": "a/b"}, "name"),
    ({"defaults": {"colour": "blue"}}, "defaults.colour"),
])
def test_config_bad_input_names_the_field(change, field):
    store = FakeStore()
    with pytest.raises(InputError) as err:
        ConfigService(store, scm_factory=lambda config: FakeScmForConfig()).ensure_present(dict(DESIRED, **change))
    assert err.value.field == field and store.writes == 0


def test_public_config_hides_password():
    expected = {"name": "x", "password_set": True, "client_secret_set": False, "scm_client_key_pem_set": False}
    assert public_config({"name": "x", "password": "p"}) == expected


def test_cert_info_lists_and_filters():
    store = FakeStore()
    store.write("configs/prod", {"name": "prod"}, cas=0)
    store.write("names/prod/a", {"cert_unique_id": "1_acme"}, cas=0)
    store.write("certs/prod/1_acme", {"cert_unique_id": "1_acme", "status": "Issued", "not_after": "2999-01-01T00:00:00Z",
                                      "private_key": "KEY"}, cas=0)
    store.write("names/prod/b", {"cert_unique_id": "2_acme"}, cas=0)
    store.write("certs/prod/2_acme", {"cert_unique_id": "2_acme", "status": "Issued", "not_after": "2000-01-01T00:00:00Z"}, cas=0)
    listing = query_certificates(store, CertInfoQuery(config="prod"))["certificates"]
    assert [c["name"] for c in listing] == ["a", "b"] and "private_key" not in repr(listing)
    expiring = query_certificates(store, CertInfoQuery(config="prod", expiring_within_days=30))["certificates"]
    assert [c["name"] for c in expiring] == ["b"]
    one = query_certificates(store, CertInfoQuery(config="prod", name="a"))
    assert "private_key" not in one["certificate"]
    assert query_certificates(store, CertInfoQuery(config="prod", name="a", include_private_key=True))["certificate"]["private_key"] == "KEY"
    with pytest.raises(InputError):
        query_certificates(store, CertInfoQuery(config="prod", name="zzz"))


def test_argument_spec_merges_vault_options_and_env_marker():
    spec = argument_spec({"password": {"type": "str", "no_log": True, "fallback": ("env", ["SECTIGO_CM_PASSWORD"])}})
    assert spec["vault_token"]["no_log"] is True and "vault_addr" in spec
    assert callable(spec["password"]["fallback"][0]) and spec["password"]["fallback"][1] == ["SECTIGO_CM_PASSWORD"]


def test_failure_fields_shape():
    scm = failure_fields(ScmAuthError("SCM refused the credentials: -16 Invalid auth data (HTTP 401)", status=401, scm_code=-16), "verb it")
    assert scm == {"msg": "Failed to verb it: SCM refused the credentials: -16 Invalid auth data (HTTP 401)", "status": 401, "scm_code": -16}
    vault = failure_fields(VaultAuthError("permission denied", path="x", status=403), "read")
    assert vault["status"] == 403 and vault["msg"].startswith("Failed to read:")
    field = failure_fields(InputError("term", "term must be one of 365"), "x")
    assert field == {"msg": "term must be one of 365", "field": "term"}
    op = failure_fields(OperationError("Failed to collect", result={"status": "TimeoutStateSaved", "cert": {"ssl_id": 7}}, scm_code=None), "x")
    assert op["status"] == "TimeoutStateSaved" and op["cert"]["ssl_id"] == 7
    with pytest.raises(KeyError):
        failure_fields(KeyError("bug"), "x")


def test_cert_info_of_an_unknown_config_names_it():
    with pytest.raises(InputError) as err:
        query_certificates(FakeStore(), CertInfoQuery(config="nope"))
    assert err.value.field == "config" and "nope" in str(err.value)
