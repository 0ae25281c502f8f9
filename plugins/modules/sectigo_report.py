#!/usr/bin/python
# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: sectigo_report
short_description: Write an expiry report of the certificates kept in Vault (HTML, PNG, JSON, Prometheus metrics)
version_added: 0.2.0
description:
  - Reads the current certificate of every name of each config in O(configs) from Vault — never SCM — and writes four
    files into O(dest) on the controller. C(report.html) is one self-contained page (counts by status, an expiry timeline by
    week per config, the renewal load per day, a table of every certificate with its renewal time and days left; pictures
    inline). C(expiry.png) is the timeline as an image. C(report.json) holds the same facts for machines. C(metrics.prom) is
    Prometheus text exposition for node_exporter's textfile collector, with the metric names of the x509-certificate-exporter.
  - The collection's C(docs/reporting.md) describes the files, the metrics and the renewal times.
  - The files are rewritten only when the facts changed, so a second run with nothing new is C(changed=false).
  - With O(fail_within_days), the task fails after writing the files when an issued certificate expires within that many
    days (or has expired) and no renewal is pending for it.
  - "Runs where Ansible runs the module; use it on the controller (C(hosts: localhost) or C(delegate_to: localhost))."
requirements:
  - matplotlib (Python library; needed for the report only, pinned in the collection's C(requirements-report.txt))
  - prometheus_client (Python library; needed for the report only, pinned in C(requirements-report.txt))
  - cryptography >= 41.0 (Python library)
extends_documentation_fragment:
  - sectigo.vault_pki.vault
  - sectigo.vault_pki.attributes
options:
  configs:
    description: Names of the configs to report on (one or more).
    type: list
    elements: str
    required: true
  dest:
    description: Directory to write C(report.html), C(expiry.png), C(report.json) and C(metrics.prom) into; created when missing.
    type: path
    required: true
  fail_within_days:
    description:
      - Fail (after writing every file) when an issued certificate expires within this many days, or has expired, and no
        renewal is pending for it. RV(failing) names them.
      - Unset (the default) never fails for expiry.
    type: int
attributes:
  check_mode:
    details: Reads Vault and renders the report, writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Writes files where the module runs; run it on the controller.
seealso:
  - module: sectigo.vault_pki.sectigo_cert_info
  - module: sectigo.vault_pki.sectigo_notify
author:
  - Sectigo Vault PKI contributors (@sectigo-vault-pki)
"""

EXAMPLES = r"""
- name: Report on two configs, fail a CI job when something expires within 14 days without a renewal
  sectigo.vault_pki.sectigo_report:
    configs: [prod-ssl, prod-smime]
    dest: /var/lib/sectigo-report
    fail_within_days: 14
  delegate_to: localhost
"""

RETURN = r"""
dest:
  description: The directory the files are in.
  returned: always
  type: str
files:
  description: Paths of the four files.
  returned: always
  type: list
  elements: str
counts:
  description: Certificates per config and status (C(Expired) for issued certificates past their expiry).
  returned: always
  type: dict
  sample: {prod-ssl: {Issued: 180, Applied: 2, Expired: 1}}
certificates:
  description: How many certificates the report lists.
  returned: always
  type: int
failing:
  description: The certificates the gate (O(fail_within_days)) fails for; empty without it.
  returned: always
  type: list
  elements: dict
  sample: [{config: prod-ssl, name: web07, not_after: "2026-12-20T08:00:00Z"}]
"""

import os

from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import run_module

ARGUMENT_SPEC = dict(
    configs=dict(type="list", elements="str", required=True),
    dest=dict(type="path", required=True),
    fail_within_days=dict(type="int"),
)


def _run(module, store):
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate import report

    params = module.params
    if params["fail_within_days"] is not None and params["fail_within_days"] < 0:
        raise InputError("fail_within_days", f"fail_within_days must be 0 or more; got {params['fail_within_days']}")
    configs = list(dict.fromkeys(params["configs"]))
    facts = report.build(report.gather(store, configs), configs, params["fail_within_days"])
    changed = report.write_report(params["dest"], facts, check_mode=module.check_mode)
    failing = facts["gate"]["failing"]
    out = {"changed": changed, "dest": params["dest"], "files": [os.path.join(params["dest"], name) for name in report.FILES],
           "counts": facts["counts"], "certificates": len(facts["certificates"]), "failing": failing}
    if failing:
        shown = ", ".join(f"{f['config']}/{f['name']} ({f['not_after']})" for f in failing[:10]) + (", ..." if len(failing) > 10 else "")
        out["failed_msg"] = (f"{len(failing)} certificate(s) expire within {params['fail_within_days']} days without a pending "
                             f"renewal: {shown}")
    return out


def main():
    run_module(ARGUMENT_SPEC, _run, verb="write the report", need_scm=False)


if __name__ == "__main__":
    main()
