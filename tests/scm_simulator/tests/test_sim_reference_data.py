"""Authentication (SCM_API §1.2), organizations (§6.1), profiles (§3.1, §5.2) and custom fields (§3.2)."""
from __future__ import annotations

import pytest

INVALID_AUTH = {"code": -16, "description": "Invalid auth data"}


@pytest.mark.parametrize("headers", [
    {"password": "wrong"},
    {"login": "someone"},
    {"customerUri": "other"},
])
def test_wrong_credentials_are_401_minus_16(client, headers):
    response = client.api("GET", "/ssl/v1/types", headers=headers)
    assert response.status_code == 401 and response.json() == INVALID_AUTH
    assert response.headers["Content-Type"].startswith("application/json")


def test_missing_credentials_are_401(client):
    response = client.api("GET", "/organization/v1", auth=False)
    assert response.status_code == 401 and response.json() == INVALID_AUTH


def test_credentials_are_checked_before_anything_else(client):
    # A collect with an unknown id and an unknown format still answers 401 first (SCM_API §1.2, recorded).
    response = client.api("GET", "/ssl/v1/collect/424242/nonsense", headers={"password": "wrong"})
    assert response.status_code == 401 and response.json() == INVALID_AUTH
    assert client.api("GET", "/no/such/endpoint", headers={"password": "wrong"}).status_code == 401


def test_header_names_are_case_insensitive(client):
    headers = {"LOGIN": "demo", "Password": "demo", "CustomerUri": "demo"}
    assert client.api("GET", "/ssl/v1/types", headers=headers, auth=False).status_code == 200


def test_private_api_takes_login_and_customer_uri_without_password(client):
    assert client.api("GET", "/ssl/v1/types", private=True).status_code == 200
    assert client.api("GET", "/ssl/v1/types", private=True, headers={"login": "nobody"}).status_code == 401


def test_organizations(client):
    orgs = client.api("GET", "/organization/v1").json()
    assert [(o["id"], [d["id"] for d in o["departments"]]) for o in orgs] == [(1001, [1002])]
    assert orgs[0]["departments"][0]["parentName"] == orgs[0]["name"]
    assert "SSL" in orgs[0]["certTypes"] and "SMIME" in orgs[0]["certTypes"]


def test_ssl_profiles_are_the_seed_data(client):
    types = {p["id"]: p for p in client.api("GET", "/ssl/v1/types").json()}
    assert sorted(types) == [101, 102, 103, 104]
    assert types[101]["terms"] == [365, 730]
    assert types[101]["keyTypes"] == {"RSA": ["2048", "3072", "4096"], "EC": ["P-256", "P-384", "P-521"]}
    assert types[102]["terms"] == [365] and list(types[102]["keyTypes"]) == ["RSA"]
    assert types[103]["terms"] == [1, 3, 7] and set(types[103]["keyTypes"]) == {"RSA", "EC"}
    assert types[104]["keyTypes"] == {"RSA": ["2048"]}
    for profile in types.values():
        assert set(profile) == {"id", "name", "description", "terms", "keyTypes", "useSecondaryOrgName"}


def test_smime_profiles_are_the_seed_data(client):
    types = {p["id"]: p["terms"] for p in client.api("GET", "/smime/v1/types").json()}
    assert types == {201: [365, 730], 202: [3]}


@pytest.mark.parametrize("org, count", [(1001, 4), (1002, 4), (9999, 0)])
def test_profiles_by_organization(client, org, count):
    assert len(client.api("GET", f"/ssl/v1/types?organizationId={org}").json()) == count


def test_profiles_by_a_non_numeric_organization_is_400(client):
    response = client.api("GET", "/ssl/v1/types?organizationId=abc")
    assert response.status_code == 400 and response.json()["code"] == -1601


@pytest.mark.parametrize("kind", ["ssl", "smime"])
def test_custom_fields_optional_until_made_mandatory(client, kind):
    fields = client.api("GET", f"/{kind}/v1/customFields").json()
    assert [(f["name"], f["mandatory"]) for f in fields] == [("Cost Center", False), ("Owner", False)]
    client.configure(mandatory_custom_fields=["Owner", "Project"])
    fields = client.api("GET", f"/{kind}/v1/customFields").json()
    assert [(f["name"], f["mandatory"]) for f in fields] == [("Cost Center", False), ("Owner", True), ("Project", True)]
    assert len({f["id"] for f in fields}) == 3


def test_unknown_endpoint_and_method_are_json_errors(client):
    unknown = client.api("GET", "/ssl/v9/whatever")
    assert unknown.status_code == 404 and set(unknown.json()) == {"code", "description"}
    wrong_method = client.api("DELETE", "/ssl/v1/types")
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "GET"
    outside = client.session.get(f"{client.root_url}/", timeout=10)
    assert outside.status_code == 404 and "code" in outside.json()
