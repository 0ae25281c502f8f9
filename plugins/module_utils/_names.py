"""Names, identifiers and Vault paths of SPEC §3."""
from __future__ import annotations

import re

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")


def is_valid_name(value: object) -> bool:
    return isinstance(value, str) and bool(_NAME_RE.match(value))


def validate_name(value: object, field: str) -> str:
    """Return ``value`` if it is a valid config or certificate name, else raise InputError."""
    if not is_valid_name(value):
        raise InputError(field, f"{field} must match {NAME_PATTERN} (letters, digits, '.', '_', '-'; at most 128 characters, "
                                f"starting with a letter or digit); got {value!r}")
    return value


def cert_unique_id(order_id: int | str, customer_uri: str) -> str:
    """``<ssl_id>_<customer_uri>`` or ``<order_number>_<customer_uri>``, as the Vault plugin names records."""
    return f"{order_id}_{customer_uri}"


def config_path(config: str) -> str:
    return f"configs/{config}"


def cert_path(config: str, unique_id: str) -> str:
    return f"certs/{config}/{unique_id}"


def name_path(config: str, name: str) -> str:
    return f"names/{config}/{name}"


def profile_path(config: str, profile_id: int | str) -> str:
    return f"profiles/{config}/{profile_id}"
