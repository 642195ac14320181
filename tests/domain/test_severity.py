"""Severity: the managed rules' table from the Security Hub controls reference, and the user's overrides."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

import pytest

from config_report.domain.severity import MANAGED_RULE_SEVERITY, Severity, severity_of
from config_report.simulated.seed import _CATALOGUE

# Managed rules the simulated organization deploys that the table leaves unrated on purpose.
DELIBERATELY_UNRATED = {
    # EKS.1 (endpoints not publicly accessible; HIGH in the 2026 listing) most likely uses it, but the
    # control came after the 2023 documents that name each control's rule, and the listing names none.
    "EKS_ENDPOINT_NO_PUBLIC_ACCESS": "EKS.1 postdates the documents that name the controls' rules",
    # No Security Hub control of the documents uses these rules.
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": "no Security Hub control uses it",
    "SECURITYHUB_ENABLED": "no Security Hub control uses it (Security Hub does not check itself)",
}


def _managed_rule_identifiers() -> frozenset[str]:
    """Every AWS managed rule's identifier, from the list of the AWS Config Developer Guide that moto
    (the simulator's pinned dependency) ships."""
    spec = importlib.util.find_spec("moto")
    assert spec is not None
    assert spec.origin is not None
    listing = Path(spec.origin).parent / "config" / "resources" / "aws_managed_rules.json.gz"
    with gzip.open(listing, "rt", encoding="utf-8") as file:
        return frozenset(json.load(file)["ManagedRules"])


# --- the table's shape --------------------------------------------------------------------------------


def test_the_table_maps_managed_rule_identifiers_to_rated_severities() -> None:
    assert len(MANAGED_RULE_SEVERITY) >= 200  # 206 from the sources of 2023 and 2026
    for identifier, severity in MANAGED_RULE_SEVERITY.items():
        assert re.fullmatch(r"[A-Z0-9_]+", identifier), identifier
        assert isinstance(severity, Severity)
        assert severity is not Severity.UNRATED, identifier


def test_every_identifier_is_an_aws_managed_rule() -> None:
    """A rule name turned into an identifier the wrong way (`restricted-ssh` is `INCOMING_SSH_DISABLED`)
    would be a key no rule ever has."""
    assert set(MANAGED_RULE_SEVERITY) - _managed_rule_identifiers() == set()


def test_the_table_is_sorted_and_read_only() -> None:
    assert list(MANAGED_RULE_SEVERITY) == sorted(MANAGED_RULE_SEVERITY)
    with pytest.raises(TypeError):
        MANAGED_RULE_SEVERITY["S3_BUCKET_PUBLIC_WRITE_PROHIBITED"] = Severity.LOW  # type: ignore[index]


def test_every_severity_but_informational_occurs() -> None:
    """Security Hub rates no control INFORMATIONAL; the other four all occur."""
    assert set(MANAGED_RULE_SEVERITY.values()) == {
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
    }


@pytest.mark.parametrize(
    ("identifier", "severity"),
    [
        ("S3_BUCKET_PUBLIC_WRITE_PROHIBITED", Severity.CRITICAL),  # S3.3
        ("S3_BUCKET_PUBLIC_READ_PROHIBITED", Severity.CRITICAL),  # S3.2
        ("S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", Severity.MEDIUM),  # S3.1
        ("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", Severity.CRITICAL),  # RDS.2
        ("IAM_ROOT_ACCESS_KEY_CHECK", Severity.CRITICAL),  # IAM.4
        ("ROOT_ACCOUNT_MFA_ENABLED", Severity.CRITICAL),  # IAM.9
        ("ENCRYPTED_VOLUMES", Severity.MEDIUM),  # EC2.3
        ("API_GW_XRAY_ENABLED", Severity.LOW),  # APIGateway.3
        # not the rule names upper-cased: restricted-ssh, restricted-common-ports, cloudtrail-enabled
        ("INCOMING_SSH_DISABLED", Severity.HIGH),  # EC2.13
        ("RESTRICTED_INCOMING_TRAFFIC", Severity.HIGH),  # EC2.14
        ("CLOUD_TRAIL_ENABLED", Severity.HIGH),  # CloudTrail.3
        # seven password-policy controls MEDIUM, IAM.16 and IAM.17 LOW: the highest is kept
        ("IAM_PASSWORD_POLICY", Severity.MEDIUM),
        # CRITICAL in the 2023 documents, HIGH in the 2026 listing: the current severity is kept
        ("CLOUDFRONT_DEFAULT_ROOT_OBJECT_CONFIGURED", Severity.HIGH),  # CloudFront.1
        # S3.4, retired since 2023: the rule keeps the 2023 severity
        ("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", Severity.MEDIUM),
    ],
)
def test_severities_as_the_source_gives_them(identifier: str, severity: Severity) -> None:
    assert MANAGED_RULE_SEVERITY[identifier] is severity


def test_rules_security_hub_wrote_itself_are_not_in_the_table() -> None:
    """SQS.1 and RDS.23 use rules Security Hub developed, not managed rules of those names."""
    assert "SQS_QUEUE_ENCRYPTED" not in MANAGED_RULE_SEVERITY
    assert "RDS_NO_DEFAULT_PORTS" not in MANAGED_RULE_SEVERITY


def test_every_rule_the_simulated_organization_deploys_is_rated_or_deliberately_not() -> None:
    deployed = {spec.identifier for spec in _CATALOGUE}
    unrated = {identifier for identifier in deployed if identifier not in MANAGED_RULE_SEVERITY}
    assert unrated == set(DELIBERATELY_UNRATED)


# --- the Severity vocabulary -------------------------------------------------------------------------


def test_the_column_values_are_the_contracts() -> None:
    assert [s.value for s in Severity] == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNRATED"]


def test_rank_orders_most_severe_first() -> None:
    assert sorted([Severity.UNRATED, Severity.LOW, Severity.CRITICAL], key=lambda s: s.rank) == [
        Severity.CRITICAL,
        Severity.LOW,
        Severity.UNRATED,
    ]
    assert [s.rank for s in Severity] == list(range(6))


# --- severity_of ---------------------------------------------------------------------------------------


def test_a_managed_rule_has_its_tables_severity_under_any_name() -> None:
    for name in ("s3-bucket-public-write-prohibited", "securityhub-s3-bucket-public-write-prohibited"):
        assert severity_of("S3_BUCKET_PUBLIC_WRITE_PROHIBITED", name, ()) is Severity.CRITICAL


@pytest.mark.parametrize(
    "identifier",
    [
        None,
        "",
        "arn:aws:lambda:eu-west-1:123456789012:function:tag-checker",  # a custom Lambda rule
        "SOME_MANAGED_RULE_AWS_ADDS_NEXT_YEAR",
    ],
)
def test_an_unmapped_rule_is_unrated_never_low(identifier: str | None) -> None:
    assert severity_of(identifier, "tag-checker", ()) is Severity.UNRATED


def test_an_override_wins_over_the_table() -> None:
    overrides = [("s3-bucket-public-write-prohibited", Severity.LOW)]
    rated = severity_of("S3_BUCKET_PUBLIC_WRITE_PROHIBITED", "s3-bucket-public-write-prohibited", overrides)
    assert rated is Severity.LOW


def test_overrides_are_globs_on_the_normalized_name_and_the_first_match_wins() -> None:
    overrides = [
        ("acme-*-public-*", Severity.CRITICAL),
        ("acme-*", Severity.MEDIUM),
        ("acme-tag?-check", Severity.LOW),
    ]
    assert severity_of(None, "acme-bucket-public-access", overrides) is Severity.CRITICAL
    assert severity_of(None, "acme-tags-check", overrides) is Severity.MEDIUM  # the first match
    assert severity_of(None, "other-tags-check", overrides) is Severity.UNRATED


def test_overrides_are_case_sensitive_and_match_the_whole_name() -> None:
    overrides = [("acme-*", Severity.HIGH), ("*-check", Severity.LOW)]
    assert severity_of(None, "ACME-TAGS", overrides) is Severity.UNRATED
    assert severity_of(None, "tags-check-v2", overrides) is Severity.UNRATED
    assert severity_of(None, "tags-check", overrides) is Severity.LOW


def test_a_managed_rule_no_override_matches_keeps_its_tables_severity() -> None:
    overrides = [("acme-*", Severity.LOW)]
    assert severity_of("INCOMING_SSH_DISABLED", "restricted-ssh", overrides) is Severity.HIGH
