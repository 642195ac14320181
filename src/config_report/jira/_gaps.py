"""Coverage gaps grouped by cause, each with the step that fixes it, for the ticket.

Forty accounts whose spoke role is missing give forty AWS messages that differ only in the account
IDs inside their ARNs. A triager needs one line for them: the status, AWS's message with the account
IDs taken out, how many places it hit, which accounts (the first ten), and what to do.

The fix for each gap status is worded here for a triager, apart from the Coverage sheet's per-status
words (`domain.coverage_words`): a denial's fix depends on which call was denied, which only the grouped
cause tells. ERROR's and INTERRUPTED's could be the sheet's; they are not yet.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from config_report.domain.model import CoverageStatus, Report, first_named

# An account ID on its own or inside an ARN (arn:aws:iam::123456789012:role/x), a request ID.
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
_REQUEST_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
ACCOUNT_PLACEHOLDER = "<account>"

# What to do about each gap status; a denial depends on which call was denied.
_ASSUME_ROLE_FIX = (
    "the spoke role is missing in these accounts or does not trust the hub role: deploy it (the spoke "
    "module or StackSet in deploy/terraform) under the name in CONFIG_REPORT_SPOKE_ROLE_NAME, then run "
    "config-report check"
)
_TAG_SESSION_FIX = (
    "the spoke role's trust policy does not allow sts:TagSession, which sessions from EKS Pod Identity "
    "need: redeploy the spoke role from deploy/terraform, then run config-report check"
)
_POLICY_FIX = (
    "the spoke role's policy does not allow this call: redeploy the spoke role from deploy/terraform (its "
    "policy grants every call the report makes), then run config-report check"
)
_AGGREGATOR_FIX = (
    "the aggregator read role (CONFIG_REPORT_AGGREGATOR_ROLE_ARN) does not trust the hub role or does not "
    "allow this call: redeploy it from deploy/terraform's aggregator-read-role, then run config-report check"
)
_FIXES: Mapping[CoverageStatus, str] = {
    CoverageStatus.ERROR: (
        "AWS answered with an error, not a denial: a throttle, timeout or outage usually clears by the next "
        "run; if it repeats, the message says what to fix"
    ),
    CoverageStatus.INTERRUPTED: (
        "the run was stopped (SIGTERM) before these were read: give the Job more time (the chart's "
        "activeDeadlineSeconds) or share the run between pods (config.shardCount)"
    ),
}


@dataclass(frozen=True, slots=True)
class GapGroup:
    """Places (account-regions, or rules that alone could not be read) that failed for one cause."""

    status: CoverageStatus
    cause: str  # AWS's message with the account and request IDs taken out
    places: int
    accounts: tuple[str, ...]  # "name (ID)", each once, in report order
    rules: tuple[str, ...] = ()  # for rules that alone could not be read: their normalized names

    @property
    def fix(self) -> str:
        """The step that closes this gap, in words."""
        return fix_for(self.status, self.cause)

    def named_accounts(self) -> str:
        """The first ten accounts, then how many more."""
        return ", ".join(first_named(self.accounts))

    def named_rules(self) -> str:
        """The first ten rules, then how many more ('' for account-regions)."""
        return ", ".join(first_named(self.rules))


def fix_for(status: CoverageStatus, cause: str) -> str:
    """What to do about a gap with `status` whose AWS message is `cause`."""
    if status is CoverageStatus.ACCESS_DENIED:
        # Through the aggregator (CONFIG_REPORT_SOURCE=aggregator) every denied call or role names it:
        # the Config *Aggregate* APIs, CONFIG_REPORT_AGGREGATOR_ROLE_ARN, "aggregator <name>".
        if "aggregat" in cause.lower():
            return _AGGREGATOR_FIX
        if "sts:TagSession" in cause:
            return _TAG_SESSION_FIX
        return _ASSUME_ROLE_FIX if "AssumeRole" in cause else _POLICY_FIX
    return _FIXES.get(status, "")


def normalized_cause(detail: str) -> str:
    """AWS's message without what differs from account to account (account IDs, request IDs)."""
    return _REQUEST_ID.sub("<request>", _ACCOUNT_ID.sub(ACCOUNT_PLACEHOLDER, detail)).strip()


def region_gaps(report: Report) -> tuple[GapGroup, ...]:
    """The account-regions that could not be read, grouped by status and cause, largest group first."""
    return _grouped(
        report, ((c.account_id, c.status, c.detail, "") for c in report.coverage() if c.status.is_gap)
    )


def rule_gaps(report: Report) -> tuple[GapGroup, ...]:
    """The rules that alone could not be read (their regions were), grouped like `region_gaps`."""
    return _grouped(
        report,
        ((r.account_id, r.read_status, r.read_detail, r.normalized_name) for r in report.rules() if r.unread),
    )


def _grouped(report: Report, gaps: Iterable[tuple[str, CoverageStatus, str, str]]) -> tuple[GapGroup, ...]:
    places: dict[tuple[CoverageStatus, str], int] = defaultdict(int)
    # Ordered sets: accounts and rules in report order.
    accounts: dict[tuple[CoverageStatus, str], dict[str, None]] = defaultdict(dict)
    rules: dict[tuple[CoverageStatus, str], dict[str, None]] = defaultdict(dict)
    for account_id, status, detail, rule in gaps:
        key = (status, normalized_cause(detail))
        places[key] += 1
        accounts[key][account_id] = None
        if rule:
            rules[key][rule] = None
    names = report.account_names()
    groups = [
        GapGroup(
            status,
            cause,
            places[(status, cause)],
            tuple(f"{names.get(a, '')} ({a})" for a in ids),
            tuple(rules[(status, cause)]),
        )
        for (status, cause), ids in accounts.items()
    ]
    return tuple(sorted(groups, key=lambda g: (-g.places, g.status.value, g.cause)))
