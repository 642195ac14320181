"""The comparison with the previous run, as a pure function of two reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from config_report.domain.changes import compare, figure_change, finding_key
from config_report.domain.figures import finished
from config_report.domain.model import (
    AccountScan,
    Baseline,
    Coverage,
    CoverageStatus,
    Finding,
    FindingStatus,
    Report,
)
from config_report.domain.severity import Severity
from factories import PROD, SANDBOX, finding, prod_scan, run_info, sample_report

LAST_WEEK = date(2026, 11, 16)
TODAY = date(2026, 11, 23)
BASELINE = Baseline(source="s3://bucket/last-week.snapshot.json.gz", run_id="last-week")


def last_week(report: Report) -> Report:
    run = replace(
        report.run, run_id="20261116T090000Z-aaaaaa", started_at=report.run.started_at - timedelta(days=7)
    )
    return replace(report, run=run)


def statuses(report: Report) -> dict[str, tuple[FindingStatus | None, date | None]]:
    return {f.resource_id: (f.status, f.first_seen) for f in report.findings()}


def test_without_a_baseline_every_finding_is_first_seen_today_with_no_status() -> None:
    judged = compare(sample_report(), None, Baseline(problem="first run"))

    assert set(statuses(judged).values()) == {(None, TODAY)}
    assert judged.changes is not None
    assert judged.changes.baseline.problem == "first run"
    assert (judged.changes.new, judged.changes.resolved) == ((), ())


def test_new_persisting_and_resolved_with_first_seen_dates_carried_forward() -> None:
    gone = finding(PROD, "s3-bucket-public-read-prohibited", "fixed-bucket")
    old = replace(
        finding(PROD, "s3-bucket-public-read-prohibited", "old-bucket"), first_seen=date(2026, 9, 1)
    )
    previous = last_week(sample_report(extra_findings=[gone, old]))
    fresh = finding(PROD, "s3-bucket-public-read-prohibited", "fresh-bucket")

    judged = compare(sample_report(extra_findings=[old, fresh]), previous, BASELINE)

    seen = statuses(judged)
    assert seen["fresh-bucket"] == (FindingStatus.NEW, TODAY)
    assert seen["old-bucket"] == (FindingStatus.PERSISTING, date(2026, 9, 1))
    assert seen["+1"] == (FindingStatus.PERSISTING, LAST_WEEK)  # a snapshot without first-seen dates
    changes = judged.changes
    assert changes is not None
    assert [f.resource_id for f in changes.new] == ["fresh-bucket"]
    assert [(f.resource_id, f.status, f.first_seen) for f in changes.resolved] == [
        ("fixed-bucket", FindingStatus.RESOLVED, LAST_WEEK)
    ]
    assert changes.persisting == len(seen) - 1


def test_a_rule_redeployed_under_a_new_generated_suffix_is_the_same_control() -> None:
    # Snapshots written before findings carried normalized names are normalized as they are read
    # (tests/store/test_snapshot.py): here both runs know them.
    before = replace(
        finding(PROD, "OrgConfigRule-restricted-ssh-ab12cd", "sg-1"), normalized_name="restricted-ssh"
    )
    after = replace(before, rule_name="OrgConfigRule-restricted-ssh-zz98yy")
    previous = last_week(sample_report(extra_findings=[before]))

    judged = compare(sample_report(extra_findings=[after]), previous, BASELINE)

    assert finding_key(before) == finding_key(after)
    assert statuses(judged)["sg-1"] == (FindingStatus.PERSISTING, LAST_WEEK)
    assert judged.changes is not None
    assert judged.changes.resolved == ()


def test_a_region_not_read_in_either_run_is_never_new_or_resolved_and_keeps_first_seen() -> None:
    previous = last_week(sample_report())
    denied = replace(
        prod_scan(),
        findings=(),
        coverage=tuple(replace(c, status=CoverageStatus.ACCESS_DENIED) for c in prod_scan().coverage),
    )
    now = replace(sample_report(), scans=(denied, *sample_report().scans[1:]))

    judged = compare(now, previous, BASELINE)

    changes = judged.changes
    assert changes is not None
    assert changes.resolved == ()
    assert (changes.resolved_resources, changes.resources_change, changes.evaluations_change) == (0, 0, 0)
    # Last week's production findings are named as not compared, not counted as resolved.
    assert {f.account_id for f in changes.not_read_now} == {PROD.id}
    assert len(changes.not_read_now) == len(prod_scan().findings)
    assert {f.account_id for f in judged.carried} == {PROD.id}
    assert {f.first_seen for f in judged.carried} == {LAST_WEEK}
    # The week after, production is read again: not compared, but first seen last week.
    readable_again = compare(
        replace(
            sample_report(), run=replace(run_info(), started_at=run_info().started_at + timedelta(days=7))
        ),
        judged,
        BASELINE,
    )
    again = [f for f in readable_again.findings() if f.account_id == PROD.id]
    assert {(f.status, f.first_seen) for f in again} == {(None, LAST_WEEK)}
    assert readable_again.changes is not None
    assert readable_again.changes.new == ()
    assert readable_again.changes.not_comparable == len(again)


def test_accounts_that_joined_or_left_are_named_and_their_findings_not_counted() -> None:
    previous = last_week(sample_report())
    newcomer_scan = AccountScan(
        account=replace(SANDBOX, id="333333333333", name="Newcomer"),
        findings=(Finding("333333333333", "eu-west-1", "restricted-ssh", "AWS::EC2::SecurityGroup", "sg-9"),),
        coverage=(Coverage("333333333333", "eu-west-1", CoverageStatus.OK),),
    )
    now = replace(sample_report(), scans=(sample_report().scans[0], newcomer_scan))

    judged = compare(now, previous, BASELINE)

    changes = judged.changes
    assert changes is not None
    assert [a.name for a in changes.joined] == ["Newcomer"]
    assert [a.id for a in changes.left] == [SANDBOX.id, "000000000042"]
    assert changes.new == ()
    assert changes.resolved == ()
    assert statuses(judged)["sg-9"] == (None, TODAY)
    assert judged.carried == ()


def test_a_rule_that_alone_could_not_be_read_is_never_resolved_and_keeps_first_seen() -> None:
    # This week restricted-ssh could not be read in production (deleted mid-scan, denied, throttled):
    # its region was read, but last week's finding of that rule is not known to be fixed.
    previous = last_week(sample_report())
    unread_rule = "restricted-ssh"
    scan = prod_scan()
    unreadable = replace(
        scan,
        rules=tuple(
            replace(r, read_status=CoverageStatus.ERROR, read_detail="NoSuchConfigRuleException")
            if r.rule_name == unread_rule
            else r
            for r in scan.rules
        ),
        findings=tuple(f for f in scan.findings if f.rule_name != unread_rule),
    )
    now = replace(sample_report(), scans=(unreadable, *sample_report().scans[1:]))

    judged = compare(now, previous, BASELINE)

    assert judged.changes is not None
    assert [f.rule_name for f in judged.changes.resolved] == []
    assert [(f.rule_name, f.first_seen) for f in judged.carried] == [(unread_rule, LAST_WEEK)]
    # The other rules of the same region are still compared.
    assert {f.status for f in judged.findings() if f.account_id == PROD.id} == {FindingStatus.PERSISTING}


def test_a_new_failing_rule_on_an_already_failing_resource_is_a_new_evaluation_not_a_new_resource() -> None:
    previous = last_week(sample_report())
    again = finding(PROD, "s3-bucket-versioning-enabled", "+1")  # "+1" already fails public read

    changes = compare(sample_report(extra_findings=[again]), previous, BASELINE).changes

    assert changes is not None
    assert [f.resource_id for f in changes.new] == ["+1"]
    assert (changes.new_resources, changes.resolved_resources) == (0, 0)
    assert (changes.resources_change, changes.evaluations_change) == (0, 1)


def test_each_ranking_group_changes_like_the_headline_over_places_both_runs_read() -> None:
    fixed = finding(PROD, "s3-bucket-public-read-prohibited", "fixed-bucket")
    previous = last_week(sample_report(extra_findings=[fixed]))
    fresh = finding(PROD, "s3-bucket-versioning-enabled", "fresh-bucket")

    judged = compare(sample_report(extra_findings=[fresh]), previous, BASELINE)

    assert judged.changes is not None
    groups = judged.changes.group_changes
    assert groups[("rule", "s3-bucket-public-read-prohibited")] == -1
    assert groups[("rule", "s3-bucket-versioning-enabled")] == 1
    assert groups[("account", PROD.id)] == 0
    assert groups[("ou", PROD.ou)] == 0
    assert groups[("account", SANDBOX.id)] == 0


def test_critical_and_high_changes_like_the_headline_over_places_both_runs_read() -> None:
    def critical(resource: str) -> Finding:
        rule = "s3-bucket-public-write-prohibited"
        return replace(finding(PROD, rule, resource), severity=Severity.CRITICAL)

    previous = last_week(sample_report(extra_findings=[critical("fixed-bucket"), critical("other-bucket")]))
    current = sample_report(
        extra_findings=[critical("other-bucket"), critical("fresh-1"), critical("fresh-2")]
    )

    baseline = replace(BASELINE, figures=previous.figures)

    judged = finished(compare(current, previous, baseline))

    assert judged.figures.critical_high_resources == 3
    assert figure_change(judged.figures, judged.changes, "critical_high_resources") == 1  # two new, one fixed
