"""Scanning: a bounded work queue over (account, region) units, so no worker idles while work remains.

Each account is opened once (one AssumeRole; its credentials refresh by assuming the role again) and
its regions become units that any free worker takes, at most `per_account` of one account at a time
so that no account's own API quotas are hammered. Workers return values and never touch shared
state; the coordinator (the calling thread) owns the queue and assembles the results in account
order. A failure in one account or region becomes a `Coverage` row with its reason and never stops
the others.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.config import Config

from config_report.aws.errors import AwsError, describe_error, failure_status
from config_report.aws.packs import with_conformance_packs
from config_report.aws.region import ReadOptions, RegionResult, scan_region
from config_report.aws.session import (
    Hub,
    RenewableCredentials,
    ServiceModels,
    assumed_role_credentials,
    in_partition,
    role_arn,
)
from config_report.aws.tags import owned_findings
from config_report.domain.model import (
    ALL_REGIONS,
    Account,
    AccountScan,
    Coverage,
    CoverageStatus,
)
from config_report.domain.owners import with_global_owners
from config_report.domain.rules import RuleFilter
from config_report.settings import ScanConfig


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """What every worker needs to know, shared read-only: the hub and the scan's settings.

    `scan.account_concurrency` bounds the regions of one account read at once: Config's quotas are
    per account and region, and every unit reads its region one call at a time, so this bounds one
    account's share of the workers (and its STS and EC2 calls) without slowing an organization of
    many accounts.
    """

    hub: Hub
    scan: ScanConfig
    models: ServiceModels = field(default_factory=ServiceModels)

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions to scan in every account; empty: those enabled in each."""
        return self.scan.regions

    @property
    def reading(self) -> ReadOptions:
        """How each region is read: the rule filters and when a rule counts as stale."""
        rules = RuleFilter(include=self.scan.rules, exclude=self.scan.exclude_rules)
        return ReadOptions(rule_filter=rules, stale_margin=self.scan.stale_margin)


@dataclass(frozen=True, slots=True)
class SpokeAccount:
    """An account whose spoke role is assumed: its regions and a way to make its clients."""

    account: Account
    regions: tuple[str, ...]
    session: Any  # botocore session with the account's refreshable credentials
    config: Config
    owner_tag_keys: tuple[str, ...]
    credentials: RenewableCredentials  # the session's; they say how the role was reached
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, region: str) -> Any:
        """A client in `region`; the session is shared by the account's units, so creation is locked."""
        with self.lock:
            return self.session.create_client(service, region_name=region, config=self.config)


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """How far the scan is, after each account × region read (or account that could not be opened).

    Counted in accounts, whose number is known from discovery and never changes while the scan runs.
    Account-regions cannot be the measure of a scan whose regions come from ec2:DescribeRegions: an
    account's regions are learned only when it is opened, and accounts are opened a few at a time all
    through the scan (assuming every role up front would hold every session for the whole run), so
    their total is a guess until the last account is opened. An opened account counts as the share of
    its regions read, so the measure moves with every region and never goes back.
    """

    accounts: int  # in scope
    accounts_read: float  # accounts finished, plus the share of each open account's regions read
    units_done: int  # account-regions read (or failed)
    units_expected: int  # account-regions in all: exact when `units_exact`, else an estimate
    units_exact: bool  # the regions are configured, or every account has been opened


AccountCallback = Callable[[AccountScan, int, int], AccountScan]
"""Called with each account's scan as it finishes (and how many of how many are done); returns the scan
to keep, e.g. with its findings moved to disk."""
ProgressCallback = Callable[[ScanProgress], None]


