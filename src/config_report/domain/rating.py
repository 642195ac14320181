"""Rating a report: each rule's and each finding's severity, from the rule's managed identifier.

A finding takes its rule's severity. A rule is rated by `domain.severity.severity_of`: the user's
overrides (`CONFIG_REPORT_SEVERITY_OVERRIDES`, globs on the normalized rule name) first, then the
managed rule's severity from the Security Hub controls reference, else `UNRATED`. A rule whose source
was not read (the aggregator lists rules by name only, `aws.aggregator`) is taken for the managed rule
whose documented name it bears, as AWS deploys a managed rule unless told otherwise (Security Hub's
copies add their `securityhub-` prefix): a managed rule deployed under a name of its own is then
`UNRATED`, and a custom rule named exactly like a managed one is rated as that one. The previous run's
report is rated the same way before the two are compared, so a rule's severity is today's judgement in
both, whatever the earlier run's table said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from config_report.domain.model import AccountScan, Finding, Report, RuleResult
from config_report.domain.rules import managed_rule_name
from config_report.domain.severity import MANAGED_RULE_SEVERITY, Severity, severity_of
from config_report.domain.shelved import mapped

Overrides = Sequence[tuple[str, Severity]]

_MANAGED_BY_NAME = {managed_rule_name(identifier): identifier for identifier in MANAGED_RULE_SEVERITY}


def rated(report: Report, overrides: Overrides = ()) -> Report:
    """`report` with every rule, finding and carried finding rated."""
    by_control: dict[str, Severity] = {}
    scans = tuple(_rated_scan(scan, overrides, by_control) for scan in report.scans)
    carried = mapped(report.carried, lambda f: _rated_finding(f, {}, by_control, overrides))
    return replace(report, scans=scans, carried=carried)


def rated_scan(scan: AccountScan, overrides: Overrides = ()) -> AccountScan:
    """One account's rules and findings rated, as the scan hands it over.

    A run rates each account before its findings are put on the shelf, so they are not read back and
    written again to be rated: each finding's own rule, read in the same account, rates it.
    """
    return _rated_scan(scan, overrides, {})


def _rated_scan(scan: AccountScan, overrides: Overrides, by_control: dict[str, Severity]) -> AccountScan:
    by_rule: dict[tuple[str, str], Severity] = {}

    def rate(rule: RuleResult) -> RuleResult:
        # Each rule's severity noted as it is rated: its findings read it next, without reading it back.
        rated_rule = _rated_rule(rule, overrides)
        by_control.setdefault(rated_rule.normalized_name, rated_rule.severity)
        by_rule[rated_rule.region, rated_rule.rule_name] = rated_rule.severity
        return rated_rule

    rules = mapped(scan.rules, rate)
    findings = mapped(scan.findings, lambda f: _rated_finding(f, by_rule, by_control, overrides))
    return replace(scan, rules=rules, findings=findings)


def _rated_rule(rule: RuleResult, overrides: Overrides) -> RuleResult:
    severity = severity_of(_identifier(rule), rule.normalized_name, overrides)
    # Unchanged, the rule stays the same object: its chunk on the shelf is not written again.
    return rule if severity is rule.severity else replace(rule, severity=severity)


def _identifier(rule: RuleResult) -> str | None:
    if rule.info is None:
        return _MANAGED_BY_NAME.get(rule.normalized_name.removeprefix("securityhub-"))
    return rule.info.source_identifier if rule.info.source_owner == "AWS" else None


def _rated_finding(
    finding: Finding,
    by_rule: dict[tuple[str, str], Severity],
    by_control: dict[str, Severity],
    overrides: Overrides,
) -> Finding:
    # Its own rule first; a carried finding's rule may be gone, but its control is rated the same way.
    severity = by_rule.get((finding.region, finding.rule_name)) or by_control.get(finding.normalized_name)
    if severity is None:
        severity = severity_of(None, finding.normalized_name, overrides)
    return finding if severity is finding.severity else replace(finding, severity=severity)
