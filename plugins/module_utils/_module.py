# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that knows AnsibleModule: shared argspec, Vault connection, error conversion.

Modules are documentation plus a ``main()`` that calls :func:`run_module` with a function taking
``(module, store)``, or, for a module that works inside one config, :func:`run_config_module` with a function
taking a :class:`ConfigTask`; every exception the services raise becomes ``fail_json`` here, so messages
and result fields have one shape across the collection.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import copy
import importlib.util
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import options as vopts
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError, OperationError


# The option of every module that works inside one config (documented by the sectigo.vault_pki.config fragment).
CONFIG_OPTION = {"type": "str", "required": True, "aliases": ["config_name"]}


def argument_spec(own: dict[str, Any]) -> dict[str, Any]:
    """The module's own options merged over the shared Vault options (the sectigo.vault_pki.vault doc fragment).

    Modules write ``fallback=("env", [NAMES])`` so that they need not import ``env_fallback``.
    """
    spec = copy.deepcopy(vopts.vault_argspec(env_fallback))
    for name, option in copy.deepcopy(own).items():
        fallback = option.get("fallback")
        if fallback and fallback[0] == "env":
            option["fallback"] = (env_fallback, fallback[1])
        spec[name] = option
    return spec


def libraries_missing(need_scm: bool) -> list[str]:
    """The Python libraries a task needs that this Python lacks (``requests`` only for a task that calls SCM)."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto as _crypto
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import client as _vault_client

    missing = [name for name, present in (("hvac", _vault_client.HAS_HVAC), ("cryptography", _crypto.HAS_CRYPTOGRAPHY)) if not present]
    # Looked up, not imported: the SCM client is imported only by a task that calls SCM (a no-op never does).
    if need_scm and not _installed("requests"):
        missing.append("requests")
    return missing


def _check_libraries(module: AnsibleModule, need_scm: bool) -> None:
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import crypto as _crypto
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault import client as _vault_client

    errors = {"hvac": _vault_client.HVAC_IMPORT_ERROR, "cryptography": _crypto.CRYPTOGRAPHY_IMPORT_ERROR,
              "requests": "ModuleNotFoundError: No module named 'requests'"}
    missing = libraries_missing(need_scm)
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=errors[missing[0]])


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def connect_store(params: dict[str, Any]) -> Any:
    """Authenticate to Vault with the task's options and return the collection's KV store."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import open_store

    return open_store(vopts.VaultOptions.from_mapping(params))


def failure_fields(exc: BaseException, verb: str) -> dict[str, Any]:
    """``fail_json`` arguments for an exception raised by a service (never holds secrets)."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultError

    if isinstance(exc, OperationError):
        out = {"msg": str(exc)}
        out.update(exc.result)
        if exc.scm_code is not None:
            out["scm_code"] = exc.scm_code
        return out
    if isinstance(exc, ScmError):
        return {"msg": f"Failed to {verb}: {exc}", "status": exc.status, "scm_code": exc.scm_code}
    if isinstance(exc, VaultError):
        return {"msg": f"Failed to {verb}: {exc}", "status": getattr(exc, "status", None)}
    field = getattr(exc, "field", None)
    if isinstance(exc, ValueError) and field:
        return {"msg": str(exc), "field": field}
    raise exc


def raised_by_a_service(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure the services report (bad input, an operation that failed, SCM or Vault refusing),
    which a task turns into a failed result with :func:`failure_fields`; anything else is a defect, raised as is."""
    if isinstance(exc, (InputError, OperationError, ValueError)):
        return True
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultError

    return isinstance(exc, (ScmError, VaultError))


def run_module(own_spec: dict[str, Any], action: Callable[[AnsibleModule, Any], dict[str, Any]], *, verb: str,
               need_scm: bool = True, validate: Callable[[dict[str, Any]], None] | None = None, **module_kwargs: Any) -> None:
    """Build the module, check its options (``validate(params)``, which raises ``InputError`` naming the option: before
    any network call), connect to Vault, run ``action(module, store)`` and exit with its result."""
    module = AnsibleModule(argument_spec=argument_spec(own_spec), supports_check_mode=True, **module_kwargs)
    _check_libraries(module, need_scm)
    try:
        if validate is not None:
            validate(module.params)
        store = connect_store(module.params)
        result = action(module, store)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        if not raised_by_a_service(exc):
            raise
        module.fail_json(**failure_fields(exc, verb))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    failed_msg = result.pop("failed_msg", None)
    if failed_msg:
        # A task of many items (sectigo_certs) fails with every item's result, not only the failed ones.
        module.fail_json(msg=failed_msg, **result)
    module.exit_json(**result)


class ConfigTask:
    """One task of a module that works inside one config, as its service wants it: the task's options (``params``),
    the Vault store, the config entry (read on first use, refused when Vault does not hold it), a factory of the
    config's SCM client (called only when the service talks to SCM), check mode and the diff."""

    def __init__(self, module: AnsibleModule, store: Any) -> None:
        self.module = module
        self.params = module.params
        self.store = store
        self.check_mode = bool(module.check_mode)
        self._config: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _configs

            self._config = _configs.ConfigService(self.store).require(self.params["config"])
        return self._config

    def scm_factory(self) -> Any:
        from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import configs as _configs

        return _configs.scm_client_for(self.config)

    def diff(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        return diff_for(self.module, before, after)


def run_config_module(own_spec: dict[str, Any], task: Callable[[ConfigTask], dict[str, Any]], *, verb: str, **kwargs: Any) -> None:
    """:func:`run_module` for a module that works inside one config: the ``config`` option (the sectigo.vault_pki.config
    doc fragment) before the module's own, and ``task(ConfigTask)`` returns the result. ``kwargs`` are run_module's
    (``need_scm``, ``validate``, AnsibleModule's)."""
    run_module(dict({"config": CONFIG_OPTION}, **own_spec), lambda module, store: task(ConfigTask(module, store)), verb=verb, **kwargs)


def diff_for(module: AnsibleModule, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``diff`` only when the user asked for it (``--diff``), of public summaries only."""
    if not module._diff:  # pylint: disable=protected-access
        return {}
    return {"diff": {"before": before, "after": after}}
