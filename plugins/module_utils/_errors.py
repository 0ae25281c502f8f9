# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the collection's own logic (not of SCM or Vault, which have their own modules).

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any


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
