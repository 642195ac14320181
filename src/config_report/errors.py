"""The one exception tree of config-report.

    ConfigReportError
    ├── SettingsError        invalid configuration or usage: nothing was scanned (exit 2)
    ├── NetworkError         AWS could not be reached: DNS, TCP, TLS or proxy (exit 1)
    ├── DiscoveryError       the organization could not be listed (exit 1)
    ├── PublishError         the report could not be written or uploaded (exit 1)
    └── JiraError            the ticket could not be created or updated (exit 4)

Errors from botocore and httpx are translated where they enter (`raise ... from exc`).
A failure in one account or region is not an exception at all: it becomes a `Coverage` row.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes, a contract with the CronJob's podFailurePolicy and with operators."""

    OK = 0
    FAILED = 1  # no report published
    USAGE = 2  # invalid configuration or usage: nothing scanned
    INCOMPLETE = 3  # report published, but some account or region could not be read
    JIRA_FAILED = 4  # report published, but the ticket could not be created or updated

    @property
    def meaning(self) -> str:
        """What the code says, in the words of the README's table (the terminal shows it at the end)."""
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "complete: every account, region and rule in scope was read",
    ExitCode.FAILED: "failed; no report published",
    ExitCode.USAGE: "invalid configuration or usage; nothing scanned",
    ExitCode.INCOMPLETE: "report published, but coverage incomplete: an account, a region or a single rule "
    "could not be read",
    ExitCode.JIRA_FAILED: "report published, but the Jira ticket could not be created or updated",
}


class ConfigReportError(Exception):
    """Base of every error config-report raises on purpose."""

    exit_code = ExitCode.FAILED


class SettingsError(ConfigReportError):
    """A setting is missing or invalid; the message names the variable and the fix."""

    exit_code = ExitCode.USAGE


class NetworkError(ConfigReportError):
    """AWS could not be reached (DNS, connection, TLS, proxy); the message names the endpoint."""


class DiscoveryError(ConfigReportError):
    """The organization's accounts could not be listed."""


class PublishError(ConfigReportError):
    """The workbook, snapshot or manifest could not be written or uploaded.

    `reason` says what failed and `fix` what to change; the message is both.
    """

    def __init__(self, reason: str, *, fix: str = "") -> None:
        super().__init__(f"{reason}: {fix}" if fix else reason)
        self.reason = reason
        self.fix = fix


class JiraError(ConfigReportError):
    """Jira refused or could not be reached; carries Jira's own message, never the token."""

    exit_code = ExitCode.JIRA_FAILED
