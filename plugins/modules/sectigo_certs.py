#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_certs
short_description: Ensure many Sectigo certificates of one config in one task (the fleet path)
version_added: 0.2.0
description:
  - The list form of M(sectigo.vault_pki.sectigo_cert), as package modules take a list of names. Each item of
    O(certificates) is decided exactly as a M(sectigo.vault_pki.sectigo_cert) task with the same options would be
    (claimed in Vault, ordered once, persisted before polling, reconciled when an answer was lost), in one module
    process instead of one per certificate.
  - Options given at the top level apply to every item that does not set them itself; then the config's C(defaults)
    apply, then the built-in defaults.
  - Per item and at the top level, an option takes the same values as in M(sectigo.vault_pki.sectigo_cert), and the
    same names of the Vault plugin's fields (C(sectigo_csr_domain) and so on) as aliases.
  - At most O(concurrency) certificates are worked on at a time. Orders waiting for issuance do not hold a worker
    each; one polling loop checks every pending order, so the waits overlap. One O(max_timeout) bounds the whole task.
  - One result per item in RV(certificates), in the order of O(certificates). A failed item is reported there with
    its message and does not stop the others; the task fails when any item failed, after all items were handled.
    Above 1,000 items the results are brief unless O(item_results) says otherwise (see there).
  - See the collection's C(docs/lifecycle.md), "The fleet path", for when to prefer it to a loop of
    M(sectigo.vault_pki.sectigo_cert).
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.config
  - sectigo.vault_pki.attributes
  - sectigo.vault_pki.cert_options.shared
  - sectigo.vault_pki.cert_options.items
attributes:
  check_mode:
    details: Predicts each item's action from Vault alone; calls neither SCM nor writes to Vault.
  diff_mode:
    details: One diff per changed item (common name, SANs, status, serial, not_after and key spec; never keys).
