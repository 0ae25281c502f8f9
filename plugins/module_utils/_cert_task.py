# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ``sectigo_cert`` task: its options and its result, for the module and for its action plugin.

Private to this collection: no compatibility is promised to code outside it.

The module runs a task with :func:`task_output`. When the module would run on the controller anyway, the action plugin
runs the same task in Ansible's worker process with :func:`run_in_worker` instead of starting a module process
(docs/architecture.md "A task run in Ansible's worker").
"""
from __future__ import annotations

from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, cert_options_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION

# The certificate options are declared once (CertRequest); sectigo_certs builds its per-item and shared options from
# the same declarations.
ARGUMENT_SPEC = dict(
    config=CONFIG_OPTION,
    **cert_options_for("task"),
    return_private_key=dict(type="bool", default=False, aliases=["include_private_key"]),
    # Read by the action plugin only: false starts a module process for every task.
    run_in_worker=dict(type="bool", default=True),
)
# What a failure is reported as failing to do ("Failed to manage the certificate: ...").
VERB = "manage the certificate"
CONSTRAINTS = dict(mutually_exclusive=[("ssl_id", "order_number")], required_one_of=[("name", "cert_unique_id")])


def task_output(service: Any, params: dict[str, Any], *, diff: bool) -> tuple[dict[str, Any], Any]:
    """Ensure the certificate of ``params`` with ``service``: the task's result fields, and the service's result."""
    result = service.ensure(CertRequest.from_params(params))
    out = service.task_result(result, include_private_key=params["return_private_key"])
    out["warnings"] = list(service.warnings)
    if diff:
        out["diff"] = {"before": result.before, "after": result.after}
    return out, result


def run_in_worker(params: dict[str, Any], *, check_mode: bool, diff: bool) -> dict[str, Any]:
    """Run one task in the calling process, as the module would (same service, same result, same failures).

    Failures the module turns into ``fail_json`` come back as ``failed`` results with the same fields; anything else
    is raised, as the module's traceback would be. Warnings stay in the result's ``warnings``."""
    # Imported here: the module never runs this, and an AnsiballZ payload compiles what it imports.
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import claims
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import connect_store, failure_fields, raised_by_a_service

    claims.begin_task()  # a claim an earlier task of this worker left behind is not a live one
    try:
        return run_task(connect_store(params), params, check_mode=check_mode, diff=diff)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        if not raised_by_a_service(exc):
            raise
        return dict(failure_fields(exc, VERB), failed=True)


def run_task(store: Any, params: dict[str, Any], *, check_mode: bool, diff: bool) -> dict[str, Any]:
    """One task on a logged-in store, for the module and for the worker: the config's service ensures the certificate."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

    service = CertificateService.for_config(store, params["config"], check_mode=check_mode)
    out, _result = task_output(service, params, diff=diff)
    return out
