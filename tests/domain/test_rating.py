"""Rating a report: rules by their managed identifier or the user's overrides, findings by their rule."""

from __future__ import annotations

from dataclasses import replace

from config_report.domain.model import Compliance, Report, RuleInfo, RuleResult
from config_report.domain.rating import rated, rated_scan
from config_report.domain.severity import Severity
from factories import PROD, finding, sample_report


def _with_identifiers(report: Report) -> Report:
    """The sample report as a scan reads it: each managed rule with its source identifier."""
    identifiers = {
        "s3-bucket-public-read-prohibited": "S3_BUCKET_PUBLIC_READ_PROHIBITED",
        "restricted-ssh": "INCOMING_SSH_DISABLED",
        "encrypted-volumes": "ENCRYPTED_VOLUMES",
    }

    def described(rule: RuleResult) -> RuleResult:
        identifier = identifiers.get(rule.normalized_name)
        return replace(rule, info=RuleInfo("AWS", identifier)) if identifier else rule

    scans = tuple(replace(s, rules=tuple(described(r) for r in s.rules)) for s in report.scans)
    return replace(report, scans=scans)


def _severities(report: Report) -> tuple[dict[str, Severity], dict[str, set[Severity]]]:
    rules = {r.rule_name: r.severity for s in report.scans for r in s.rules}
    findings: dict[str, set[Severity]] = {}
    for f in report.findings():
        findings.setdefault(f.rule_name, set()).add(f.severity)
    return rules, findings


def test_managed_rules_and_their_findings_take_the_tables_severity() -> None:
    rules, findings = _severities(rated(_with_identifiers(sample_report())))

    assert rules["s3-bucket-public-read-prohibited"] is Severity.CRITICAL
    assert rules["restricted-ssh"] is Severity.HIGH
    assert rules["encrypted-volumes"] is Severity.MEDIUM
    assert findings["s3-bucket-public-read-prohibited"] == {Severity.CRITICAL}
    assert findings["restricted-ssh"] == {Severity.HIGH}


def test_a_rule_without_a_managed_identifier_or_an_override_is_unrated() -> None:
    report = _with_identifiers(sample_report())
    lambda_arn = "arn:aws:lambda:eu-west-1:111111111111:function:root-keys"
    scans = tuple(
        replace(
            s, rules=tuple(replace(r, info=r.info or RuleInfo("CUSTOM_LAMBDA", lambda_arn)) for r in s.rules)
        )
        for s in report.scans
    )

    rules, _ = _severities(rated(replace(report, scans=scans)))

    # A custom rule is UNRATED, even one named like the managed IAM_ROOT_ACCESS_KEY_CHECK.
    assert rules["iam-root-access-key-check"] is Severity.UNRATED


def test_a_rule_read_without_its_source_is_rated_as_the_managed_rule_whose_name_it_bears() -> None:
    # Through the aggregator rules come by name only: no RuleInfo.
    report = sample_report()
    scan = report.scans[0]
    named = [
        RuleResult(PROD.id, "eu-west-1", name, Compliance.NON_COMPLIANT, 1, normalized_name=name)
        for name in ("securityhub-s3-bucket-public-write-prohibited", "acme-custom-tagging")
    ]
    report = replace(report, scans=(replace(scan, rules=(*scan.rules, *named)), *report.scans[1:]))

    rules, _ = _severities(rated(report))

    assert rules["iam-root-access-key-check"] is Severity.CRITICAL
    assert rules["securityhub-s3-bucket-public-write-prohibited"] is Severity.CRITICAL
    assert rules["restricted-ssh"] is Severity.HIGH  # INCOMING_SSH_DISABLED, documented under this name
    assert rules["acme-custom-tagging"] is Severity.UNRATED


def test_an_override_rates_a_custom_rule_and_its_findings() -> None:
    custom = finding(PROD, "acme-custom-tagging", "untagged-bucket")
    report = sample_report(extra_findings=[custom])
    scan = report.scans[0]
    rule = RuleResult(PROD.id, "eu-west-1", "acme-custom-tagging", Compliance.NON_COMPLIANT, 1)
    report = replace(report, scans=(replace(scan, rules=(*scan.rules, rule)), *report.scans[1:]))

    rules, findings = _severities(rated(report, [("acme-custom-*", Severity.LOW)]))

    assert rules["acme-custom-tagging"] is Severity.LOW
    assert findings["acme-custom-tagging"] == {Severity.LOW}


def test_a_carried_finding_is_rated_by_its_controls_severity_where_its_rule_was_not_read() -> None:
    report = _with_identifiers(sample_report())
    gone = finding(PROD, "s3-bucket-public-read-prohibited", "unread-bucket", region="ap-south-1")

    (carried,) = rated(replace(report, carried=(gone,))).carried

    assert carried.severity is Severity.CRITICAL


def test_rating_each_account_as_it_is_scanned_rates_as_the_whole_report_does() -> None:
    report = _with_identifiers(sample_report())
    overrides = [("iam-root-*", Severity.LOW)]

    one_by_one = replace(report, scans=tuple(rated_scan(s, overrides) for s in report.scans))

    assert _severities(one_by_one) == _severities(rated(report, overrides))
    assert _severities(one_by_one)[0]["iam-root-access-key-check"] is Severity.LOW
