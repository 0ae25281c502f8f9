# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: sectigo_cert
short_description: Read certificates and their keys from Vault, keeping them valid
version_added: 0.1.0
description:
  - Returns one certificate record per term (a certificate name or a C(cert_unique_id)), private key included,
    because lookups are how a playbook gets the key to deploy.
  - Applies the Vault plugin's read semantics. It follows C(renewed_to) when O(read_renewed_cert); resumes collection of a
    pending order; renews a certificate inside O(expiry_window) when O(auto_renew). Options left unset take the
    config's defaults.
  - Results are memoised for the run (templating may evaluate a lookup many times), and a renewal is claimed in Vault
    with check-and-set, so any number of concurrent readers cause one renewal.
  - The Vault login and the config entry are reused for the run too, per Vault address, login, mount, path and config, so
    reading many names costs one login, one config read and one HTTP connection, then two reads per name. A config
    changed later in the same run (M(sectigo.vault_pki.sectigo_config)) is seen by the next run's lookups.
  - It never enrolls; a term with no certificate is an error. A revoked or expired certificate is returned as it is, with
    a warning. Use M(sectigo.vault_pki.sectigo_cert) to enroll.
  - A certificate that M(sectigo.vault_pki.sectigo_inventory)'s sync saw revoked in SCM outside the collection is never
    returned - the lookup fails naming it and what happened - unless O(replace_revoked_outside) asks for a new one.
  - Only two kinds of read call SCM. A read of an issued certificate inside its window with O(auto_renew) orders one
    renewal, and a read of a pending order collects it. Every other read calls Vault alone.
  - In check mode (C(ansible-playbook --check), seen as C(ansible_check_mode)) it never orders, collects or writes; it
    returns what Vault holds and warns that a renewal or a collection is due. A lookup cannot see a single task's
    C(check_mode) keyword, only the run's.
requirements:
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.vault.plugins
options:
  _terms:
    description: Certificate names or cert_unique_ids.
    type: list
    elements: str
    required: true
  config:
    description: Name of the config the certificates belong to.
    type: str
    required: true
    aliases: [config_name]
  auto_renew:
    description: Renew a certificate inside its expiry window. Default from the config, else V(true).
    type: bool
  read_renewed_cert:
    description: Follow C(renewed_to) to the newest certificate. Default from the config, else V(true).
    type: bool
  replace_revoked_outside:
    description:
      - When the certificate was revoked in SCM outside the collection (seen by M(sectigo.vault_pki.sectigo_inventory)'s
        sync), enroll a new one under the name and return it instead of failing. Default V(false).
    type: bool
  expiry_window:
    description: Days (or a percentage of the lifetime such as V(33%)) before expiry in which to renew. Default from the config, else 7.
    type: str
  wait:
    description: Wait for a pending or renewed certificate to be issued. Default from the config, else V(true).
    type: bool
  max_timeout:
    description: Seconds to wait for issuance. Default from the config, else 600.
    type: int
  loop_period:
    description: Longest gap between two polls, in seconds. Default from the config, else 30.
    type: int
notes:
  - The record holds C(private_key); do not print lookup results, and use C(no_log) on tasks that pass them on.
seealso:
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Deploy the key and certificate of web01
  vars:
    web01: "{{ lookup('sectigo.vault_pki.sectigo_cert', 'web01', config='prod-ssl') }}"
  ansible.builtin.copy:
    dest: /etc/ssl/private/web01.key
    content: "{{ web01.private_key }}"
    mode: "0600"
  no_log: true

- name: Several certificates at once
  ansible.builtin.debug:
    msg: "{{ item.domain }} expires {{ item.not_after }}"
  loop: "{{ lookup('sectigo.vault_pki.sectigo_cert', 'web01', 'web02', config='prod-ssl', wantlist=true) }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
_raw:
  description: One certificate record per term, C(private_key) included (see C(docs/vault.md) for the fields).
  type: list
  elements: dict
