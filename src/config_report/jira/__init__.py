"""Jira: one ticket per ISO week, created or updated after the report is published.

Public surface: `sync_weekly_ticket` (what the run calls), its `TicketOutcome`, the workbook it links and
attaches (`PublishedWorkbook`), and the `TicketLedger` protocol (kept in the report bucket: `store.tickets`).
"""

from config_report.jira._client import Flavor, JiraClient
from config_report.jira._ledger import TicketLedger
from config_report.jira._ticket import PublishedWorkbook, iso_week, week_label
from config_report.jira._weekly import TicketOutcome, connect, sync_weekly_ticket

__all__ = [
    "Flavor",
    "JiraClient",
    "PublishedWorkbook",
    "TicketLedger",
    "TicketOutcome",
    "connect",
    "iso_week",
    "sync_weekly_ticket",
    "week_label",
]
