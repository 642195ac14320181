"""The seeder: a realistic AWS organization, built deterministically from a seed, and what it contains.

Who is who (the production layout of the requirements, on the simulator):

- The **hub** is account 123456789012, the one moto's default credentials (access key `testing`) act
  in. It is the `*-sec-control` member account in the `Security` OU: the job runs there, the report
  bucket and the job's role `system-config-report-generator-write-role` live there.
- The **management account** is a separate account directly under `Root`. The job reaches it through
  `org_role_arn` (`system-config-report-generator-list-org-role`), as in production.
- Every account, management and hub included, has the spoke role
  `system-config-report-generator-read-role` (trusting the hub's write role, with no policies yet).

The organization: OUs `Security`, `Infrastructure`, `Workloads/Prod`, `Workloads/NonProd`, `Sandbox`,
`Suspended`; `accounts` ACTIVE accounts with realistic names (the first six carry every special case,
so even a small organization has them all) plus `suspended` SUSPENDED accounts, which still hold Config
data so that a scanner that forgot to skip them would show it. Special cases:

- an account whose ID starts with "00" (`acme-log-archive`);
- an account without a recorder of its own (`acme-payments-staging`): only Security Hub's
  service-linked recorder records, in its first region, where its `securityhub-*` rules evaluate
  (`DescribeConfigurationRecorderStatus` without arguments answers nothing there, as AWS does);
  sandboxes with Config only in the first region;
- more than 25 rules in one region (`acme-payments-prod`, first region), so rule listings page;
- `encrypted-volumes` there with `big_rule_resources` (default 130) non-compliant volumes, past the
  100 at which Config's contributor count stops and past one details page of 100;
- hostile strings in one sandbox: an account name, rule names, resource IDs and annotations that start
  with `=`, `+`, `-`, `@`, unicode, and one annotation longer than Excel's 32,767-character cell.
  That annotation is longer than AWS allows (256), deliberately: the report must survive it anyway.
  Evaluations are written straight into the simulator's store (not through PutEvaluations), which is
  what lets it exceed AWS's limits;
- recorders as AWS recommends them: global (IAM) types recorded in the first region only, and
  production accounts leave KMS keys out (`NOT_RECORDED_IN_PRODUCTION`, which the periodic rule on
  keys still evaluates); one failing resource in ten was deleted, and Config recorded when
  (`simulated.tags`);
- a stopped configuration recorder (`acme-log-archive`, last region): its rules and results remain,
  stale, as AWS keeps them; and a failing one (the management account, last region, when there are
  two regions or more): still `recording`, but its last recording event failed (`lastStatus`
  `Failure`, `RECORDER_ERROR_CODE`), so its results are stale too;
- in `acme-payments-prod`'s first region, rules in every state and mode: `DELETING`,
  `DELETING_RESULTS`, `EVALUATING`, proactive only (`EvaluationModes` without `DETECTIVE`), one whose
  last evaluation failed and one last evaluated 20 days ago;
- service-linked rules with a generated suffix per account and region and their `CreatedBy` (Security
  Hub, AWS Organizations, a conformance pack) in every core and production account; the conformance
  pack is `CIS_PACK` in core accounts and `PCI_PACK` in production ones, so the one control belongs to
  two packs across the organization (`DescribeConformancePacks` lists them);
- an organization conformance pack (`ORGANIZATION_PACK`, PutOrganizationConformancePack) in every
  workload account (`Workloads/…` OUs), in each region where the account's own recorder records: each
  copy is a pack named `OrgConformsPack-<name>-<8 characters>` with a suffix of its own per account and
  region, deploying its copy of `ORGANIZATION_PACK_RULE` (`…-conformance-pack-<9 characters>`, failing
  the same resources as the account's own rule);
- Control Tower's region deny on the `Sandbox` OU: every region but the first is denied, except for the
  services its policy exempts, Config among them, so Config answers there and finds no recorder; the
  hostile sandbox also has an older policy that denies everything, Config too (`DENIED_BY_SCP`); and
  opt-in regions (`OPT_IN_REGIONS`, when one is among `regions`) enabled only in core and production
  accounts. All are kept in moto's state and enforced by the fault layer;
- `unused_regions`: regions scanned where no account records, as most regions of a real organization.

`SeededOrganization` describes the result in the report model's own types (`Account`, `RuleResult`,
`Finding`, `Coverage`), ACTIVE accounts only: exactly what a correct report contains.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from config_report.domain.managed_rules import DEFAULT_FREQUENCY, FREQUENCIES, PERIODIC_MANAGED_RULES
from config_report.domain.model import (
    GLOBAL_RESOURCE_TYPES,
    Account,
    Compliance,
    Coverage,
    CoverageStatus,
    EvaluationFlag,
    Finding,
    RuleResult,
    SkippedRule,
    SkipReason,
)
from config_report.domain.rules import CONFORMANCE_PACK, normalize_rule_name
from config_report.simulated import _moto
from config_report.simulated.compliance import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Evaluation,
    EvaluationFailure,
    rule_compliance,
)
from config_report.simulated.descriptions import DESCRIPTIONS
from config_report.simulated.faults import RegionAccess
from config_report.simulated.packs import ConformancePack
from config_report.simulated.recorders import SERVICE_LINKED_NAMES, Recorder, recorder_arn
from config_report.simulated.tags import TEAMS, SeededTags, seed_tags

if TYPE_CHECKING:
    from config_report.simulated.server import SimulatedOrganization

HUB_ACCOUNT_ID = "123456789012"
DEFAULT_REGIONS = ("eu-west-1", "us-east-1", "eu-central-1")
DEFAULT_ACCOUNTS = 25
MIN_ACCOUNTS = 6
SPOKE_ROLE_NAME = "system-config-report-generator-read-role"
ORG_ROLE_NAME = "system-config-report-generator-list-org-role"
HUB_ROLE_NAME = "system-config-report-generator-write-role"
BIG_RULE_NAME = "encrypted-volumes"
# Regions an account must enable before it can use them (AWS's list of opt-in regions).
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1",
})  # fmt: skip
SCP_REGION_DENY_OU = "Sandbox"
# How late a periodic rule may run before it is STALE: CONFIG_REPORT_STALE_RULE_DAYS' default.
STALE_MARGIN = timedelta(days=1)
# A periodic rule whose last evaluation wrote results days ago, but which AWS invoked an hour ago (it
# found nothing new to write): it runs, so it is not stale.
INVOKED_RULE = "root-account-mfa-enabled"
# Periodic rules created with an explicit frequency (the others run every 24 hours by default).
_FREQUENCIES = {"access-keys-rotated": "Twelve_Hours", "iam-password-policy": "TwentyFour_Hours"}
DELETING_RULES = {
    "s3-bucket-acl-prohibited": "DELETING",
    "ec2-security-group-attached-to-eni": "DELETING_RESULTS",
}
PROACTIVE_RULE = "s3-bucket-level-public-access-prohibited"
# The control production accounts deploy three times in each region: their own rule and both packs'.
_DOUBLE_DEPLOYED = "s3-bucket-public-read-prohibited"
EVALUATING_RULE = "lambda-concurrency-check"
FAILING_RULE = "cloudtrail-enabled"
STALE_RULE = "vpc-flow-logs-enabled"
FAILURE_CODE = "AccessDenied"
# The management account's failing recorder (AWS documents no list of recorder error codes).
RECORDER_ERROR_CODE = "AccessDeniedException"
RECORDER_ERROR = "The configuration recorder's role cannot describe the resources it records."
SECURITY_HUB = "securityhub.amazonaws.com"
# What production accounts' recorders leave out; the periodic rule on KMS keys still evaluates them.
NOT_RECORDED_IN_PRODUCTION = frozenset({"AWS::KMS::Key"})
# The conformance packs core and production accounts deploy (AWS's sample templates' names).
CIS_PACK = "Operational-Best-Practices-for-CIS"
PCI_PACK = "Operational-Best-Practices-for-PCI-DSS"
# The organization conformance pack and the control it deploys. Its last word, `baseline`, has the
# shape of the suffix AWS gives each copy (8 lowercase letters): the suffix goes, the word stays.
ORGANIZATION_PACK = "acme-security-baseline"
ORGANIZATION_PACK_RULE = "s3-bucket-server-side-encryption-enabled"
_SUFFIX_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"

LONG_ANNOTATION = ("This annotation is deliberately longer than an Excel cell can hold. " * 600)[:40_000]
FORMULA_ANNOTATIONS = ('=HYPERLINK("http://evil.example","click me")', "+1", "-2", "@SUM(A1)")
UNICODE_ANNOTATION = "Öffentlicher Bucket „Kundendaten“ — 公開バケット ✗ 🚨"
HOSTILE_ACCOUNT_NAME = '=HYPERLINK("http://evil.example","sandbox")'
HOSTILE_RULE_NAMES = ("datenschutz-prüfung-s3-öffentlich-✓", "=1+2-restricted-ssh")
HOSTILE_USER_NAMES = ("=1+2", "@admin", "-2", "+cmd")

_ORG_UNITS = (
    "Security",
    "Infrastructure",
    "Workloads",
    "Workloads/Prod",
    "Workloads/NonProd",
    "Sandbox",
    "Suspended",
)
_ACCOUNT_RESOURCE = "AWS::::Account"


@dataclass(frozen=True, slots=True)
class HubInfo:
    """The account the job runs in: its ID, home region, report bucket and the job's role."""

    account_id: str
    region: str
    report_bucket: str
    role_arn: str