"""

import hashlib
import json
import threading

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import OPTION_RULES, CertRequest, boolean
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import claims
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.options import VaultOptions, vault_argspec

# One ansible-playbook process is one run: memoise per (Vault, config, term, read options).
_CACHE: dict[tuple, dict] = {}
_CACHE_LOCK = threading.Lock()
# One service (one Vault login, one HTTP session, one config entry) per login, config and check mode, for the run.
_SESSIONS: dict[tuple, CertificateService] = {}
VAULT_OPTION_NAMES = tuple(vault_argspec(lambda *_args, **_kwargs: None))
READ_OPTIONS = ("auto_renew", "read_renewed_cert", "expiry_window", "wait", "max_timeout", "loop_period", "replace_revoked_outside")
# The read options' rules: the config-defaultable ones, and replace_revoked_outside (a task's decision, never a default).
READ_RULES = dict(OPTION_RULES, replace_revoked_outside=boolean)
# Every option name the lookup takes (with aliases); anything else is refused rather than silently ignored.
KNOWN_OPTIONS = frozenset(VAULT_OPTION_NAMES) | frozenset(
    alias for spec in vault_argspec(lambda *_args, **_kwargs: None).values() for alias in spec.get("aliases", [])
) | {"config", "config_name"} | set(READ_OPTIONS)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        unknown = sorted(set(kwargs) - KNOWN_OPTIONS)
        if unknown:
            raise AnsibleLookupError(f"sectigo_cert lookup: unknown option {unknown[0]}; the options are {', '.join(sorted(KNOWN_OPTIONS))}")
        if not terms:
            raise AnsibleLookupError("sectigo_cert lookup: give at least one term (a certificate name or a cert_unique_id)")
        claims.begin_task()  # a claim an earlier task of this worker left behind is not a live one
        try:
            # Checked as given: Ansible's own conversion would read any unknown text as false.
            for name in READ_OPTIONS:
                if kwargs.get(name) is not None:
                    READ_RULES[name](kwargs[name], name)
        except ValueError as exc:
            raise AnsibleLookupError(f"sectigo_cert lookup: {exc}") from None
        self.set_options(var_options=variables, direct=kwargs)
        try:
            config = rec.validate_name(self.get_option("config"), "config")
            read = {}
            for name in READ_OPTIONS:
                value = self.get_option(name)
                read[name] = None if value is None else READ_RULES[name](value, name)
            options = VaultOptions.from_mapping({name: self.get_option(name) for name in VAULT_OPTION_NAMES})
        except (AnsibleError, ValueError) as exc:
            raise AnsibleLookupError(f"sectigo_cert lookup: {exc}") from None
        check_mode = bool((variables or {}).get("ansible_check_mode", False))
        base_key = (options.vault_addr, options.vault_namespace, options.kv_mount, options.kv_path, config, check_mode,
                    tuple(sorted(read.items())))

        # The login's identity only as a digest: the token or secret id never sits in a key that could be printed.
        login = hashlib.sha256(json.dumps([self.get_option(name) for name in VAULT_OPTION_NAMES], default=str).encode()).hexdigest()
        session_key = (login, config, check_mode)

        results = []
        for term in terms:
            key = base_key + (term,)
            with _CACHE_LOCK:
                cached = _CACHE.get(key)
            if cached is not None:
                results.append(cached)
                continue
            try:
                service = self._service(session_key, options, config, check_mode)
                service.warnings.clear()  # the service serves the whole run: only this term's warnings are shown
                record = self._read_one(service, config, term, read, check_mode)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # The SCM and Vault error classes are imported only here: a read that succeeds never needs SCM's.
                from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError
                from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultError

                if not isinstance(exc, (InputError, OperationError, ScmError, VaultError, ValueError)):
                    raise
                raise AnsibleLookupError(f"sectigo_cert lookup of '{term}' in config '{config}': {exc}") from None
            for warning in service.warnings:
                self._display.warning(warning)
            service.warnings.clear()
            with _CACHE_LOCK:
                _CACHE[key] = record
            results.append(record)
        return results

    @staticmethod
    def _service(session_key, options, config, check_mode):
        """The run's service for this login and config: logged in and the config entry read on first use."""
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import open_store

        with _CACHE_LOCK:
            service = _SESSIONS.get(session_key)
        if service is None:
            service = CertificateService.for_config(open_store(options), config, check_mode=check_mode)
            with _CACHE_LOCK:
                _SESSIONS[session_key] = service
        return service

    @staticmethod
    def _read_one(service, config, term, read, check_mode=False):
        result = None
        if rec.is_valid_name(term):
            try:
                result = service.ensure(CertRequest(config=config, name=term, **read), allow_enroll=False)
            except InputError as exc:
                # No such name: a term shaped like a record id is read as one (a term is a name or a cert_unique_id).
                if exc.field != "name" or not rec.is_unique_id(term):
                    raise
        if result is None:
            if not rec.is_unique_id(term):
                if not rec.is_valid_name(term):
                    raise AnsibleError(f"a term must be a certificate name ({rec.NAME_PATTERN}) or a cert_unique_id "
                                       f"({rec.UNIQUE_ID_PATTERN}); got {term!r}")
                raise AnsibleError(f"no certificate named '{term}' in config '{config}'")
            result = service.ensure(CertRequest(config=config, cert_unique_id=term, **read), allow_enroll=False)
        if not result.record:
            raise AnsibleError(f"no certificate '{term}' in config '{config}'")
        if check_mode and result.changed:
            # The service predicted an order or a collection; in check mode the lookup reports it and returns Vault's record.
            service.warnings.append(f"certificate '{term}' in config '{config}': {result.action} is due; check mode returns what "
                                    "Vault holds and orders nothing")
        return rec.public_view(result.record, include_private_key=True)
