"""Profiles and the profile checks made before an order."""
from __future__ import annotations

import pytest

from lifecycle_fakes import FakeScm, FakeStore

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import kind_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.profiles import Profiles, check_against_profile

CONFIG = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1001}
PROFILE = {"id": 101, "name": "OV", "terms": [365, 730], "keyTypes": {"RSA": ["2048", "3072"], "EC": ["P-256"]}}


def test_download_once_then_zero_scm_calls():
    store, scm = FakeStore(), FakeScm()
    service = Profiles(store, CONFIG, kind_for(CONFIG, lambda: scm))
    changed, profile = service.ensure_present(101)
    assert changed and profile["terms"] == [365, 730]
    calls = len(scm.calls)
    assert service.ensure_present(101) == (False, profile) and len(scm.calls) == calls
    assert service.ensure_present(101, refresh=True)[0] is False
    assert [p["id"] for p in service.list()] == [101]


def test_check_mode_writes_nothing():
    store, scm = FakeStore(), FakeScm()
    assert Profiles(store, CONFIG, kind_for(CONFIG, lambda: scm), check_mode=True).ensure_present(101)[0]
    assert store.writes == 0 and scm.calls == []


def test_unknown_profile_lists_offered_ids():
    with pytest.raises(InputError) as err:
        Profiles(FakeStore(), CONFIG, kind_for(CONFIG, FakeScm)).ensure_present(999)
    assert err.value.field == "profile_id" and "101, 104" in str(err.value)


def test_absent():
    store, scm = FakeStore(), FakeScm()
    service = Profiles(store, CONFIG, kind_for(CONFIG, lambda: scm))
    service.ensure_present(101)
    assert service.ensure_absent(101)[0] and not service.ensure_absent(101)[0]


@pytest.mark.parametrize("kwargs, field", [
    ({"term": 30, "key_algo": "RSA", "key_param": "2048"}, "term"),
    ({"term": 365, "key_algo": "DSA", "key_param": "2048"}, "key_algo"),
    ({"term": 365, "key_algo": "RSA", "key_param": "4096"}, "key_size"),
    ({"term": 365, "key_algo": "EC", "key_param": "P-384"}, "key_curve"),
])
def test_check_against_profile_names_field_and_allowed_values(kwargs, field):
    with pytest.raises(InputError) as err:
        check_against_profile(PROFILE, **kwargs)
    assert err.value.field == field


def test_check_against_profile_accepts_allowed():
    check_against_profile(PROFILE, term=730, key_algo="EC", key_param="P-256")


def test_for_order_downloads_once_and_check_mode_never_downloads():
    store, scm = FakeStore(), FakeScm()
    assert Profiles(store, CONFIG, kind_for(CONFIG, lambda: scm), check_mode=True).for_order(101) is None and scm.calls == []
    profiles = Profiles(store, CONFIG, kind_for(CONFIG, lambda: scm))
    assert profiles.for_order(101)["terms"] == [365, 730] and store.writes == 1
    calls = len(scm.calls)
    assert profiles.for_order(101)["id"] == 101 and len(scm.calls) == calls and store.writes == 1
    with pytest.raises(InputError) as err:
        profiles.for_order(999)
    assert err.value.field == "cert_type" and "101, 104" in str(err.value)
