"""A uniform organization for benchmarks: N accounts × R regions × K rules, a chosen share non-compliant.

Unlike the demo organization (realistic, irregular, every special case), every account here is the
same shape, so the calls a correct scan needs can be counted exactly (`ScaleOrganization.calls_needed`)
and set against the calls the simulator saw. Evaluations go straight into the simulator's store.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from config_report.domain.model import Account
from config_report.simulated import _moto
from config_report.simulated.aggregator import RULES_MAX_LIMIT, SOURCES_MAX_LIMIT
from config_report.simulated.aggregator_seed import SeededAggregator, seed_aggregator
from config_report.simulated.compliance import (
    COMPLIANT,
    DETAILS_MAX_LIMIT,
    EVALUATION_STATUS_MAX_LIMIT,
    NON_COMPLIANT,
    RULES_PAGE_SIZE,
    Evaluation,
)
from config_report.simulated.inventory import ConfigurationItem
from config_report.simulated.packs import PACK_COMPLIANCE_MAX_LIMIT, PACKS_MAX_LIMIT, ConformancePack
from config_report.simulated.seed import (
    _CATALOGUE,
    _MANAGEMENT,
    _ORG_UNITS,
    _PROFILES,
    HUB_ACCOUNT_ID,
    HUB_ROLE_NAME,
    ORG_ROLE_NAME,
    HubInfo,
    _account_ids,
    _build_organization,
    _config_rule,
    _create_report_bucket,
    _create_roles,
    _email,
    _PlannedAccount,
    _recorder,
    _role_arn,
)
from config_report.simulated.tags import ACCOUNT_RESOURCE

if TYPE_CHECKING:
    from config_report.simulated.server import SimulatedOrganization

_OU = "Workloads/Prod"
# Every fourth rule is deployed by one conformance pack, in every account and region.
_PACK = "Operational-Best-Practices-for-CIS"
_PACK_EVERY = 4
_ACCOUNTS_PAGE_SIZE = 20  # ListAccountsForParent's largest MaxResults


@dataclass(frozen=True, slots=True)
class ScaleOrganization:
    """What `seed_scale_organization` built, and the calls a correct scan of it needs."""

    accounts: tuple[Account, ...]
    regions: tuple[str, ...]
    rules: int
    resources_per_rule: int
    noncompliant_per_rule: int
    hub: HubInfo
    org_role_arn: str
    aggregator: SeededAggregator

    @property
    def noncompliant_resources(self) -> int:
        """Non-compliant resources in the report (every rule of every account and region)."""
        return len(self.accounts) * len(self.regions) * self.rules * self.noncompliant_per_rule

    def calls_needed(self, owner_queries: Callable[[Iterable[str]], Iterator[str]]) -> dict[str, int]:
        """The AWS calls a correct scan needs, by `service:Action` (publishing to S3 not included).

        `owner_queries` batches failing resource IDs into the owners' advanced queries as the job does
        (the simulated organization knows Config's limits, not how the job packs IDs within them).

        Every page is needed: accounts 20 per page, rules and compliance 25 per page, evaluation
        status 50, details 100 (the largest `Limit`), one recorder read, one AssumeRole per account,
        the region's packs 20 per page and each pack's rules 1,000 per page (one pack here).
        The recorder is read through its status (DescribeConfigurationRecorderStatus, which also says
        whether it records), and rule evaluation status once per 50 rules.
        """
        units = len(self.accounts) * len(self.regions)
        failing = self.rules if self.noncompliant_per_rule else 0
        # Discovery walks the tree: Root (the management account), its OUs, and one OU holding the rest.
        nodes = len(_ORG_UNITS) + 1
        return {
            "sts:GetCallerIdentity": 1,
            "sts:AssumeRole": len(self.accounts) + 1,  # every spoke role, and the org role once
            "organizations:ListRoots": 1,
            "organizations:ListOrganizationalUnitsForParent": nodes,
            "organizations:ListAccountsForParent": nodes
            - 1
            + math.ceil((len(self.accounts) - 1) / _ACCOUNTS_PAGE_SIZE),
            "config:DescribeConfigurationRecorderStatus": units,
            "config:DescribeConfigRules": units * math.ceil(self.rules / RULES_PAGE_SIZE),
            "config:DescribeComplianceByConfigRule": units * math.ceil(self.rules / RULES_PAGE_SIZE),
            "config:DescribeConfigRuleEvaluationStatus": units
            * math.ceil(self.rules / EVALUATION_STATUS_MAX_LIMIT),
            "config:GetComplianceDetailsByConfigRule": units
            * failing
            * math.ceil(self.noncompliant_per_rule / DETAILS_MAX_LIMIT),
            "config:DescribeConformancePacks": units * math.ceil(1 / PACKS_MAX_LIMIT),
            "config:DescribeConformancePackCompliance": units
            * math.ceil(len(_pack_rules(self.rules)) / PACK_COMPLIANCE_MAX_LIMIT),
            # Owners: each account's Organizations tags once, and the failing resources' tags by
            # advanced query, as few queries as the 100-ID and 4,096-character limits allow.
            "organizations:ListTagsForResource": len(self.accounts),
            "config:SelectResourceConfig": sum(
                len(list(owner_queries(_failing_ids(a.id, r, self.rules, self.noncompliant_per_rule))))
                for a in self.accounts
                for r in self.regions
            ),
        }

    def calls_needed_through_aggregator(
        self, owner_queries: Callable[[Iterable[str]], Iterator[str]], *, query: bool
    ) -> dict[str, int]:
        """The AWS calls a correct run with `CONFIG_REPORT_SOURCE=aggregator` needs (S3 aside).

        Discovery and the accounts' owners as through the spokes, one AssumeRole for the aggregator's role
        instead of one per account; then one aggregator description, the sources' status 100 a page (an
        organization entry per region beside each account's), the rules' compliance 1,000 a page, and
        the failing resources: every detail page of 100 per failing rule, or (`query`) the advanced
        query's pages of 100 resources, with the detail call still for a rule past 100 (its count is
        capped, so the query cannot prove it complete). Owners' tags: 100 resource IDs a query across
        every source.
        """
        spokes = self.calls_needed(owner_queries)
        places = len(self.accounts) * len(self.regions)
        failing_rules = places * (self.rules if self.noncompliant_per_rule else 0)
        capped = self.noncompliant_per_rule > 100
        details = failing_rules * math.ceil(self.noncompliant_per_rule / DETAILS_MAX_LIMIT)
        resources = [
            i
            for a in self.accounts
            for r in self.regions
            for i in _failing_ids(a.id, r, self.rules, self.noncompliant_per_rule)
        ]
        tag_queries = len(list(owner_queries(resources)))
        # One compliance item per failing resource, account-level ones included (they have no tags); one
        # query a region.
        region_items = len(self.accounts) * len(_failing_types(self.rules)) * self.noncompliant_per_rule
        query_pages = len(self.regions) * max(1, math.ceil(region_items / DETAILS_MAX_LIMIT))
        needed = {
            **{k: v for k, v in spokes.items() if k.startswith(("organizations:", "sts:GetCallerIdentity"))},
            "sts:AssumeRole": 2,  # the org role and the aggregator's role
            "config:DescribeConfigurationAggregators": 1,
            "config:DescribeConfigurationAggregatorSourcesStatus": math.ceil(
                (places + len(self.regions)) / SOURCES_MAX_LIMIT
            ),
            "config:DescribeAggregateComplianceByConfigRules": math.ceil(
                places * self.rules / RULES_MAX_LIMIT
            ),
            "config:GetAggregateComplianceDetailsByConfigRule": details if not query or capped else 0,
            "config:SelectAggregateResourceConfig": tag_queries + (query_pages if query else 0),
        }
        return {k: v for k, v in needed.items() if v}

    def client_env(self, endpoint_url: str, access_key: str) -> dict[str, str]:
        """The environment a `config-report run` needs to scan this organization on `endpoint_url`."""
        return {
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": access_key,
            "AWS_REGION": self.hub.region,
            "AWS_DEFAULT_REGION": self.hub.region,
            "CONFIG_REPORT_ORG_ROLE_ARN": self.org_role_arn,
            "CONFIG_REPORT_S3_BUCKET": self.hub.report_bucket,
            "CONFIG_REPORT_REGIONS": ",".join(self.regions),
            **self.aggregator.client_env(),
        }


def seed_scale_organization(
    sim: SimulatedOrganization,
    *,
    accounts: int,
    regions: tuple[str, ...],
    rules: int,
    resources_per_rule: int,
    noncompliant_share: float,
    seed: int = 11,
) -> ScaleOrganization:
    """Build the uniform organization on a running, empty simulator (faults are suspended meanwhile)."""
    if accounts < 3 or rules < 1 or resources_per_rule < 1 or not 0.0 <= noncompliant_share <= 1.0:
        raise ValueError("need accounts >= 3, rules >= 1, resources_per_rule >= 1, 0 <= share <= 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    ids = _account_ids(rng, accounts)
    names = ["acme-org-management", "acme-sec-control"] + [f"acme-team{n:05d}" for n in range(2, accounts)]
    plan = [
        _PlannedAccount(
            account=Account(
                id=ids[n], name=names[n], ou="Root" if n == _MANAGEMENT else _OU, email=_email(names[n])
            ),
            profile=_PROFILES["core"],
            index=n,
            config_regions=regions,
        )
        for n in range(accounts)
    ]
    hub = HubInfo(
        account_id=HUB_ACCOUNT_ID,
        region=regions[0],
        report_bucket=f"acme-config-reports-{HUB_ACCOUNT_ID}",
        role_arn=_role_arn(HUB_ACCOUNT_ID, HUB_ROLE_NAME),
    )
    failing = round(resources_per_rule * noncompliant_share)
    with sim.faults.suspended():
        _build_organization(sim, plan)
        _create_roles(sim, plan, hub)
        _create_report_bucket(sim, hub)
        for planned in plan:
            _seed_config(planned.account.id, regions, rules, resources_per_rule, failing)
        # An organization aggregator in the third account (neither the management account nor the hub).
        aggregator = seed_aggregator(
            sim, account_id=ids[2], region=regions[0], regions=regions, hub_role_arn=hub.role_arn
        )
    return ScaleOrganization(
        accounts=tuple(p.account for p in plan),
        regions=regions,
        rules=rules,
        resources_per_rule=resources_per_rule,
        noncompliant_per_rule=failing,
        hub=hub,
        org_role_arn=_role_arn(plan[_MANAGEMENT].account.id, ORG_ROLE_NAME),
        aggregator=aggregator,
    )


def _resource_id(resource_type: str, account_id: str, region: str, n: int) -> str:
    return f"{resource_type.split('::')[-1].lower()}-{account_id}-{region}-{n:06d}"


def _failing_types(rules: int) -> set[str]:
    """The resource types the first `rules` rules of the catalogue evaluate."""
    return {_CATALOGUE[n % len(_CATALOGUE)].resource_type for n in range(rules)}


def _failing_resources(account_id: str, region: str, rules: int, failing: int) -> set[tuple[str, str]]:
    # Rules of one resource type fail on the same resources; account-level rules name no resource.
    types = _failing_types(rules) - {ACCOUNT_RESOURCE}
    return {(t, _resource_id(t, account_id, region, n)) for t in types for n in range(failing)}


def _failing_ids(account_id: str, region: str, rules: int, failing: int) -> list[str]:
    return [rid for _, rid in _failing_resources(account_id, region, rules, failing)]


def _pack_rules(rules: int) -> list[int]:
    return list(range(0, rules, _PACK_EVERY))


def _seed_config(account_id: str, regions: tuple[str, ...], rules: int, resources: int, failing: int) -> None:
    when = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    catalogue = [_CATALOGUE[n % len(_CATALOGUE)] for n in range(rules)]
    specs = [(f"{spec.name}-{n:03d}", spec) for n, spec in enumerate(catalogue)]
    packed = tuple(specs[n][0] for n in _pack_rules(rules))
    for region in regions:
        _moto.enable_config(
            account_id,
            region,
            recorder=_recorder(account_id),
            rules=[_config_rule(name, spec) for name, spec in specs],
        )
        for name in packed:
            _moto.set_rule_fields(account_id, region, name, created_by="config-conforms.amazonaws.com")
        _moto.conformance_packs(account_id, region).put(ConformancePack(_PACK, "cis000001", packed, when))
        store = _moto.compliance_store(account_id, region)
        inventory = _moto.inventory(account_id, region)
        for resource_type, resource_id in _failing_resources(account_id, region, rules, failing):
            inventory.put(ConfigurationItem(resource_type, resource_id, {"Owner": "platform-team"}))
        for name, spec in specs:
            store.put(
                Evaluation(
                    name,
                    spec.resource_type,
                    _resource_id(spec.resource_type, account_id, region, n),
                    NON_COMPLIANT if n < failing else COMPLIANT,
                    when - timedelta(minutes=n),
                    "The resource does not comply with the rule's parameters." if n < failing else "",
                )
                for n in range(resources)
            )
