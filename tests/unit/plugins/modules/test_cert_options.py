"""sectigo_cert and sectigo_certs take their certificate options from one declaration each (``CertRequest``, read
into ``CERT_OPTIONS``): the argspecs cannot drift apart, every option is described once (the doc fragment
``cert_options``), and each module's documentation, once Ansible has merged its fragments, says what its argspec
takes (as ansible-test validate-modules checks, here on every unit run)."""
from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible.utils.plugin_docs import add_fragments

from ansible_collections.sectigo.vault_pki.plugins.doc_fragments import cert_options as fragment
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CERT_OPTIONS
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import argument_spec
from ansible_collections.sectigo.vault_pki.plugins.modules import sectigo_cert, sectigo_certs

# What the fleet path leaves out, on purpose (see NOT_PER_ITEM and NOT_SHARED in sectigo_certs). A change here is a
# change of the module's interface: its DOCUMENTATION, docs/lifecycle.md and a changelog fragment go with it.
NOT_PER_ITEM = {"cert_unique_id", "read_renewed_cert", "wait", "max_timeout", "loop_period", "rotate_key_on_renew",
                "format_type", "num_servers", "server_type", "revoke_on_replace", "verify_profile"}
NOT_SHARED = {"name", "cert_unique_id", "read_renewed_cert", "ssl_id", "order_number", "common_name", "email_address",
              "subject_alt_names", "csr", "private_key", "email", "first_name", "middle_name", "last_name"}


def test_sectigo_cert_takes_every_cert_option_as_the_table_says():
    assert {k: v for k, v in sectigo_cert.ARGUMENT_SPEC.items() if k in CERT_OPTIONS} == CERT_OPTIONS
    assert set(sectigo_cert.ARGUMENT_SPEC) - set(CERT_OPTIONS) == {"config", "return_private_key", "run_in_worker"}


@pytest.mark.parametrize("option", sorted(CERT_OPTIONS))
def test_a_fleet_item_takes_the_option_as_sectigo_cert_does(option):
    if option in NOT_PER_ITEM:
        assert option not in sectigo_certs.ITEM_SPEC
        return
    expected = {k: v for k, v in sectigo_cert.ARGUMENT_SPEC[option].items() if k != "default"}  # the top level's applies
    if option == "name":
        expected["required"] = True
    assert sectigo_certs.ITEM_SPEC[option] == expected
    assert sectigo_certs.ARGUMENT_SPEC["certificates"]["options"][option] == expected


@pytest.mark.parametrize("option", sorted(CERT_OPTIONS))
def test_a_shared_option_is_taken_as_sectigo_cert_does(option):
    if option in NOT_SHARED:
        assert option not in sectigo_certs.SHARED_SPEC and option not in sectigo_certs.ARGUMENT_SPEC
        return
    assert sectigo_certs.SHARED_SPEC[option] == sectigo_cert.ARGUMENT_SPEC[option]
    assert sectigo_certs.ARGUMENT_SPEC[option] == sectigo_cert.ARGUMENT_SPEC[option]


def test_custom_fields_are_raw_everywhere():
    # A list of {name, value} or the Vault plugin's JSON text; _cert_request.custom_fields() checks both forms.
    for spec in (sectigo_cert.ARGUMENT_SPEC, sectigo_certs.ITEM_SPEC, sectigo_certs.SHARED_SPEC):
        assert spec["custom_fields"]["type"] == "raw" and "elements" not in spec["custom_fields"]


def _names(spec):
    return [name for name, entry in spec.items() for name in [name] + list(entry.get("aliases", []))]


@pytest.mark.parametrize("spec", [
    pytest.param(argument_spec(sectigo_cert.ARGUMENT_SPEC), id="sectigo_cert"),
    pytest.param(argument_spec(sectigo_certs.ARGUMENT_SPEC), id="sectigo_certs"),
    pytest.param(sectigo_certs.ITEM_SPEC, id="sectigo_certs-item"),
])
def test_no_alias_collides_with_another_option(spec):
    names = _names(spec)
    assert len(names) == len(set(names)), sorted(n for n in set(names) if names.count(n) > 1)


