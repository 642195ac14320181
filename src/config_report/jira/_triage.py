"""What a triager acts on first: the new critical and high findings, and who owns the new findings.

"New" is `Changes.new`: failing now where the previous run (or the run that created the ticket) read
the same place and it did not fail. A finding a live exception accepts is left out, as in the headline.
The same findings choose a new ticket's priority (CONFIG_REPORT_JIRA_PRIORITY_BY_SEVERITY) and the
components of their owners (CONFIG_REPORT_JIRA_OWNER_COMPONENTS).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from config_report.domain.figures import OU, OWNER, groups_of, owner_group
from config_report.domain.model import Changes, Finding, Resource
from config_report.domain.severity import Severity

URGENT = frozenset({Severity.CRITICAL, Severity.HIGH})
"""The severities the ticket leads with."""

# A ticket lists this many new critical and high findings, and this many owners and OUs, then the rest
# in one line: enough to act on, well inside Jira's 32,767-character field.
MAX_URGENT_LISTED = 15
MAX_GROUPS_LISTED = 5


def new_findings(changes: Changes | None) -> tuple[Finding, ...]:
    """The new findings no live exception accepts; none without a usable comparison."""
    if changes is None or not changes.baseline.usable:
        return ()
    return tuple(f for f in changes.new if f.accepted is None)


def urgent(findings: Iterable[Finding], names: Mapping[str, str]) -> list[Finding]:
    """The critical and high ones, most severe first, then by account name, region, rule and resource."""
    return sorted(
        (f for f in findings if f.severity in URGENT),
        key=lambda f: (
            f.severity.rank,
            names.get(f.account_id, ""),
            f.account_id,
            f.region,
            f.normalized_name,
            f.resource_id,
        ),
    )


def urgent_line(finding: Finding, names: Mapping[str, str]) -> str:
    """One new critical or high finding: severity, rule, where, which resource, and who owns it."""
    return (
        f"{finding.severity.value} {finding.normalized_name}: {names.get(finding.account_id, '')} "
        f"({finding.account_id}), {finding.region}, {finding.resource_type} {finding.resource_id}, "
        f"owner {owner_group(finding)}"
    )


def group_lines(findings: Sequence[Finding], ou_of: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """By owner and by OU: the resources with new findings, and how many of them are critical or high;
    the groups with most first (the first five, then the others on one line)."""
    every, worst = groups_of(findings, ou_of), groups_of(urgent(findings, {}), ou_of)
    return (
        _ranked(every[OWNER], worst[OWNER], "owners"),
        _ranked(every[OU], worst[OU], "OUs"),
    )


def _ranked(every: Mapping[str, set[Resource]], worst: Mapping[str, set[Resource]], plural: str) -> list[str]:
    ordered = sorted(every, key=lambda name: (-len(every[name]), -len(worst.get(name, ())), name))
    lines = [_group_line(name, len(every[name]), len(worst.get(name, ()))) for name in ordered]
    rest = ordered[MAX_GROUPS_LISTED:]
    if not rest:
        return lines
    others = [len(every[name]) for name in rest], [len(worst.get(name, ())) for name in rest]
    label = f"other {len(rest):,} {plural}"
    return [*lines[:MAX_GROUPS_LISTED], _group_line(label, sum(others[0]), sum(others[1]))]


def _group_line(name: str, resources: int, urgent_resources: int) -> str:
    noun = "resource" if resources == 1 else "resources"
    return (
        f"{name or '(no OU)'}: {resources:,} {noun} with new findings ({urgent_resources:,} critical or high)"
    )


def priority_for(findings: Iterable[Finding], by_severity: Mapping[str, str]) -> str | None:
    """The priority of the worst severity among `findings` in `by_severity` (severity name → priority);
    a severity without an entry takes the next milder one's. None when no entry applies."""
    present = {f.severity for f in findings}
    if not present or not by_severity:
        return None
    worst = min(present, key=lambda s: s.rank)
    for severity in Severity:
        if severity.rank >= worst.rank and severity.value in by_severity:
            return by_severity[severity.value]
    return None


def owner_components(findings: Iterable[Finding], components: Mapping[str, str]) -> tuple[str, ...]:
    """The components (owner → component) of the owners of the critical and high findings, each once."""
    found = dict.fromkeys(
        components[owner_group(f)] for f in findings if f.severity in URGENT and owner_group(f) in components
    )
    return tuple(found)
