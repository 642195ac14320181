"""Conformance packs: which packs deployed the rules of one account × region, for the Rule catalogue.

Only a conformance pack creates rules with `CreatedBy` `config-conforms.amazonaws.com`, and every rule
it creates says so: a region without such a rule belongs to no pack and costs no call. A region with
some costs one `DescribeConformancePacks` call per 20 packs, then one
`DescribeConformancePackCompliance` call per pack (per 1,000 of its rules), never a call per rule.
A pack deleted between the two calls (`NoSuchConformancePackException`) took its rules with it.

Pack membership enriches the catalogue; it is not compliance data. When it cannot be read (an older
spoke role without the two actions, throttling that outlasts the retries) the region keeps its rules,
compliance and findings and stays `OK`, its Detail says what was not read, each pack rule's
`conformance_packs` is None (the catalogue says "not read"), and the run warns once per action and
error with the fix. It is no gap: the run's exit code does not change for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from config_report.aws.errors import AwsError, describe_error, error_code
from config_report.aws.region import RegionResult
from config_report.domain.model import Coverage
from config_report.domain.rules import CONFORMANCE_PACK
from config_report.logs import warn_once

# The largest Limit of each call (AWS Config API reference): the fewest pages.
_PACKS_PAGE_SIZE = 20
_PACK_RULES_PAGE_SIZE = 1000
_GONE = "NoSuchConformancePackException"
UNREAD_FIX = (
    "grant the spoke role config:DescribeConformancePacks and config:DescribeConformancePackCompliance "
    "(re-apply deploy/terraform's spoke-read-role); until then the Rule catalogue's Conformance Packs "
    "column says 'not read' for rules a conformance pack deployed"
)


def with_conformance_packs(config_client: Any, result: RegionResult) -> RegionResult:
    """`result` with each rule's conformance packs; on a failure, with a note and None for pack rules."""
    if not any(r.created_by == CONFORMANCE_PACK for r in result.rules):
        return result
    try:
        membership = read_membership(config_client)
    except AwsError as exc:
        _warn_once(exc)
        rules = tuple(
            replace(r, conformance_packs=None) if r.created_by == CONFORMANCE_PACK else r
            for r in result.rules
        )
        return replace(result, rules=rules, coverage=_noted(result.coverage, exc))
    rules = tuple(replace(r, conformance_packs=membership.get(r.rule_name, ())) for r in result.rules)
    return replace(result, rules=rules)


def read_membership(config_client: Any) -> dict[str, tuple[str, ...]]:
    """Deployed rule name → the names of the packs that hold it (sorted), for one account × region."""
    packs_of: dict[str, set[str]] = defaultdict(set)
    pages = config_client.get_paginator("describe_conformance_packs").paginate(
        PaginationConfig={"PageSize": _PACKS_PAGE_SIZE}
    )
    for page in pages:
        for pack in page.get("ConformancePackDetails", []):
            name = pack["ConformancePackName"]
            for rule in _pack_rules(config_client, name):
                packs_of[rule].add(name)
    return {rule: tuple(sorted(names)) for rule, names in packs_of.items()}


def _pack_rules(config_client: Any, pack: str) -> Iterator[str]:
    pages = config_client.get_paginator("describe_conformance_pack_compliance").paginate(
        ConformancePackName=pack, PaginationConfig={"PageSize": _PACK_RULES_PAGE_SIZE}
    )
    try:
        for page in pages:
            for item in page.get("ConformancePackRuleComplianceList", []):
                yield item["ConfigRuleName"]
    except AwsError as exc:
        if error_code(exc) != _GONE:
            raise


def _noted(coverage: Coverage, exc: BaseException) -> Coverage:
    return coverage.noted(
        f"conformance packs not read: {describe_error(exc)} (rules and findings are reported)"
    )


def _warn_once(exc: Exception) -> None:
    """One warning per action and error code: every region of every account would say the same."""
    action = getattr(exc, "operation_name", "") or "DescribeConformancePacks"
    code = error_code(exc) or type(exc).__name__
    warn_once(
        "conformance_packs.unread",
        key=(action, code),
        action=f"config:{action}",
        reason=describe_error(exc),
        fix=UNREAD_FIX,
    )
