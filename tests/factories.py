"""Small, realistic `Report`s built straight from the model, for tests of the stages that read one.

The sample organization has a production account whose ID starts with a zero, a sandbox with a region
where AWS Config is off, and an account whose spoke role could not be assumed. Its AWS strings include
the hostile ones a spreadsheet must keep as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from config_report.domain.figures import finished
from config_report.domain.model import (
    ALL_REGIONS,
    Acceptance,
    Account,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    Finding,
    Report,
    RuleResult,
    RunInfo,
)
from config_report.domain.rules import normalize_rule_name

# Strings a spreadsheet would turn into formulas or numbers if it were careless.
HOSTILE_STRINGS = (
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@SUM(A1)",
    "0123",
    "=1+1",
    "ünïcödé ✓ 日本語 🚀",
)

STARTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EVALUATED = datetime(2026, 11, 22, 17, 45, 12, tzinfo=UTC)

PROD = Account(
    id="012345678901",
    name="Prod Payments",
    ou="Workloads/Prod",
    ou_ids=("ou-ab12-workload", "ou-ab12-prod"),
    email="aws-prod-payments@example.com",
)
SANDBOX = Account(id="210987654321", name="Sandbox ✓ 日本", ou="Sandbox", ou_ids=("ou-ab12-sandbox",))
DENIED = Account(id="000000000042", name="Legacy", ou="Suspended-soon", email="legacy@example.com")


def run_info() -> RunInfo:
    """The header of a Monday-morning run over two regions."""
    return RunInfo(
        run_id="20261123T090000Z-3f9c2a",
        started_at=STARTED,
        finished_at=STARTED + timedelta(minutes=7, seconds=31),
        identity="arn:aws:sts::999999999999:assumed-role/config-report-hub/botocore-session-1",
        regions=("eu-west-1", "us-east-1"),
        settings={"spoke_role_name": "system-config-report-generator-read-role", "concurrency": 8},
    )


def finding(
    account: Account,
    rule: str,
    resource_id: str,
    *,
    region: str = "eu-west-1",
    resource_type: str = "AWS::S3::Bucket",
    annotation: str = "",
    last_evaluated: datetime | None = EVALUATED,
    accepted: Acceptance | None = None,
) -> Finding:
    """One non-compliant evaluation with sensible defaults, its rule's name normalized as a scan would."""
    return Finding(
        account_id=account.id,
        region=region,
        rule_name=rule,
        normalized_name=normalize_rule_name(rule),
        resource_type=resource_type,
        resource_id=resource_id,
        annotation=annotation,
        last_evaluated=last_evaluated,
        accepted=accepted,
    )


def prod_scan(extra_findings: Sequence[Finding] = ()) -> AccountScan:
    """The production account: both regions read, two non-compliant rules carrying hostile strings.

    `extra_findings` are appended to the public-bucket rule, and its count follows them.
    """
    bucket_rule = "s3-bucket-public-read-prohibited"
    findings = (
        finding(PROD, bucket_rule, HOSTILE_STRINGS[1], annotation=HOSTILE_STRINGS[0]),
        finding(PROD, bucket_rule, HOSTILE_STRINGS[4], annotation=HOSTILE_STRINGS[5]),
        *extra_findings,
        finding(
            PROD,
            "restricted-ssh",
            HOSTILE_STRINGS[2],
            region="us-east-1",
            resource_type="AWS::EC2::SecurityGroup",
            annotation=HOSTILE_STRINGS[3],
            last_evaluated=None,
        ),
    )
    return AccountScan(
        account=PROD,
        rules=(
            RuleResult(PROD.id, "eu-west-1", bucket_rule, Compliance.NON_COMPLIANT, 2 + len(extra_findings)),
            RuleResult(PROD.id, "eu-west-1", "encrypted-volumes", Compliance.COMPLIANT),
            RuleResult(PROD.id, "us-east-1", "restricted-ssh", Compliance.NON_COMPLIANT, 1),
            RuleResult(PROD.id, "us-east-1", "iam-root-access-key-check", Compliance.INSUFFICIENT_DATA),
        ),
        findings=findings,
        coverage=(
            Coverage(PROD.id, "eu-west-1", CoverageStatus.OK),
            Coverage(PROD.id, "us-east-1", CoverageStatus.OK),
        ),
    )


def sandbox_scan() -> AccountScan:
    """A sandbox read in one region, with AWS Config switched off in the other."""
    evaluated_in_paris = datetime(2026, 11, 22, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    return AccountScan(
        account=SANDBOX,
        rules=(
            RuleResult(SANDBOX.id, "eu-west-1", "restricted-ssh", Compliance.NON_COMPLIANT, 1),
            RuleResult(SANDBOX.id, "eu-west-1", "encrypted-volumes", Compliance.NOT_APPLICABLE),
        ),
        findings=(
            finding(
                SANDBOX,
                "restricted-ssh",
                "sg-0a1b2c3d4e5f",
                resource_type="AWS::EC2::SecurityGroup",
                annotation=HOSTILE_STRINGS[6],
                last_evaluated=evaluated_in_paris,
            ),
        ),
        coverage=(
            Coverage(SANDBOX.id, "eu-west-1", CoverageStatus.OK),
            Coverage(SANDBOX.id, "us-east-1", CoverageStatus.CONFIG_NOT_ENABLED, "no configuration recorder"),
        ),
    )


def denied_scan() -> AccountScan:
    """An account whose spoke role could not be assumed: one coverage row, nothing else."""
    detail = (
        "AccessDenied: not authorized to perform sts:AssumeRole on system-config-report-generator-read-role"
    )
    return AccountScan(
        account=DENIED,
        coverage=(Coverage(DENIED.id, ALL_REGIONS, CoverageStatus.ACCESS_DENIED, detail),),
    )


def sample_report(extra_findings: Sequence[Finding] = ()) -> Report:
    """Three accounts: production, sandbox and denied, in that order."""
    return finished(Report(run=run_info(), scans=(prod_scan(extra_findings), sandbox_scan(), denied_scan())))
