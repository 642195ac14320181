"""The package's public surface and the exit codes the chart and operators rely on."""

from __future__ import annotations

import config_report
from config_report import ExitCode


def test_public_surface_is_pinned() -> None:
    assert config_report.__all__ == [
        "ConfigReportError",
        "DiscoveryError",
        "ExitCode",
        "JiraError",
        "NetworkError",
        "PublishError",
        "SettingsError",
        "__version__",
    ]


def test_exit_codes_match_the_design_contract() -> None:
    assert {code.name: code.value for code in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "USAGE": 2,
        "INCOMPLETE": 3,
        "JIRA_FAILED": 4,
    }
    assert config_report.SettingsError.exit_code == 2
    assert config_report.JiraError.exit_code == 4
    assert config_report.PublishError.exit_code == 1
    assert config_report.NetworkError.exit_code == 1