options:
  certificates:
    description:
      - The certificates, one dict each. Any option of M(sectigo.vault_pki.sectigo_cert) listed here may be set per item;
        one an item does not set takes the top-level value.
      - At least one of O(certificates) and O(names) is required.
    type: list
    elements: dict
  names:
    description:
      - Names of certificates that need no option of their own, each one item C({name}) after those of O(certificates);
        for example every name that M(sectigo.vault_pki.sectigo_cert_info) lists, to collect pending orders and renew
        inside the window (the C(name)-only form of M(sectigo.vault_pki.sectigo_cert)).
    type: list
    elements: str
  state:
    description: The state of every item that does not set its own; see M(sectigo.vault_pki.sectigo_cert).
  concurrency:
    description:
      - How many certificates are worked on at a time (key generation, Vault reads and writes, SCM orders and checks).
      - Pending orders do not take a worker while they wait. 1 to 64.
    type: int
    default: 8
  max_orders:
    description:
      - At most this many SCM orders (enrollments, renewals, replacements) in this run. The batch is first decided from
        Vault alone, as in check mode; the orders run most urgent first (a certificate not enrolled yet, then the earliest
        C(not_after)); the others are not ordered, get RV(certificates[].action=deferred) and are listed in RV(deferred)
        with their renewal times. The next run decides again and takes them first. Collecting a pending order is not an
        order and is never deferred.
      - In check mode the same split is predicted.
      - Unset (the default) places every order the batch needs; V(0) orders nothing.
    type: int
  max_timeout:
    description:
      - Seconds the whole task may wait for issuance, counted from its start. An order not issued by then is saved with
        status C(TimeoutStateSaved) (its item fails; the next run collects the same order); an item not started by then
        fails without ordering anything.
      - Default the config's default, else 600.
  wait:
    description: Wait for issuance. With V(false) every order is saved with action C(pending) and not collected.
  return_private_key:
    description:
      - Include each item's private key in its RV(certificates[].cert). Never shown in a diff.
      - O(include_private_key) is its alias, as in M(sectigo.vault_pki.sectigo_cert).
    type: bool
    default: false
    aliases: [include_private_key]
  item_results:
    description:
      - What each item's result in RV(certificates) holds.
      - V(full) is what M(sectigo.vault_pki.sectigo_cert) returns for it, with the item's record as RV(certificates[].cert)
        (its certificate and chain, a few kilobytes per item, which Ansible holds several times over on the controller).
      - V(brief) leaves RV(certificates[].cert) out and gives the record's RV(certificates[].status) and
        RV(certificates[].not_after) instead; the rest (name, action, failure, vault path, days remaining, warnings, the
        diff) is the same. The records stay in Vault, where M(sectigo.vault_pki.sectigo_cert_info) and the lookup read them.
      - V(auto) (the default) is V(full) for up to 1,000 items handled (after O(shard)) and V(brief) above, so that a run of
        many thousand certificates keeps the controller's memory small (the collection's C(docs/scale.md), "One
        controller"); with O(return_private_key) it is always V(full).
      - V(brief) cannot be combined with O(return_private_key) (a brief result holds no key).
      - With brief results, the module's arguments that the task's result carries (C(invocation), shown with C(-vvv)) list
        of each item of O(certificates) only the options it sets.
    type: str
    choices: [auto, full, brief]
    default: auto
    version_added: 0.2.0
  shard:
    description:
      - Handle only the items of shard O(shard.index) of O(shard.count), so that several jobs (AWX job slices, several
        controllers) share one list of certificates, each certificate handled by exactly one of them.
      - An item belongs to the shard C(sha256("<config>/<name>")) modulo O(shard.count) (the digest's first 8 bytes, big-endian),
        so it depends on the config and the name only, not on the order of the list or the job that runs it, and the
        shards of one count are disjoint and together hold every item. The renewal role assigns certificates the same way.
      - Items of other shards are left out of RV(certificates); RV(summary.shard) counts them.
      - Omitted, every item is handled. See the collection's C(docs/scale.md).
    type: dict
    version_added: 0.2.0
    suboptions:
      index:
        description: This job's shard, from 0 to O(shard.count) - 1.
        type: int
        required: true
      count:
        description: How many shards the list is split into (1 or more).
        type: int
        required: true
seealso:
  - module: sectigo.vault_pki.sectigo_cert
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Ensure one certificate per host name, eight at a time, within ten minutes
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    key_algo: EC
    cert_type: 101
    term: 365
    concurrency: 8
    max_timeout: 600
    certificates: "{{ fleet_names | map('community.general.dict_kv', 'name') | list }}"
  register: fleet

- name: The same, with names and common names side by side
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    certificates:
      - name: web01
        common_name: web01.example.com
        subject_alt_names: [www.example.com]
      - name: api
        common_name: api.example.com
        key_algo: RSA
        key_size: 3072

- name: Maintain every certificate of a config (collect pending orders, renew inside the window)
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    names: "{{ (listing.certificates | map(attribute='name') | list) }}"

- name: One of four jobs that share the same list (job 2 runs index 1, and so on)
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    names: "{{ fleet_names }}"
    shard:
      index: 0
      count: 4

- name: Renew at most 20 certificates in this run, the closest to expiry first
  sectigo.vault_pki.sectigo_certs:
    config: prod-ssl
    names: "{{ (listing.certificates | map(attribute='name') | list) }}"
    max_orders: 20
  register: sweep

- name: Show the items that failed without hiding the others
  ansible.builtin.debug:
    msg: "{{ fleet.certificates | selectattr('failed') | map(attribute='msg') | list }}"
  when: fleet is failed
"""

RETURN = r"""
certificates:
  description: One result per item of O(certificates), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The item's name.
      type: str
      sample: web01
    changed:
      description: Whether this item changed.
      type: bool
    failed:
      description: Whether this item failed.
      type: bool
    action:
      description: What was done, as M(sectigo.vault_pki.sectigo_cert)'s RV(sectigo.vault_pki.sectigo_cert#module:action).
      type: str
      returned: unless the item failed
      sample: enrolled
    msg:
      description: Why the item failed.
      type: str
      returned: when the item failed
    status:
      description:
        - The record's status when the item failed after an order was placed (for example V(TimeoutStateSaved)).
        - With brief results (O(item_results)), the record's status whenever there is a record (for example V(Issued)).
      type: str
      returned: when known
    cert:
      description: The record, as M(sectigo.vault_pki.sectigo_cert) returns it (no key unless O(return_private_key)).
      type: dict
      returned: when there is a record, unless the results are brief (O(item_results))
    not_after:
      description: The certificate's expiry, ISO-8601 UTC.
      type: str
      returned: with brief results (O(item_results)), when the certificate is issued
      version_added: 0.2.0
    vault_path:
      description: KV v2 path of the record.
      type: str
      returned: when there is a record
    days_remaining:
      description: Whole days until C(not_after).
      type: int
      returned: when the certificate is issued
    warnings:
      description: Warnings about this item (also shown as task warnings).
      type: list
      elements: str
      returned: when there are some
deferred:
  description:
    - The certificates that needed an order but were left for a later run by O(max_orders), most urgent first.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The certificate's name.
      type: str
    not_after:
      description: Its current expiry, ISO-8601 UTC (absent for a certificate not enrolled yet).
      type: str
    renew_after:
      description: Its renewal time, ISO-8601 UTC, when it renews by itself (see M(sectigo.vault_pki.sectigo_cert_info)).
      type: str
  sample: [{name: web07, not_after: "2027-01-12T08:00:00Z", renew_after: "2026-12-20T03:11:09Z"}]
summary:
  description: How many items ended how.
  returned: always
  type: dict
  sample: {total: 200, changed: 200, failed: 0, actions: {enrolled: 200}}
  contains:
    shard:
      description: With O(shard), its index and count, how many items were given and how many of them this shard handled.
      type: dict
      returned: when O(shard) is set
      sample: {index: 0, count: 4, given: 800, handled: 197}
"""

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import cert_options_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION, failure_fields, run_module

# Both option sets are sectigo_cert's certificate options, each declared once (CertRequest): which of them an item
# takes and which the top level takes for every item is part of that declaration (its scope).

# Options of one certificate (an item of ``certificates``). No defaults: what an item does not set comes from the
# top level (SHARED_SPEC), then the config's defaults, then the built-in ones.
ITEM_SPEC = cert_options_for("item")

# Options that apply to every item that does not set them.
SHARED_SPEC = cert_options_for("shared")

ARGUMENT_SPEC = dict(
    SHARED_SPEC,
    config=CONFIG_OPTION,
    certificates=dict(type="list", elements="dict", options=ITEM_SPEC),
    names=dict(type="list", elements="str"),
    concurrency=dict(type="int", default=8),
    max_orders=dict(type="int"),
    return_private_key=dict(type="bool", default=False, aliases=["include_private_key"]),
    item_results=dict(type="str", choices=["auto", "full", "brief"], default="auto"),
    shard=dict(type="dict", options=dict(index=dict(type="int", required=True), count=dict(type="int", required=True))),
)


# item_results=auto: full results for up to this many items handled, brief ones above.
AUTO_FULL_UP_TO = 1000


def brief_results(params, handled):
    """Whether the items' results are brief (``item_results``; ``auto`` by the number of items handled)."""
    if params["item_results"] == "auto":
        return not params["return_private_key"] and handled > AUTO_FULL_UP_TO
    return params["item_results"] == "brief"


def compact_items(listed):
    """Keep of each item of ``certificates`` only the options it sets, in place.

    Ansible's argument checking gives every item all of its options (None when not set), and the task's result carries
    the module's arguments back to the controller (``invocation``): with brief results, a batch large enough to need
    them does not hold, or send back, every option of every item (docs/scale.md "One controller")."""
    for position, item in enumerate(listed or []):
        listed[position] = {key: value for key, value in item.items() if value is not None}


def item_result(outcome, include_private_key, diff, brief=False):
    """The result of one item: what sectigo_cert would return, plus its name, or its failure (``brief``: no record)."""
    out = {"name": outcome.name, "changed": False, "failed": False}
    if outcome.error is not None:
        try:
            fields = failure_fields(outcome.error, f"ensure certificate '{outcome.name}'")
        except Exception:  # pylint: disable=broad-exception-caught
            fields = {"msg": f"Failed to ensure certificate '{outcome.name}': {type(outcome.error).__name__}: {outcome.error}"}
        out.update(fields)
        if brief:
            out.pop("cert", None)
        out["failed"] = True
    else:
        out.update(outcome.service.task_result(outcome.result, include_private_key=include_private_key, brief=brief))
        if diff and outcome.result.changed:
            out["diff"] = {"before_header": outcome.name, "after_header": outcome.name,
                           "before": outcome.result.before, "after": outcome.result.after}
    if outcome.warnings:
        out["warnings"] = list(outcome.warnings)
    return out


def validate_batch(params):
    """The batch options, checked before Vault or SCM is reached (each error names its option)."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.budget import check_max_orders
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import MAX_CONCURRENCY
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.shard import parse_shard

    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise InputError("concurrency", f"concurrency must be from 1 to {MAX_CONCURRENCY}; got {params['concurrency']}")
    check_max_orders(params["max_orders"])
    parse_shard(params["shard"])
    if params["item_results"] == "brief" and params["return_private_key"]:
        raise InputError("item_results", "item_results=brief holds no record, so no private key: use item_results=full (or auto) "
                                         "with return_private_key")


def run_task(module, store):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _config_service
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.fleet import Fleet, build_requests
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.budget import check_max_orders, run_with_budget
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.shard import parse_shard

    params = module.params  # checked by validate_batch before Vault was reached
    shard = parse_shard(params["shard"])
    max_orders = check_max_orders(params["max_orders"])
    config = _config_service.ConfigService(store).require(params["config"])

    shared = {key: params[key] for key in SHARED_SPEC}
    shared["config"] = params["config"]
    items = list(params["certificates"] or []) + [{"name": name} for name in params["names"] or []]
    given = len(items)
    if shard is not None:
        items = list(shard.select(params["config"], items, name_of=lambda item: item.get("name")))
    diff = bool(module._diff)  # pylint: disable=protected-access
    brief = brief_results(params, len(items))
    if brief:
        compact_items(params["certificates"])

    def finish(outcome):
        # Each item's result is made as soon as it is final; its service and record are let go (docs/scale.md).
        outcome.reported = item_result(outcome, params["return_private_key"], diff, brief)
        outcome.service = outcome.result = None

    def fleet_of(check_mode, done=None):
        return Fleet(store, config, lambda: _config_service.scm_client_for(config), concurrency=params["concurrency"],
                     max_timeout=params["max_timeout"], check_mode=check_mode, finish=done)

    requests = build_requests(items, shared)
    del items
    outcomes, deferred = run_with_budget(fleet_of(module.check_mode, finish), requests, max_orders, lambda: fleet_of(True))
    items = [o.reported if o.reported is not None else item_result(o, params["return_private_key"], diff, brief) for o in outcomes]
    actions = {}
    for item in items:
        if not item["failed"]:
            actions[item["action"]] = actions.get(item["action"], 0) + 1
    failed = [item["name"] for item in items if item["failed"]]
    out = {"changed": any(item["changed"] for item in items), "certificates": items, "deferred": deferred,
           "summary": {"total": len(items), "changed": sum(1 for i in items if i["changed"]), "failed": len(failed), "actions": actions},
           "warnings": [f"{item['name']}: {w}" for item in items for w in item.get("warnings", [])]}
    if shard is not None:
        out["summary"]["shard"] = {"index": shard.index, "count": shard.count, "given": given, "handled": len(items)}
    diffs = [item.pop("diff") for item in items if "diff" in item]
    if diff:
        out["diff"] = diffs
    if failed:
        shown = ", ".join(str(n) for n in failed[:10]) + (", ..." if len(failed) > 10 else "")
        out["failed_msg"] = f"Failed to ensure {len(failed)} of {len(items)} certificates: {shown} (see certificates[].msg)"
    return out


def main():
    run_module(ARGUMENT_SPEC, run_task, verb="ensure the certificates", validate=validate_batch, required_one_of=[("certificates", "names")])


if __name__ == "__main__":
    main()
