"""The headline figures: non-compliant resources counted once, failing evaluations beside them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from config_report.domain.figures import figures_of, region_use
from config_report.domain.model import (
    Acceptance,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    Finding,
    Owner,
    OwnerSource,
    RankedItem,
    RegionUse,
    Report,
    RuleResult,
)
from config_report.domain.rules import normalize_rule_name
from config_report.domain.severity import Severity
from factories import PROD, SANDBOX, finding, run_info

REGIONS = ("eu-west-1", "us-east-1", "eu-central-1")


def report_of(findings: list[Finding]) -> Report:
    """PROD with `findings`, each region read, each rule's count as its details said."""
    counts: dict[tuple[str, str], int] = {}
    for f in findings:
        counts[f.region, f.rule_name] = counts.get((f.region, f.rule_name), 0) + 1
    rules = tuple(
        RuleResult(
            PROD.id, region, rule, Compliance.NON_COMPLIANT, n, normalized_name=normalize_rule_name(rule)
        )
        for (region, rule), n in counts.items()
    )
    coverage = tuple(Coverage(PROD.id, region, CoverageStatus.OK) for region in REGIONS)
    return Report(run=run_info(), scans=(AccountScan(PROD, rules, tuple(findings), coverage),))


def test_an_iam_user_failing_a_rule_in_every_region_is_one_resource_and_three_evaluations() -> None:
    user = [
        finding(PROD, "access-keys-rotated", "alice", region=r, resource_type="AWS::IAM::User")
        for r in REGIONS
    ]

    figures = figures_of(report_of(user))

    assert (figures.noncompliant_resources, figures.failing_evaluations) == (1, 3)
    assert [(item.name, item.count) for item in figures.worst_rules] == [("access-keys-rotated", 1)]
    assert figures.account_resources == {PROD.id: 1}


def test_the_account_itself_failing_in_every_region_is_one_resource() -> None:
    account = [
        finding(PROD, "ec2-ebs-encryption-by-default", PROD.id, region=r, resource_type="AWS::::Account")
        for r in REGIONS
    ]

    assert figures_of(report_of(account)).noncompliant_resources == 1


def test_buckets_of_the_same_name_in_two_regions_are_two_resources() -> None:
    buckets = [finding(PROD, "s3-bucket-versioning-enabled", "logs", region=r) for r in REGIONS[:2]]

    assert figures_of(report_of(buckets)).noncompliant_resources == 2


def test_a_bucket_failing_two_rules_counts_once_in_the_headline_and_once_under_each_rule() -> None:
    bucket = [
        finding(PROD, "s3-bucket-versioning-enabled", "logs"),
        finding(PROD, "s3-bucket-logging-enabled", "logs"),
        finding(PROD, "s3-bucket-versioning-enabled-conformance-pack-pci0a1b2c", "logs"),  # a pack's copy
    ]

    figures = figures_of(report_of(bucket))

    assert (figures.noncompliant_resources, figures.failing_evaluations) == (1, 3)
    assert {item.name: item.count for item in figures.worst_rules} == {
        "s3-bucket-versioning-enabled": 1,
        "s3-bucket-logging-enabled": 1,
    }


def test_a_resource_is_accepted_only_when_every_failing_evaluation_of_it_is() -> None:
    accepted = Acceptance("reviewed", "SEC-1", run_info().started_at.date())
    both = [
        replace(finding(PROD, "s3-bucket-versioning-enabled", "logs"), accepted=accepted),
        finding(PROD, "s3-bucket-logging-enabled", "logs"),
        replace(finding(PROD, "s3-bucket-logging-enabled", "archive"), accepted=accepted),
    ]

    figures = figures_of(report_of(both))

    assert (figures.noncompliant_resources, figures.accepted_resources) == (1, 1)
    assert figures.failing_evaluations == 1


OK, NONE, STOPPED, FAILING = (
    CoverageStatus.OK,
    CoverageStatus.CONFIG_NOT_ENABLED,
    CoverageStatus.CONFIG_NOT_RECORDING,
    CoverageStatus.CONFIG_RECORDER_FAILING,
)


def uses(rows: dict[str, list[CoverageStatus]]) -> dict[str, RegionUse]:
    """Region → how it is used, for accounts a1, a2, … with the given statuses in each region."""
    coverage = [
        Coverage(f"a{n}", region, status)
        for region, statuses in rows.items()
        for n, status in enumerate(statuses, 1)
    ]
    names = {f"a{n}": f"acct-{n}" for n in range(1, 40)}
    return {use.region: use for use in region_use(coverage, names)}


def test_a_region_no_account_records_is_not_used_by_the_organization() -> None:
    found = uses({"ap-southeast-2": [NONE, NONE, CoverageStatus.DENIED_BY_SCP], "eu-west-1": [OK, OK, OK]})

    assert found["ap-southeast-2"].unused
    assert found["ap-southeast-2"].broken == ()
    assert not found["eu-west-1"].unused


def test_where_most_accounts_record_config_missing_stopped_or_failing_is_a_broken_control_named() -> None:
    found = uses({"eu-west-1": [OK, OK, NONE, STOPPED, FAILING, OK, OK]})["eu-west-1"]

    assert (found.used, found.recording, found.open_to) == (True, 6, 7)
    assert found.broken == ("acct-3 (a3)", "acct-4 (a4)", "acct-5 (a5)")


def test_where_few_accounts_record_only_their_broken_recorders_are_named() -> None:
    found = uses({"sa-east-1": [STOPPED, NONE, NONE, OK, NONE]})["sa-east-1"]

    assert not found.used
    assert not found.unused
    assert found.broken == ("acct-1 (a1)",)


