"""Jira: one ticket per ISO week, created or updated after the report is published.

Public surface: `sync_weekly_ticket` (what the pipeline calls), its `TicketOutcome`, and the
`TicketLedger` protocol with its S3 implementation.
"""

from config_report.jira._client import Flavor, JiraClient
from config_report.jira._ledger import S3TicketLedger, TicketLedger
from config_report.jira._ticket import iso_week, week_label
from config_report.jira._weekly import TicketOutcome, connect, sync_weekly_ticket

__all__ = [
    "Flavor",
    "JiraClient",
    "S3TicketLedger",
    "TicketLedger",
    "TicketOutcome",
    "connect",
    "iso_week",
    "sync_weekly_ticket",
    "week_label",
]
