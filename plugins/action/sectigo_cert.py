# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of sectigo.vault_pki.sectigo_cert: a task the module would run on the controller runs in the worker.

When the module would run on the controller itself, as the same user, with the same environment and with nothing
that needs a separate process (connection ``local``, no ``become``, no task ``environment``, not ``async``, no task
``timeout``), the task runs here, in Ansible's worker process, through the module's own code
(``module_utils/_cert_task.py``): the same service, the same result, the same failures, and no module process,
which is most of what a task costs. Anything else, and ``run_in_worker: false``, runs the module as usual
(docs/architecture.md "A task run in Ansible's worker").
"""
from __future__ import annotations

import traceback

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

try:
    # The controller's main process loads this class before it forks a worker for each task (the strategy reads
    # its flags), so what is imported here is imported once per playbook run, not once per task: the worker then
    # finds hvac, requests and the collection's read path loaded (docs/bench.md). Without them the module runs the
    # task and reports what is missing.
    from ansible_collections.sectigo.vault_pki.plugins.module_utils import _cert_task  # noqa: F401  pylint: disable=unused-import
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import service as _service  # noqa: F401  pylint: disable=unused-import
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import store as _store  # noqa: F401  pylint: disable=unused-import
except ImportError:
    pass


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        ran = self._run_in_worker()
        if ran is not None:
            return merge_hash(result, ran)

        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result

    def _runs_like_the_module(self):
        """The module would run here, as this user, with this environment, and nothing needs its own process."""
        environment = self._task.environment
        no_environment = not environment or (isinstance(environment, list) and not any(environment))
        return (getattr(self._connection, "transport", None) == "local" and not self._task.async_val
                and not getattr(self._task, "timeout", None) and not self._play_context.become and no_environment)

    def _run_in_worker(self):
        """The task's result, run in this process; None when the module has to run it."""
        if not self._runs_like_the_module():
            return None
        try:
            from ansible.module_utils.basic import remove_values
            from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

            from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_task import (
                ARGUMENT_SPEC, CONSTRAINTS, VERB, run_in_worker)
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import redact
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import argument_spec, libraries_missing
        except ImportError as exc:
            display.vvv(f"sectigo_cert: the module runs the task ({exc})")
            return None
        missing = libraries_missing(need_scm=True)
        if missing:
            # The module names what is missing in the Python it runs with.
            display.vvv(f"sectigo_cert: the module runs the task ({', '.join(missing)} missing here)")
            return None
        checked = ArgumentSpecValidator(argument_spec(ARGUMENT_SPEC), **CONSTRAINTS).validate(dict(self._task.args))
        if checked.error_messages:
            return None  # the module reports bad options its own way
        params = checked.validated_parameters
        if not params["run_in_worker"]:
            return None
        no_log_values = checked._no_log_values  # pylint: disable=protected-access
        try:
            out = run_in_worker(params, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A defect, as a module's traceback would report it; PEM blocks (keys, CSRs) are cut out and no-log values
            # masked in both fields.
            out = {"failed": True, "msg": redact(f"Failed to {VERB}: {type(exc).__name__}: {exc}"), "exception": redact(traceback.format_exc())}
        # Warnings stay in the result, as a module returns them: Ansible shows them and `register` keeps them.
        if not out.get("warnings"):
            out.pop("warnings", None)
        out["invocation"] = {"module_args": params}
        return remove_values(out, no_log_values)
