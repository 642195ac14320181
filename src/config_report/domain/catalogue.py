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
from dataclasses import dataclass, field

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
    """One entry per normalized rule, in name order; the report is read one account at a time."""
    deployed: dict[str, _Deployed] = {}
    failing: Counter[str] = Counter()
    for scan in report.scans:
        _add_account(deployed, scan.rules)
        # Resources are each in one account: counted account by account, they add up.
        in_account: dict[str, set[Resource]] = defaultdict(set)
        for finding in scan.findings:
            if finding.accepted is None:
                in_account[finding.normalized_name].add(finding.resource)
        failing.update({name: len(found) for name, found in in_account.items()})
    return tuple(deployed[name].entry(name, failing[name]) for name in sorted(deployed))


@dataclass
class _Deployed:
    """What the catalogue says of one rule, added up account by account."""

    info: RuleInfo | None = None
    creators: set[str] = field(default_factory=set)
    packs: set[str] = field(default_factory=set)
    severity: Severity | None = None  # the most severe of its copies', should one differ
    accounts: int = 0
    regions: int = 0
    accounts_failing: int = 0
    packs_unread: int = 0

    def add(self, rule: RuleResult) -> None:
        """One copy of the rule, in one account and region."""
        self.info = self.info or rule.info
        self.creators.add(_creator(rule.created_by))
        self.packs.update(_pack_label(p) for p in rule.conformance_packs or ())
        if self.severity is None or rule.severity.rank < self.severity.rank:
            self.severity = rule.severity

    def entry(self, name: str, resources_failing: int) -> CatalogueEntry:
        """The catalogue's row."""
        info = self.info or RuleInfo()
        return CatalogueEntry(
            name=name,
            source=_SOURCES.get(info.source_owner, info.source_owner),
            identifier=info.source_identifier,
            description=info.description,
            created_by=", ".join(sorted(self.creators)),
            docs_url=docs_url(info),
            accounts_deployed=self.accounts,
            regions_deployed=self.regions,
            accounts_failing=self.accounts_failing,
            resources_failing=resources_failing,
            conformance_packs=tuple(sorted(self.packs)),
            packs_unread=self.packs_unread,
            # Every copy of a control is rated alike (`domain.rating`).
            severity=self.severity or Severity.UNRATED,
        )


def _add_account(deployed: dict[str, _Deployed], rules: Iterable[RuleResult]) -> None:
    """One account's rules added to `deployed`: its regions, whether it fails, where packs went unread."""
    regions: dict[str, set[str]] = defaultdict(set)
    unread: dict[str, set[str]] = defaultdict(set)
    failing: set[str] = set()
    for rule in rules:
        name = rule.normalized_name
        deployed.setdefault(name, _Deployed()).add(rule)
        regions[name].add(rule.region)
        if rule.compliance is Compliance.NON_COMPLIANT:
            failing.add(name)
        if rule.conformance_packs is None:
            unread[name].add(rule.region)
    for name, places in regions.items():
        entry = deployed[name]
        entry.accounts += 1
        entry.regions += len(places)
        entry.accounts_failing += name in failing
        entry.packs_unread += len(unread.get(name, ()))


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