def _documented_as(entry):
    """An argspec entry as its DOCUMENTATION must say it (what validate-modules compares)."""
    out = {"type": entry.get("type", "str")}
    for key in ("elements", "choices", "default"):
        if entry.get(key) is not None:
            out[key] = entry[key]
    if entry.get("aliases"):
        out["aliases"] = sorted(entry["aliases"])
    if entry.get("required"):
        out["required"] = True
    return out


def _compare(doc, spec, where):
    assert set(doc) == set(spec), f"{where}: documented but not in the argspec: {sorted(set(doc) - set(spec))}; " \
                                  f"in the argspec but not documented: {sorted(set(spec) - set(doc))}"
    for name, entry in spec.items():
        said = {k: v for k, v in doc[name].items() if k in ("type", "elements", "choices", "default", "aliases", "required")}
        said.setdefault("type", "str")
        if "aliases" in said:
            said["aliases"] = sorted(said["aliases"])
        if said.get("required") is False:
            del said["required"]
        assert said == _documented_as(entry), f"{where}{name}"
        if "options" in entry:
            _compare(doc[name].get("suboptions") or {}, entry["options"], f"{where}{name}.")


class _Fragments:
    """The collection's doc fragments, found as Ansible's fragment loader finds them (``add_fragments`` asks ``get``)."""

    def get(self, name):
        parts = name.split(".")
        if len(parts) != 3 or parts[:2] != ["sectigo", "vault_pki"]:
            return None
        module = importlib.import_module(f"ansible_collections.sectigo.vault_pki.plugins.doc_fragments.{parts[2]}")
        return type("Fragment", (module.ModuleDocFragment,), {"ansible_name": name})


def merged_documentation(module):
    """The module's DOCUMENTATION with its fragments merged in, by Ansible's own code (as ansible-doc shows it)."""
    doc = yaml.safe_load(module.DOCUMENTATION)
    add_fragments(doc, module.__file__, _Fragments(), is_module=True)
    return doc


@pytest.mark.parametrize("module", [sectigo_cert, sectigo_certs], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_documentation_says_what_the_argspec_takes(module):
    doc = merged_documentation(module)["options"]
    _compare({k: v for k, v in doc.items() if k in module.ARGUMENT_SPEC}, module.ARGUMENT_SPEC, "")


MODULES = sorted(name[:-3] for name in os.listdir(os.path.dirname(sectigo_cert.__file__)) if name.startswith("sectigo_"))


@pytest.mark.parametrize("name", MODULES)
def test_every_module_takes_its_attributes_from_the_fragment(name):
    # The module's DOCUMENTATION adds details (or a support other than full); what every attribute is, the fragment says.
    module = importlib.import_module(f"ansible_collections.sectigo.vault_pki.plugins.modules.{name}")
    assert "sectigo.vault_pki.attributes" in yaml.safe_load(module.DOCUMENTATION)["extends_documentation_fragment"]
    attributes = merged_documentation(module)["attributes"]
    assert {"check_mode", "diff_mode", "platform"} <= set(attributes)
    assert all(value["description"] and value["support"] for value in attributes.values())


def test_every_certificate_option_is_described_once():
    # descriptions() refuses an option described twice; none is missing and none is left over.
    assert set(fragment.descriptions()) == set(CERT_OPTIONS)


def test_a_reference_points_where_the_option_lives_in_each_set():
    items = merged_documentation(sectigo_certs)["options"]["certificates"]["suboptions"]
    assert "O(certificates[].csr)" in items["common_name"]["description"][0]
    assert "O(certificates[].reason)" in items["state"]["description"][1]
    assert "O(certificates[].key_size)" in items["key_curve"]["description"]
    assert "O(key_size)" in merged_documentation(sectigo_certs)["options"]["key_curve"]["description"]      # the top level's
    assert "O(key_size)" in str(merged_documentation(sectigo_cert)["options"]["key_curve"]["description"])


def test_the_fleet_module_states_only_what_differs():
    # sectigo_certs documents its own options and the few whose meaning differs for a batch; the rest come from the fragment.
    own = yaml.safe_load(sectigo_certs.DOCUMENTATION)["options"]
    assert set(own) == {"certificates", "names", "state", "concurrency", "max_orders", "max_timeout", "wait", "return_private_key", "shard",
                        "item_results"}
    assert "suboptions" not in own["certificates"]
