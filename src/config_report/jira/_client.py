"""A thin Jira REST client: the handful of calls the weekly ticket needs, for Cloud and Data Center.

Cloud speaks REST v3 (ADF bodies, `POST /rest/api/3/search/jql`, email + API token basic auth);
Data Center speaks REST v2 (wiki text, `POST /rest/api/2/search`, personal access token as bearer).
Every failure leaves this module as a `JiraError` carrying Jira's own message and never the token.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from config_report import __version__
from config_report.errors import JiraError
from config_report.jira._document import Document, to_adf, to_wiki
from config_report.logs import get_logger
from config_report.retry import Retry, RetryLater

USER_AGENT = f"config-report/{__version__}"
DEFAULT_ATTEMPTS = 5
# A Retry-After beyond this is cut short: the run is a batch job, not a daemon.
MAX_RETRY_AFTER_SECONDS = 120.0


class CreateOutcomeUnknown(JiraError):
    """Jira failed (5xx) while creating an issue: it may or may not exist now."""


class Flavor(StrEnum):
    """Which Jira is on the other end."""

    CLOUD = "cloud"
    DATACENTER = "datacenter"

    @property
    def api(self) -> str:
        """The REST API root this flavor is spoken to with."""
        return "/rest/api/3" if self is Flavor.CLOUD else "/rest/api/2"

    @property
    def search_path(self) -> str:
        """The JQL search endpoint (Cloud retired `/search` in favour of `/search/jql`)."""
        return f"{self.api}/search/jql" if self is Flavor.CLOUD else f"{self.api}/search"


@dataclass(frozen=True, slots=True)
class Issue:
    """What the weekly logic needs to know about an existing ticket."""

    key: str
    summary: str
    labels: tuple[str, ...]
    done: bool


class JiraClient:
    """Jira over httpx with bounded retries on 429 and 5xx that honour `Retry-After`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        email: str | None = None,
        flavor: Flavor | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect to `base_url`; `email` selects basic auth (Cloud), otherwise the token is a bearer PAT.

        `flavor` None means ask `serverInfo` on first use. `sleep` is how retries wait (tests pass a fake).
        """
        self.base_url = base_url.rstrip("/")
        self._email = email
        auth: httpx.Auth = httpx.BasicAuth(email, token) if email else _BearerAuth(token)
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self._flavor = self._usable(flavor) if flavor is not None else None
        self._attempts = attempts
        self._retry = Retry(attempts=attempts, sleep=sleep)

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def flavor(self) -> Flavor:
        """Cloud or Data Center: as configured, else from `serverInfo`'s deploymentType (asked once)."""
        if self._flavor is None:
            self._flavor = self._usable(self._detect_flavor())
        return self._flavor

    def _usable(self, flavor: Flavor) -> Flavor:
        if flavor is Flavor.CLOUD and not self._email:
            raise JiraError(
                f"{self.base_url} is Jira Cloud, which needs basic auth: set CONFIG_REPORT_JIRA_EMAIL "
                "to the account that owns the API token"
            )
        return flavor

    def _detect_flavor(self) -> Flavor:
        info = self._json("GET", "/rest/api/2/serverInfo", what="read serverInfo")
        deployment = str(info.get("deploymentType", "")) if isinstance(info, dict) else ""
        flavor = Flavor.CLOUD if deployment == "Cloud" else Flavor.DATACENTER
        get_logger().debug("jira.flavor", flavor=flavor.value, deployment_type=deployment or None)
        return flavor

    def browse_url(self, key: str) -> str:
        """The ticket's address for people."""
        return f"{self.base_url}/browse/{key}"

    def search(self, jql: str, *, limit: int = 10) -> list[Issue]:
        """Up to `limit` issues matching `jql` (one page is all the weekly logic ever needs)."""
        body = {"jql": jql, "maxResults": limit, "fields": ["summary", "labels", "status"]}
        found = self._json("POST", self.flavor.search_path, json=body, what="search for this week's ticket")
        issues = found.get("issues", []) if isinstance(found, dict) else []
        return [_issue(item) for item in issues]

    def get_issue(self, key: str) -> Issue | None:
        """The issue, or None when it does not exist (or this account cannot see it)."""
        path = f"{self.flavor.api}/issue/{key}"
        response = self._send("GET", path, params={"fields": "summary,labels,status"})
        if response.status_code == 404:
            return None
        return _issue(self._check(response, f"read {key}"))

    def create_issue(self, fields: Mapping[str, object], description: Document) -> str:
        """Create an issue and return its key; a 400 names the fields Jira wants.

        Raises `CreateOutcomeUnknown` on a 5xx: the issue may exist anyway, so it is not retried here.
        """
        body = {"fields": {**fields, "description": self._body(description)}}
        response = self._send("POST", f"{self.flavor.api}/issue", json=body, retry_server_errors=False)
        issue_type, project = _nested(fields, "issuetype", "name"), _nested(fields, "project", "key")
        what = f"create a {issue_type} in project {project}"
        if response.status_code >= 500:
            raise CreateOutcomeUnknown(_explain(response, what))
        return str(self._check(response, what)["key"])

    def add_comment(self, key: str, comment: Document) -> None:
        """Add a comment to the issue."""
        path = f"{self.flavor.api}/issue/{key}/comment"
        self._json("POST", path, json={"body": self._body(comment)}, what=f"comment on {key}")

    def attach(self, key: str, path: Path) -> None:
        """Attach a file; Jira demands the XSRF opt-out header and the multipart field name `file`."""
        media_type = _XLSX if path.suffix == ".xlsx" else "application/octet-stream"
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise JiraError(f"cannot read {path} to attach it to {key} ({exc.strerror})") from exc
        files = {"file": (path.name, content, media_type)}
        self._json(
            "POST",
            f"{self.flavor.api}/issue/{key}/attachments",
            files=files,
            headers={"X-Atlassian-Token": "no-check"},
            what=f"attach {path.name} to {key}",
        )

    def _body(self, document: Document) -> object:
        return to_adf(document) if self.flavor is Flavor.CLOUD else to_wiki(document)

    def _json(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        return self._check(self._send(method, path, **kwargs), what)

    def _send(
        self, method: str, path: str, *, retry_server_errors: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One request, tried again on 429, on 5xx when `retry_server_errors`, and when Jira could not
        be reached; the last answer is returned as it is, whatever its status."""

        def attempt(number: int) -> httpx.Response:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # Only a failed connect surely sent nothing; anything later may have reached Jira.
                if not (retry_server_errors or isinstance(exc, httpx.ConnectError)):
                    raise JiraError(f"Jira at {self.base_url} could not be reached ({exc!r})") from exc
                raise _Unreachable from exc
            get_logger().debug("jira.request", method=method, path=path, status=response.status_code)
            if response.status_code == 429 or (retry_server_errors and response.status_code >= 500):
                raise _Refused(response)
            return response

        def retrying(number: int, delay: float, exc: Exception) -> None:
            what: dict[str, object] = (
                {"status": exc.response.status_code, "attempts": self._attempts}
                if isinstance(exc, _Refused)
                else {"error": repr(exc.__cause__)}
            )
            get_logger().warning(
                "jira.retry", method=method, path=path, delay_s=delay, attempt=number + 1, **what
            )

        try:
            return self._retry.call(
                attempt, retryable=lambda exc: isinstance(exc, _Refused | _Unreachable), on_retry=retrying
            )
        except _Refused as exc:
            return exc.response
        except _Unreachable as exc:
            cause = exc.__cause__
            raise JiraError(f"Jira at {self.base_url} could not be reached ({cause!r})") from cause

    def _check(self, response: httpx.Response, what: str) -> Any:
        if response.is_success:
            return response.json() if response.content else {}
        raise JiraError(_explain(response, what))


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _BearerAuth(httpx.Auth):
    """A Data Center personal access token; kept out of reprs so it cannot leak into a log line."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = self._header
        yield request


def _issue(item: Mapping[str, Any]) -> Issue:
    fields = item.get("fields") or {}
    category = (fields.get("status") or {}).get("statusCategory") or {}
    return Issue(
        key=str(item["key"]),
        summary=str(fields.get("summary", "")),
        labels=tuple(fields.get("labels") or ()),
        done=category.get("key") == "done",
    )


def _nested(mapping: Mapping[str, object], outer: str, inner: str) -> str:
    value = mapping.get(outer)
    return str(value.get(inner, "?")) if isinstance(value, Mapping) else "?"


def _explain(response: httpx.Response, what: str) -> str:
    """Jira's own words for a refusal: `errorMessages` and per-field `errors`, else the status line."""
    messages: list[str] = []
    field_errors: dict[str, str] = {}
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        messages = [str(m) for m in payload.get("errorMessages") or ()]
        field_errors = {str(k): str(v) for k, v in (payload.get("errors") or {}).items()}
    detail = "; ".join(messages + [f"{field}: {message}" for field, message in field_errors.items()])
    if not detail:
        detail = response.reason_phrase or "no explanation given"
    text = f"Jira answered {response.status_code} when asked to {what}: {detail}".rstrip(".")
    required = [field for field, message in field_errors.items() if "required" in message.lower()]
    if required:
        text += (
            f". The project requires field(s) {', '.join(required)} for this issue type: set them in "
            'CONFIG_REPORT_JIRA_EXTRA_FIELDS, e.g. {"' + required[0] + '": ...}'
        )
    elif "components" in field_errors:
        text += (
            ". Each name in CONFIG_REPORT_JIRA_COMPONENTS and CONFIG_REPORT_JIRA_OWNER_COMPONENTS must be a "
            "component of the project: create it there, or correct the setting"
        )
    elif response.status_code == 401:
        text += ". Check CONFIG_REPORT_JIRA_EMAIL and the API token (Cloud) or the personal access token (DC)"
    return text


class _Unreachable(RetryLater):
    """Jira could not be reached (the cause is the transport error): try again after the backoff."""


class _Refused(RetryLater):
    """Jira answered 429 or 5xx: try again when its `Retry-After` says, else after the backoff."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(_retry_after(response))
        self.response = response


def _retry_after(response: httpx.Response) -> float | None:
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    seconds: float | None
    try:
        seconds = float(header)
    except ValueError:
        seconds = _seconds_until(header)
    if seconds is None or seconds != seconds:  # unparseable or NaN: fall back to our own backoff
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _seconds_until(http_date: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    return (when - datetime.now(UTC)).total_seconds() if when.tzinfo else None
