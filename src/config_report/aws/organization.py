"""Discovery: the organization's ACTIVE accounts with their names and OU, filtered by settings.

The tree is walked from the root (ListRoots → ListOrganizationalUnitsForParent → ListAccountsForParent),
which costs one call per OU (and page) rather than one ListParents call per account. The OUs are listed
concurrently, a few calls at a time: each unit's child units are asked for as soon as that unit is
known, so a level of hundreds of OUs costs a few round trips, not hundreds. Organizations is one
global endpoint whose rate is shared by everything that calls it in the management account (its
quota page documents throttling as TooManyRequestsException, not a per-action rate): a few readers,
and botocore retries what is throttled (CONFIG_REPORT_MAX_ATTEMPTS).
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from config_report.aws.errors import AwsError, describe_error, is_access_denied, translated
from config_report.aws.session import Hub, assume_role_session
from config_report.domain.model import Account
from config_report.domain.scope import AccountFilter
from config_report.errors import DiscoveryError
from config_report.settings import ScanConfig


def organizations_client(hub: Hub, scan: ScanConfig) -> Any:
    """Organizations as the org role when one is set (CONFIG_REPORT_ORG_ROLE_ARN), else as the hub."""
    if not scan.org_role_arn:
        return hub.session.client("organizations", config=hub.config)
    try:
        session = assume_role_session(
            hub.sts,
            scan.org_role_arn,
            session_name=scan.session_name,
            region=hub.region,
            fallback_sts=hub.fallback_sts,
        )
    except AwsError as exc:
        raise translated(
            exc,
            what="assuming CONFIG_REPORT_ORG_ROLE_ARN",
            otherwise=DiscoveryError(
                f"cannot assume CONFIG_REPORT_ORG_ROLE_ARN {scan.org_role_arn} ({describe_error(exc)}); "
                f"check that role's trust policy allows {hub.identity.arn}"
            ),
        ) from exc
    return session.client("organizations", config=hub.config)


# Organizations calls in flight at once while walking the tree (the same few as the account tag reads).
DISCOVERY_READERS = 8


@dataclass(frozen=True, slots=True)
class _Unit:
    """A root or OU: its ID, and the names and IDs of the path from the root down to it."""

    id: str
    names: tuple[str, ...]
    ids: tuple[str, ...]

    @property
    def label(self) -> str:
        return "/".join(self.names) or "Root"


def list_active_accounts(
    organizations: Any, account_filter: AccountFilter, *, readers: int = DISCOVERY_READERS
) -> list[Account]:
    """Every ACTIVE account in scope, sorted by ID; raises `DiscoveryError` when listing fails.

    At most `readers` Organizations calls are in flight at once.
    """
    try:
        roots = [_Unit(root["Id"], (), (root["Id"],)) for root in organizations.list_roots()["Roots"]]
        accounts = _walk(organizations, roots, readers=max(1, readers))
    except AwsError as exc:
        # Denied needs a fix; anything else (throttling, 5xx) outlasted the retries and may pass.
        fix = (
            "check CONFIG_REPORT_ORG_ROLE_ARN and that role's organizations:List* permissions"
            if is_access_denied(exc)
            else "AWS Organizations kept failing through CONFIG_REPORT_MAX_ATTEMPTS attempts; nothing "
            "was published and the Job's next attempt starts over"
        )
        raise DiscoveryError(
            f"cannot list the organization's accounts ({describe_error(exc)}); {fix}"
        ) from exc
    return sorted((a for a in accounts if account_filter.admits(a)), key=lambda a: a.id)


def _walk(organizations: Any, roots: list[_Unit], *, readers: int) -> list[Account]:
    """Every account under `roots`: each unit's accounts and child units listed by the pool's workers,
    which return them; only this thread submits and collects (the first failure raises here)."""
    pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="discovery")
    try:
        accounts: list[Future[list[Account]]] = []
        units: set[Future[list[_Unit]]] = set()

        def visit(unit: _Unit) -> None:
            units.add(pool.submit(_child_units, organizations, unit))
            accounts.append(pool.submit(_accounts_in, organizations, unit))

        for root in roots:
            visit(root)
        while units:
            done, _ = wait(units, return_when=FIRST_COMPLETED)
            for future in done:
                units.discard(future)
                for child in future.result():
                    visit(child)
        return [account for future in accounts for account in future.result()]
    finally:
        # On a failure, what is still queued is not worth asking for.
        pool.shutdown(wait=True, cancel_futures=True)


def _accounts_in(organizations: Any, unit: _Unit) -> list[Account]:
    found = []
    for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=unit.id):
        for raw in page["Accounts"]:
            # `State` replaces the deprecated `Status`; accept whichever the API returns.
            if (raw.get("State") or raw.get("Status")) == "ACTIVE":
                found.append(
                    Account(
                        id=raw["Id"],
                        name=raw.get("Name", ""),
                        ou=unit.label,
                        ou_ids=unit.ids,
                        email=raw.get("Email", ""),
                    )
                )
    return found


def _child_units(organizations: Any, unit: _Unit) -> list[_Unit]:
    pages = organizations.get_paginator("list_organizational_units_for_parent").paginate(ParentId=unit.id)
    return [
        _Unit(ou["Id"], (*unit.names, ou["Name"]), (*unit.ids, ou["Id"]))
        for page in pages
        for ou in page["OrganizationalUnits"]
    ]