def scan_organization(
    accounts: Sequence[Account],
    plan: ScanPlan,
    *,
    on_account_done: AccountCallback | None = None,
    on_unit_done: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> tuple[AccountScan, ...]:
    """Scan all accounts' regions with at most `scan.concurrency` units at once; results in account order.

    Once `stop` is set no unit is started: those in flight finish, every other account × region is
    reported `INTERRUPTED`.
    """
    services = ("config",) if plan.regions else ("config", "ec2")
    plan.models.warm(services, region=plan.hub.region, config=plan.hub.config)
    coordinator = _Coordinator(accounts, plan, plan.scan.account_concurrency, on_account_done, on_unit_done)
    concurrency = plan.scan.concurrency
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scan") as pool:
        coordinator.run(pool, concurrency, stop or threading.Event())
    coordinator.interrupt_the_rest()
    return coordinator.results()


# The Detail of a coverage row that was never read because the run was stopped.
INTERRUPTED_DETAIL = "the run was stopped (SIGTERM) before this was read"


@dataclass(frozen=True, slots=True)
class _Open:
    """Task: assume the account's role and learn its regions."""

    index: int


@dataclass(frozen=True, slots=True)
class _Unit:
    """Task: read one region of an opened account."""

    index: int
    region: str


@dataclass
class _AccountState:
    # Owned by the coordinator thread only; workers see the frozen SpokeAccount.
    spoke: SpokeAccount
    waiting: deque[str]
    running: int = 0
    done: dict[str, RegionResult] = field(default_factory=dict)


class _Coordinator:
    """Owns the queue and every result; hands workers one task at a time."""

    def __init__(
        self,
        accounts: Sequence[Account],
        plan: ScanPlan,
        per_account: int,
        on_account_done: AccountCallback | None,
        on_unit_done: ProgressCallback | None,
    ) -> None:
        self._accounts = accounts
        self._plan = plan
        self._per_account = per_account
        self._on_account_done = on_account_done
        self._on_unit_done = on_unit_done
        self._next_to_open = 0
        self._open: dict[int, _AccountState] = {}  # insertion order = account order
        self._finished: dict[int, AccountScan] = {}
        self._units_known = 0  # units of accounts opened (or failed) so far
        self._units_done = 0

    def run(self, pool: ThreadPoolExecutor, slots: int, stop: threading.Event) -> None:
        """Keep `slots` tasks in flight until every account is finished, or `stop` is set."""
        running: dict[Future[Any], _Open | _Unit] = {}
        while True:
            while len(running) < slots and not stop.is_set() and (task := self._next_task()) is not None:
                running[self._submit(pool, task)] = task
            if not running:
                return
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                task = running.pop(future)
                if isinstance(task, _Open):
                    self._opened(task, future)
                else:
                    self._unit_finished(task, future)

    def interrupt_the_rest(self) -> None:
        """Report every unit not started as `INTERRUPTED` (nothing, when the scan ran to its end)."""
        for index, state in list(self._open.items()):
            while state.waiting:
                region = state.waiting.popleft()
                coverage = Coverage(
                    state.spoke.account.id, region, CoverageStatus.INTERRUPTED, INTERRUPTED_DETAIL
                )
                state.done[region] = RegionResult((), (), coverage)
            self._account_finished(index)
        while self._next_to_open < len(self._accounts):
            self._account_failed(self._next_to_open, CoverageStatus.INTERRUPTED, INTERRUPTED_DETAIL)
            self._next_to_open += 1

    def results(self) -> tuple[AccountScan, ...]:
        """Every account's scan, in the order the accounts were given."""
        return tuple(self._finished[i] for i in range(len(self._accounts)))

    def _next_task(self) -> _Open | _Unit | None:
        # Units of accounts already open come first (oldest account first, so accounts finish and
        # are released early); a new account is opened only when no such unit may start.
        for index, state in self._open.items():
            if state.waiting and state.running < self._per_account:
                state.running += 1
                return _Unit(index, state.waiting.popleft())
        if self._next_to_open < len(self._accounts):
            self._next_to_open += 1
            return _Open(self._next_to_open - 1)
        return None

    def _submit(self, pool: ThreadPoolExecutor, task: _Open | _Unit) -> Future[Any]:
        if isinstance(task, _Open):
            return pool.submit(open_account, self._accounts[task.index], self._plan)
        spoke = self._open[task.index].spoke
        return pool.submit(_scan_unit, spoke, task.region, self._plan.reading)

    def _opened(self, task: _Open, future: Future[SpokeAccount]) -> None:
        try:
            spoke = future.result()
        except AwsError as exc:
            self._account_failed(task.index, failure_status(exc), describe_error(exc))
            return
        except Exception as exc:  # a bug or a malformed answer still leaves a visible row
            self._account_failed(task.index, CoverageStatus.ERROR, describe_error(exc))
            return
        self._units_known += len(spoke.regions)
        self._open[task.index] = _AccountState(spoke=spoke, waiting=deque(spoke.regions))
        if not spoke.regions:
            self._account_finished(task.index)

    def _unit_finished(self, task: _Unit, future: Future[RegionResult]) -> None:
        state = self._open[task.index]
        try:
            result = future.result()
        except Exception as exc:  # scan_region turns AWS errors into coverage; this is the unexpected
            account_id = state.spoke.account.id
            coverage = Coverage(account_id, task.region, CoverageStatus.ERROR, describe_error(exc))
            result = RegionResult((), (), coverage)
        state.running -= 1
        state.done[task.region] = result
        self._units_done += 1
        self._progress()
        if not state.waiting and state.running == 0:
            self._account_finished(task.index)

    def _account_failed(self, index: int, status: CoverageStatus, detail: str) -> None:
        scan = _failed(self._accounts[index], self._plan.regions, status, detail)
        self._units_known += len(scan.coverage)
        self._units_done += len(scan.coverage)
        self._finished[index] = scan  # already counted as read by the progress it reports
        self._progress()
        self._record(index, scan)

    def _account_finished(self, index: int) -> None:
        state = self._open.pop(index)
        # Region results are dropped here: the account's findings are held once, in its AccountScan.
        results = [state.done[region] for region in state.spoke.regions]
        # Read at the end: a refresh during the scan may have had to go around the hub's region too.
        detour = state.spoke.credentials.sts_detour
        scan = AccountScan(
            account=state.spoke.account,
            rules=tuple(rule for r in results for rule in r.rules),
            # A global resource's owner is read in the one region that records it: shared with the rest.
            findings=with_global_owners([finding for r in results for finding in r.findings]),
            coverage=tuple(r.coverage.noted(detour) if detour else r.coverage for r in results),
            skipped=tuple(rule for r in results for rule in r.skipped),
        )
        self._record(index, scan)

    def _record(self, index: int, scan: AccountScan) -> None:
        self._finished[index] = scan
        if self._on_account_done is not None:
            self._finished[index] = self._on_account_done(scan, len(self._finished), len(self._accounts))

    def _progress(self) -> None:
        if self._on_unit_done is None:
            return
        unopened = len(self._accounts) - len(self._finished) - len(self._open)
        opened = len(self._finished) + len(self._open)
        # Until every account's regions are known, the others are assumed to have as many as the average
        # (the `scan.progress` event's total, as it always was); accounts are the measure that holds.
        per_account = len(self._plan.regions) or (self._units_known / opened if opened else 1)
        reading = sum(len(s.done) / len(s.spoke.regions) for s in self._open.values() if s.spoke.regions)
        self._on_unit_done(
            ScanProgress(
                accounts=len(self._accounts),
                accounts_read=len(self._finished) + reading,
                units_done=self._units_done,
                units_expected=self._units_known + round(unopened * per_account),
                units_exact=bool(self._plan.regions) or unopened == 0,
            )
        )


def open_account(account: Account, plan: ScanPlan) -> SpokeAccount:
    """Assume the spoke role in `account` (once) and learn the regions to scan; raises if that fails."""
    hub, scan = plan.hub, plan.scan
    credentials = assumed_role_credentials(
        hub.sts,
        role_arn(hub.identity, account.id, scan.spoke_role_name),
        session_name=scan.session_name,
        external_id=scan.external_id,
        fallback_sts=hub.fallback_sts,
    )
    session = plan.models.session(credentials)
    regions = plan.regions or enabled_regions(
        session.create_client("ec2", region_name=hub.region, config=hub.config), hub.identity.partition
    )
    return SpokeAccount(
        account=account,
        regions=regions,
        session=session,
        config=hub.config,
        owner_tag_keys=scan.owner_tag_keys,
        credentials=credentials,
    )


def _scan_unit(spoke: SpokeAccount, region: str, reading: ReadOptions) -> RegionResult:
    client = spoke.client("config", region)
    # Conformance packs only enrich the catalogue: a refusal is noted, and the region stays read.
    result = with_conformance_packs(client, scan_region(client, spoke.account, region, reading))
    # Owners last: the findings are already safe. A refusal marks their owners unread and makes the
    # region a gap (exit 3), its rules and findings kept.
    owned = owned_findings(client, result.findings, spoke.owner_tag_keys)
    if owned.error is None:
        return replace(result, findings=owned.findings)
    detail = f"{describe_error(owned.error)} (owners not read; rules and findings are reported)"
    # Noted before what the region already says (rules unread, packs unread): no reason is lost.
    coverage = result.coverage.noted(detail, failure_status(owned.error))
    return replace(result, findings=owned.findings, coverage=coverage)


def enabled_regions(ec2: Any, partition: str) -> tuple[str, ...]:
    """The regions enabled in the account (opt-in regions only when opted in), in the hub's partition."""
    answer = ec2.describe_regions(AllRegions=False)
    return tuple(
        sorted(r["RegionName"] for r in answer["Regions"] if in_partition(r["RegionName"], partition))
    )


def _failed(account: Account, regions: Sequence[str], status: CoverageStatus, detail: str) -> AccountScan:
    rows = tuple(Coverage(account.id, region, status, detail) for region in (regions or (ALL_REGIONS,)))
    return AccountScan(account=account, coverage=rows)
