"""Reading one account × region: which rules AWS runs on a schedule (the only ones that can be stale)."""

from __future__ import annotations

from datetime import timedelta

from config_report.aws.region import schedule


def test_a_rule_created_with_a_frequency_runs_at_that_frequency() -> None:
    rule = {"Source": {"Owner": "AWS", "SourceIdentifier": "ACCESS_KEYS_ROTATED"}}

    assert schedule({**rule, "MaximumExecutionFrequency": "Twelve_Hours"}) == timedelta(hours=12)


def test_a_periodic_managed_rule_created_without_a_frequency_runs_every_24_hours() -> None:
    rule = {"Source": {"Owner": "AWS", "SourceIdentifier": "IAM_PASSWORD_POLICY"}}

    assert schedule(rule) == timedelta(hours=24)


def test_a_managed_rule_triggered_by_changes_has_no_schedule() -> None:
    assert schedule({"Source": {"Owner": "AWS", "SourceIdentifier": "ENCRYPTED_VOLUMES"}}) is None


def test_a_custom_rule_runs_on_a_schedule_when_its_source_says_so() -> None:
    def custom(*details: dict[str, str]) -> dict[str, object]:
        return {"Source": {"Owner": "CUSTOM_LAMBDA", "SourceDetails": list(details)}}

    scheduled = {"EventSource": "aws.config", "MessageType": "ScheduledNotification"}
    changed = {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"}

    assert schedule(custom({**scheduled, "MaximumExecutionFrequency": "Three_Hours"})) == timedelta(hours=3)
    assert schedule(custom(scheduled)) == timedelta(hours=24)
    assert schedule(custom(changed)) is None
