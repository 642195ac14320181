"""The AWS permissions config-report needs, per role: the one source for the code, Terraform and tests.

Three roles take part in a run (see `deploy/terraform/`), four with the aggregator source:

    hub-irsa-role         the pod's own identity (IRSA): assumes the roles below, writes the report
    org-list-role         in the management account: lists the organization's active accounts
    spoke-read-role       in every account: reads AWS Config compliance, region by region
    aggregator-read-role  in the aggregator's account (CONFIG_REPORT_SOURCE=aggregator, and `verify`):
                          reads the organization's compliance from one AWS Config aggregator

Each role's permissions are a few statements, each an exact list of actions over one resource scope.
`python tools/permissions.py --write` renders them to the `actions.json` file every Terraform
module reads, and to the runbook's tables of what each role may do (docs/deploy.md, between the
`RUNBOOK_BEGIN` and `RUNBOOK_END` markers), which security reviewers approve;
`tests/deploy/test_permissions.py` fails when any of them is stale. The same statements render
complete policy documents (`policy_document`) for the least-privilege test, which runs the real scan
under them with IAM enforcement on and then removes each action in turn.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

# Generated files say so, and say how to regenerate them.
GENERATED_NOTE = "Generated from tools/permissions.py by `python tools/permissions.py --write`; do not edit."
ACTIONS_FILE = "actions.json"
MODULES_DIR = Path("deploy/terraform/modules")
RUNBOOK = Path("docs/deploy.md")
RUNBOOK_BEGIN = "<!-- BEGIN generated from tools/permissions.py by `python tools/permissions.py --write` -->"
RUNBOOK_END = "<!-- END generated from tools/permissions.py -->"


class Role(StrEnum):
    """A role of the deployment, named after the Terraform module that creates it."""

    HUB = "hub-irsa-role"
    ORG = "org-list-role"
    SPOKE = "spoke-read-role"
    AGGREGATOR = "aggregator-read-role"


class Scope(StrEnum):
    """The resources a statement's actions are limited to (the Terraform modules fill in the ARNs)."""

    # Actions that accept no narrower resource.
    ANY = "any"
    # Config rules, in any region of the account (rule ARNs end in IDs that AWS assigns).
    CONFIG_RULES = "config-rules"
    # Conformance packs, in any region of the account (pack ARNs end in IDs that AWS assigns).
    CONFORMANCE_PACKS = "conformance-packs"
    # Configuration aggregators, in any region of the account (their ARNs end in IDs that AWS assigns).
    CONFIG_AGGREGATORS = "config-aggregators"
    # The organization's root and OUs (their IDs are only learnt by listing them).
    ORGANIZATION_PARENTS = "organization-parents"
    # The organization's member accounts (their tags name each account's owner).
    ORGANIZATION_ACCOUNTS = "organization-accounts"
    # The spoke role in every account, the org role in the management account, and the aggregator role.
    SCANNER_ROLES = "scanner-roles"
    # Objects under the report prefix of the report bucket.
    REPORT_OBJECTS = "report-objects"
    # The report bucket, listed only under the report prefix (an s3:prefix condition).
    REPORT_LISTING = "report-listing"
    # The KMS key that encrypts the reports (only when one is configured).
    REPORT_KEY = "report-key"
    # Objects the hub reads: everything under the report prefix (earlier runs' snapshots, the run history,
    # the Jira ticket records, a sharded run's identity and parts) and the accepted-exceptions file (when
    # it is kept in S3).
    READ_OBJECTS = "read-objects"


# How the runbook names each scope's resources (the Terraform modules fill in the ARNs).
SCOPE_WORDS: Mapping[Scope, str] = {
    Scope.ANY: "`*`",
    Scope.CONFIG_RULES: "Config rules, `arn:aws:config:*:*:config-rule/*`",
    Scope.CONFORMANCE_PACKS: "conformance packs, `arn:aws:config:*:*:conformance-pack/*`",
    Scope.CONFIG_AGGREGATORS: "configuration aggregators, `arn:aws:config:*:*:config-aggregator/*`",
    Scope.ORGANIZATION_PARENTS: "the organization's root and OUs",
    Scope.ORGANIZATION_ACCOUNTS: "the organization's accounts",
    Scope.SCANNER_ROLES: (
        "the spoke role (in every account, or `spoke_account_ids`), the org role, and the aggregator role "
        "when one is set"
    ),
    Scope.REPORT_OBJECTS: "objects under the report prefix",
    Scope.REPORT_LISTING: "the report bucket, listing under the report prefix only (`s3:prefix`)",
    Scope.REPORT_KEY: "the report KMS key, when one is set",
    Scope.READ_OBJECTS: "objects under the report prefix, and the exceptions file when it is in S3",
}
# The runbook's heading of each role's table.
ROLE_WORDS: Mapping[Role, str] = {
    Role.SPOKE: "Spoke read role (`system-config-report-generator-read-role`, every account)",
    Role.ORG: "Org-list role (`system-config-report-generator-list-org-role`, management account)",
    Role.AGGREGATOR: (
        "Aggregator read role (`system-config-report-generator-read-aggregator-role`, the aggregator's "
        "account; aggregator source only)"
    ),
    Role.HUB: "Hub role (`system-config-report-generator-write-role-<environment>`, security account)",
}


