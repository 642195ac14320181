"""Scanning: every account (concurrently, bounded) and every region in it, into `AccountScan` values.

Workers return values and never touch shared state; the coordinator owns the results. A failure in
one account or region becomes a `Coverage` row with its reason and never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config_report.aws import (
    Identity,
    assume_role_session,
    describe_error,
    in_partition,
    is_access_denied,
    role_arn,
)
from config_report.model import (
    ALL_REGIONS,
    Account,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    Finding,
    RuleResult,
)

# GetComplianceDetailsByConfigRule accepts at most 100 results per page.
_DETAIL_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """What every worker needs to know, shared read-only."""

    hub: Identity
    sts: Any  # the hub's STS client; boto3 clients are thread-safe, sessions are not
    spoke_role_name: str
    session_name: str
    external_id: str | None
    regions: tuple[str, ...]
    config: Config
    home_region: str


@dataclass(frozen=True, slots=True)
class _RegionResult:
    rules: tuple[RuleResult, ...]
    findings: tuple[Finding, ...]
    coverage: Coverage


ProgressCallback = Callable[[AccountScan, int, int], None]


def scan_organization(
    accounts: Sequence[Account],
    plan: ScanPlan,
    *,
    concurrency: int,
    on_account_done: ProgressCallback | None = None,
) -> tuple[AccountScan, ...]:
    """Scan all accounts with at most `concurrency` at once; results come back in account order."""
    results: dict[str, AccountScan] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scan") as pool:
        futures: dict[Future[AccountScan], Account] = {
            pool.submit(scan_account, account, plan): account for account in accounts
        }
        for future in as_completed(futures):
            account = futures[future]
            results[account.id] = _result_or_error(future, account, plan)
            if on_account_done is not None:
                on_account_done(results[account.id], len(results), len(accounts))
    return tuple(results[a.id] for a in accounts)


def _result_or_error(future: Future[AccountScan], account: Account, plan: ScanPlan) -> AccountScan:
    # scan_account turns AWS failures into coverage itself; this catches the unexpected (a bug, a
    # malformed answer) so that one account's surprise still leaves a visible row, not a crash.
    try:
        return future.result()
    except Exception as exc:
        return _failed(account, plan.regions, CoverageStatus.ERROR, describe_error(exc))


def scan_account(account: Account, plan: ScanPlan) -> AccountScan:
    """Assume the spoke role in `account` and scan each region; failures become coverage rows."""
    arn = role_arn(plan.hub, account.id, plan.spoke_role_name)
    try:
        session = assume_role_session(
            plan.sts,
            arn,
            session_name=plan.session_name,
            region=plan.home_region,
            external_id=plan.external_id,
        )
        regions = plan.regions or enabled_regions(session, plan.config, plan.hub.partition)
    except (ClientError, BotoCoreError) as exc:
        status = CoverageStatus.ACCESS_DENIED if is_access_denied(exc) else CoverageStatus.ERROR
        return _failed(account, plan.regions, status, describe_error(exc))

    rules: list[RuleResult] = []
    findings: list[Finding] = []
    coverage: list[Coverage] = []
    for region in regions:
        result = scan_region(
            session.client("config", region_name=region, config=plan.config), account, region
        )
        rules.extend(result.rules)
        findings.extend(result.findings)
        coverage.append(result.coverage)
    return AccountScan(
        account=account, rules=tuple(rules), findings=tuple(findings), coverage=tuple(coverage)
    )


def enabled_regions(session: Any, config: Config, partition: str) -> tuple[str, ...]:
    """The regions enabled in the account (opt-in regions only when opted in), in the hub's partition."""
    ec2 = session.client("ec2", config=config)
    answer = ec2.describe_regions(AllRegions=False)
    return tuple(
        sorted(r["RegionName"] for r in answer["Regions"] if in_partition(r["RegionName"], partition))
    )


def _failed(account: Account, regions: Sequence[str], status: CoverageStatus, detail: str) -> AccountScan:
    rows = tuple(Coverage(account.id, region, status, detail) for region in (regions or (ALL_REGIONS,)))
    return AccountScan(account=account, coverage=rows)


def scan_region(config_client: Any, account: Account, region: str) -> _RegionResult:
    """Read one region: recorder, rules, compliance, and every non-compliant evaluation."""
    try:
        if not config_client.describe_configuration_recorders()["ConfigurationRecorders"]:
            return _RegionResult(
                (),
                (),
                Coverage(account.id, region, CoverageStatus.CONFIG_NOT_ENABLED, "no configuration recorder"),
            )
        rule_names = list(_rule_names(config_client))
        compliance = _rule_compliance(config_client)
        rules: list[RuleResult] = []
        findings: list[Finding] = []
        for name in rule_names:
            state = compliance.get(name, Compliance.INSUFFICIENT_DATA)
            failing = (
                tuple(_noncompliant(config_client, account.id, region, name))
                if state is Compliance.NON_COMPLIANT
                else ()
            )
            rules.append(RuleResult(account.id, region, name, state, len(failing)))
            findings.extend(failing)
    except (ClientError, BotoCoreError) as exc:
        status = CoverageStatus.ACCESS_DENIED if is_access_denied(exc) else CoverageStatus.ERROR
        return _RegionResult((), (), Coverage(account.id, region, status, describe_error(exc)))
    return _RegionResult(tuple(rules), tuple(findings), Coverage(account.id, region, CoverageStatus.OK))


def _rule_names(config_client: Any) -> Iterator[str]:
    for page in config_client.get_paginator("describe_config_rules").paginate():
        for rule in page["ConfigRules"]:
            yield rule["ConfigRuleName"]


def _rule_compliance(config_client: Any) -> dict[str, Compliance]:
    states: dict[str, Compliance] = {}
    for page in config_client.get_paginator("describe_compliance_by_config_rule").paginate():
        for item in page["ComplianceByConfigRules"]:
            kind = item.get("Compliance", {}).get("ComplianceType", Compliance.INSUFFICIENT_DATA.value)
            states[item["ConfigRuleName"]] = Compliance(kind)
    return states


def _noncompliant(config_client: Any, account_id: str, region: str, rule: str) -> Iterator[Finding]:
    # Every page is read: ComplianceContributorCount stops counting at 100, the detail pages do not.
    pages = config_client.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule,
        ComplianceTypes=[Compliance.NON_COMPLIANT.value],
        PaginationConfig={"PageSize": _DETAIL_PAGE_SIZE},
    )
    for page in pages:
        for result in page["EvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            yield Finding(
                account_id=account_id,
                region=region,
                rule_name=rule,
                resource_type=qualifier.get("ResourceType", ""),
                resource_id=qualifier.get("ResourceId", ""),
                annotation=result.get("Annotation", ""),
                last_evaluated=result.get("ResultRecordedTime"),
            )
