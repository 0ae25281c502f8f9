# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM's Report API, ``/report/v1/...`` ("Reports" in docs/scm-protocol.md): every certificate of some organizations with a
status, or with a date attribute between two days, in one answer.

A report is a POST that only reads: it places nothing, so ``ScmClient`` retries POSTs under ``/report/`` like a GET
(``Transport.mount_read_post``), unlike enroll, renew or replace. The body is built by the caller.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.endpoints import Endpoints
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError

REPORT_PREFIX = "/report/"


class ReportEndpoints(Endpoints):
    """``/report/v1``: SSL and client certificate reports, answered in one buffer."""

    def report_ssl_certificates(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """POST /report/v1/ssl-certificates?output_type=buffered [Reports] -> the ``reports`` entries."""
        return self._report("/report/v1/ssl-certificates", body)

    def report_client_certificates(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """POST /report/v1/client-certificates?output_type=buffered [Reports] -> the ``reports`` entries."""
        return self._report("/report/v1/client-certificates", body)

    def _report(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self._json("POST", path, params={"output_type": "buffered"}, body=body, reads=True)
        if not isinstance(answer, dict) or not isinstance(answer.get("reports", []), list):
            raise ScmError(f"SCM answered POST {path} without a list of reports", status=200, method="POST", url=self._url(path))
        if answer.get("statusCode", 0) not in (0, "0"):
            raise ScmError(f"SCM could not make the report POST {path} (statusCode {answer.get('statusCode')})", status=200,
                           method="POST", url=self._url(path))
        return [entry for entry in answer.get("reports") or [] if isinstance(entry, dict)]