# The runbook's tables, in the order the roles are deployed.
RUNBOOK_ORDER = (Role.SPOKE, Role.ORG, Role.AGGREGATOR, Role.HUB)


@dataclass(frozen=True, slots=True)
class Action:
    """One IAM action and the call in config-report that needs it.

    `direct` is False for an action no code calls itself: AWS checks it while serving another call
    (S3 asks KMS for a data key when it stores an SSE-KMS object).
    """

    name: str
    needed_by: str
    direct: bool = True


@dataclass(frozen=True, slots=True)
class Statement:
    """Actions granted together over one resource scope; `sid` is the policy statement's Sid."""

    sid: str
    scope: Scope
    actions: tuple[Action, ...]

    @property
    def action_names(self) -> tuple[str, ...]:
        """The IAM action names, in declaration order."""
        return tuple(action.name for action in self.actions)


@dataclass(frozen=True, slots=True)
class Targets:
    """The concrete resources a rendered policy document names."""

    scanner_role_arns: tuple[str, ...] = ()
    report_bucket: str = ""
    report_prefix: str = ""
    report_key_arn: str | None = None
    exceptions_object_arn: str | None = None


POLICIES: Mapping[Role, tuple[Statement, ...]] = {
    Role.SPOKE: (
        Statement(
            # DescribeConfigurationRecorderStatus stays on "*": in a region without Config there is no
            # recorder to name, and the answer "none" is what the report needs to hear.
            "ReadConfigCompliance",
            Scope.ANY,
            (
                Action(
                    "config:DescribeConfigurationRecorderStatus",
                    "scan: is there a recorder in this region, is it recording, did its last recording fail?",
                ),
                Action(
                    "config:ListConfigurationRecorders",
                    "scan: where the account has no recorder of its own, does a service-linked one record?",
                ),
                Action("config:DescribeConfigRules", "scan: the rules of one region, all pages"),
                Action("config:DescribeComplianceByConfigRule", "scan: each rule's compliance"),
                Action(
                    "config:DescribeConfigRuleEvaluationStatus",
                    "scan: when each rule last evaluated, and whether that failed",
                ),
                Action(
                    "config:SelectResourceConfig",
                    "owners: failing resources' tags, by advanced query (BatchGetResourceConfig has none)",
                ),
                Action(
                    "config:ListDiscoveredResources",
                    "owners: was a failing resource without a configuration item deleted, or never recorded?",
                ),
                Action(
                    "config:DescribeConformancePacks",
                    "packs: the conformance packs of a region holding pack-deployed rules (catalogue)",
                ),
            ),
        ),
        Statement(
            "ReadConformancePackRules",
            Scope.CONFORMANCE_PACKS,
            (
                Action(
                    "config:DescribeConformancePackCompliance",
                    "packs: the rules of each conformance pack, all pages (catalogue)",
                ),
            ),
        ),
        Statement(
            "ReadNoncompliantResources",
            Scope.CONFIG_RULES,
            (Action("config:GetComplianceDetailsByConfigRule", "scan: non-compliant resources, all pages"),),
        ),
        Statement(
            "ListEnabledRegions",
            Scope.ANY,
            (Action("ec2:DescribeRegions", "scan: the regions enabled in the account"),),
        ),
    ),
    Role.ORG: (
        Statement(
            "FindOrganizationRoot",
            Scope.ANY,
            (Action("organizations:ListRoots", "organization: the root the OU walk starts from"),),
        ),
        Statement(
            "ListActiveAccounts",
            Scope.ORGANIZATION_PARENTS,
            (
                Action("organizations:ListOrganizationalUnitsForParent", "organization: the OU tree"),
                Action(
                    "organizations:ListAccountsForParent", "organization: accounts, names and state per OU"
                ),
            ),
        ),
        Statement(
            "ReadAccountOwners",
            Scope.ORGANIZATION_ACCOUNTS,
            (Action("organizations:ListTagsForResource", "owners: each account's tags, once per run"),),
        ),
    ),
    Role.AGGREGATOR: (
        Statement(
            # IAM names no resource for DescribeConfigurationAggregators: it lists the account's aggregators.
            "FindAggregator",
            Scope.ANY,
            (
                Action(
                    "config:DescribeConfigurationAggregators",
                    "aggregator: it exists, and which regions it aggregates",
                ),
            ),
        ),
        Statement(
            # The reads accept the aggregator's ARN, which ends in an ID AWS assigns.
            "ReadAggregatedCompliance",
            Scope.CONFIG_AGGREGATORS,
            (
                Action(
                    "config:DescribeConfigurationAggregatorSourcesStatus",
                    "aggregator: each source's last update (failed and stale sources are gaps)",
                ),
                Action(
                    "config:DescribeAggregateComplianceByConfigRules",
                    "aggregator: each rule's compliance in every account and region, all pages",
                ),
                Action(
                    "config:GetAggregateComplianceDetailsByConfigRule",
                    "aggregator: non-compliant resources, all pages",
                ),
                Action(
                    "config:SelectAggregateResourceConfig",
                    "aggregator: failing resources' tags (owners); findings=query: non-compliant resources",
                ),
            ),
        ),
    ),
    Role.HUB: (
        Statement(
            "AssumeScannerRoles",
            Scope.SCANNER_ROLES,
            (
                Action(
                    "sts:AssumeRole",
                    "pipeline, scan: the org role once, each spoke role per account, or the aggregator role",
                ),
                # EKS Pod Identity's session tags are transitive: every AssumeRole the hub makes carries
                # them, and AWS then checks sts:TagSession too (in the caller's policy and the trust).
                Action(
                    "sts:TagSession",
                    "pipeline, scan: with EKS Pod Identity, each AssumeRole carries the hub session's tags",
                    direct=False,
                ),
            ),
        ),
        Statement(
            "WriteReports",
            Scope.REPORT_OBJECTS,
            (Action("s3:PutObject", "publish: workbook, snapshot and manifest; check: preflight marker"),),
        ),
        Statement(
            "EncryptReports",
            Scope.REPORT_KEY,
            (
                Action(
                    "kms:GenerateDataKey", "publish: S3 asks KMS for each SSE-KMS object's key", direct=False
                ),
            ),
        ),
        Statement(
            "ReadObjects",
            Scope.READ_OBJECTS,
            (
                Action(
                    "s3:GetObject",
                    "baseline: the previous run's snapshot; history: the trend's lines; jira: this week's "
                    "ticket key; exceptions: the file, in S3; shards: run ID, parts; check: its marker",
                ),
            ),
        ),
        Statement(
            "ListEarlierReports",
            Scope.REPORT_LISTING,
            (
                # The IAM action of ListObjectsV2 (there is no ListBucket call).
                Action(
                    "s3:ListBucket",
                    "baseline: finds the previous run's snapshot; history, jira: is there one yet; "
                    "shards: the parts; check",
                    direct=False,
                ),
            ),
        ),
        Statement(
            "DecryptReports",
            Scope.REPORT_KEY,
            (
                Action(
                    "kms:Decrypt",
                    "baseline, history, jira, shards: S3 decrypts SSE-KMS objects for the caller",
                    direct=False,
                ),
            ),
        ),
    ),
}


