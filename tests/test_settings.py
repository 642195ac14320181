"""Settings: environment variables and flags, and the messages a bad value produces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config_report.domain.severity import Severity
from config_report.errors import SettingsError
from config_report.settings import DEFAULT_SPOKE_ROLE_NAME, SEVERITIES, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CONFIG_REPORT_"):
            monkeypatch.delenv(name)


def test_defaults_match_the_design_contract() -> None:
    settings = load_settings()
    assert settings.spoke_role_name == DEFAULT_SPOKE_ROLE_NAME == "system-config-report-generator-read-role"
    assert settings.s3_prefix == "aws-config-reports/"
    assert settings.jira_issue_type == "Task"
    assert settings.regions == []
    assert settings.org_role_arn is None
    assert not settings.jira_enabled


def test_comma_separated_regions_are_split_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_REPORT_REGIONS", " eu-west-1, us-east-1 ,,")
    assert load_settings().regions == ["eu-west-1", "us-east-1"]


def test_a_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_REPORT_CONCURRENCY", "4")
    assert load_settings({"concurrency": "9"}).concurrency == 9


def test_a_bad_region_names_the_variable_the_flag_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_REPORT_REGIONS", "eu-west-1,europe")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "CONFIG_REPORT_REGIONS" in message
    assert "--regions" in message
    assert "'europe'" in message
    assert "eu-west-1" in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CONFIG_REPORT_ACCOUNTS", "12345", "12-digit account ID"),
        ("CONFIG_REPORT_ORG_ROLE_ARN", "list-org-role", "IAM role ARN"),
        ("CONFIG_REPORT_SPOKE_ROLE_NAME", "bad role name", "IAM role name"),
        ("CONFIG_REPORT_S3_BUCKET", "Not_A_Bucket", "S3 bucket name"),
        ("CONFIG_REPORT_CONCURRENCY", "0", "greater than or equal to 1"),
        ("CONFIG_REPORT_LOG_FORMAT", "xml", "CONFIG_REPORT_LOG_FORMAT"),
        ("CONFIG_REPORT_JIRA_EXTRA_FIELDS", "[1, 2]", "JSON object"),
        ("CONFIG_REPORT_SESSION_NAME", "x", "CONFIG_REPORT_SESSION_NAME"),
        ("CONFIG_REPORT_OWNER_TAG_KEYS", " , ", "at least one tag key"),
        ("CONFIG_REPORT_EXCEPTIONS_FILE", "s3://Bad_Bucket/x.yaml", "S3 object URI"),
        ("CONFIG_REPORT_EXCEPTION_REQUEST", "http://wiki.example.com/exceptions", "https:// link"),
        ("CONFIG_REPORT_OWNER_ALIASES", '{"data-team-leads": ""}', "non-empty texts"),
        ("CONFIG_REPORT_SEVERITY_OVERRIDES", "custom-*=SEVERE", "glob=SEVERITY"),
        ("CONFIG_REPORT_SEVERITY_OVERRIDES", "HIGH", "custom-\\*=HIGH"),
        ("CONFIG_REPORT_JIRA_PRIORITY_BY_SEVERITY", "CRITICAL=Highest", "not valid JSON"),
        ("CONFIG_REPORT_JIRA_PRIORITY_BY_SEVERITY", '{"SEVERE": "Highest"}', "'SEVERE' is not a severity"),
        ("CONFIG_REPORT_JIRA_PRIORITY_BY_SEVERITY", '{"HIGH": ""}', "non-empty texts"),
        ("CONFIG_REPORT_JIRA_OWNER_COMPONENTS", '["Payments"]', "JSON object of non-empty texts"),
    ],
)
def test_each_invalid_setting_is_rejected_with_its_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
    with pytest.raises(SettingsError, match=expected):
        load_settings()


def test_jira_url_without_project_or_token_is_incomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_REPORT_JIRA_URL", "https://example.atlassian.net")
    with pytest.raises(SettingsError, match="CONFIG_REPORT_JIRA_PROJECT"):
        load_settings()
    monkeypatch.setenv("CONFIG_REPORT_JIRA_PROJECT", "SEC")
    with pytest.raises(SettingsError, match="CONFIG_REPORT_JIRA_API_TOKEN_FILE"):
        load_settings()


def test_the_prefix_always_ends_with_one_slash() -> None:
    assert load_settings({"s3_prefix": "/reports/weekly"}).s3_prefix == "reports/weekly/"


def test_public_view_hides_secrets_but_says_they_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_REPORT_EXTERNAL_ID", "very-secret-external-id")
    monkeypatch.setenv("CONFIG_REPORT_JIRA_API_TOKEN", "jira-token-value")
    view = load_settings().public_view()
    assert view["external_id"] == "***"
    assert view["jira_api_token"] == "***"
    assert "very-secret-external-id" not in repr(view)
    assert "jira-token-value" not in repr(view)


def test_the_token_file_is_read_and_a_missing_file_is_named(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cr3t\n")
    jira = {"jira_url": "https://example.atlassian.net", "jira_project": "SEC"}
    found = load_settings({**jira, "jira_api_token_file": str(token)}).jira_config()
    assert found is not None
    assert found.token() == "s3cr3t"
    missing = load_settings({**jira, "jira_api_token_file": str(token) + ".absent"}).jira_config()
    assert missing is not None
    with pytest.raises(SettingsError, match="CONFIG_REPORT_JIRA_API_TOKEN_FILE"):
        missing.token()


def test_the_external_id_is_read_from_its_mounted_file_as_the_scan_uses_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "external-id"
    secret.write_text("config-report-7f3a9c2e\n")  # `kubectl create secret --from-file` keeps a newline
    monkeypatch.setenv("CONFIG_REPORT_EXTERNAL_ID_FILE", str(secret))
    settings = load_settings()
    assert settings.scan_config().external_id == "config-report-7f3a9c2e"
    # What is logged and written to the manifest names the file, never its content.
    assert settings.public_view()["external_id_file"] == str(secret)
    assert "7f3a9c2e" not in repr(settings.public_view())


def test_an_unreadable_or_malformed_external_id_file_names_the_variable_and_not_the_value(
    tmp_path: Path,
) -> None:
    missing = load_settings({"external_id_file": str(tmp_path / "absent")})
    with pytest.raises(
        SettingsError, match=r"CONFIG_REPORT_EXTERNAL_ID_FILE \(--external-id-file\)"
    ) as caught:
        missing.scan_config()
    assert "mount the Secret there" in str(caught.value)
    assert caught.value.exit_code == 2
    wrong = tmp_path / "wrong"
    wrong.write_text("two words with spaces\n")
    with pytest.raises(SettingsError, match="does not hold an ExternalId") as caught:
        load_settings({"external_id_file": str(wrong)}).scan_config()
    assert "two words" not in str(caught.value)


def test_the_external_id_comes_from_one_place_only(tmp_path: Path) -> None:
    secret = tmp_path / "external-id"
    secret.write_text("config-report-7f3a9c2e")
    with pytest.raises(SettingsError, match="keep one"):
        load_settings({"external_id": "config-report-1", "external_id_file": str(secret)})


def test_an_environment_gets_its_own_prefix_unless_one_is_given() -> None:
    assert load_settings({"environment": "stg"}).s3_prefix == "aws-config-reports/stg/"
    assert load_settings({"environment": "stg", "s3_prefix": "reports/"}).s3_prefix == "reports/"
    assert load_settings().s3_prefix == "aws-config-reports/"


def test_an_environment_name_that_cannot_be_a_key_or_label_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"CONFIG_REPORT_ENVIRONMENT \(--environment\): 'Prod Env'"):
        load_settings({"environment": "Prod Env"})


def test_severity_overrides_keep_their_order_and_accept_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_REPORT_SEVERITY_OVERRIDES", " custom-* = high , legacy-check=Low")

    assert load_settings().severity_pairs() == (("custom-*", "HIGH"), ("legacy-check", "LOW"))


def test_the_settings_know_the_same_severities_as_the_report() -> None:
    assert tuple(level.value for level in Severity) == SEVERITIES


def test_jira_priorities_by_severity_accept_any_case_and_owner_components_are_trimmed() -> None:
    settings = load_settings(
        {
            "jira_url": "https://example.atlassian.net",
            "jira_project": "SEC",
            "jira_api_token": "t",
            "jira_priority_by_severity": '{"critical": "Highest", "HIGH": " High "}',
            "jira_owner_components": '{" payments-team ": "Payments"}',
        }
    )
    config = settings.jira_config()
    assert config is not None
    assert dict(config.priority_by_severity) == {"CRITICAL": "Highest", "HIGH": "High"}
    assert dict(config.owner_components) == {"payments-team": "Payments"}
