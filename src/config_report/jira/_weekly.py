"""One ticket per ISO week: find it (stored key first, then search) and comment, or create it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from config_report.domain.model import Changes, Report
from config_report.errors import ConfigReportError, JiraError, SettingsError
from config_report.jira._client import CreateOutcomeUnknown, Flavor, Issue, JiraClient
from config_report.jira._document import Document
from config_report.jira._ledger import TicketLedger
from config_report.jira._ticket import (
    WorkbookLocation,
    comment,
    description,
    file_size,
    iso_week,
    summary,
    week_label,
)
from config_report.logs import get_logger
from config_report.settings import Settings
from config_report.store.bucket import PublishedRun

# Creates tried after a 5xx, each preceded by a search for the ticket the failed one may have made.
CREATE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class TicketOutcome:
    """What happened to this week's ticket (or, in a dry run, what would have)."""

    action: Literal["created", "updated", "dry_run"]
    key: str | None
    url: str | None
    attached: bool
    message: str


def connect(settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> JiraClient:
    """A client for the configured Jira; raises `JiraError` when it is not configured or has no token."""
    if settings.jira_url is None:
        raise JiraError("Jira is not configured: set CONFIG_REPORT_JIRA_URL and CONFIG_REPORT_JIRA_PROJECT")
    flavor = None if settings.jira_flavor == "auto" else Flavor(settings.jira_flavor)
    try:
        token = settings.jira_token()
    except SettingsError as exc:  # the report is out already: a Jira failure (exit 4), not a usage error
        raise JiraError(str(exc)) from exc
    return JiraClient(settings.jira_url, token=token, email=settings.jira_email, flavor=flavor, sleep=sleep)


def sync_weekly_ticket(
    settings: Settings,
    report: Report,
    published: PublishedRun,
    ledger: TicketLedger,
    *,
    dry_run: bool = False,
    since_run: Callable[[str], Changes | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TicketOutcome:
    """Create this week's ticket, or comment on it, and attach the workbook when small enough.

    The week is the ISO week of the run's start. The ticket is found by the key stored in `ledger`
    (when still open and labelled for the week), else by searching for the week's label; a new
    ticket's key is stored at once so a re-run cannot create a second one while search lags.
    A dry run reads Jira and the ledger but writes nothing. Raises `JiraError` on any failure.

    The ticket leads with what changed since the previous run (`report.changes`); a re-run's comment
    says what changed since the run that created the ticket, which `since_run(run_id)` compares this
    report with (None when it cannot: the comment then says what changed since the previous run).
    """
    if settings.jira_url is None or settings.jira_project is None:
        raise JiraError("Jira is not configured: set CONFIG_REPORT_JIRA_URL and CONFIG_REPORT_JIRA_PROJECT")
    week = iso_week(report.run.started_at)
    figures = report.figures()
    workbook = published.workbook
    where = WorkbookLocation(
        file_name=workbook.name,
        s3_uri=workbook.uri(published.bucket),
        console_url=published.console_url(workbook),
        size_bytes=workbook.size,
        limit_mb=settings.jira_attachment_max_mb,
    )
    with connect(settings, sleep=sleep) as client:
        weekly = _WeeklyTicket(client, settings, settings.jira_project, week, ledger)
        existing = weekly.find()
        if dry_run:
            return weekly.dry_run(existing, summary(week, figures, report.changes), where)
        if existing is None:
            title = summary(week, figures, report.changes)
            key = weekly.create(title, description(week, report, figures, where), report.run.run_id)
            action: Literal["created", "updated"] = "created"
        else:
            key = existing.key
            created_by = ledger.created_by(week)
            since = since_run(created_by) if since_run is not None and created_by else None
            client.add_comment(key, comment(report, figures, since, where))
            action = "updated"
        if where.attachable:
            client.attach(key, workbook.local_path)
        message = f"{action} {key} for {week}" + ("" if where.attachable else f"; {_too_big(where)}")
        return TicketOutcome(action, key, client.browse_url(key), where.attachable, message)


class _WeeklyTicket:
    def __init__(
        self, client: JiraClient, settings: Settings, project: str, week: str, ledger: TicketLedger
    ) -> None:
        self._client = client
        self._settings = settings
        self._project = project
        self._week = week
        self._label = week_label(week, environment=settings.environment)
        self._ledger = ledger

    def find(self) -> Issue | None:
        """The week's open ticket: the stored key first (search may lag behind a fresh create)."""
        known = self._ledger.known_key(self._week)
        if known is not None:
            issue = self._client.get_issue(known)
            if issue is not None and not issue.done and self._label in issue.labels:
                return issue
            get_logger().info("jira.stored_ticket_not_open", key=known, week=self._week)
        return self._search()

    def _search(self) -> Issue | None:
        jql = (
            f"project = {_jql_string(self._project)} AND labels = {_jql_string(self._label)} "
            "AND statusCategory != Done ORDER BY created ASC"
        )
        found = self._client.search(jql)
        if len(found) > 1:
            get_logger().warning(
                "jira.several_open_tickets",
                label=self._label,
                keys=[i.key for i in found],
                using=found[0].key,
            )
        return found[0] if found else None

    def create(self, title: str, body: Document, run_id: str) -> str:
        """Create the ticket and record its key (and the run creating it) before anything else can fail."""
        key = self._create_without_duplicate(self._fields(title), body)
        try:
            self._ledger.remember(self._week, key, run_id=run_id)
        except ConfigReportError as exc:
            raise JiraError(
                f"created {key} but could not record it, so a re-run soon may create a second ticket: {exc}"
            ) from exc
        return key

    def _create_without_duplicate(self, fields: dict[str, object], body: Document) -> str:
        # After a 5xx the ticket may exist: look for it before asking again, so no second one appears.
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                return self._client.create_issue(fields, body)
            except CreateOutcomeUnknown as exc:
                existing = self._search()
                if existing is not None:
                    get_logger().warning("jira.create_failed_but_exists", error=str(exc), key=existing.key)
                    return existing.key
                if attempt == CREATE_ATTEMPTS:
                    raise
                get_logger().warning("jira.create_failed_retrying", error=str(exc), attempt=attempt + 1)
                self._client.pause(attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def dry_run(self, existing: Issue | None, title: str, where: WorkbookLocation) -> TicketOutcome:
        """Describe the write that would happen, without making it."""
        attach = f"attach {where.file_name}" if where.attachable else _too_big(where)
        if existing is None:
            issue_type = self._settings.jira_issue_type
            message = f"would create a {issue_type} in {self._project}: {title!r}; {attach}"
            return TicketOutcome("dry_run", None, None, False, message)
        url = self._client.browse_url(existing.key)
        message = f"would comment on {existing.key} ({existing.summary!r}); {attach}"
        return TicketOutcome("dry_run", existing.key, url, False, message)

    def _fields(self, title: str) -> dict[str, object]:
        s = self._settings
        fields: dict[str, object] = json.loads(s.jira_extra_fields) if s.jira_extra_fields else {}
        fields.update(
            project={"key": self._project},
            issuetype={"name": s.jira_issue_type},
            summary=title,
            labels=[self._label, *(label for label in s.jira_labels if label != self._label)],
        )
        if s.jira_components:
            fields["components"] = [{"name": name} for name in s.jira_components]
        if s.jira_priority:
            fields["priority"] = {"name": s.jira_priority}
        if s.jira_assignee:
            # Cloud identifies people by account ID; Data Center by user name.
            who = "accountId" if self._client.flavor is Flavor.CLOUD else "name"
            fields["assignee"] = {who: s.jira_assignee}
        return fields


def _too_big(where: WorkbookLocation) -> str:
    return f"workbook not attached ({file_size(where.size_bytes)} > {where.limit_mb:g} MB), linked only"


def _jql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
