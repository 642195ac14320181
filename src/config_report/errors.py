"""The one exception tree of config-report.

    ConfigReportError
    ├── SettingsError        invalid configuration or usage: nothing was scanned (exit 2)
    ├── DiscoveryError       the organization could not be listed (exit 1)
    ├── PublishError         the report could not be written or uploaded (exit 1)
    └── JiraError            the ticket could not be created or updated (exit 4)

Errors from botocore and httpx are translated where they enter (`raise ... from exc`).
A failure in one account or region is not an exception at all: it becomes a `Coverage` row.
"""

from __future__ import annotations


class ConfigReportError(Exception):
    """Base of every error config-report raises on purpose."""

    exit_code = 1


class SettingsError(ConfigReportError):
    """A setting is missing or invalid; the message names the variable and the fix."""

    exit_code = 2


class DiscoveryError(ConfigReportError):
    """The organization's accounts could not be listed."""


class PublishError(ConfigReportError):
    """The workbook, snapshot or manifest could not be written or uploaded."""


class JiraError(ConfigReportError):
    """Jira refused or could not be reached; carries Jira's own message, never the token."""

    exit_code = 4