def statements(role: Role) -> tuple[Statement, ...]:
    """The statements granted to `role`."""
    return POLICIES[role]


def actions(role: Role) -> tuple[str, ...]:
    """Every action granted to `role`, in declaration order."""
    return tuple(name for statement in POLICIES[role] for name in statement.action_names)


def policy_document(role: Role, targets: Targets, *, without: str | None = None) -> dict[str, Any]:
    """The IAM permission policy of `role` naming `targets`, optionally minus the action `without`.

    Mirrors what the Terraform modules render: a statement whose scope has no target (no KMS key
    configured) is left out, and so is a statement left with no action.
    """
    rendered: list[dict[str, Any]] = []
    for statement in POLICIES[role]:
        names = [name for name in statement.action_names if name != without]
        resources = _resources(statement.scope, targets)
        if names and resources:
            rendered.append({"Sid": statement.sid, "Effect": "Allow", "Action": names, "Resource": resources})
            condition = _condition(statement.scope, targets)
            if condition:
                rendered[-1]["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": rendered}


def _resources(scope: Scope, targets: Targets) -> list[str]:
    if scope is Scope.ANY:
        return ["*"]
    if scope is Scope.CONFIG_RULES:
        return ["arn:aws:config:*:*:config-rule/*"]
    if scope is Scope.CONFORMANCE_PACKS:
        return ["arn:aws:config:*:*:conformance-pack/*"]
    if scope is Scope.CONFIG_AGGREGATORS:
        return ["arn:aws:config:*:*:config-aggregator/*"]
    if scope is Scope.ORGANIZATION_PARENTS:
        return ["arn:aws:organizations::*:root/o-*/r-*", "arn:aws:organizations::*:ou/o-*/ou-*"]
    if scope is Scope.ORGANIZATION_ACCOUNTS:
        return ["arn:aws:organizations::*:account/o-*/*"]
    if scope is Scope.SCANNER_ROLES:
        return list(targets.scanner_role_arns)
    if scope is Scope.REPORT_OBJECTS:
        return [f"arn:aws:s3:::{targets.report_bucket}/{targets.report_prefix}*"]
    if scope is Scope.REPORT_LISTING:
        return [f"arn:aws:s3:::{targets.report_bucket}"]
    if scope is Scope.REPORT_KEY:
        return [targets.report_key_arn] if targets.report_key_arn else []
    if scope is Scope.READ_OBJECTS:
        exceptions = targets.exceptions_object_arn
        return [f"arn:aws:s3:::{targets.report_bucket}/{targets.report_prefix}*"] + (
            [exceptions] if exceptions else []
        )
    return []


