# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM's Report API (docs/scm-protocol.md "Reports") over an ``ScmClient``: whole estates in one request per report.

``POST /report/v1/ssl-certificates`` and ``POST /report/v1/client-certificates`` answer every certificate of
the chosen organizations with a status, or with a date attribute between two days, in one answer. They only
read: no order is placed, so, unlike enroll, renew and replace, a report POST is safe to send again. This
file retries it like a GET (429, 5xx, a dropped connection), with the client's own backoff.

The list endpoints with ``size``/``position`` paging are the client's ``list_ssl``/``iter_ssl`` and
``list_smime``/``iter_smime``; ``pages`` below walks either and counts the requests.

Private to this collection: no compatibility is promised to code outside it.
"""
from __future__ import annotations

import datetime
from typing import Any, Callable, Iterator

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import (
    RETRYABLE_STATUSES, ScmConnectionError, ScmError, ScmServerError,
)

SSL_REPORT = "/report/v1/ssl-certificates"
CLIENT_REPORT = "/report/v1/client-certificates"
# certificateStatus values (docs/scm-protocol.md "Reports").
SSL_STATUS = {"any": 0, "requested": 1, "issued": 2, "revoked": 3, "expired": 4}
CLIENT_STATUS = {"any": 0, "issued": 2, "revoked": 3, "expired": 4, "pending_download": 5, "not_enrolled": 6}
# certificateDateAttribute values.
SSL_DATE = {"revoked": 2, "expires": 3, "requested": 4, "issued": 5}
CLIENT_DATE = {"issued": 0, "downloaded": 1, "revoked": 2, "expires": 3}
MAX_ATTEMPTS = 4


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


class ReportApi:
    """The report endpoints of one ``ScmClient`` (its session, login and retries); ``requests`` counts what was sent."""

    def __init__(self, client: Any, sleep: Callable[[float], None] | None = None) -> None:
        self.client = client
        self.sleep = sleep or client.sleep
        self.requests = 0

    def _post(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        attempt = 0
        while True:
            self.requests += 1
            try:
                answer = self.client._json("POST", path, params={"output_type": "buffered"}, body=body)  # pylint: disable=protected-access
            except (ScmServerError, ScmConnectionError) as exc:
                # A report places nothing: sending it again is safe, unlike enroll, renew or replace.
                if attempt + 1 >= MAX_ATTEMPTS or (isinstance(exc, ScmServerError) and exc.status not in RETRYABLE_STATUSES):
                    raise
                self.sleep(self.client._backoff(attempt))  # pylint: disable=protected-access
                attempt += 1
                continue
            return self._entries(path, answer)

    @staticmethod
    def _entries(path: str, answer: Any) -> list[dict[str, Any]]:
        if not isinstance(answer, dict) or not isinstance(answer.get("reports", []), list):
            raise ScmError(f"SCM answered POST {path} without a list of reports", status=200, method="POST", url=path)
        if answer.get("statusCode", 0) not in (0, "0"):
            raise ScmError(f"SCM could not make the report POST {path} (statusCode {answer.get('statusCode')})", status=200,
                           method="POST", url=path)
        return [entry for entry in answer.get("reports") or [] if isinstance(entry, dict)]

    def ssl_certificates(self, **criteria: Any) -> list[dict[str, Any]]:
        """POST /report/v1/ssl-certificates; criteria as ``report_body`` takes them."""
        return self._post(SSL_REPORT, report_body(client=False, **criteria))

    def client_certificates(self, **criteria: Any) -> list[dict[str, Any]]:
        """POST /report/v1/client-certificates; criteria as ``report_body`` takes them."""
        return self._post(CLIENT_REPORT, report_body(client=True, **criteria))


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