@dataclass(frozen=True, slots=True)
class SeededOrganization:
    """What `seed_organization` built: the expected content of a correct report (ACTIVE accounts only)."""

    seed: int
    regions: tuple[str, ...]
    hub: HubInfo
    management_account_id: str
    org_role_arn: str
    spoke_role_name: str
    accounts: tuple[Account, ...]
    suspended_accounts: tuple[Account, ...]
    config_enabled: frozenset[tuple[str, str]]
    rules: tuple[RuleResult, ...]
    findings: tuple[Finding, ...]
    config_stopped: frozenset[tuple[str, str]] = frozenset()
    recorders_failing: frozenset[tuple[str, str]] = frozenset()
    # Regions where only a service-linked recorder records (read, like any region where Config records).
    service_linked_only: frozenset[tuple[str, str]] = frozenset()
    regions_not_enabled: frozenset[tuple[str, str]] = frozenset()
    regions_denied_by_scp: frozenset[tuple[str, str]] = frozenset()
    # Denied by Control Tower's region deny, which lets Config through: it finds no recorder there.
    regions_denied_by_control_tower: frozenset[tuple[str, str]] = frozenset()
    skipped_rules: tuple[SkippedRule, ...] = ()
    tags: SeededTags = field(default_factory=SeededTags)  # owners of failing resources and accounts

    def account(self, account_id: str) -> Account:
        """The ACTIVE or SUSPENDED account with this ID."""
        for account in self.accounts + self.suspended_accounts:
            if account.id == account_id:
                return account
        raise KeyError(account_id)

    def account_named(self, name: str) -> Account:
        """The ACTIVE or SUSPENDED account with this name."""
        for account in self.accounts + self.suspended_accounts:
            if account.name == name:
                return account
        raise KeyError(name)

    @staticmethod
    def owner_aliases() -> dict[str, str]:
        """Each team's leads (the accounts' owner tags) to the team (its resources' owner tags): one
        team, one row of `By owner`, as `CONFIG_REPORT_OWNER_ALIASES` makes it."""
        return {f"{team}-leads": team for team in TEAMS}

    def coverage(self) -> tuple[Coverage, ...]:
        """Expected coverage without faults (details aside): OK where Config records, else the state."""
        return tuple(
            Coverage(account.id, region, self.coverage_status(account.id, region))
            for account in self.accounts
            for region in self.regions
        )

    def coverage_status(self, account_id: str, region: str) -> CoverageStatus:
        """What a correct scan says of one account and region."""
        where = (account_id, region)
        if where in self.regions_not_enabled:
            return CoverageStatus.REGION_NOT_ENABLED
        if where in self.regions_denied_by_scp:
            return CoverageStatus.DENIED_BY_SCP
        if where in self.config_stopped:
            return CoverageStatus.CONFIG_NOT_RECORDING
        if where in self.recorders_failing:
            return CoverageStatus.CONFIG_RECORDER_FAILING
        if where in self.config_enabled:
            return CoverageStatus.OK
        return CoverageStatus.CONFIG_NOT_ENABLED

    def rules_in(self, account_id: str, region: str) -> tuple[RuleResult, ...]:
        """The rules seeded in one account and region."""
        return tuple(r for r in self.rules if (r.account_id, r.region) == (account_id, region))

    def findings_for(self, account_id: str, region: str, rule_name: str) -> tuple[Finding, ...]:
        """The non-compliant resources of one rule in one account and region."""
        return tuple(
            f
            for f in self.findings
            if (f.account_id, f.region, f.rule_name) == (account_id, region, rule_name)
        )


@dataclass(frozen=True, slots=True)
class _RuleSpec:
    """An AWS managed rule as an account would deploy it."""

    name: str
    identifier: str
    resource_type: str
    annotation: str = ""  # what the rule says about a non-compliant resource (many say nothing)
    parameters: str | None = None


_S3, _VOLUME, _INSTANCE, _SG = (
    "AWS::S3::Bucket",
    "AWS::EC2::Volume",
    "AWS::EC2::Instance",
    "AWS::EC2::SecurityGroup",
)
_RDS, _IAM_USER = "AWS::RDS::DBInstance", "AWS::IAM::User"