def _condition(scope: Scope, targets: Targets) -> dict[str, Any]:
    """The statement's Condition: listing the bucket is allowed under the report prefix only."""
    if scope is Scope.REPORT_LISTING:
        return {"StringLike": {"s3:prefix": [f"{targets.report_prefix}*"]}}
    return {}


def actions_file(role: Role) -> str:
    """The text of the module's `actions.json`: each statement's actions, keyed by Sid."""
    content = {
        "//": GENERATED_NOTE,
        "statements": {statement.sid: list(statement.action_names) for statement in POLICIES[role]},
    }
    return json.dumps(content, indent=2) + "\n"


def runbook_tables() -> str:
    """The runbook's tables: for each role, every action it is granted, on what, and which call needs it."""
    lines = [RUNBOOK_BEGIN]
    for role in RUNBOOK_ORDER:
        lines += ["", f"{ROLE_WORDS[role]}:", "", "| action | on | needed by |", "|---|---|---|"]
        for statement in POLICIES[role]:
            for action in statement.actions:
                why = action.needed_by.replace("|", "\\|")
                lines.append(f"| `{action.name}` | {SCOPE_WORDS[statement.scope]} | {why} |")
    lines += ["", RUNBOOK_END]
    return "\n".join(lines)


def runbook_text(current: str) -> str:
    """The runbook `current` with its generated tables replaced by what this module declares."""
    begin, end = current.find(RUNBOOK_BEGIN), current.find(RUNBOOK_END)
    if begin < 0 or end < begin:
        raise ValueError(f"{RUNBOOK} lacks the {RUNBOOK_BEGIN!r} ... {RUNBOOK_END!r} markers")
    return current[:begin] + runbook_tables() + current[end + len(RUNBOOK_END) :]


def actions_path(root: Path, role: Role) -> Path:
    """Where `role`'s Terraform module reads its actions, under the repository `root`."""
    return root / MODULES_DIR / role.value / ACTIONS_FILE


def stale_files(root: Path) -> list[Path]:
    """The generated files under `root` whose content differs from what this module declares."""
    stale = []
    for role in Role:
        path = actions_path(root, role)
        if not path.is_file() or path.read_text(encoding="utf-8") != actions_file(role):
            stale.append(path)
    runbook = root / RUNBOOK
    current = runbook.read_text(encoding="utf-8")
    if runbook_text(current) != current:
        stale.append(runbook)
    return stale


def write_files(root: Path) -> list[Path]:
    """Rewrite every stale generated file under `root`; return the files written."""
    written = stale_files(root)
    for path in written:
        if path == root / RUNBOOK:
            path.write_text(runbook_text(path.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            path.write_text(actions_file(Role(path.parent.name)), encoding="utf-8")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """`python tools/permissions.py [--write|--check] [--root DIR]`.

    Without a flag, prints each role's actions with their resource scope and the call that needs them.
    """
    parser = argparse.ArgumentParser(prog="python tools/permissions.py", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--write",
        action="store_true",
        help="rewrite the modules' actions.json files and the runbook's tables",
    )
    mode.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: .)")
    args = parser.parse_args(argv)
    if (args.write or args.check) and not (
        (args.root / MODULES_DIR).is_dir() and (args.root / RUNBOOK).is_file()
    ):
        parser.error(f"{args.root / MODULES_DIR} not found; run from the repository root or pass --root")
    if args.write:
        for path in write_files(args.root):
            print(f"wrote {path}")
        return 0
    if args.check:
        stale = stale_files(args.root)
        for path in stale:
            print(f"stale: {path}; run `python tools/permissions.py --write`", file=sys.stderr)
        return 1 if stale else 0
    for role in Role:
        print(f"{role.value}:")
        for statement in POLICIES[role]:
            for action in statement.actions:
                print(f"  {action.name:<50} {statement.scope.value:<22} {action.needed_by}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
