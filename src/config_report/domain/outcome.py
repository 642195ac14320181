"""How a run ends: the outcome (the exit code contract) and whether this deployment fails the Job on it.

The exit codes never change meaning (0 complete, 3 coverage incomplete, 4 Jira failed, 1 failed, 2 bad
configuration). `CONFIG_REPORT_FAIL_ON` only chooses which published-but-imperfect outcomes make the
process exit non-zero: a tolerated one exits 0, and `run.done` still names the outcome (at `warning`
or `error`), so log-based alerting sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from config_report.domain.model import Report
from config_report.errors import ExitCode
from config_report.settings import FAIL_ON_GAPS, FAIL_ON_JIRA, OutcomePolicy


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened (`outcome`), and what the process exits with (`exit_code`)."""

    outcome: ExitCode
    exit_code: ExitCode
    gap_accounts: int

    @property
    def tolerated(self) -> bool:
        """True when the outcome was not clean but this deployment chose not to fail the Job on it."""
        return self.outcome is not ExitCode.OK and self.exit_code is ExitCode.OK

    @property
    def log_level(self) -> str:
        """`info` when complete, `warning` for coverage gaps, `error` when Jira failed."""
        return {ExitCode.OK: "info", ExitCode.INCOMPLETE: "warning"}.get(self.outcome, "error")


def judge_outcome(report: Report, *, jira_ok: bool, policy: OutcomePolicy) -> Outcome:
    """The run's outcome and exit code.

    A failed ticket outranks a coverage gap: both reports are published, but nobody was told.
    Gaps fail the Job when `gaps` is in `policy.fail_on` and more than `policy.gap_tolerance`
    accounts have one.
    """
    # An account has a gap when one of its regions, or one rule alone, could not be read.
    gap_accounts = sum(1 for scan in report.scans if not scan.status.complete)
    if not jira_ok:
        outcome = ExitCode.JIRA_FAILED
        fails = FAIL_ON_JIRA in policy.fail_on
    elif gap_accounts:
        outcome = ExitCode.INCOMPLETE
        fails = FAIL_ON_GAPS in policy.fail_on and gap_accounts > policy.gap_tolerance
    else:
        outcome, fails = ExitCode.OK, False
    return Outcome(outcome=outcome, exit_code=outcome if fails else ExitCode.OK, gap_accounts=gap_accounts)
