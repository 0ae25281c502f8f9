#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_tidy
short_description: Remove old certificate records of one config from Vault, as Vault PKI's tidy does
version_added: 0.3.0
description:
  - Removes the records of certificates the collection no longer needs, by kind, each kind opt-in - superseded (renewed
    or replaced), revoked, expired, cancelled, and imported from SCM without a private key and no longer used.
  - A record is removed only once its certificate ended (C(not_after); for an order cancelled before issuance, when it was
    cancelled) more than O(safety_buffer) ago, and never while a name points at it - a name's current certificate stays.
  - Removing a record deletes its KV v2 metadata, which destroys every version of it, private keys included.
  - Writes a status record C(<kv_path>/tidy/<config>) - when it started and finished, how many records of each kind it removed.
  - M(sectigo.vault_pki.sectigo_cert_info) with O(sectigo.vault_pki.sectigo_cert_info#module:tidy_preview) lists what a tidy would remove.
  - Calls Vault only, never SCM. See the collection's C(docs/inventory.md), "Retention".
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
attributes:
  check_mode:
    details: Counts and lists what would be removed; deletes and writes nothing.
  diff_mode:
    support: none
options:
  tidy_superseded:
    description: Remove records that a renewal or replacement superseded.
    type: bool
    default: false
  tidy_revoked:
    description: Remove records of revoked certificates.
    type: bool
    default: false
  tidy_expired:
    description: Remove records of expired certificates.
    type: bool
    default: false
  tidy_cancelled:
    description: Remove records of cancelled orders.
    type: bool
    default: false
  tidy_imported_unused:
    description: Remove records imported from SCM (no private key) that no name points at any more.
    type: bool
    default: false
  safety_buffer:
    description: How long after a certificate's end its record is kept, e.g. C(72h), C(30d), or seconds.
    type: str
    default: 72h
  pause_duration:
    description: Pause between two deletions, e.g. C(1s), to spread the load on Vault.
    type: str
    default: "0"
seealso:
  - module: sectigo.vault_pki.sectigo_certs
  - module: sectigo.vault_pki.sectigo_cert_info
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: What a tidy would remove
  sectigo.vault_pki.sectigo_tidy:
    config: web
    tidy_superseded: true
    tidy_revoked: true
    tidy_expired: true
  check_mode: true

- name: Keep a month after the end, then remove
  sectigo.vault_pki.sectigo_tidy:
    config: web
    tidy_superseded: true
    tidy_revoked: true
    tidy_expired: true
    tidy_cancelled: true
    safety_buffer: 30d
"""

RETURN = r"""
counts:
  description: Records removed (in check mode - that would be) per kind.
  returned: always
  type: dict
  sample: {superseded: 12, revoked: 1, expired: 3, cancelled: 0, imported_unused: 0}
total:
  description: Records removed in all.
  returned: always
  type: int
removed:
  description: The records removed - public facts and C(tidy_kind), never a key.
  returned: always
  type: list
  elements: dict
started_at:
  description: When the tidy started (ISO 8601).
  returned: always
  type: str
finished_at:
  description: When it finished.
  returned: always
  type: str
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_config_module

ARGUMENT_SPEC = {
    "tidy_superseded": {"type": "bool", "default": False},
    "tidy_revoked": {"type": "bool", "default": False},
    "tidy_expired": {"type": "bool", "default": False},
    "tidy_cancelled": {"type": "bool", "default": False},
    "tidy_imported_unused": {"type": "bool", "default": False},
    "safety_buffer": {"type": "str", "default": "72h"},
    "pause_duration": {"type": "str", "default": "0"},
}


def request_of(params):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.tidy import KINDS, TidyRequest

    return TidyRequest(config=params["config"], kinds={kind: params[f"tidy_{kind}"] for kind in KINDS},
                       safety_buffer=params["safety_buffer"], pause_duration=params["pause_duration"])


def validate(params):
    """The options that need no I/O (the config's name, the safety buffer, the pause), before the Vault login."""
    request_of(params).validate()


def run_task(task):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.tidy import Tidy

    return Tidy(task.store, task.params["config"], check_mode=task.check_mode).run(request_of(task.params))


def main():
    run_config_module(ARGUMENT_SPEC, run_task, verb="tidy the certificate records", need_scm=False, validate=validate)


if __name__ == "__main__":
    main()
