"""Rule names: one organization-wide control under one name, and which rules the report includes.

AWS services that deploy Config rules into every account give each copy a generated suffix, so the
same control has a different name in every account and region, and a new name when it is redeployed:

- AWS Organizations: `OrgConfigRule-<name>-<8 random characters>` (`CreatedBy`
  `config-multiaccountsetup.amazonaws.com`);
- conformance packs: `<name>-conformance-pack-<9 random characters>` (`config-conforms.amazonaws.com`);
- Security Hub: `securityhub-<control>-<random suffix>` (`securityhub.amazonaws.com`);
- Firewall Manager: `<policy rule>-<random suffix>` (`fms.amazonaws.com`).

`normalize_rule_name` removes those suffixes (and the Organizations prefix). It is the one function
that says when two rule names are the same control: the Summary's rankings, the Jira ticket, rule
filters and the week-over-week comparison all go through it (a snapshot written before rules carried
their normalized name is normalized as it is read).

AWS Organizations deploys conformance packs the same way: an organization conformance pack
(PutOrganizationConformancePack) is a pack in each member account and region, named
`OrgConformsPack-<name>-<8 random characters>`. `organization_pack_name` gives the organization's name
of such a copy, so the Rule catalogue lists the pack once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

ORGANIZATIONS = "config-multiaccountsetup.amazonaws.com"
CONFORMANCE_PACK = "config-conforms.amazonaws.com"
SECURITY_HUB = "securityhub.amazonaws.com"
FIREWALL_MANAGER = "fms.amazonaws.com"

# AWS managed rules whose documented name is not their identifier lower-cased with dashes (each
# Developer Guide page says "the rule identifier and rule name are different").
_MANAGED_NAMES_THAT_DIFFER = {
    "INCOMING_SSH_DISABLED": "restricted-ssh",
    "CLOUD_TRAIL_ENABLED": "cloudtrail-enabled",
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": "multi-region-cloudtrail-enabled",
    "RESTRICTED_INCOMING_TRAFFIC": "restricted-common-ports",
}


@dataclass(frozen=True, slots=True)
class RuleCreator:
    """Who creates rules (DescribeConfigRules' `CreatedBy`), as the Rule catalogue names it.

    `shapeless_suffix`: the service appends a generated suffix whose only tell-tale is who created
    the rule (Organizations' and conformance packs' names have a shape of their own).
    """

    label: str
    shapeless_suffix: bool = False


CREATORS: Mapping[str, RuleCreator] = {
    # A rule the account created itself has no `CreatedBy`, and its name is kept as it is.
    "": RuleCreator("the account"),
    ORGANIZATIONS: RuleCreator("AWS Organizations"),
    CONFORMANCE_PACK: RuleCreator("a conformance pack"),
    SECURITY_HUB: RuleCreator("Security Hub", shapeless_suffix=True),
    FIREWALL_MANAGER: RuleCreator("Firewall Manager", shapeless_suffix=True),
}
"""Every service known to create Config rules on the customer's behalf, keyed by `CreatedBy`."""

_ORGANIZATIONS = re.compile(r"^OrgConfigRule-(?P<name>.+)-[A-Za-z0-9]{6,12}$")
_CONFORMANCE_PACK = re.compile(r"^(?P<name>.+)-conformance-pack-[A-Za-z0-9]{5,12}$")
_SECURITY_HUB = re.compile(r"^(?P<name>securityhub-.+)-[A-Za-z0-9]{5,10}$")
_SERVICE_SUFFIX = re.compile(r"^(?P<name>.+)-[A-Za-z0-9]{5,12}$")
# AWS does not document the suffix of an organization pack's copies; every copy seen carries 8 lowercase
# letters and digits, and only that shape is removed. A looser one would not be safe: the name before it
# is the customer's and often ends in a word of its own (`-Security`, `-Workloads`), which a wider
# pattern would cut off should a copy ever come without a suffix, merging two packs unseen. A copy whose
# suffix has another shape keeps its deployed name instead: visibly listed once per copy, never merged.
_ORGANIZATION_PACK = re.compile(r"^OrgConformsPack-(?P<name>.+)-[a-z0-9]{8}$")


def normalize_rule_name(name: str, created_by: str | None = None) -> str:
    """The rule's name without the suffix (and prefix) a deploying service generated for this copy.

    Names are recognised by their documented shapes; `created_by` (DescribeConfigRules' `CreatedBy`)
    lets a suffix be removed from a service-linked rule whose name has no other tell-tale shape.
    A name that matches no shape is returned unchanged.
    """
    for pattern in (_ORGANIZATIONS, _CONFORMANCE_PACK, _SECURITY_HUB):
        match = pattern.match(name)
        if match:
            return match["name"]
    creator = CREATORS.get(created_by or "")
    if creator is not None and creator.shapeless_suffix:
        match = _SERVICE_SUFFIX.match(name)
        if match:
            return match["name"]
    return name


def managed_rule_name(identifier: str) -> str:
    """The name AWS documents an AWS managed rule under, and deploys it as unless told otherwise
    (`S3_BUCKET_VERSIONING_ENABLED` → `s3-bucket-versioning-enabled`, `INCOMING_SSH_DISABLED` →
    `restricted-ssh`)."""
    return _MANAGED_NAMES_THAT_DIFFER.get(identifier, identifier.lower().replace("_", "-"))


def organization_pack_name(pack_name: str) -> str | None:
    """The organization conformance pack that a member account's pack `pack_name` is a copy of.

    None for a pack the account deployed itself (or a name of no known shape), whose name is its own.
    """
    match = _ORGANIZATION_PACK.match(pack_name)
    return match["name"] if match else None


@dataclass(frozen=True, slots=True)
class RuleFilter:
    """Which rules the report includes: glob patterns on the normalized name (case-sensitive).

    An empty `include` means every rule; `exclude` wins over `include`.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def includes(self, normalized_name: str) -> bool:
        """True when the rule with this normalized name belongs in the report."""
        if _matches_any(normalized_name, self.exclude):
            return False
        return not self.include or _matches_any(normalized_name, self.include)


def _matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)
