"""The simulated organization's configuration aggregator, and the role config-report reads it with.

Control Tower, and most organizations after it, aggregate Config in a Security OU account: the
seeded aggregator is an organization aggregator over every region the organization uses, in the
home region of `acme-log-archive` (whose leading-zero account ID also proves the role ARN keeps it),
with the role `AGGREGATOR_ROLE_NAME` there trusting the hub's role as the spoke roles do.

It starts healthy and in step with every account: each source is read as it is now. A test (or the
demo's flags) then makes what `verify` and the run must notice:

- `SeededAggregator.fail`: a source's aggregation fails with AWS's error (`FAILED`, a coverage gap);
- `SeededAggregator.lag`: a source's copy stops following its account (still `SUCCEEDED`, with the
  time it was copied), so what changes in the account afterwards is missing from the aggregator;
- `SeededAggregator.without_compliance_items`: a source whose recorder does not record
  `AWS::Config::ResourceCompliance`, which the advanced query's fast path depends on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from config_report.simulated import _moto
from config_report.simulated.aggregator import Aggregation, Copy, SourceFailure
from config_report.simulated.seed import _trust

if TYPE_CHECKING:
    from config_report.simulated.server import SimulatedOrganization

AGGREGATOR_NAME = "acme-organization-aggregator"
AGGREGATOR_ACCOUNT = "acme-log-archive"
AGGREGATOR_ROLE_NAME = "system-config-report-generator-read-aggregator-role"
# AWS documents no list of aggregation error codes: the seeded failure's words are the simulator's.
AGGREGATION_ERROR_CODE = "AccessDeniedException"
AGGREGATION_ERROR = "The aggregator account is not authorized to collect data from this source account."
_ORGANIZATIONS_ROLE = "service-role/AWSConfigRoleForOrganizations"


@dataclass(frozen=True, slots=True)
class SeededAggregator:
    """The seeded aggregator: where it is, the role that reads it, and the knobs a test turns."""

    name: str
    account_id: str
    region: str
    role_arn: str

    @property
    def state(self) -> Aggregation:
        """The simulation's state of the aggregator (failures, lags, replication time)."""
        return _moto.aggregation(self.account_id, self.region, self.name)

    def fail(self, account_id: str, region: str, *, at: datetime | None = None) -> None:
        """This source's aggregation fails from `at` (default: now) with `AGGREGATION_ERROR_CODE`."""
        failed_at = at or datetime.now(UTC)
        self.state.fail(
            account_id, region, SourceFailure(AGGREGATION_ERROR_CODE, AGGREGATION_ERROR, failed_at)
        )

    def lag(self, account_id: str, region: str, *, at: datetime | None = None) -> None:
        """This source's copy is taken now and kept: later changes in the account do not show."""
        copy = Copy(_moto.aggregated_rules(account_id, region), taken_at=at or datetime.now(UTC))
        self.state.lag(account_id, region, copy)

    def catch_up(self, *, at: datetime | None = None) -> None:
        """Every source is copied again: lags end, failures stay."""
        self.state.catch_up(at or datetime.now(UTC))

    def reset(self, *, at: datetime | None = None) -> None:
        """Healthy and in step again, as seeded (copied at `at`, default now)."""
        self.state.reset(at or datetime.now(UTC))

    def without_compliance_items(self, account_id: str, region: str) -> None:
        """This source's recorder leaves AWS::Config::ResourceCompliance out of what it records."""
        self.state.without_compliance_items(account_id, region)

    def client_env(self) -> dict[str, str]:
        """The settings that point `config-report` at this aggregator."""
        return {
            "CONFIG_REPORT_AGGREGATOR_NAME": self.name,
            "CONFIG_REPORT_AGGREGATOR_ROLE_ARN": self.role_arn,
            "CONFIG_REPORT_AGGREGATOR_REGION": self.region,
        }


def seed_aggregator(
    sim: SimulatedOrganization,
    *,
    account_id: str,
    region: str,
    regions: tuple[str, ...],
    hub_role_arn: str,
    now: datetime | None = None,
) -> SeededAggregator:
    """An organization aggregator over `regions` in `account_id`'s `region`, replicated at `now`."""
    role_arn = f"arn:aws:iam::{account_id}:role/{AGGREGATOR_ROLE_NAME}"
    iam = sim.client("iam", account_id=account_id)
    trust = _trust(({"AWS": hub_role_arn}, ["sts:AssumeRole", "sts:TagSession"]))
    iam.create_role(RoleName=AGGREGATOR_ROLE_NAME, AssumeRolePolicyDocument=trust)
    sim.client("config", region=region, account_id=account_id).put_configuration_aggregator(
        ConfigurationAggregatorName=AGGREGATOR_NAME,
        OrganizationAggregationSource={
            "RoleArn": f"arn:aws:iam::{account_id}:role/{_ORGANIZATIONS_ROLE}",
            "AllAwsRegions": True,
        },
    )
    state = Aggregation(replicated_at=now or datetime.now(UTC), all_regions=tuple(regions))
    _moto.attach_aggregation(account_id, region, AGGREGATOR_NAME, state)
    return SeededAggregator(AGGREGATOR_NAME, account_id, region, role_arn)
