# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM's Report API, ``/report/v1/...`` ("Reports" in docs/scm-protocol.md): every certificate of some organizations with a
status, or with a date attribute between two days, in one answer.

A report is a POST that only reads: it places nothing, so ``ScmClient`` retries POSTs under ``/report/`` like a GET
(``Transport.mount_read_post``), unlike enroll, renew or replace. ``report_body`` builds a body from named criteria,
``ReportApi`` asks and counts, and ``pages`` walks a list endpoint with ``size``/``position`` paging.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import datetime
from typing import Any, Callable, Iterator

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.endpoints import Endpoints
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmError

REPORT_PREFIX = "/report/"
SSL_REPORT = "/report/v1/ssl-certificates"
CLIENT_REPORT = "/report/v1/client-certificates"
# certificateStatus values (docs/scm-protocol.md "Reports").
SSL_STATUS = {"any": 0, "requested": 1, "issued": 2, "revoked": 3, "expired": 4}
CLIENT_STATUS = {"any": 0, "issued": 2, "revoked": 3, "expired": 4, "pending_download": 5, "not_enrolled": 6}
# certificateDateAttribute values.
SSL_DATE = {"revoked": 2, "expires": 3, "requested": 4, "issued": 5}
CLIENT_DATE = {"issued": 0, "downloaded": 1, "revoked": 2, "expires": 3}


def _day(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InputError(field, f"{field} must be a date YYYY-MM-DD; got {value!r}") from None


def report_body(*, status: str = "any", date_attribute: str | None = None, since: Any = None, until: Any = None,
                organization_ids: list[int] | None = None, common_name: str | None = None, client: bool = False) -> dict[str, Any]:
    """The JSON body of one report; ``since``/``until`` are days (both ends included by SCM)."""
    statuses, dates = (CLIENT_STATUS, CLIENT_DATE) if client else (SSL_STATUS, SSL_DATE)
    if status not in statuses:
        raise InputError("status", f"status must be one of {', '.join(statuses)}; got {status!r}")
    body: dict[str, Any] = {"certificateStatus": statuses[status]}
    start, end = _day("since", since), _day("until", until)
    if start or end:
        if date_attribute not in dates:
            raise InputError("date_attribute", f"date_attribute must be one of {', '.join(dates)}; got {date_attribute!r}")
        body["certificateDateAttribute"] = dates[date_attribute]
        if start:
            body["from"] = start
        if end:
            body["to"] = end
    if organization_ids:
        body["organizationIds"] = [int(org) for org in organization_ids]
    if common_name and not client:
        body["commonName"] = common_name
    if not client:
        body["serialNumberFormat"] = "HEXWithLeadingZeros"
    return body


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


class ReportApi:
    """The report endpoints of one ``ScmClient``, with bodies built from named criteria; ``requests`` counts the
    reports asked for (the transport retries one that failed, as a read)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.requests = 0

    def ssl_certificates(self, **criteria: Any) -> list[dict[str, Any]]:
        """POST /report/v1/ssl-certificates; criteria as ``report_body`` takes them."""
        self.requests += 1
        return self.client.report_ssl_certificates(report_body(client=False, **criteria))

    def client_certificates(self, **criteria: Any) -> list[dict[str, Any]]:
        """POST /report/v1/client-certificates; criteria as ``report_body`` takes them."""
        self.requests += 1
        return self.client.report_client_certificates(report_body(client=True, **criteria))


def pages(list_page: Callable[..., tuple[list[dict[str, Any]], int | None]], page_size: int, counter: list[int],
          **filters: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint (``client.list_ssl`` or ``client.list_smime``), ``page_size`` at a time.

    Stops at a short page, or once ``X-Total-Count`` items came; ``counter[0]`` counts the requests.
    """
    position = 0
    while True:
        counter[0] += 1
        items, total = list_page(size=page_size, position=position, **filters)
        yield from items
        position += len(items)
        if len(items) < page_size or (total is not None and position >= total):
            return
