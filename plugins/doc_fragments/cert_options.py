# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate options of sectigo_cert and sectigo_certs, each documented once.

Each option has one description here, in the block of its concern. Its type, choices, default and aliases are not
written here: they come from the option's one declaration (``CertRequest`` in module_utils/_lifecycle/request.py),
which the argspecs are built from too, so the docs and the argspecs cannot disagree. The fragments below are the
three option sets of ``_lifecycle/request.VIEWS``:

- ``sectigo.vault_pki.cert_options``: every option (sectigo_cert);
- ``sectigo.vault_pki.cert_options.shared``: sectigo_certs' top level, the options that apply to every item;
- ``sectigo.vault_pki.cert_options.items``: sectigo_certs' ``certificates`` suboptions (a module's option named in a
  fragment is merged with the module's own entry, which gives its description, type and elements).

A reference to another option (``O(csr)``) is written as sectigo_cert sees it and pointed where that option lives
in each set (``O(certificates[].csr)`` from sectigo_certs' top level).
"""
from __future__ import annotations

import re

import yaml

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import VIEWS, cert_options_for

# Which certificate a task is about and what it asks for.
IDENTITY = r"""
name:
  description:
    - Stable name of the certificate within the config; it follows renewals and replacements. Recommended.
    - Required to enroll or import.
cert_unique_id:
  description: Address a record directly by C(<ssl_id>_<customer_uri>) or C(<order_number>_<customer_uri>).
state:
  description:
    - V(present) ensures a valid certificate (see the description of M(sectigo.vault_pki.sectigo_cert)).
    - V(renewed) renews now; V(replaced) replaces now (needs O(reason)).
    - V(absent) removes the record and its name from Vault; the SCM order is left untouched.
ssl_id:
  description: Import the existing SCM SSL order with this id (SSL configs).
order_number:
  description: Import the existing SCM client-certificate order with this number (client configs).
"""

# The subject and SANs of a new CSR.
SUBJECT = r"""
common_name:
  description:
    - Subject CN. Required to enroll an SSL certificate unless O(csr) is given.
    - The Vault plugin's enroll name is C(sectigo_csr_domain), its replace name C(sectigo_ssl_cert_common_name).
country:
  description: Subject C (two letters).
province:
  description: Subject ST.
locality:
  description: Subject L.
organization:
  description: Subject O.
organizational_unit:
  description: Subject OU.
email_address:
  description: Subject emailAddress.
subject_alt_names:
  description:
    - SANs, as a list or a comma-separated string. Plain names are DNS names, addresses are IP SANs, C(user@host) are
      e-mail SANs; prefixes C(DNS:), C(IP:), C(email:), C(URI:) are also accepted. A DNS common name is always added.
"""

# The key and CSR.
KEY = r"""
key_algo:
  description: Key algorithm of a generated key. Default V(RSA) for new certificates.
key_size:
  description: Key size; 2048, 3072 or 4096 for RSA (default 2048), 256, 384 or 521 for EC (default 256).
key_curve:
  description: EC curve, an alternative to O(key_size) for EC keys.
csr:
  description: Bring your own PEM CSR instead of a generated one. The record then holds a key only if O(private_key) is given.
private_key:
  description: Bring your own PEM private key; must match O(csr) when both are given.
rotate_key_on_renew:
  description:
    - Generate a new key for each SSL renewal. Client-certificate renewals keep their key (SCM's S/MIME renew takes
      no CSR); use O(state=replaced) for a new key.
"""

# The SCM order.
ORDER = r"""
org_id:
  description:
    - SCM organization or department id of a new order; the config's O(sectigo.vault_pki.sectigo_config#module:org_id)
      when omitted. Renewals keep the order's organization.
cert_type:
  description: SCM profile id. Default-able in the config; required to enroll.
term:
  description: Validity in days; one of the profile's terms. Default-able; required to enroll.
format_type:
  description:
    - SCM collect format. Whatever the format, the record holds the leaf PEM and the chain PEMs.
    - One of V(x509), V(x509CO), V(x509IO), V(base64), V(bin), V(x509IOR), V(x509R), V(pem), V(pemco), V(pemia); the case is
      ignored (the Vault plugin's samples write V(X509)).
    - Default-able; V(x509) when neither the task nor the config sets it.
external_requester:
  description: E-mail address(es) of the external requester. Default-able.
comments:
  description:
    - Order comments. Default-able. The collection appends C(vault_pki:<request_id>) so that an order whose answer was
      lost can be found again instead of placed twice.
num_servers:
  description: Legacy C(numberServers) enroll field. Default-able.
server_type:
  description: Legacy C(serverType) enroll field. Default-able.
custom_fields:
  description:
    - SCM custom fields, a list of C({name, value}), or the Vault plugin's JSON text of that list. Default-able.
    - With O(verify_profile), every field SCM marks mandatory for the config's kind must have a value; SCM's list is
      downloaded into Vault once (C(custom_fields/<config>)) and checked before any order.
verify_profile:
  description:
    - Check O(term) and the key against the profile (downloaded into Vault when missing) before placing an order, and
      that O(custom_fields) holds every field SCM marks mandatory. Default-able; V(true) by default.
"""

# The owner of a client (S/MIME) certificate.
CLIENT = r"""
email:
  description: E-mail address of the client certificate's owner. Required to enroll a client certificate.
first_name:
  description: Owner's first name (client certificates). First, middle and last name together at most 64 characters.
middle_name:
  description: Owner's middle name (client certificates).
last_name:
  description: Owner's last name (client certificates).
"""

# Renewal and replacement.
RENEWAL = r"""
expiry_window:
  description:
    - Renew this many days before expiry, or a percentage of the lifetime such as V(33%). Default-able; 7 days by default.
    - When the window is not shorter than the certificate's lifetime, one third of the lifetime is used and a warning says so.
auto_renew:
  description: Renew an issued certificate inside O(expiry_window) with O(state=present). Default-able; V(true) by default.
read_renewed_cert:
  description: When addressed by O(cert_unique_id), follow C(renewed_to) to the newest certificate. Default-able; V(true) by default.
revoke_on_replace:
  description: Revoke the old client certificate when it is replaced. Default-able; V(false) by default.
reason:
  description: Reason sent to SCM with a replacement (1 to 512 characters). Required with O(state=replaced).
replace_revoked_outside:
  description:
    - When the name's certificate was revoked in SCM outside the collection (seen by
      M(sectigo.vault_pki.sectigo_inventory)'s sync), enroll a new one with O(state=present). Without it such a task
      fails naming the certificate and what happened, and orders nothing. A task's own choice, never a config default.
"""

# Waiting for issuance.
WAIT = r"""
wait:
  description: Wait for issuance. V(false) returns right after the order id is saved. Default-able; V(true) by default.
max_timeout:
  description: Seconds to wait for issuance. Default-able; 600 by default. V(0) checks once.
loop_period:
  description: Longest gap in seconds between two polls; polling starts at one second and backs off with jitter. Default-able; 30 by default.
"""

CONCERNS = (IDENTITY, SUBJECT, KEY, ORDER, CLIENT, RENEWAL, WAIT)
_REFERENCE = re.compile(r"O\(([a-z_]+)(=[^)]*)?\)")
_DOC_KEYS = ("type", "elements", "choices", "default", "required", "aliases")


def descriptions():
    """Every option's description, from the concern blocks; an option documented twice is an error."""
    out = {}
    for block in CONCERNS:
        for name, entry in yaml.safe_load(block).items():
            if name in out:
                raise ValueError(f"option {name} is documented twice")
            out[name] = entry["description"]
    return out


def _point(text, view):
    """Point ``O(option)`` references where the option lives when the docs of ``view`` are read."""
    item, shared = set(VIEWS["item"]["only"]), set(VIEWS["shared"]["only"])

    def where(match):
        name, value = match.group(1), match.group(2) or ""
        if view == "task" or (view == "shared" and name in shared):
            return match.group(0)
        if name in item:
            return f"O(certificates[].{name}{value})"
        if name in shared:
            return match.group(0)
        return f"C({name}{value})"

    if isinstance(text, list):
        return [_REFERENCE.sub(where, line) for line in text]
    return _REFERENCE.sub(where, text)


def documented(view):
    """The ``options`` of one view: the description from here, the rest from the option's declaration."""
    texts = descriptions()
    out = {}
    for name, spec in cert_options_for(view).items():
        entry = {"description": _point(texts[name], view)}
        entry.update((key, spec[key]) for key in _DOC_KEYS if key in spec)
        out[name] = entry
    return out


def _dump(options):
    return yaml.safe_dump({"options": options}, sort_keys=False, width=120)


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """See the module docstring: generated from the concern blocks and the option declarations."""


# Set after the class body: ansible-test's yamllint reads a fragment's class body for string literals, and these are
# built. Ansible reads them as class attributes all the same (ansible-doc, validate-modules, the docs site).
ModuleDocFragment.DOCUMENTATION = _dump(documented("task"))
ModuleDocFragment.SHARED = _dump(documented("shared"))
ModuleDocFragment.ITEMS = _dump({"certificates": {"suboptions": documented("item")}})
