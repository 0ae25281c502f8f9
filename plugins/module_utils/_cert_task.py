# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ``sectigo_cert`` task: its options and its result, for the module and for its action plugin.

Private to this collection: no compatibility is promised to code outside it.

The module runs every task. Its action plugin first tries to answer an idempotent re-run on the controller
(docs/architecture.md "A re-run decided on the controller"): it reads the name entry first, and a name Vault does not
hold goes to the module at once; otherwise the same service decides, on a Vault store that refuses to write and with no
SCM client, so the moment anything would change, ``CannotDecideHere`` ends the attempt before any write or SCM call
and the module runs as usual.
"""
from __future__ import annotations

from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.records import name_path
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest, cert_options_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import CONFIG_OPTION

# The certificate options are declared once (CertRequest); sectigo_certs builds its per-item and shared options from
# the same declarations.
ARGUMENT_SPEC = dict(
    config=CONFIG_OPTION,
    **cert_options_for("task"),
    return_private_key=dict(type="bool", default=False, aliases=["include_private_key"]),
)
CONSTRAINTS = dict(mutually_exclusive=[("ssl_id", "order_number")], required_one_of=[("name", "cert_unique_id")])


def task_output(service: Any, params: dict[str, Any], *, diff: bool) -> tuple[dict[str, Any], Any]:
    """Ensure the certificate of ``params`` with ``service``: the task's result fields, and the service's result."""
    result = service.ensure(CertRequest.from_params(params))
    out = service.task_result(result, include_private_key=params["return_private_key"])
    out["warnings"] = list(service.warnings)
    if diff:
        out["diff"] = {"before": result.before, "after": result.after}
    return out, result


class CannotDecideHere(Exception):
    """The re-run needs a write or SCM: the module has to run the task."""


class ReadOnlyStore:
    """A Vault store that reads and refuses every change (raising ``CannotDecideHere`` before sending anything).

    ``read_ahead`` maps a path to the ``(data, version)`` of a read made just before, for the same decision: the first
    read of that path is answered with it instead of asking Vault again.
    """

    def __init__(self, store: Any, read_ahead: dict[str, Any] | None = None) -> None:
        self._store = store
        self._read_ahead = dict(read_ahead or {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def read(self, path: str) -> Any:
        if path in self._read_ahead:
            data, version = self._read_ahead.pop(path)
        else:
            data, version = self._store.read(path)
        if data is None and path.startswith("names/"):
            # A name Vault does not hold is an order to place (or, in check mode, a change to predict): the module's.
            raise CannotDecideHere(f"finds no entry at {path}")
        return data, version

    def list(self, path: str) -> list[str]:
        return self._store.list(path)

    def read_metadata(self, path: str) -> Any:
        return self._store.read_metadata(path)

    def write(self, path: str, data: Any, cas: int) -> int:
        raise CannotDecideHere(f"writes {path}")

    def delete(self, path: str) -> None:
        raise CannotDecideHere(f"deletes {path}")


def _no_scm() -> Any:
    raise CannotDecideHere("calls SCM")


def _no_wait(_seconds: float) -> None:
    raise CannotDecideHere("waits for another run's claim")


def unchanged_on_controller(params: dict[str, Any], *, check_mode: bool, diff: bool) -> dict[str, Any] | None:
    """The result of a ``state=present`` task that changes nothing, decided from Vault alone; None when it would
    change something or cannot be decided this way (the module then runs it)."""
    # Imported here: the module never runs this, and an AnsiballZ payload compiles what it imports.
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._module import connect_store

    if params.get("state") != "present":
        return None
    vault = connect_store(params)
    read_ahead = {}
    if params.get("name"):
        # The name entry before anything else: a name Vault does not hold is an order (or, in check mode, a change to
        # predict), the module's, and costs the controller this one read; no config, validation or key checks.
        path = name_path(params["config"], params["name"])
        entry = vault.read(path)
        if entry[0] is None:
            return None
        read_ahead[path] = entry
    store = ReadOnlyStore(vault, read_ahead)
    service = CertificateService.for_config(store, params["config"], scm_factory=_no_scm, check_mode=check_mode, sleep=_no_wait)
    try:
        out, result = task_output(service, params, diff=diff)
    except CannotDecideHere:
        return None
    return None if result.changed else out