_CATALOGUE = (
    _RuleSpec("s3-bucket-public-read-prohibited", "S3_BUCKET_PUBLIC_READ_PROHIBITED", _S3,
              "The bucket policy or ACL allows public read access."),
    _RuleSpec("s3-bucket-public-write-prohibited", "S3_BUCKET_PUBLIC_WRITE_PROHIBITED", _S3),
    _RuleSpec("s3-bucket-server-side-encryption-enabled", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", _S3,
              "Default encryption is not enabled for the bucket."),
    _RuleSpec("s3-bucket-ssl-requests-only", "S3_BUCKET_SSL_REQUESTS_ONLY", _S3),
    _RuleSpec("s3-bucket-versioning-enabled", "S3_BUCKET_VERSIONING_ENABLED", _S3),
    _RuleSpec("s3-bucket-logging-enabled", "S3_BUCKET_LOGGING_ENABLED", _S3),
    _RuleSpec(BIG_RULE_NAME, "ENCRYPTED_VOLUMES", _VOLUME, "The EBS volume is not encrypted."),
    _RuleSpec("ec2-ebs-encryption-by-default", "EC2_EBS_ENCRYPTION_BY_DEFAULT", _ACCOUNT_RESOURCE),
    _RuleSpec("ec2-instance-no-public-ip", "EC2_INSTANCE_NO_PUBLIC_IP", _INSTANCE),
    _RuleSpec("ec2-imdsv2-check", "EC2_IMDSV2_CHECK", _INSTANCE, "IMDSv1 is still allowed."),
    _RuleSpec("restricted-ssh", "INCOMING_SSH_DISABLED", _SG, "Inbound SSH is open to 0.0.0.0/0."),
    _RuleSpec("restricted-common-ports", "RESTRICTED_INCOMING_TRAFFIC", _SG),
    _RuleSpec("vpc-default-security-group-closed", "VPC_DEFAULT_SECURITY_GROUP_CLOSED", _SG),
    _RuleSpec("vpc-flow-logs-enabled", "VPC_FLOW_LOGS_ENABLED", "AWS::EC2::VPC"),
    _RuleSpec("rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", _RDS),
    _RuleSpec("rds-instance-public-access-check", "RDS_INSTANCE_PUBLIC_ACCESS_CHECK", _RDS),
    _RuleSpec("rds-multi-az-support", "RDS_MULTI_AZ_SUPPORT", _RDS),
    _RuleSpec("rds-snapshots-public-prohibited", "RDS_SNAPSHOTS_PUBLIC_PROHIBITED", "AWS::RDS::DBSnapshot"),
    _RuleSpec("cloudtrail-enabled", "CLOUD_TRAIL_ENABLED", _ACCOUNT_RESOURCE),
    _RuleSpec("cloud-trail-encryption-enabled", "CLOUD_TRAIL_ENCRYPTION_ENABLED", _ACCOUNT_RESOURCE),
    _RuleSpec("cmk-backing-key-rotation-enabled", "CMK_BACKING_KEY_ROTATION_ENABLED", "AWS::KMS::Key"),
    _RuleSpec("lambda-function-public-access-prohibited", "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED",
              "AWS::Lambda::Function"),
    _RuleSpec("dynamodb-pitr-enabled", "DYNAMODB_PITR_ENABLED", "AWS::DynamoDB::Table"),
    _RuleSpec("eks-endpoint-no-public-access", "EKS_ENDPOINT_NO_PUBLIC_ACCESS", "AWS::EKS::Cluster"),
    _RuleSpec("elb-logging-enabled", "ELB_LOGGING_ENABLED", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    _RuleSpec("cloudwatch-log-group-encrypted", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "AWS::Logs::LogGroup"),
    _RuleSpec("efs-encrypted-check", "EFS_ENCRYPTED_CHECK", "AWS::EFS::FileSystem"),
    _RuleSpec("guardduty-enabled-centralized", "GUARDDUTY_ENABLED_CENTRALIZED", _ACCOUNT_RESOURCE),
    _RuleSpec("securityhub-enabled", "SECURITYHUB_ENABLED", _ACCOUNT_RESOURCE),
    _RuleSpec("iam-user-mfa-enabled", "IAM_USER_MFA_ENABLED", _IAM_USER,
              "The IAM user has a console password but no MFA device."),
    _RuleSpec("root-account-mfa-enabled", "ROOT_ACCOUNT_MFA_ENABLED", _ACCOUNT_RESOURCE),
    _RuleSpec("iam-root-access-key-check", "IAM_ROOT_ACCESS_KEY_CHECK", _ACCOUNT_RESOURCE),
    _RuleSpec("iam-password-policy", "IAM_PASSWORD_POLICY", _ACCOUNT_RESOURCE),
    _RuleSpec("access-keys-rotated", "ACCESS_KEYS_ROTATED", _IAM_USER, "Access key older than 90 days.",
              '{"maxAccessKeyAge":"90"}'),
    _RuleSpec("iam-user-unused-credentials-check", "IAM_USER_UNUSED_CREDENTIALS_CHECK", _IAM_USER,
              parameters='{"maxCredentialUsageAge":"90"}'),
    _RuleSpec("iam-policy-no-statements-with-admin-access", "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS",
              "AWS::IAM::Policy"),
    _RuleSpec("multi-region-cloudtrail-enabled", "MULTI_REGION_CLOUD_TRAIL_ENABLED", _ACCOUNT_RESOURCE),
)  # fmt: skip
# What every account with Config deploys; prod accounts deploy the whole catalogue.
_BASELINE = frozenset({
    "s3-bucket-public-read-prohibited", "s3-bucket-public-write-prohibited",
    "s3-bucket-server-side-encryption-enabled", BIG_RULE_NAME, "ec2-ebs-encryption-by-default",
    "restricted-ssh", "restricted-common-ports", "vpc-default-security-group-closed", "vpc-flow-logs-enabled",
    "rds-storage-encrypted", "cloudtrail-enabled", "iam-user-mfa-enabled", "root-account-mfa-enabled",
    "iam-root-access-key-check", "iam-password-policy", "access-keys-rotated",
})  # fmt: skip
# IAM and account-wide checks run in the first (home) region only, as AWS recommends, except in
# production accounts, which deploy them in every region (as Security Hub's standards do): there each
# region evaluates the same IAM users and the same account.
_HOME_REGION_ONLY = frozenset({
    "iam-user-mfa-enabled", "root-account-mfa-enabled", "iam-root-access-key-check", "iam-password-policy",
    "access-keys-rotated", "iam-user-unused-credentials-check", "iam-policy-no-statements-with-admin-access",
    "multi-region-cloudtrail-enabled",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Profile:
    """How an account is set up: where Config records, which rules, how compliant it is."""

    config_regions: str  # "all", "some" (first region plus a coin toss each), "home", "none"
    full_catalogue: bool
    weights: tuple[float, float, float]  # COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE
    # Nothing changes in a stable account for weeks: its change-triggered rules last ran a month ago.
    stable: bool = False
    # No recorder of its own: Security Hub's service-linked recorder records in the first region.
    security_hub_only: bool = False


_PROFILES = {
    "core": _Profile("all", False, (0.8, 0.12, 0.08), stable=True),
    "prod": _Profile("all", True, (0.7, 0.2, 0.1)),
    "nonprod": _Profile("some", False, (0.55, 0.35, 0.1)),
    "sandbox": _Profile("home", False, (0.4, 0.5, 0.1)),
    "security_hub_only": _Profile("none", False, (0.6, 0.4, 0.0), security_hub_only=True),
}

# The first MIN_ACCOUNTS entries carry every special case; then realistic fillers, then generated ones.
_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("acme-org-management", "Root", "core"),
    ("acme-sec-control", "Security", "core"),
    ("acme-payments-prod", "Workloads/Prod", "prod"),
    ("acme-log-archive", "Security", "core"),
    ("acme-payments-staging", "Workloads/NonProd", "security_hub_only"),
    (HOSTILE_ACCOUNT_NAME, "Sandbox", "sandbox"),
    ("acme-network-hub", "Infrastructure", "core"),
    ("acme-audit", "Security", "core"),
    ("acme-shared-services", "Infrastructure", "core"),
    ("acme-checkout-prod", "Workloads/Prod", "prod"),
    ("acme-checkout-staging", "Workloads/NonProd", "nonprod"),
    ("acme-identity-prod", "Workloads/Prod", "prod"),
    ("acme-identity-dev", "Workloads/NonProd", "nonprod"),
    ("acme-search-prod", "Workloads/Prod", "prod"),
    ("acme-search-staging", "Workloads/NonProd", "nonprod"),
    ("acme-data-lake-prod", "Workloads/Prod", "prod"),
    ("acme-data-lake-dev", "Workloads/NonProd", "nonprod"),
    ("sandbox-alice", "Sandbox", "sandbox"),
    ("acme-mobile-api-prod", "Workloads/Prod", "prod"),
    ("acme-mobile-api-staging", "Workloads/NonProd", "nonprod"),
    ("acme-billing-prod", "Workloads/Prod", "prod"),
    ("sandbox-chen", "Sandbox", "sandbox"),
    ("acme-analytics-prod", "Workloads/Prod", "prod"),
    ("acme-analytics-dev", "Workloads/NonProd", "nonprod"),
    ("acme-ci-tooling", "Infrastructure", "core"),
)
# Positions in _ACCOUNTS of the accounts with a special role (position 4 is the one without a recorder).
_MANAGEMENT, _HUB, _BIG_RULE, _LEADING_ZERO, _HOSTILE = 0, 1, 2, 3, 5
_SUSPENDED = (("acme-legacy-erp-prod", "prod"), ("sandbox-former-intern", "sandbox"))
_MORE_TEAMS = ("crm", "inventory", "notifications", "reporting", "ledger", "pricing", "media", "logistics")
_PEOPLE = (
    "alice.martin",
    "bjorn.svensson",
    "chen.wei",
    "dara.okafor",
    "emil.novak",
    "fatima.haddad",
    "giulia.rossi",
    "hiro.tanaka",
    "ci-deployer",
    "terraform-runner",
    "backup-agent",
    "legacy-ftp",
)
_WORDS = (
    "logs",
    "artifacts",
    "backups",
    "assets",
    "exports",
    "state",
    "events",
    "orders",
    "users",
    "reports",
)


@dataclass(frozen=True, slots=True)
class _PlannedAccount:
    account: Account
    profile: _Profile
    index: int
    suspended: bool = False
    config_regions: tuple[str, ...] = ()  # where its own recorder records
    service_linked_regions: tuple[str, ...] = ()  # where only Security Hub's recorder records


@dataclass(slots=True)
class _Expected:
    rules: list[RuleResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedRule] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Deployed:
    """A rule as deployed in one account and region, with what AWS reports beyond PutConfigRule."""

    name: str
    spec: _RuleSpec
    created_by: str = ""
    state: str = "ACTIVE"
    modes: tuple[str, ...] = ()
    conformance_pack: str = ""  # the pack that deployed the rule (CreatedBy config-conforms)
    # Another rule of the region checking the same control: this copy finds the same resources failing.
    mirrors: str = ""

    @property
    def skip_reason(self) -> SkipReason | None:
        if self.state in ("DELETING", "DELETING_RESULTS"):
            return SkipReason.DELETING
        if self.modes and "DETECTIVE" not in self.modes:
            return SkipReason.PROACTIVE_ONLY
        return None


def seed_organization(
    sim: SimulatedOrganization,
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    suspended: int = 2,
    regions: tuple[str, ...] = DEFAULT_REGIONS,
    seed: int = 7,
    big_rule_resources: int = 130,
    now: datetime | None = None,
    unused_regions: tuple[str, ...] = (),
) -> SeededOrganization:
    """Build the organization on a running, empty simulator; the same arguments build the same one.

    `accounts` counts ACTIVE accounts (at least 6), `suspended` the extra SUSPENDED ones (at most 2);
    `now` anchors the evaluation timestamps (default: the current second). `unused_regions` are scanned
    too (`SeededOrganization.regions` ends with them), but no account records in them.
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"accounts must be at least {MIN_ACCOUNTS}, got {accounts}")
    if not 0 <= suspended <= len(_SUSPENDED):
        raise ValueError(f"suspended must be between 0 and {len(_SUSPENDED)}, got {suspended}")
    if not regions:
        raise ValueError("regions must name at least one region")
    if set(regions) & set(unused_regions):
        raise ValueError(
            f"unused_regions must not repeat regions: {sorted(set(regions) & set(unused_regions))}"
        )
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    anchor = (now or datetime.now(UTC)).replace(microsecond=0)
    plan = _plan_accounts(rng, accounts, suspended, regions)
    management = plan[_MANAGEMENT].account.id
    hub = HubInfo(
        account_id=HUB_ACCOUNT_ID,
        region=regions[0],
        report_bucket=f"acme-config-reports-{HUB_ACCOUNT_ID}",
        role_arn=_role_arn(HUB_ACCOUNT_ID, HUB_ROLE_NAME),
    )
    ou_ids = _build_organization(sim, plan)
    _create_roles(sim, plan, hub)
    _create_report_bucket(sim, hub)
    expected = _Expected()
    access = _region_access(plan, (*regions, *unused_regions))
    for (account_id, region), state in access.items():
        _moto.set_region_access(account_id, region, state)
    for planned in plan:
        _seed_config(rng, planned, regions, anchor, big_rule_resources, expected)
    active = tuple(p for p in plan if not p.suspended)
    active_ids = {p.account.id for p in active}
    built = SeededOrganization(
        seed=seed,
        regions=(*regions, *unused_regions),
        hub=hub,
        management_account_id=management,
        org_role_arn=_role_arn(management, ORG_ROLE_NAME),
        spoke_role_name=SPOKE_ROLE_NAME,
        accounts=tuple(_with_ou_ids(p.account, ou_ids) for p in active),
        suspended_accounts=tuple(_with_ou_ids(p.account, ou_ids) for p in plan if p.suspended),
        config_enabled=frozenset(
            (p.account.id, r) for p in active for r in (*p.config_regions, *p.service_linked_regions)
        ),
        rules=tuple(expected.rules),
        findings=tuple(expected.findings),
        config_stopped=frozenset(
            (p.account.id, r) for p in active for r in p.config_regions if _stopped(p, r, regions)
        ),
        recorders_failing=frozenset(
            (p.account.id, r) for p in active for r in p.config_regions if _failing(p, r, regions)
        ),
        service_linked_only=frozenset((p.account.id, r) for p in active for r in p.service_linked_regions),
        regions_not_enabled=_where(access, RegionAccess.NOT_ENABLED, active_ids),
        regions_denied_by_scp=_where(access, RegionAccess.DENIED_BY_SCP, active_ids),
        regions_denied_by_control_tower=_where(access, RegionAccess.CONTROL_TOWER_DENY, active_ids),
        skipped_rules=tuple(expected.skipped),
    )
    not_recorded = {p.account.id: _not_recorded(p) for p in active}
    return seed_tags(sim, built, HOSTILE_ACCOUNT_NAME, not_recorded=not_recorded, now=anchor)


def _region_access(
    plan: list[_PlannedAccount], regions: tuple[str, ...]
) -> dict[tuple[str, str], RegionAccess]:
    """Opt-in regions are enabled in core and production accounts only; sandboxes keep to the first, by
    Control Tower's region deny, and the hostile sandbox by an older policy that denies Config too."""
    access: dict[tuple[str, str], RegionAccess] = {}
    for planned in plan:
        for region in regions:
            if region in OPT_IN_REGIONS and planned.profile.config_regions != "all":
                access[(planned.account.id, region)] = RegionAccess.NOT_ENABLED
            elif planned.index == _HOSTILE and region != regions[0]:
                access[(planned.account.id, region)] = RegionAccess.DENIED_BY_SCP
            elif planned.account.ou == SCP_REGION_DENY_OU and region != regions[0]:
                access[(planned.account.id, region)] = RegionAccess.CONTROL_TOWER_DENY
    return access


def _where(
    access: dict[tuple[str, str], RegionAccess], state: RegionAccess, accounts: set[str]
) -> frozenset[tuple[str, str]]:
    return frozenset(where for where, value in access.items() if value is state and where[0] in accounts)


def _stopped(planned: _PlannedAccount, region: str, regions: tuple[str, ...]) -> bool:
    return planned.index == _LEADING_ZERO and region == regions[-1]


def _failing(planned: _PlannedAccount, region: str, regions: tuple[str, ...]) -> bool:
    # Not the management account's only region: it would take all of its findings out of the report.
    return planned.index == _MANAGEMENT and region == regions[-1] and len(regions) > 1


# --- planning: pure and deterministic ---------------------------------------------------------------


def _plan_accounts(
    rng: random.Random, count: int, suspended: int, regions: tuple[str, ...]
) -> list[_PlannedAccount]:
    specs = [*_ACCOUNTS[:count], *_generated_accounts(count - len(_ACCOUNTS))]
    ids = _account_ids(rng, count + suspended)
    planned = []
    for index, (name, ou, profile_name) in enumerate(specs):
        profile = _PROFILES[profile_name]
        planned.append(
            _PlannedAccount(
                account=Account(id=ids[index], name=name, ou=ou, email=_email(name)),
                profile=profile,
                index=index,
                config_regions=_config_regions(rng, profile, regions),
                service_linked_regions=regions[:1] if profile.security_hub_only else (),
            )
        )
    for offset, (name, profile_name) in enumerate(_SUSPENDED[:suspended]):
        profile = _PROFILES[profile_name]
        planned.append(
            _PlannedAccount(
                account=Account(id=ids[count + offset], name=name, ou="Suspended", email=_email(name)),
                profile=profile,
                index=count + offset,
                suspended=True,
                config_regions=_config_regions(rng, profile, regions),
            )
        )
    return planned


def _generated_accounts(count: int) -> Iterator[tuple[str, str, str]]:
    for number in range(max(count, 0)):
        team = _MORE_TEAMS[(number // 2) % len(_MORE_TEAMS)]
        generation = number // (2 * len(_MORE_TEAMS))
        stem = f"acme-{team}{generation + 1 if generation else ''}"
        if number % 2 == 0:
            yield f"{stem}-prod", "Workloads/Prod", "prod"
        else:
            yield f"{stem}-staging", "Workloads/NonProd", "nonprod"


def _account_ids(rng: random.Random, count: int) -> list[str]:
    """Unique 12-digit IDs: the hub's at its index, a "00…" one for the leading-zero account."""
    ids: list[str] = []
    taken = {HUB_ACCOUNT_ID}
    for index in range(count):
        if index == _HUB:
            ids.append(HUB_ACCOUNT_ID)
            continue
        low, high = (0, 10**10) if index == _LEADING_ZERO else (10**11, 10**12)
        candidate = HUB_ACCOUNT_ID
        while candidate in taken:
            candidate = f"{rng.randrange(low, high):012d}"
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _config_regions(rng: random.Random, profile: _Profile, regions: tuple[str, ...]) -> tuple[str, ...]:
    if profile.config_regions == "all":
        return regions
    if profile.config_regions == "home":
        return regions[:1]
    if profile.config_regions == "some":
        # An opt-in region is enabled only in accounts that record everywhere (see _region_access).
        drawn = [r for r in regions[1:] if rng.random() < 0.5]
        return (regions[0], *(r for r in drawn if r not in OPT_IN_REGIONS))
    return ()


def _email(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return f"aws+{slug}@acme.example"


def _role_arn(account_id: str, role_name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def _with_ou_ids(account: Account, ou_ids: dict[str, str]) -> Account:
    if account.ou == "Root":
        return account
    parts = account.ou.split("/")
    path_ids = tuple(ou_ids["/".join(parts[: depth + 1])] for depth in range(len(parts)))
    return Account(id=account.id, name=account.name, ou=account.ou, ou_ids=path_ids, email=account.email)


# --- organization, roles and bucket, through the AWS APIs ---------------------------------------


def _build_organization(sim: SimulatedOrganization, plan: list[_PlannedAccount]) -> dict[str, str]:
    """Create the organization as its management account; returns OU path -> OU ID."""
    management = plan[_MANAGEMENT].account
    org = sim.client("organizations", region="us-east-1", account_id=management.id)
    org.create_organization(FeatureSet="ALL")
    _moto.rename_account(management.id, management.id, management.name)
    root_id = org.list_roots()["Roots"][0]["Id"]
    ou_ids: dict[str, str] = {}
    for path in _ORG_UNITS:
        parent, _, name = path.rpartition("/")
        created = org.create_organizational_unit(ParentId=ou_ids.get(parent, root_id), Name=name)
        ou_ids[path] = created["OrganizationalUnit"]["Id"]
    for planned in plan[1:]:
        account = planned.account
        with _moto.chosen_account_id(account.id):
            org.create_account(Email=account.email, AccountName=account.name)
        org.move_account(AccountId=account.id, SourceParentId=root_id, DestinationParentId=ou_ids[account.ou])
        if planned.suspended:
            org.close_account(AccountId=account.id)
    return ou_ids


def _create_roles(sim: SimulatedOrganization, plan: list[_PlannedAccount], hub: HubInfo) -> None:
    # As the Terraform modules write them: the spoke and org roles let a hub on EKS Pod Identity bring
    # its transitive session tags (sts:TagSession, which the simulator checks).
    trust_hub = _trust(({"AWS": hub.role_arn}, ["sts:AssumeRole", "sts:TagSession"]))
    for planned in plan:
        iam = sim.client("iam", account_id=planned.account.id)
        iam.create_role(RoleName=SPOKE_ROLE_NAME, AssumeRolePolicyDocument=trust_hub)
        if planned.index == _MANAGEMENT:
            iam.create_role(RoleName=ORG_ROLE_NAME, AssumeRolePolicyDocument=trust_hub)
        if planned.index == _HUB:
            # In production it trusts one of them: the EKS cluster's OIDC provider (IRSA; moto does not
            # check it) or EKS Pod Identity (the simulated agent assumes it, tagging the session).
            hub_trust = _trust(
                (
                    {"Federated": f"arn:aws:iam::{hub.account_id}:oidc-provider/oidc.eks.example"},
                    ["sts:AssumeRoleWithWebIdentity"],
                ),
                ({"Service": "pods.eks.amazonaws.com"}, ["sts:AssumeRole", "sts:TagSession"]),
            )
            iam.create_role(RoleName=HUB_ROLE_NAME, AssumeRolePolicyDocument=hub_trust)


def _trust(*statements: tuple[dict[str, str], list[str]]) -> str:
    """A trust policy with one Allow statement per (principal, actions)."""
    allowed = [
        {"Effect": "Allow", "Principal": principal, "Action": actions} for principal, actions in statements
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": allowed})


def _create_report_bucket(sim: SimulatedOrganization, hub: HubInfo) -> None:
    s3 = sim.client("s3", region=hub.region, account_id=hub.account_id)
    location: dict[str, Any] = {}
    if hub.region != "us-east-1":
        location["CreateBucketConfiguration"] = {"LocationConstraint": hub.region}
    s3.create_bucket(Bucket=hub.report_bucket, **location)


# --- Config: recorders, rules and evaluations ------------------------------------------------------


def _seed_config(
    rng: random.Random,
    planned: _PlannedAccount,
    regions: tuple[str, ...],
    now: datetime,
    big_rule_resources: int,
    expected: _Expected,
) -> None:
    account_id = planned.account.id
    # A global resource is one resource whichever region evaluates it: the first region's evaluations of
    # an IAM or account-level rule decide its resources and their compliance everywhere.
    global_evaluations: dict[str, list[Evaluation]] = {}
    for region in (*planned.config_regions, *planned.service_linked_regions):
        home = region == regions[0]
        by_rule: dict[str, list[Evaluation]] = {}
        rules = _region_rules(rng, planned, region, home)
        own_recorder = region in planned.config_regions
        _moto.enable_config(
            account_id,
            region,
            recorder=_recorder(account_id, home=home, excluded=_not_recorded(planned))
            if own_recorder
            else None,
            rules=[_config_rule(rule.name, rule.spec) for rule in rules],
        )
        if not own_recorder:
            _add_security_hub_recorder(account_id, region, now)
        _deploy_packs(account_id, region, rules, now)
        stopped = own_recorder and _stopped(planned, region, regions)
        if stopped:
            _moto.stop_recorder(account_id, region)
        if own_recorder and _failing(planned, region, regions):
            _moto.fail_recorder(
                account_id, region, error_code=RECORDER_ERROR_CODE, error_message=RECORDER_ERROR, at=now
            )
            stopped = True  # its results are as stale as a stopped recorder's: not in a correct report
        store = _moto.compliance_store(account_id, region)
        for rule in rules:
            _set_reported_fields(account_id, region, rule)
            if rule.mirrors:
                evaluations = [replace(e, rule_name=rule.name) for e in by_rule[rule.mirrors]]
            elif rule.spec.resource_type in GLOBAL_RESOURCE_TYPES and rule.name in global_evaluations:
                evaluations = [
                    replace(e, evaluated_at=_evaluated_at(rng, planned, rule.spec, now))
                    for e in global_evaluations[rule.name]
                ]
            else:
                evaluations = _rule_evaluations(
                    rng, planned, region, rule, now, big_rule_resources, home=home
                )
                if rule.spec.resource_type in GLOBAL_RESOURCE_TYPES:
                    global_evaluations[rule.name] = evaluations
            by_rule[rule.name] = evaluations
            store.put(evaluations)
            invoked = _invoked(planned, home, rule, now)
            if invoked is not None:
                store.invoke(rule.name, invoked)
            failure = _failure(planned, home, rule, now)
            if failure is not None:
                store.fail(rule.name, failure)
            if planned.suspended or stopped:
                continue
            if rule.skip_reason is not None:
                normalized = normalize_rule_name(rule.name, rule.created_by or None)
                expected.skipped.append(
                    SkippedRule(account_id, region, rule.name, normalized, rule.skip_reason)
                )
            else:
                _expect(expected, account_id, region, rule, evaluations, failure, invoked, now)


def _region_rules(rng: random.Random, planned: _PlannedAccount, region: str, home: bool) -> list[_Deployed]:
    """The rules deployed in one region: Security Hub's alone where only its recorder records."""
    if region in planned.service_linked_regions:
        return list(_security_hub_rules(rng))
    rules = [
        *_rules_for(planned, home),
        *_service_linked_rules(rng, planned),
        *_organization_pack_rules(planned, region),
    ]
    if planned.index == _BIG_RULE and home:
        rules.extend(_lifecycle_rules())
    return rules


def _add_security_hub_recorder(account_id: str, region: str, now: datetime) -> None:
    """Security Hub CSPM's service-linked recorder: always recording, in the `INTERNAL` scope."""
    name = SERVICE_LINKED_NAMES[SECURITY_HUB]
    _moto.service_linked_recorders(account_id, region).put(
        Recorder(
            name=name,
            arn=recorder_arn(account_id, region, name),
            recording=True,
            started_at=now - timedelta(days=60),
            status_changed_at=now - timedelta(hours=2),
            service_principal=SECURITY_HUB,
        )
    )


def _deploy_packs(account_id: str, region: str, rules: list[_Deployed], now: datetime) -> None:
    """Register the conformance packs that deployed some of `rules` (IDs derived, not drawn)."""
    by_pack: dict[str, list[str]] = {}
    for rule in rules:
        if rule.conformance_pack:
            by_pack.setdefault(rule.conformance_pack, []).append(rule.name)
    packs = _moto.conformance_packs(account_id, region)
    for name, names in by_pack.items():
        pack_id = _derived_suffix(f"{account_id}/{region}/{name}", 9)
        packs.put(ConformancePack(name, pack_id, tuple(names), deployed_at=now - timedelta(days=30)))


def _set_reported_fields(account_id: str, region: str, rule: _Deployed) -> None:
    fields: dict[str, Any] = {}
    if rule.created_by:
        fields["created_by"] = rule.created_by
    if rule.state != "ACTIVE":
        fields["config_rule_state"] = rule.state
    if rule.modes:
        fields["evaluation_modes"] = [{"Mode": mode} for mode in rule.modes]
    if fields:
        _moto.set_rule_fields(account_id, region, rule.name, **fields)


def _service_linked_rules(rng: random.Random, planned: _PlannedAccount) -> Iterator[_Deployed]:
    """Rules AWS services deploy into core and production accounts, each copy with its own suffix."""
    if planned.profile.config_regions != "all":
        return
    yield from _security_hub_rules(rng)
    yield _Deployed(
        f"OrgConfigRule-ec2-stopped-instance-{_suffix(rng, 8)}",
        _RuleSpec("", "EC2_STOPPED_INSTANCE", _INSTANCE),
        created_by="config-multiaccountsetup.amazonaws.com",
    )
    yield _Deployed(
        f"ebs-snapshot-public-restorable-check-conformance-pack-{_suffix(rng, 9)}",
        _RuleSpec("", "EBS_SNAPSHOT_PUBLIC_RESTORABLE_CHECK", _ACCOUNT_RESOURCE),
        created_by="config-conforms.amazonaws.com",
        conformance_pack=PCI_PACK if planned.profile.full_catalogue else CIS_PACK,
    )
    if planned.profile.full_catalogue:
        # Both packs deploy their own copy of one control: the same buckets fail both copies.
        public_read = next(spec for spec in _CATALOGUE if spec.name == _DOUBLE_DEPLOYED)
        for pack in (CIS_PACK, PCI_PACK):
            yield _Deployed(
                f"{_DOUBLE_DEPLOYED}-conformance-pack-{_suffix(rng, 9)}",
                public_read,
                created_by="config-conforms.amazonaws.com",
                conformance_pack=pack,
                mirrors=_DOUBLE_DEPLOYED,
            )


def _organization_pack_rules(planned: _PlannedAccount, region: str) -> Iterator[_Deployed]:
    """The organization conformance pack's copy in a workload account's region, and the rule it deployed.

    The suffixes are derived from the account and region, not drawn: seeding the pack leaves the random
    stream, and so every other seeded value, as it was.
    """
    if not planned.account.ou.startswith("Workloads/"):
        return
    where = f"{planned.account.id}/{region}/{ORGANIZATION_PACK}"
    rule_suffix = _derived_suffix(f"{where}/{ORGANIZATION_PACK_RULE}", 9)
    yield _Deployed(
        f"{ORGANIZATION_PACK_RULE}-conformance-pack-{rule_suffix}",
        next(spec for spec in _CATALOGUE if spec.name == ORGANIZATION_PACK_RULE),
        created_by=CONFORMANCE_PACK,
        conformance_pack=f"OrgConformsPack-{ORGANIZATION_PACK}-{_derived_suffix(where, 8)}",
        mirrors=ORGANIZATION_PACK_RULE,
    )


def _security_hub_rules(rng: random.Random) -> Iterator[_Deployed]:
    """The rules Security Hub CSPM deploys for its controls, each with its own suffix."""
    yield _Deployed(
        f"securityhub-s3-bucket-level-public-access-prohibited-{_suffix(rng, 5)}",
        _RuleSpec("", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", _S3, "Block Public Access is off."),
        created_by=SECURITY_HUB,
    )


def _lifecycle_rules() -> Iterator[_Deployed]:
    """Rules in every state and evaluation mode AWS reports besides a plain ACTIVE one."""
    for name, state in DELETING_RULES.items():
        identifier = name.upper().replace("-", "_")
        yield _Deployed(name, _RuleSpec(name, identifier, _S3 if "s3" in name else _SG), state=state)
    yield _Deployed(
        PROACTIVE_RULE,
        _RuleSpec(PROACTIVE_RULE, "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", _S3),
        modes=("PROACTIVE",),
    )
    yield _Deployed(
        EVALUATING_RULE,
        _RuleSpec(EVALUATING_RULE, "LAMBDA_CONCURRENCY_CHECK", "AWS::Lambda::Function"),
        state="EVALUATING",
        modes=("DETECTIVE", "PROACTIVE"),
    )


def _suffix(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_SUFFIX_CHARACTERS, k=length))


def _derived_suffix(key: str, length: int) -> str:
    """A generated suffix of `length` characters derived from `key` (the same key, the same suffix)."""
    digest = hashlib.sha256(key.encode()).digest()
    return "".join(_SUFFIX_CHARACTERS[byte % len(_SUFFIX_CHARACTERS)] for byte in digest[:length])


def _invoked(planned: _PlannedAccount, home: bool, rule: _Deployed, now: datetime) -> datetime | None:
    """When AWS last invoked the rule, where that is later than its last written result."""
    if planned.index == _BIG_RULE and home and rule.name == INVOKED_RULE:
        return now - timedelta(hours=1)
    return None


def _failure(
    planned: _PlannedAccount, home: bool, rule: _Deployed, now: datetime
) -> EvaluationFailure | None:
    if planned.index != _BIG_RULE or not home or rule.name != FAILING_RULE:
        return None
    return EvaluationFailure(
        failed_at=now - timedelta(minutes=5),
        error_code=FAILURE_CODE,
        error_message="AWS Config could not read the trails: the service-linked role lacks permission.",
    )


def _rule_evaluations(
    rng: random.Random,
    planned: _PlannedAccount,
    region: str,
    rule: _Deployed,
    now: datetime,
    big_rule_resources: int,
    *,
    home: bool,
) -> list[Evaluation]:
    if rule.skip_reason is SkipReason.PROACTIVE_ONLY:
        return []  # a proactive-only rule never has detective results
    evaluations = _evaluations(rng, planned, region, rule.name, rule.spec, now, big_rule_resources, home)
    if planned.index == _BIG_RULE and home and rule.name == STALE_RULE:
        # A periodic rule last run three weeks ago: AWS stopped running it without a word.
        return [replace(e, evaluated_at=now - timedelta(days=20)) for e in evaluations]
    if planned.index == _BIG_RULE and home and rule.name == INVOKED_RULE:
        return [replace(e, evaluated_at=now - timedelta(days=5)) for e in evaluations]
    return evaluations


def _recorder(
    account_id: str, *, home: bool = True, excluded: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The recorder AWS recommends: global (IAM) types in one region only, the home region."""
    group: dict[str, Any] = {"allSupported": True, "includeGlobalResourceTypes": home}
    if excluded:
        left_out = excluded if home else excluded | GLOBAL_RESOURCE_TYPES - {_ACCOUNT_RESOURCE}
        group = {
            "allSupported": False,
            "exclusionByResourceTypes": {"resourceTypes": sorted(left_out)},
            "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
        }
    return {
        "name": "default",
        "roleARN": _role_arn(account_id, "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"),
        "recordingGroup": group,
    }


def _not_recorded(planned: _PlannedAccount) -> frozenset[str]:
    """The resource types the account's recorder leaves out (production saves on KMS keys' churn)."""
    return NOT_RECORDED_IN_PRODUCTION if planned.profile.full_catalogue else frozenset()


def _rules_for(planned: _PlannedAccount, home: bool) -> Iterator[_Deployed]:
    full = planned.profile.full_catalogue
    for spec in _CATALOGUE:
        if (spec.name in _BASELINE or full) and (home or full or spec.name not in _HOME_REGION_ONLY):
            yield _Deployed(spec.name, spec)
    if planned.index == _HOSTILE and home:
        by_name = {spec.name: spec for spec in _CATALOGUE}
        yield _Deployed(HOSTILE_RULE_NAMES[0], by_name["s3-bucket-public-read-prohibited"])
        yield _Deployed(HOSTILE_RULE_NAMES[1], by_name["restricted-ssh"])


def _config_rule(rule_name: str, spec: _RuleSpec) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ConfigRuleName": rule_name,
        "Description": DESCRIPTIONS[spec.identifier],
        "Source": {"Owner": "AWS", "SourceIdentifier": spec.identifier},
    }
    if spec.resource_type != _ACCOUNT_RESOURCE:
        rule["Scope"] = {"ComplianceResourceTypes": [spec.resource_type]}
    if spec.parameters:
        rule["InputParameters"] = spec.parameters
    if spec.name in _FREQUENCIES:
        rule["MaximumExecutionFrequency"] = _FREQUENCIES[spec.name]
    return rule


def _evaluations(
    rng: random.Random,
    planned: _PlannedAccount,
    region: str,
    rule_name: str,
    spec: _RuleSpec,
    now: datetime,
    big_rule_resources: int,
    home: bool,
) -> list[Evaluation]:
    def evaluation(resource_id: str, compliance: str, annotation: str = "") -> Evaluation:
        when = _evaluated_at(rng, planned, spec, now)
        return Evaluation(rule_name, spec.resource_type, resource_id, compliance, when, annotation)

    if planned.index == _BIG_RULE and home and rule_name == BIG_RULE_NAME:
        volumes = [
            _resource_id(rng, spec.resource_type, planned, region, n) for n in range(big_rule_resources + 20)
        ]
        return [
            evaluation(vid, NON_COMPLIANT if n < big_rule_resources else COMPLIANT, spec.annotation)
            for n, vid in enumerate(volumes)
        ]
    if planned.index == _HOSTILE and home and spec.resource_type == "AWS::IAM::User":
        return [
            evaluation(user, NON_COMPLIANT, note)
            for user, note in zip(HOSTILE_USER_NAMES, FORMULA_ANNOTATIONS, strict=True)
        ]
    if planned.index == _HOSTILE and home and rule_name in HOSTILE_RULE_NAMES:
        return [
            evaluation(_resource_id(rng, spec.resource_type, planned, region, n), NON_COMPLIANT, note)
            for n, note in enumerate((UNICODE_ANNOTATION, LONG_ANNOTATION))
        ]
    if spec.resource_type == _ACCOUNT_RESOURCE:
        return [evaluation(planned.account.id, _draw(rng, planned.profile), spec.annotation)]
    if rng.random() < 0.06:
        return []  # never evaluated: INSUFFICIENT_DATA
    results = []
    for n in range(rng.randint(1, 8)):
        compliance = _draw(rng, planned.profile)
        resource_id = _resource_id(rng, spec.resource_type, planned, region, n)
        results.append(
            evaluation(resource_id, compliance, spec.annotation if compliance == NON_COMPLIANT else "")
        )
    return results


def _evaluated_at(rng: random.Random, planned: _PlannedAccount, spec: _RuleSpec, now: datetime) -> datetime:
    """When AWS last wrote this rule's result for a resource: a periodic rule within its day, a rule
    triggered by changes when something last changed (a month ago in a stable account)."""
    if spec.identifier in PERIODIC_MANAGED_RULES:
        return now - timedelta(seconds=rng.randrange(600, 20 * 3600))
    if planned.profile.stable:
        return now - timedelta(seconds=rng.randrange(20 * 86400, 40 * 86400))
    return now - timedelta(seconds=rng.randrange(600, 72 * 3600))


def _draw(rng: random.Random, profile: _Profile) -> str:
    return rng.choices((COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE), weights=profile.weights)[0]


def _resource_id(
    rng: random.Random, resource_type: str, planned: _PlannedAccount, region: str, n: int
) -> str:
    slug = planned.account.email.split("+", 1)[1].split("@", 1)[0]
    hex16 = f"{rng.getrandbits(64):016x}"
    ids = {
        "AWS::S3::Bucket": f"{slug}-{rng.choice(_WORDS)}-{region}-{n}",
        "AWS::EC2::Volume": f"vol-0{hex16}",
        "AWS::EC2::Instance": f"i-0{hex16}",
        "AWS::EC2::SecurityGroup": f"sg-0{hex16}",
        "AWS::EC2::VPC": f"vpc-0{hex16}",
        "AWS::EFS::FileSystem": f"fs-0{hex16}",
        "AWS::IAM::User": f"{rng.choice(_PEOPLE)}-{n}",
        "AWS::IAM::Policy": f"ANPA{hex16.upper()}",
        "AWS::RDS::DBInstance": f"db-{hex16.upper()}{n:02d}",
        "AWS::RDS::DBSnapshot": f"rds:{slug}-db-{n}-snapshot",
        "AWS::KMS::Key": f"{hex16[:8]}-{hex16[8:12]}-4{hex16[12:15]}-8{hex16[:3]}-{hex16[4:16]}",
        "AWS::Lambda::Function": f"{slug}-{rng.choice(_WORDS)}-handler-{n}",
        "AWS::DynamoDB::Table": f"{slug}-{rng.choice(_WORDS)}-{n}",
        "AWS::EKS::Cluster": f"{slug}-eks-{n}",
        "AWS::Logs::LogGroup": f"/aws/lambda/{slug}-{rng.choice(_WORDS)}-{n}",
        "AWS::ElasticLoadBalancingV2::LoadBalancer": (
            f"arn:aws:elasticloadbalancing:{region}:{planned.account.id}:loadbalancer/app/{slug}-alb-{n}/{hex16}"
        ),
    }
    return ids[resource_type]


def _expect(
    expected: _Expected,
    account_id: str,
    region: str,
    rule: _Deployed,
    evaluations: list[Evaluation],
    failure: EvaluationFailure | None,
    invoked: datetime | None,
    now: datetime,
) -> None:
    compliance, noncompliant = rule_compliance(evaluations)
    normalized = normalize_rule_name(rule.name, rule.created_by or None)
    succeeded = max((e.evaluated_at for e in evaluations), default=None)
    ran = max((t for t in (succeeded, invoked) if t is not None), default=None)
    frequency = FREQUENCIES.get(_FREQUENCIES.get(rule.spec.name, "TwentyFour_Hours"), DEFAULT_FREQUENCY)
    periodic = rule.spec.identifier in PERIODIC_MANAGED_RULES
    flag = None
    if failure is not None and (ran is None or failure.failed_at > ran):
        flag = EvaluationFlag.FAILED
    elif periodic and ran is not None and now - ran > frequency + STALE_MARGIN:
        flag = EvaluationFlag.STALE
    expected.rules.append(
        RuleResult(
            account_id,
            region,
            rule.name,
            Compliance(compliance),
            noncompliant,
            normalized_name=normalized,
            created_by=rule.created_by,
            state=rule.state,
            last_successful_evaluation=ran,
            last_failed_evaluation=failure.failed_at if failure else None,
            last_error_code=failure.error_code if failure else "",
            evaluation_flag=flag,
            conformance_packs=(rule.conformance_pack,) if rule.conformance_pack else (),
        )
    )
    for e in evaluations:
        if e.compliance == NON_COMPLIANT:
            expected.findings.append(
                Finding(
                    account_id,
                    region,
                    rule.name,
                    e.resource_type,
                    e.resource_id,
                    e.annotation,
                    e.evaluated_at,
                    normalized_name=normalized,
                )
            )
