#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_cert_info
short_description: List or read certificates kept in Vault
version_added: 0.1.0
description:
  - Lists the certificates of a config with their status and expiry, or returns one certificate record.
  - Reads Vault only; never calls SCM and never renews or collects (use M(sectigo.vault_pki.sectigo_cert) or the lookup for that).
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes.info_module
  - sectigo.vault_pki.attributes
options:
  name:
    description: Return only the certificate with this name.
    type: str
  cert_unique_id:
    description: Return only the record with this id.
    type: str
    aliases: [sectigo_cert_unique_id]
  status:
    description: List only certificates with one of these statuses.
    type: list
    elements: str
    choices: [Requested, Applied, Issued, TimeoutStateSaved, ErrorCode, Renewed, Revoked, Cancelled]
  expiring_within_days:
    description: List only certificates that expire within this many days (expired ones included).
    type: int
  return_private_key:
    description:
      - Include the private key in RV(certificate) when one certificate is read. Use C(no_log) on the task.
      - The same option name as in M(sectigo.vault_pki.sectigo_cert); O(include_private_key) is its alias.
    type: bool
    default: false
    aliases: [include_private_key]
  include_superseded:
    description:
      - Also list the records no name points at any more (renewed or replaced predecessors, records kept after their
        name was deleted), each with C(current=false). The filters apply to them too.
      - Without it, the listing shows the current record of each name.
    type: bool
    default: false
  tidy_preview:
    description:
      - List in RV(tidy_candidates) what M(sectigo.vault_pki.sectigo_tidy) would remove with these kinds switched on
        and O(safety_buffer), instead of the usual listing.
    type: list
    elements: str
    choices: [superseded, revoked, expired, cancelled, imported_unused]
  safety_buffer:
    description: With O(tidy_preview), the tidy's safety buffer, e.g. C(72h) or C(30d).
    type: str
    default: 72h
seealso:
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Certificates of prod expiring within 30 days
  sectigo.vault_pki.sectigo_cert_info:
    config: prod
    status: [Issued]
    expiring_within_days: 30
  register: expiring

- name: Every record of prod, superseded ones included, that SCM still holds valid
  sectigo.vault_pki.sectigo_cert_info:
    config: prod
    include_superseded: true
    status: [Issued, Renewed]
  register: all_records

- name: One record
  sectigo.vault_pki.sectigo_cert_info:
    config: prod
    name: web01
  register: web01
"""

RETURN = r"""
certificates:
  description: One summary per certificate name (the current record of each name), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Certificate name.
      type: str
    cert_unique_id:
      description: Id of the current record.
      type: str
    status:
      description: Status of the record.
      type: str
    domain:
      description: Common name.
      type: str
    not_after:
      description: Expiry, ISO-8601 UTC.
      type: str
    days_remaining:
      description: Whole days until expiry.
      type: int
    current:
      description: Whether a name points at this record (only with O(include_superseded)).
      type: bool
    renew_after:
      description:
        - The certificate's renewal time, ISO-8601 UTC, from the config's defaults (C(expiry_window), C(renewal_spread)).
          From this moment on, O(sectigo.vault_pki.sectigo_cert#module:state=present), the lookup, M(sectigo.vault_pki.sectigo_certs)
          and the renewal role renew it. Inside the expiry window and derived from the certificate's identity, so the
          same on every run. The collection's C(docs/reporting.md) describes the spread.
        - Absent when the certificate does not renew by itself (not issued, or C(auto_renew) off).
      type: str
      returned: for issued certificates that renew by themselves
  sample:
    - name: web01
      cert_unique_id: 1042_demo
      status: Issued
      domain: web01.example.com
      not_after: "2027-11-23T07:40:00Z"
      days_remaining: 364
      renew_after: "2027-11-02T19:12:31Z"
tidy_candidates:
  description: With O(tidy_preview), the records a tidy would remove, each with C(tidy_kind) and C(ended_at).
  returned: when O(tidy_preview) is given
  type: list
  elements: dict
certificate:
  description: The full record (without C(private_key) unless O(return_private_key)) when O(name) or O(cert_unique_id) is given.
  returned: when O(name) or O(cert_unique_id) is given
  type: dict
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.plan import annotate
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import CertQuery, query_certificates
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION, run_module
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import STATUSES

ARGUMENT_SPEC = dict(
    config=CONFIG_OPTION,
    name=dict(type="str"),
    cert_unique_id=dict(type="str", aliases=["sectigo_cert_unique_id"]),
    status=dict(type="list", elements="str", choices=list(STATUSES)),
    expiring_within_days=dict(type="int"),
    return_private_key=dict(type="bool", default=False, aliases=["include_private_key"]),
    include_superseded=dict(type="bool", default=False),
    tidy_preview=dict(type="list", elements="str", choices=["superseded", "revoked", "expired", "cancelled", "imported_unused"]),
    safety_buffer=dict(type="str", default="72h"),
)


def _run(module, store):
    params = module.params
    if params["tidy_preview"]:
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.tidy import Tidy, TidyRequest

        req = TidyRequest(config=params["config"], kinds={kind: True for kind in params["tidy_preview"]},
                          safety_buffer=params["safety_buffer"])
        tidy = Tidy(store, params["config"], check_mode=True)
        tidy.check(req)
        return {"changed": False, "tidy_candidates": tidy.plan(req)}
    query = CertQuery(config=params["config"], name=params["name"], cert_unique_id=params["cert_unique_id"],
                      statuses=params["status"], expiring_within_days=params["expiring_within_days"],
                      include_private_key=params["return_private_key"],
                      include_superseded=params["include_superseded"])
    out = query_certificates(store, query, annotate=annotate)
    out["changed"] = False
    return out


def main():
    run_module(ARGUMENT_SPEC, _run, verb="read certificates", need_scm=False, mutually_exclusive=[("name", "cert_unique_id")])


if __name__ == "__main__":
    main()
