"""Discovery: the organization's ACTIVE accounts with their names and OU, filtered by settings.

The tree is walked from the root (ListRoots → ListOrganizationalUnitsForParent → ListAccountsForParent),
which costs one call per OU rather than one ListParents call per account.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def list_active_accounts(organizations: Any, account_filter: AccountFilter) -> list[Account]:
    """Every ACTIVE account in scope, sorted by ID; raises `DiscoveryError` when listing fails."""
    try:
        roots = organizations.list_roots()["Roots"]
        accounts = [a for root in roots for a in _walk(organizations, root["Id"], (), (root["Id"],))]
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


def _walk(organizations: Any, parent: str, names: tuple[str, ...], ids: tuple[str, ...]) -> Iterator[Account]:
    ou_label = "/".join(names) or "Root"
    for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
        for raw in page["Accounts"]:
            # `State` replaces the deprecated `Status`; accept whichever the API returns.
            if (raw.get("State") or raw.get("Status")) == "ACTIVE":
                yield Account(
                    id=raw["Id"],
                    name=raw.get("Name", ""),
                    ou=ou_label,
                    ou_ids=ids,
                    email=raw.get("Email", ""),
                )
    for page in organizations.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
        for ou in page["OrganizationalUnits"]:
            yield from _walk(organizations, ou["Id"], (*names, ou["Name"]), (*ids, ou["Id"]))
