"""The rule catalogue: what each rule is, who deployed it, where it runs, where it fails, how to fix it.

Built from what `DescribeConfigRules` already returned while scanning (no call per rule): the rule's
source (an AWS managed rule's identifier, or a custom Lambda or Guard rule), its description and who
created it. One entry per normalized rule name (`config_report.domain.rules`), so an
organization-wide control deployed with a different suffix in every account is one entry.

The conformance packs a rule belongs to come from the packs of each account × region where a pack
deployed it (`config_report.aws.packs`); where those could not be read, the entry counts the places.
An organization conformance pack has a copy with a name of its own in every member account and region
(`rules.organization_pack_name`): the entry names it once, as the organization does, marked
"(organization)" because it is managed from the management (or delegated administrator) account and
member accounts cannot change it; a pack an account deployed itself is named as it is.

AWS managed rules link to their page in the AWS Config Developer Guide. The page is named after the
identifier, lower-cased with dashes (`S3_BUCKET_VERSIONING_ENABLED` → `s3-bucket-versioning-enabled.html`),
except for the few rules whose identifier and documented name differ, which AWS documents under
their name (`INCOMING_SSH_DISABLED` → `restricted-ssh.html`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from config_report.domain.model import Compliance, Report, Resource, RuleInfo, RuleResult
from config_report.domain.rules import CREATORS, managed_rule_name, organization_pack_name
from config_report.domain.severity import Severity

DOCS_BASE = "https://docs.aws.amazon.com/config/latest/developerguide/"
_IDENTIFIER = re.compile(r"^[A-Z0-9_]{1,128}$")

_SOURCES = {"AWS": "AWS managed", "CUSTOM_LAMBDA": "custom (Lambda)", "CUSTOM_POLICY": "custom (Guard)"}


def docs_url(info: RuleInfo) -> str:
    """The Developer Guide page of an AWS managed rule; '' for custom rules or odd identifiers."""
    if info.source_owner != "AWS" or not _IDENTIFIER.match(info.source_identifier):
        return ""
    return f"{DOCS_BASE}{managed_rule_name(info.source_identifier)}.html"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One row of the `Rule catalogue` sheet."""

    name: str  # the normalized rule name
    source: str
    identifier: str
    description: str
    created_by: str
    docs_url: str
    accounts_deployed: int
    regions_deployed: int  # account × region pairs where the rule exists
    accounts_failing: int
    resources_failing: int  # distinct non-compliant resources, not accepted by an exception
    conformance_packs: tuple[str, ...] = ()  # sorted; every pack that deployed a copy (`_pack_label`)
    packs_unread: int = 0  # account × region pairs where a pack deployed it but the packs were not read
    severity: Severity = Severity.UNRATED

    def conformance_packs_label(self) -> str:
        """The `Conformance Packs` cell: the packs, comma-separated; says where they could not be read."""
        packs = ", ".join(self.conformance_packs)
        if not self.packs_unread:
            return packs
        unread = f"not read in {self.packs_unread} of {self.regions_deployed} account-regions"
        return f"{packs}; {unread}" if packs else unread


def build_catalogue(report: Report) -> tuple[CatalogueEntry, ...]:
    """One entry per normalized rule, in name order."""
    rules: dict[str, list[RuleResult]] = defaultdict(list)
    for rule in report.rules():
        rules[rule.normalized_name].append(rule)
    failing: Counter[str] = Counter()
    for scan in report.scans:
        # Resources are each in one account: counted account by account, they add up.
        in_account: dict[str, set[Resource]] = defaultdict(set)
        for finding in scan.findings:
            if finding.accepted is None:
                in_account[finding.normalized_name].add(finding.resource)
        failing.update({name: len(found) for name, found in in_account.items()})
    return tuple(_entry(name, rules[name], failing[name]) for name in sorted(rules))


def _entry(name: str, deployed: list[RuleResult], resources_failing: int) -> CatalogueEntry:
    info = next((r.info for r in deployed if r.info is not None), RuleInfo())
    packs = {_pack_label(p) for r in deployed for p in r.conformance_packs or ()}
    return CatalogueEntry(
        name=name,
        source=_SOURCES.get(info.source_owner, info.source_owner),
        identifier=info.source_identifier,
        description=info.description,
        created_by=", ".join(sorted({_creator(r.created_by) for r in deployed})),
        docs_url=docs_url(info),
        accounts_deployed=len({r.account_id for r in deployed}),
        regions_deployed=len({(r.account_id, r.region) for r in deployed}),
        accounts_failing=len({r.account_id for r in deployed if r.compliance is Compliance.NON_COMPLIANT}),
        resources_failing=resources_failing,
        conformance_packs=tuple(sorted(packs)),
        packs_unread=len({(r.account_id, r.region) for r in deployed if r.conformance_packs is None}),
        # Every copy of a control is rated alike (`domain.rating`): the most severe, should one differ.
        severity=min((r.severity for r in deployed), key=lambda s: s.rank, default=Severity.UNRATED),
    )


def _pack_label(pack_name: str) -> str:
    """A conformance pack as the catalogue names it: an organization pack's copy by the organization's
    name and "(organization)", any other pack by its own name."""
    organization_pack = organization_pack_name(pack_name)
    return pack_name if organization_pack is None else f"{organization_pack} (organization)"


def _creator(created_by: str) -> str:
    known = CREATORS.get(created_by)
    return known.label if known is not None else created_by


def catalogue_rows(entries: Iterable[CatalogueEntry]) -> dict[str, int]:
    """Normalized name → its row on the `Rule catalogue` sheet (0-based, the header is row 0)."""
    return {entry.name: row for row, entry in enumerate(entries, start=1)}
