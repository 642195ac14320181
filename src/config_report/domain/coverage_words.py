"""What each coverage status means for the report, and what fixes it: the words every output uses.

The Coverage sheet's `Detail` leads with these words; AWS's own message (or what the read found: a
recorder stopped since when, the rules that could not be read) follows them and has its own column,
`AWS Message`, so that a reader sees "opt-in region not enabled" before "The security token included in
the request is invalid". The words are about the status alone, never about one account, so a ticket
can group the places that share a cause under one fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from config_report.domain.model import CoverageStatus


@dataclass(frozen=True, slots=True)
class StatusWords:
    """One coverage status in words: what it means for the report, the fix ('' when none is due), and
    `note`, the meaning in a few words beside the status's count on the Summary."""

    meaning: str
    fix: str = ""
    note: str = ""

    def detail(self, found: str = "") -> str:
        """The Coverage sheet's `Detail` cell: the meaning, the fix, then what this place's read found
        (AWS's message, also in `AWS Message`): DESIGN.md has the error in `Detail`, after the words
        that say what it means."""
        words = f"{self.meaning} Fix: {self.fix}." if self.fix else self.meaning
        return f"{words} Found: {found}" if found else words


_RESULTS_STALE = "its rules' results are stale, so they are not reported"

_WORDS = {
    CoverageStatus.OK: StatusWords(
        "Read: AWS Config records in this region and its results are in the report (a rule that alone "
        "could not be read is named in AWS Message and on the Rules sheet)."
    ),
    CoverageStatus.CONFIG_NOT_ENABLED: StatusWords(
        "AWS Config has no configuration recorder in this region: no rule checks its resources.",
        "enable AWS Config here (a configuration recorder and a delivery channel), e.g. by deploying the "
        "organization's Config StackSet to this account and region; nothing to do in a region the "
        "organization does not use (the Summary lists those)",
        note="no recorder: resources there are not checked",
    ),
    CoverageStatus.CONFIG_NOT_RECORDING: StatusWords(
        f"AWS Config's recorder in this region is stopped: changes are not recorded and {_RESULTS_STALE}.",
        "start the recorder (Config console, Settings; or aws configservice start-configuration-recorder) "
        "and find who stopped it (CloudTrail: StopConfigurationRecorder)",
        note="recorder stopped: results stale, not reported",
    ),
    CoverageStatus.CONFIG_RECORDER_FAILING: StatusWords(
        f"AWS Config's recorder in this region is on, but its last recording failed: {_RESULTS_STALE}.",
        "correct the cause in AWS Message (often the recorder's IAM role, or the delivery channel's S3 "
        "bucket or KMS key policy), then check that the recorder's last status is SUCCESS",
        note="last recording failed: results stale, not reported",
    ),
    CoverageStatus.REGION_NOT_ENABLED: StatusWords(
        "An opt-in region this account has not enabled: AWS refuses the account's credentials there, "
        "and the region holds none of its resources.",
        "none if the account does not use the region (leave it out of CONFIG_REPORT_REGIONS to stop "
        "scanning it); to use it, enable it in the account's AWS Regions settings and deploy AWS Config",
        note="opt-in region the account has not enabled",
    ),
    CoverageStatus.DENIED_BY_SCP: StatusWords(
        "A service control policy of the organization denies AWS Config in this region for this account: "
        "nothing is recorded or checked there.",
        "none if the region is denied on purpose; otherwise change the SCP in AWS Organizations (AWS "
        "Message names the denied call)",
        note="an SCP denies AWS Config there",
    ),
    CoverageStatus.ACCESS_DENIED: StatusWords(
        "The report's access was refused (the role it reads through could not be assumed, or it lacks a "
        "permission): what AWS Message names is missing from the report.",
        # Both sources' roles: the spokes' (CONFIG_REPORT_SOURCE=spokes) or the aggregator's.
        "deploy or update the role AWS Message names so that it trusts the hub role and allows the action "
        "named: the spoke read role in this account (docs/deploy.md, step 1), or with "
        "CONFIG_REPORT_SOURCE=aggregator the aggregator read role; config-report check proves each role",
    ),
    CoverageStatus.ERROR: StatusWords(
        "Reading failed with an error that is not a denial (an AWS fault, throttling past the retries, the "
        "network, an answer this version does not understand, or through the aggregator a source that "
        "failed, is stale or is not aggregated): that part is missing from the report.",
        "see AWS Message; a passing fault clears on the next run; if it repeats, run config-report check "
        "and read the run's log for this account and region",
    ),
    CoverageStatus.INTERRUPTED: StatusWords(
        "The run was stopped (SIGTERM: the Job's deadline, a node drain or an eviction) before this was "
        "read: it is missing from the report.",
        "run the Job again; if its deadline stopped it, raise cronJob.activeDeadlineSeconds or share the "
        "run between pods (CONFIG_REPORT_SHARD_COUNT)",
    ),
}


def status_words(status: CoverageStatus) -> StatusWords:
    """What `status` means for the report and what fixes it (one source for the workbook and ticket)."""
    return _WORDS[status]