def test_closed_regions_and_unread_account_regions_do_not_count_either_way() -> None:
    closed = [CoverageStatus.REGION_NOT_ENABLED, CoverageStatus.DENIED_BY_SCP, CoverageStatus.ACCESS_DENIED]
    found = uses({"eu-south-2": [OK, NONE, *closed]})["eu-south-2"]

    assert (found.recording, found.open_to) == (1, 2)
    assert not found.used  # one of two is not most


def test_a_region_line_names_ten_accounts_then_says_how_many_more() -> None:
    found = uses({"us-east-1": [OK] * 9 + [NONE] * 12 + [OK] * 9})["us-east-1"]

    assert found.note() == "of 30; 12 missing, stopped or failing"
    assert found.named()[-1] == "and 2 more"
    assert len(found.named()) == 11


def test_owners_past_the_top_ten_are_one_other_row_and_the_table_sums_to_the_headline() -> None:
    owned = [
        replace(
            finding(PROD, "s3-bucket-versioning-enabled", f"bucket-{n}"),
            owner=Owner(f"team-{n:02d}", OwnerSource.RESOURCE_TAG),
        )
        for n in range(13)
    ]

    figures = figures_of(report_of(owned))

    assert len(figures.by_owner) == 10
    assert figures.by_owner_other is not None
    assert (figures.by_owner_other.name, figures.by_owner_other.noncompliant_resources) == (
        "other 3 owners",
        3,
    )
    assert figures.by_owner_other.accounts == 1, "one account holding three owners' resources counts once"
    total = (
        sum(g.noncompliant_resources for g in figures.by_owner)
        + figures.by_owner_other.noncompliant_resources
    )
    assert total == figures.noncompliant_resources


def test_rules_past_the_top_ten_are_one_other_row_counting_each_resource_once() -> None:
    # Eleven rules fail bucket "shared"; the twelfth rule fails it and bucket "own": 12 rules in all.
    failing = [finding(PROD, f"rule-{n:02d}", "shared") for n in range(12)] + [
        finding(PROD, "rule-11", "own")
    ]

    figures = figures_of(report_of(failing))

    assert [item.name for item in figures.worst_rules][:1] == ["rule-11"]
    assert figures.worst_rules_other == RankedItem("other 2 rules", 1, None)
    assert figures.worst_accounts_other is None


def rated_finding(rule: str, resource: str, severity: Severity, **kwargs: Any) -> Finding:
    return replace(finding(PROD, rule, resource, **kwargs), severity=severity)


def test_critical_and_high_counts_each_resource_failing_such_a_rule_once_and_leaves_accepted_out() -> None:
    accepted = Acceptance("legacy", "SEC-1", run_info().started_at.date())
    report = report_of(
        [
            rated_finding("s3-bucket-public-write-prohibited", "open-bucket", Severity.CRITICAL),
            rated_finding("s3-bucket-public-read-prohibited", "open-bucket", Severity.CRITICAL),
            rated_finding("s3-bucket-logging-enabled", "quiet-bucket", Severity.MEDIUM),
            rated_finding("restricted-ssh", "sg-1", Severity.HIGH, resource_type="AWS::EC2::SecurityGroup"),
            rated_finding("restricted-ssh", "sg-2", Severity.HIGH, accepted=accepted),
        ]
    )

    figures = figures_of(report)

    assert figures.noncompliant_resources == 3
    assert figures.critical_high_resources == 2  # open-bucket once, sg-1; sg-2 is accepted


def test_worst_rules_rank_by_severity_then_resources_and_say_their_severity() -> None:
    report = report_of(
        [
            *(rated_finding("encrypted-volumes", f"vol-{n}", Severity.MEDIUM) for n in range(5)),
            rated_finding("s3-bucket-public-write-prohibited", "open-bucket", Severity.CRITICAL),
            *(rated_finding("acme-custom", f"thing-{n}", Severity.UNRATED) for n in range(9)),
            *(rated_finding("restricted-ssh", f"sg-{n}", Severity.HIGH) for n in range(2)),
        ]
    )

    worst = figures_of(report).worst_rules

    assert [(r.name, r.count, r.severity) for r in worst] == [
        ("s3-bucket-public-write-prohibited", 1, Severity.CRITICAL),
        ("restricted-ssh", 2, Severity.HIGH),
        ("encrypted-volumes", 5, Severity.MEDIUM),
        ("acme-custom", 9, Severity.UNRATED),
    ]


def test_worst_accounts_rank_by_critical_and_high_resources_then_all_resources() -> None:
    sandbox_findings = tuple(
        replace(finding(SANDBOX, "encrypted-volumes", f"vol-{n}"), severity=Severity.MEDIUM) for n in range(4)
    )
    prod = report_of([rated_finding("s3-bucket-public-write-prohibited", "open-bucket", Severity.CRITICAL)])
    coverage = (Coverage(SANDBOX.id, "eu-west-1", CoverageStatus.OK),)
    sandbox = AccountScan(SANDBOX, (), sandbox_findings, coverage)
    report = replace(prod, scans=(*prod.scans, sandbox))

    worst = figures_of(report).worst_accounts

    assert [(r.name, r.count, r.critical_high) for r in worst] == [
        (f"{PROD.name} ({PROD.id})", 1, 1),
        (f"{SANDBOX.name} ({SANDBOX.id})", 4, 0),
    ]
