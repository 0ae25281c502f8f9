# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of sectigo.vault_pki.sectigo_cert: an idempotent re-run is answered on the controller.

A ``state=present`` task whose certificate needs nothing is decided from Vault alone, by the module's own
code (``module_utils/_cert_task.py``) on a store that refuses writes and with no SCM client: no module
process is started, which is most of what a re-run costs. Anything else, and any doubt, runs the module
as usual (docs/architecture.md "A re-run decided on the controller").
"""
from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

try:
    # The controller's main process loads this class before it forks a worker for each task (the strategy reads
    # its flags), so what is imported here is imported once per playbook run, not once per task: the worker then
    # finds hvac, requests and the collection's read path loaded, and a controller-side answer costs little more
    # than its Vault reads (docs/bench.md). Without them the module runs the task and reports what is missing.
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

        decided = self._decide_on_controller()
        if decided is not None:
            # Warnings stay in the result, as a module returns them: Ansible shows them and `register` keeps them.
            if not decided.get("warnings"):
                decided.pop("warnings", None)
            return merge_hash(result, decided)

        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result

    def _runs_like_the_module(self):
        """The module would run here, as this user, with this environment: the controller may decide for it."""
        environment = self._task.environment
        no_environment = not environment or (isinstance(environment, list) and not any(environment))
        return (getattr(self._connection, "transport", None) == "local" and not self._task.async_val
                and not self._play_context.become and no_environment)

    def _decide_on_controller(self):
        """The task's result when it changes nothing, else None (the module runs the task)."""
        if not self._runs_like_the_module():
            return None
        try:
            from ansible.module_utils.basic import remove_values
            from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

            from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_task import (
                ARGUMENT_SPEC, CONSTRAINTS, unchanged_on_controller)
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import argument_spec

            checked = ArgumentSpecValidator(argument_spec(ARGUMENT_SPEC), **CONSTRAINTS).validate(dict(self._task.args))
            if checked.error_messages:
                return None  # the module reports bad options its own way
            params = checked.validated_parameters
            out = unchanged_on_controller(params, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A missing library, Vault refusing or unreachable, a record in a state only the module handles:
            # the module runs the task and reports what it finds.
            display.vvv(f"sectigo_cert: the module decides ({type(exc).__name__})")
            return None
        if out is None:
            return None
        no_log_values = checked._no_log_values  # pylint: disable=protected-access
        out["invocation"] = {"module_args": params}
        return remove_values(out, no_log_values)
