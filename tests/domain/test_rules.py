"""Rule names: generated suffixes removed so one control has one name; rule filters on that name."""

from __future__ import annotations

import pytest

from config_report.domain.rules import RuleFilter, normalize_rule_name


@pytest.mark.parametrize(
    ("name", "created_by", "normalized"),
    [
        (
            "OrgConfigRule-s3-bucket-versioning-enabled-dbgzf8ba",
            "config-multiaccountsetup.amazonaws.com",
            "s3-bucket-versioning-enabled",
        ),
        (
            "s3-bucket-public-read-prohibited-conformance-pack-szsm1uv0w",
            "config-conforms.amazonaws.com",
            "s3-bucket-public-read-prohibited",
        ),
        (
            "securityhub-access-keys-rotated-nv6rb",
            "securityhub.amazonaws.com",
            "securityhub-access-keys-rotated",
        ),
        ("FMManagedSecurityGroupAudit-x7k2p9q1", "fms.amazonaws.com", "FMManagedSecurityGroupAudit"),
    ],
)
def test_service_generated_suffixes_are_removed(name: str, created_by: str, normalized: str) -> None:
    assert normalize_rule_name(name, created_by) == normalized


def test_the_same_control_redeployed_with_a_new_suffix_keeps_its_name() -> None:
    first = normalize_rule_name("OrgConfigRule-iam-password-policy-dbgzf8ba")
    second = normalize_rule_name("OrgConfigRule-iam-password-policy-q81mzk2c")
    assert first == second == "iam-password-policy"


@pytest.mark.parametrize(
    "name",
    ["s3-bucket-logging-enabled", "encrypted-volumes", "=1+2-restricted-ssh", "datenschutz-prüfung-✓", ""],
)
def test_rules_an_account_created_itself_keep_their_name(name: str) -> None:
    assert normalize_rule_name(name) == name
    assert normalize_rule_name(name, None) == name


def test_a_filter_without_patterns_includes_every_rule() -> None:
    assert RuleFilter().includes("anything")


def test_exclusions_win_over_inclusions() -> None:
    rules = RuleFilter(include=("s3-*", "securityhub-*"), exclude=("securityhub-*",))
    assert rules.includes("s3-bucket-logging-enabled")
    assert not rules.includes("securityhub-access-keys-rotated")
    assert not rules.includes("encrypted-volumes")
