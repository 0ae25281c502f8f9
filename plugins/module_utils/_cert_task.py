"""Glue between a ``sectigo_cert`` task (or the lookup) and :class:`CertificateService`."""
from __future__ import annotations

from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils import _records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._config_service import ConfigService, scm_client_for
from ansible_collections.sectigo.vault_pki.plugins.module_utils._crypto import days_remaining
from ansible_collections.sectigo.vault_pki.plugins.module_utils._cert_request import CertRequest
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import CertificateService
from ansible_collections.sectigo.vault_pki.plugins.module_utils._names import cert_path


def build_service(store: Any, config_name: str, *, check_mode: bool = False) -> CertificateService:
    """The service for one config: the config entry is read once from Vault; SCM is reached only when needed."""
    config = ConfigService(store).require(config_name)
    return CertificateService(store, config, lambda: scm_client_for(config), check_mode=check_mode)


def result_fields(service: CertificateService, record: dict[str, Any] | None, *, include_private_key: bool) -> dict[str, Any]:
    """``cert``, ``vault_path`` and ``days_remaining`` for a record."""
    if not record:
        return {}
    out: dict[str, Any] = {
        "cert": rec.public_view(record, include_private_key=include_private_key),
        "vault_path": f"{service.store.base_path}/{cert_path(service.config_name, record['cert_unique_id'])}" if record.get("cert_unique_id") else None,
    }
    if record.get("not_after"):
        out["days_remaining"] = days_remaining(record["not_after"], service.clock())
    return out


def run_cert_task(module: Any, store: Any) -> dict[str, Any]:
    params = module.params
    service = build_service(store, params["config"], check_mode=module.check_mode)
    result = service.ensure(CertRequest.from_params(params))
    out: dict[str, Any] = {"changed": result.changed, "action": result.action, "warnings": service.warnings}
    out.update(result_fields(service, result.record, include_private_key=params.get("return_private_key", False)))
    if getattr(module, "_diff", False):
        out["diff"] = {"before": result.before, "after": result.after}
    return out
