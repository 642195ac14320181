"""`verify`'s judgement: the accounts and the aggregator agree only when they report the same thing."""

from __future__ import annotations

from config_report.domain.agreement import DifferenceKind, compare_sources
from config_report.domain.model import AccountScan, Compliance, Coverage, CoverageStatus, RuleResult
from factories import PROD, finding

REGION = "eu-west-1"


def scan(
    *rules: tuple[str, Compliance],
    failing: tuple[tuple[str, str], ...] = (),
    status: CoverageStatus = CoverageStatus.OK,
    detail: str = "",
    unread: tuple[str, ...] = (),
) -> tuple[AccountScan, ...]:
    """One account read in one region: its rules, failing (rule, resource) pairs, and coverage."""
    results = tuple(
        RuleResult(
            PROD.id,
            REGION,
            name,
            compliance,
            read_status=CoverageStatus.ACCESS_DENIED if name in unread else CoverageStatus.OK,
            read_detail="denied" if name in unread else "",
        )
        for name, compliance in rules
    )
    findings = tuple(finding(PROD, rule, resource) for rule, resource in failing)
    coverage = (Coverage(PROD.id, REGION, status, detail),)
    return (AccountScan(PROD, rules=results, findings=findings, coverage=coverage),)


FAILING = ("restricted-ssh", Compliance.NON_COMPLIANT)
PASSING = ("s3-bucket-versioning-enabled", Compliance.COMPLIANT)


def test_the_same_rules_and_failing_evaluations_agree_and_say_how_much_was_compared() -> None:
    same = scan(FAILING, PASSING, failing=(("restricted-ssh", "sg-1"), ("restricted-ssh", "sg-2")))

    agreement = compare_sources(same, same)

    assert agreement.agree
    assert (agreement.places_compared, agreement.rules_compared, agreement.evaluations_compared) == (1, 2, 2)


def test_a_failing_evaluation_only_the_accounts_report_is_missing_from_the_aggregator() -> None:
    accounts = scan(FAILING, failing=(("restricted-ssh", "sg-1"), ("restricted-ssh", "sg-2")))
    aggregator = scan(FAILING, failing=(("restricted-ssh", "sg-1"),))

    (difference,) = compare_sources(accounts, aggregator).differences

    assert difference.kind is DifferenceKind.MISSING
    assert (difference.rule_name, difference.resource) == ("restricted-ssh", "AWS::S3::Bucket sg-2")
    assert difference.line().startswith(f"missing from the aggregator: {PROD.id} {REGION} restricted-ssh")


def test_a_lagging_aggregator_shows_as_a_different_compliance_and_an_evaluation_only_it_reports() -> None:
    accounts = scan(("restricted-ssh", Compliance.COMPLIANT))
    aggregator = scan(FAILING, failing=(("restricted-ssh", "sg-1"),))

    kinds = [d.kind for d in compare_sources(accounts, aggregator).differences]

    assert kinds == [DifferenceKind.COMPLIANCE, DifferenceKind.EXTRA]


def test_a_place_the_aggregator_could_not_read_is_a_difference_naming_its_reason() -> None:
    aggregator = scan(status=CoverageStatus.ERROR, detail="the source's last update FAILED: AccessDenied")

    (difference,) = compare_sources(
        scan(FAILING, failing=(("restricted-ssh", "sg-1"),)), aggregator
    ).differences

    assert difference.kind is DifferenceKind.NOT_READ
    assert "FAILED: AccessDenied" in difference.aggregator_says


def test_a_rule_one_side_could_not_read_is_named_and_its_evaluations_are_not_called_missing() -> None:
    accounts = scan(FAILING, failing=(("restricted-ssh", "sg-1"),))
    aggregator = scan(FAILING, unread=("restricted-ssh",))

    (difference,) = compare_sources(accounts, aggregator).differences

    assert (difference.kind, difference.rule_name) == (DifferenceKind.NOT_READ, "restricted-ssh")


def test_rules_where_the_other_side_reports_a_state_of_the_account_disagree_on_coverage() -> None:
    accounts = scan(status=CoverageStatus.CONFIG_NOT_RECORDING)
    aggregator = scan(FAILING, failing=(("restricted-ssh", "sg-1"),))

    (difference,) = compare_sources(accounts, aggregator).differences

    assert difference.kind is DifferenceKind.COVERAGE
    assert difference.accounts_say.startswith("CONFIG_NOT_RECORDING")


def test_what_the_aggregator_cannot_know_is_no_difference() -> None:
    # No results (INSUFFICIENT_DATA) is not listed by the aggregator; OUTDATED names no recorder state.
    accounts = scan(PASSING, ("lambda-concurrency-check", Compliance.INSUFFICIENT_DATA))
    stopped = scan(status=CoverageStatus.CONFIG_RECORDER_FAILING)
    outdated = scan(status=CoverageStatus.CONFIG_NOT_RECORDING)

    assert compare_sources(accounts, scan(PASSING)).agree
    assert compare_sources(stopped, outdated).agree


def test_a_region_only_one_source_lists_agrees_when_the_other_has_nothing_there() -> None:
    not_enabled = scan(status=CoverageStatus.REGION_NOT_ENABLED)

    assert compare_sources(not_enabled, ()).agree
    assert not compare_sources(scan(PASSING), ()).agree
