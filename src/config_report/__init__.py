"""config-report: a weekly AWS Config compliance report for every account of an AWS Organization."""

from config_report.errors import (
    ConfigReportError,
    DiscoveryError,
    ExitCode,
    JiraError,
    NetworkError,
    PublishError,
    SettingsError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigReportError",
    "DiscoveryError",
    "ExitCode",
    "JiraError",
    "NetworkError",
    "PublishError",
    "SettingsError",
    "__version__",
]
