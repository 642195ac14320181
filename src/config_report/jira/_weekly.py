"""One ticket per ISO week: find it (stored key first, then search) and comment, or create it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from config_report.domain.model import Changes, Finding, Report
from config_report.errors import ConfigReportError, JiraError, SettingsError
from config_report.jira._client import CreateOutcomeUnknown, Flavor, Issue, JiraClient
from config_report.jira._document import Document
from config_report.jira._ledger import TicketLedger
from config_report.jira._ticket import (
    PublishedWorkbook,
    WorkbookLocation,
    comment,
    description,
    file_size,
    iso_week,
    summary,
    week_label,
)
from config_report.jira._triage import new_findings, owner_components, priority_for
from config_report.logs import get_logger
from config_report.retry import Retry
from config_report.settings import JiraConfig

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


def connect(config: JiraConfig, *, sleep: Callable[[float], None] = time.sleep) -> JiraClient:
    """A client for the configured Jira; raises `JiraError` when its token cannot be read."""
    flavor = None if config.flavor == "auto" else Flavor(config.flavor)
    try:
        token = config.token()
    except SettingsError as exc:  # the report is out already: a Jira failure (exit 4), not a usage error
        raise JiraError(str(exc)) from exc
    return JiraClient(config.url, token=token, email=config.email, flavor=flavor, sleep=sleep)


def sync_weekly_ticket(
    config: JiraConfig,
    report: Report,
    workbook: PublishedWorkbook,
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
    week = iso_week(report.run.started_at)
    where = WorkbookLocation.of(workbook, limit_mb=config.attachment_max_mb)
    with connect(config, sleep=sleep) as client:
        weekly = _WeeklyTicket(client, config, week, ledger, sleep=sleep)
        existing = weekly.find()
        if dry_run:
            return weekly.dry_run(existing, summary(week, report.figures, report.changes), where)
        if existing is None:
            title = summary(week, report.figures, report.changes)
            key = weekly.create(title, description(week, report, where), report)
            action: Literal["created", "updated"] = "created"
        else:
            key = existing.key
            created_by = ledger.created_by(week)
            since = since_run(created_by) if since_run is not None and created_by else None
            client.add_comment(key, comment(report, since, where))
            action = "updated"
        if where.attachable:
            client.attach(key, where.local_path)
        message = f"{action} {key} for {week}" + ("" if where.attachable else f"; {_too_big(where)}")
        return TicketOutcome(action, key, client.browse_url(key), where.attachable, message)


class _WeeklyTicket:
    def __init__(
        self,
        client: JiraClient,
        config: JiraConfig,
        week: str,
        ledger: TicketLedger,
        *,
        sleep: Callable[[float], None],
    ) -> None:
        self._client = client
        self._config = config
        self._project = config.project
        self._week = week
        self._label = week_label(week, environment=config.environment)
        self._ledger = ledger
        self._sleep = sleep

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

    def create(self, title: str, body: Document, report: Report) -> str:
        """Create the ticket and record its key (and the run creating it) before anything else can fail."""
        key = self._create_without_duplicate(self._fields(title, new_findings(report.changes)), body)
        try:
            self._ledger.remember(self._week, key, run_id=report.run.run_id)
        except ConfigReportError as exc:
            raise JiraError(
                f"created {key} but could not record it, so a re-run soon may create a second ticket: {exc}"
            ) from exc
        return key

    def _create_without_duplicate(self, fields: dict[str, object], body: Document) -> str:
        # After a 5xx the ticket may exist: look for it before asking again, so no second one appears.
        def create(attempt: int) -> str:
            try:
                return self._client.create_issue(fields, body)
            except CreateOutcomeUnknown as exc:
                existing = self._search()
                if existing is None:
                    raise
                get_logger().warning("jira.create_failed_but_exists", error=str(exc), key=existing.key)
                return existing.key

        def retrying(attempt: int, delay: float, exc: Exception) -> None:
            get_logger().warning("jira.create_failed_retrying", error=str(exc), attempt=attempt + 1)

        return Retry(attempts=CREATE_ATTEMPTS, sleep=self._sleep).call(
            create, retryable=lambda exc: isinstance(exc, CreateOutcomeUnknown), on_retry=retrying
        )

    def dry_run(self, existing: Issue | None, title: str, where: WorkbookLocation) -> TicketOutcome:
        """Describe the write that would happen, without making it."""
        attach = f"attach {where.file_name}" if where.attachable else _too_big(where)
        if existing is None:
            issue_type = self._config.issue_type
            message = f"would create a {issue_type} in {self._project}: {title!r}; {attach}"
            return TicketOutcome("dry_run", None, None, False, message)
        url = self._client.browse_url(existing.key)
        message = f"would comment on {existing.key} ({existing.summary!r}); {attach}"
        return TicketOutcome("dry_run", existing.key, url, False, message)

    def _fields(self, title: str, new: tuple[Finding, ...]) -> dict[str, object]:
        """The new ticket's fields: the configured ones, the priority of the worst new severity when
        mapped, and the components of the owners of new critical and high findings."""
        c = self._config
        fields: dict[str, object] = dict(c.extra_fields)
        fields.update(
            project={"key": self._project},
            issuetype={"name": c.issue_type},
            summary=title,
            labels=[self._label, *(label for label in c.labels if label != self._label)],
        )
        components = dict.fromkeys((*c.components, *owner_components(new, c.owner_components)))
        if components:
            fields["components"] = [{"name": name} for name in components]
        priority = priority_for(new, c.priority_by_severity) or c.priority
        if priority:
            fields["priority"] = {"name": priority}
        if c.assignee:
            # Cloud identifies people by account ID; Data Center by user name.
            who = "accountId" if self._client.flavor is Flavor.CLOUD else "name"
            fields["assignee"] = {who: c.assignee}
        return fields


def _too_big(where: WorkbookLocation) -> str:
    return f"workbook not attached ({file_size(where.size_bytes)} > {where.limit_mb:g} MB), linked only"


def _jql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
