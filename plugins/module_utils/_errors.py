# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the collection's own logic (not of SCM or Vault, which have their own modules).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

# A PEM block (CSR, key, certificate), also one cut off before its END line.
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL)


class InputError(ValueError):
    """A task option is wrong. Raised before any network call; names the option."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OperationError(Exception):
    """A lifecycle step failed after input was accepted.

    ``result`` holds public facts for the task result (for example the saved record with its
    order id), so that a failure never hides where the order went.
    """

    def __init__(self, message: str, *, result: dict[str, Any] | None = None, status: int | None = None,
                 scm_code: int | None = None) -> None:
        super().__init__(message)
        self.result = result or {}
        self.status = status
        self.scm_code = scm_code


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without PEM blocks (CSRs, keys) and without any of ``secrets`` (passwords, tokens, secret ids).

    The one redaction of the collection: SCM and Vault errors pass through it before they become a message.
    Which values are secret is declared where they live (``_records.SECRET_FIELDS``, ``_config_service.SECRET_FIELDS``,
    the ``no_log`` Vault options); a secret of fewer than three characters is not searched for, as it would
    blank out ordinary words.
    """
    text = _PEM_BLOCK.sub("<PEM redacted>", text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "<redacted>")
    return text
