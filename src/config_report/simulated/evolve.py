"""A week in the life of the simulated organization: what changes between two weekly runs.

Each change is made the way it happens in AWS, through the same APIs: a fixed resource gets a newer
COMPLIANT evaluation, a newly broken one a NON_COMPLIANT one; an organization rule redeployed by AWS
Organizations comes back under a new generated suffix (`OrgConfigRule-<name>-<random>`) with the same
resources; an account that leaves the organization is removed from it. Used by the week-over-week
tests and by `config-report demo`, which replays last week's run before this week's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from config_report.domain.model import Finding
from config_report.simulated import _moto
from config_report.simulated.compliance import COMPLIANT, NON_COMPLIANT, Evaluation
from config_report.simulated.server import SimulatedOrganization


def fix(findings: Iterable[Finding], *, at: datetime) -> None:
    """Each finding's resource is fixed: Config evaluates it COMPLIANT at `at`."""
    for f in findings:
        evaluation = Evaluation(f.rule_name, f.resource_type, f.resource_id, COMPLIANT, at)
        _moto.compliance_store(f.account_id, f.region).put([evaluation])


def break_resource(finding: Finding, *, at: datetime) -> Finding:
    """A resource starts failing a rule: Config evaluates it NON_COMPLIANT at `at`; returns the finding."""
    evaluation = Evaluation(
        finding.rule_name, finding.resource_type, finding.resource_id, NON_COMPLIANT, at, finding.annotation
    )
    _moto.compliance_store(finding.account_id, finding.region).put([evaluation])
    return replace(finding, last_evaluated=at)


def last_ran(account_id: str, region: str, rule_name: str, *, at: datetime) -> None:
    """AWS last ran the rule at `at` and not since (a periodic rule that stopped running)."""
    _moto.compliance_store(account_id, region).last_ran(rule_name, at)


def redeploy_rule(sim: SimulatedOrganization, account_id: str, region: str, old: str, new: str) -> None:
    """Replace rule `old` by the same rule named `new` (as an organization rule redeploy does).

    Config evaluates the new rule's resources as it did the old one's, so their results carry over.
    """
    config = sim.client("config", region=region, account_id=account_id)
    (rule,) = config.describe_config_rules(ConfigRuleNames=[old])["ConfigRules"]
    definition = {
        key: rule[key] for key in ("Description", "Source", "Scope", "InputParameters") if key in rule
    }
    config.put_config_rule(ConfigRule={"ConfigRuleName": new, **definition})
    config.delete_config_rule(ConfigRuleName=old)
    store = _moto.compliance_store(account_id, region)
    store.put(replace(e, rule_name=new) for e in store.for_rule(old))


def leave_organization(sim: SimulatedOrganization, account_id: str) -> None:
    """The account leaves the organization (RemoveAccountFromOrganization, as its management account)."""
    management = sim.seeded.management_account_id
    org = sim.client("organizations", region="us-east-1", account_id=management)
    org.remove_account_from_organization(AccountId=account_id)


# --- the demo's week ------------------------------------------------------------------------------

DEMO_FIXED = 3
DEMO_BROKEN = 2
_ORG_RULE = "OrgConfigRule-{name}-{suffix}"
# The organization rule's suffix last week, and after this week's redeploy.
LAST_WEEKS_SUFFIX, THIS_WEEKS_SUFFIX = "k3x9q2", "w7m4p8"


@dataclass(frozen=True, slots=True)
class DemoWeek:
    """What the demo changes between last week's run and this week's."""

    redeployed: tuple[str, str, str]  # account, region, rule name (the control's own name)
    fixed: tuple[Finding, ...]
    broken: tuple[Finding, ...]


def demo_week(sim: SimulatedOrganization) -> DemoWeek:
    """Pick, deterministically from what was seeded, the demo's changes of the week."""
    seeded = sim.seeded
    big = seeded.accounts[2].id  # the production account the seeder gives the most rules
    redeployed = next(
        f for f in seeded.findings if f.account_id == big and f.rule_name != "encrypted-volumes"
    )
    others = [f for f in seeded.findings if f.account_id not in (big, seeded.accounts[5].id)]
    fixed = tuple(others[:DEMO_FIXED])
    broken = tuple(
        replace(f, resource_id=f"{f.resource_id}-new", last_evaluated=None) for f in others[-DEMO_BROKEN:]
    )
    return DemoWeek((redeployed.account_id, redeployed.region, redeployed.rule_name), fixed, broken)


def before_last_week(sim: SimulatedOrganization, week: DemoWeek) -> None:
    """Last week's state: the organization rule as first deployed by AWS Organizations."""
    account, region, name = week.redeployed
    redeploy_rule(sim, account, region, name, _ORG_RULE.format(name=name, suffix=LAST_WEEKS_SUFFIX))


def during_the_week(sim: SimulatedOrganization, week: DemoWeek, *, at: datetime) -> None:
    """Fix some resources, break new ones and redeploy the organization rule under a new suffix."""
    account, region, name = week.redeployed
    fix(week.fixed, at=at)
    for finding in week.broken:
        break_resource(finding, at=at)
    redeploy_rule(
        sim,
        account,
        region,
        _ORG_RULE.format(name=name, suffix=LAST_WEEKS_SUFFIX),
        _ORG_RULE.format(name=name, suffix=THIS_WEEKS_SUFFIX),
    )
