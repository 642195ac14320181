"""The Terraform IAM modules, checked with the real terraform binary, checkov, parliament and cfn-lint.

Terraform runs offline: providers come from the local mirror (`-plugin-dir`), plans use fake
credentials and the provider's `skip_*` flags (an `*_override.tf` file added to a temporary copy), and
nothing is applied. Every command works on a temporary copy of `deploy/terraform`, so no `.terraform`
directory or lock file litters the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from permissions import Role, Targets, policy_document

from config_report.settings import DEFAULT_SPOKE_ROLE_NAME
from deploy.deploy_tools import CHART_DIR, REPO_ROOT, DeployTools

TERRAFORM_DIR = REPO_ROOT / "deploy" / "terraform"
PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))
MODULES = ("hub-irsa-role", "spoke-read-role", "org-list-role", "aggregator-read-role")
EXAMPLES = {"hub": Role.HUB, "spoke": Role.SPOKE, "org": Role.ORG, "aggregator": Role.AGGREGATOR}
# The aggregator example's role, as the hub example is told it (its account ID keeps a leading zero).
AGGREGATOR_ROLE = "arn:aws:iam::002718281828:role/system-config-report-generator-read-aggregator-role"
# Examples with `terraform test` files of their own (the modules all have them).
TESTED_EXAMPLES = ("stackset", "hub")

# The examples have no placeholder defaults: every plan gets these inputs, as a deployer's tfvars would.
# ptdev in its own security account; stg and prod matched by a pattern in another.
HUB_ROLES = [
    "arn:aws:iam::314159265358:role/system-config-report-generator-write-role-ptdev",
    "arn:aws:iam::271828182845:role/system-config-report-generator-write-role-*",
]
# Every environment's hub role in one security account.
ONE_HUB_ACCOUNT = [
    "arn:aws:iam::271828182845:role/system-config-report-generator-write-role-ptdev",
    "arn:aws:iam::271828182845:role/system-config-report-generator-write-role-prod",
]
EXAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "spoke": {
        "region": "eu-west-1",
        "hub_role_arns": ONE_HUB_ACCOUNT,
        "external_id": "config-report-7f3a9c",
        "organization_id": "o-a1b2c3d4e5",
    },
    "org": {"region": "eu-west-1", "hub_role_arns": HUB_ROLES, "organization_id": "o-a1b2c3d4e5"},
    "aggregator": {"region": "eu-west-1", "hub_role_arns": HUB_ROLES, "organization_id": "o-a1b2c3d4e5"},
    "hub": {
        "region": "eu-west-1",
        "name": "system-config-report-generator-write-role",
        "trust": "irsa",
        "oidc_provider_arn": (
            "arn:aws:iam::271828182845:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0A1B2C3D"
        ),
        "cluster_arn": None,
        "namespace": "security-compliance",
        "org_role_arn": "arn:aws:iam::161803398874:role/system-config-report-generator-list-org-role",
        "aggregator_role_arn": AGGREGATOR_ROLE,
        "report_bucket": "acme-security-config-reports",
        "report_prefix": "aws-config-reports/prod/",
        "kms_key_arn": "arn:aws:kms:eu-west-1:271828182845:key/6f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b",
    },
    "stackset": {
        "region": "eu-west-1",
        "call_as": "SELF",
        "organizational_unit_ids": ["ou-q1w2-e3r4t5y6"],
        "hub_role_arns": HUB_ROLES,
        "external_id": "config-report-7f3a9c",
        "organization_id": "o-a1b2c3d4e5",
    },
}

# The hub example's inputs with EKS Pod Identity instead of IRSA.
POD_IDENTITY_HUB = EXAMPLE_INPUTS["hub"] | {
    "trust": "pod_identity",
    "oidc_provider_arn": None,
    "cluster_arn": "arn:aws:eks:eu-west-1:271828182845:cluster/prod-cybsecops-cluster",
}

# Added to each example's temporary copy: plan without an AWS account or network.
OFFLINE_PROVIDER = """
provider "aws" {
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""

# parliament findings that are accepted, each with the reason. A finding not listed fails the test,
# and so does a listed one that no longer occurs (a stale justification).
ACCEPTED_PARLIAMENT_FINDINGS = {
    ("hub", "CREDENTIALS_EXPOSURE", "sts:assumerole"): (
        "assuming the spoke and org roles is the hub's job; sts:AssumeRole is limited to those role "
        "ARNs, whose trust policies name only the hub and which grant reads only"
    ),
    ("spoke", "RESOURCE_STAR", "config:DescribeConfigurationRecorderStatus"): (
        "in a region without Config there is no recorder ARN to name, and the answer 'none' is what "
        "the report needs (CONFIG_NOT_ENABLED rather than ACCESS_DENIED)"
    ),
}

# checkov findings on the planned roles that are accepted here, each with the reason; a listed one that
# no longer occurs fails the test. An entry is (example, check ID): reason. None today.
# CKV_AWS_61 fails any trust whose principal is an account root and reads no Condition, so it cannot see
# the ArnLike aws:PrincipalArn that narrows the hub accounts to the hub roles. The spoke and org modules
# skip it in place (`checkov:skip`, saying so), and the plan scan applies that skip because
# `--repo-root-for-plan-enrichment` maps each planned resource back to its module's source (without the
# flag the check fails there); SKIPPED_IN_MODULES pins that.
ACCEPTED_PLAN_CHECKOV_FINDINGS: dict[tuple[str, str], str] = {}
SKIPPED_IN_MODULES = {
    "spoke": {"CKV_AWS_61"},
    "org": {"CKV_AWS_61"},
    "aggregator": {"CKV_AWS_61"},
    "hub": set(),
    "hub-pod-identity": set(),
}

Plan = dict[str, Any]


@dataclass(frozen=True)
class Terraform:
    """The terraform binary, working in a temporary copy of deploy/terraform."""

    binary: Path
    root: Path
    env: dict[str, str]

    def run(self, directory: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `terraform <args>` in `directory` (relative to the copy); the caller checks the outcome."""
        return subprocess.run(
            [str(self.binary), *args],
            cwd=self.root / directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def check(self, directory: str, *args: str) -> str:
        """Run a command that must succeed; fail with terraform's own words otherwise."""
        done = self.run(directory, *args)
        assert done.returncode == 0, f"terraform {' '.join(args)} in {directory}:\n{done.stdout}{done.stderr}"
        return done.stdout


@pytest.fixture(scope="session")
def terraform(deploy_tools: DeployTools, tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    """terraform over a fresh copy of deploy/terraform, with the offline provider mirror."""
    if not (PLUGIN_DIR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.fail(f"no aws provider under {PLUGIN_DIR}; set TF_PLUGIN_DIR to the provider mirror")
    base = tmp_path_factory.mktemp("terraform")
    root = base / "terraform"
    shutil.copytree(TERRAFORM_DIR, root, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    cli_config = base / "terraformrc"
    cli_config.write_text("")
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "NO_COLOR": "1",
    }
    return Terraform(deploy_tools.path("terraform"), root, env)


@pytest.fixture(scope="session")
def initialized(terraform: Terraform) -> Callable[[str], str]:
    """Initialise a module or example of the copy once per session; returns its directory."""
    done: set[str] = set()

    def init(directory: str) -> str:
        if directory not in done:
            terraform.check(directory, "init", "-backend=false", f"-plugin-dir={PLUGIN_DIR}", "-no-color")
            done.add(directory)
        return directory

    return init


@pytest.fixture(scope="session")
def example_plans(terraform: Terraform, initialized: Callable[[str], str]) -> dict[str, Plan]:
    """Each example planned offline, as `terraform show -json` prints the plan."""
    return {example: plan_example(terraform, initialized, example) for example in EXAMPLES}


def plan_example(
    terraform: Terraform,
    initialized: Callable[[str], str],
    example: str,
    inputs: dict[str, Any] | None = None,
) -> Plan:
    """One example planned offline with `inputs` (default: its EXAMPLE_INPUTS) as its tfvars."""
    directory = initialized(f"examples/{example}")
    (terraform.root / directory / "offline_override.tf").write_text(OFFLINE_PROVIDER)
    variables = terraform.root / directory / f"{example}-{id(inputs)}.tfvars.json"
    variables.write_text(json.dumps(EXAMPLE_INPUTS[example] if inputs is None else inputs))
    plan_file = f"{variables.name}.tfplan"
    terraform.check(
        directory, "plan", f"-var-file={variables.name}", f"-out={plan_file}", "-lock=false", "-no-color"
    )
    return dict(json.loads(terraform.check(directory, "show", "-json", plan_file)))


def planned(plan: Plan, resource_type: str) -> dict[str, Any]:
    """The values of the one planned resource of this type in the example's module."""
    module = plan["planned_values"]["root_module"]["child_modules"][0]
    (values,) = [r["values"] for r in module["resources"] if r["type"] == resource_type]
    return dict(values)


def permission_policy(plan: Plan) -> dict[str, Any]:
    """The role's rendered permission policy."""
    return dict(json.loads(planned(plan, "aws_iam_role_policy")["policy"]))


def variable(plan: Plan, name: str) -> Any:
    """The value of one of the example's input variables."""
    return plan["variables"][name]["value"]


def by_sid(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements in Sid order (Terraform iterates maps by key)."""
    return sorted(document["Statement"], key=lambda s: str(s["Sid"]))


def test_terraform_files_are_formatted(terraform: Terraform) -> None:
    terraform.check(".", "fmt", "-check", "-recursive", "-diff")


@pytest.mark.parametrize(
    "directory", [f"modules/{m}" for m in MODULES] + [f"examples/{e}" for e in (*EXAMPLES, *TESTED_EXAMPLES)]
)
def test_module_or_example_validates(
    terraform: Terraform, initialized: Callable[[str], str], directory: str
) -> None:
    terraform.check(initialized(directory), "validate", "-no-color")


@pytest.mark.parametrize(
    "module", [f"modules/{m}" for m in MODULES] + [f"examples/{e}" for e in TESTED_EXAMPLES]
)
def test_module_terraform_tests_pass(
    terraform: Terraform, initialized: Callable[[str], str], module: str
) -> None:
    output = terraform.check(initialized(module), "test", "-no-color")
    passed = re.search(r"Success! (\d+) passed, 0 failed", output)
    # Each module asserts its trust conditions and has at least a few rejected inputs; so does each
    # tested example, with fewer (its module's tests cover the rest).
    assert passed, output
    assert int(passed.group(1)) >= (7 if module.startswith("modules/") else 5), output


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_grants_exactly_what_permissions_py_declares(
    example_plans: dict[str, Plan], example: str
) -> None:
    plan = example_plans[example]
    targets = Targets()
    if example == "hub":
        targets = Targets(
            scanner_role_arns=(
                f"arn:aws:iam::*:role/{DEFAULT_SPOKE_ROLE_NAME}",
                variable(plan, "org_role_arn"),
                variable(plan, "aggregator_role_arn"),
            ),
            report_bucket=variable(plan, "report_bucket"),
            report_prefix=variable(plan, "report_prefix"),
            report_key_arn=variable(plan, "kms_key_arn"),
        )
    expected = policy_document(EXAMPLES[example], targets)

    assert by_sid(permission_policy(plan)) == by_sid(expected)


def test_roles_keep_the_names_the_application_and_runbook_use(example_plans: dict[str, Plan]) -> None:
    names = {example: planned(plan, "aws_iam_role")["name"] for example, plan in example_plans.items()}
    assert names == {
        "hub": variable(example_plans["hub"], "name"),
        "spoke": DEFAULT_SPOKE_ROLE_NAME,
        "org": "system-config-report-generator-list-org-role",
        "aggregator": AGGREGATOR_ROLE.rsplit("/", 1)[1],
    }


def test_spoke_org_and_aggregator_roles_trust_only_the_environments_hub_roles(
    example_plans: dict[str, Plan],
) -> None:
    for example in ("spoke", "org", "aggregator"):
        plan = example_plans[example]
        hub_role_arns = variable(plan, "hub_role_arns")
        roots = list(dict.fromkeys(f"arn:aws:iam::{arn.split(':')[4]}:root" for arn in hub_role_arns))
        (statement,) = json.loads(planned(plan, "aws_iam_role")["assume_role_policy"])["Statement"]
        # The hub accounts, narrowed to the hub roles: IAM accepts them before the hub roles exist.
        assert statement["Principal"] == {"AWS": roots[0] if len(roots) == 1 else roots}
        assert statement["Condition"]["ArnLike"] == {"aws:PrincipalArn": hub_role_arns}
        # A hub on EKS Pod Identity brings its session's transitive tags into every AssumeRole.
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == variable(
            plan, "organization_id"
        )
    spoke = example_plans["spoke"]
    (statement,) = json.loads(planned(spoke, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == variable(spoke, "external_id")


@pytest.fixture(scope="session")
def stackset_plan(terraform: Terraform, initialized: Callable[[str], str]) -> Plan:
    """The StackSet example planned offline."""
    return plan_example(terraform, initialized, "stackset")


def test_stackset_example_deploys_the_spoke_role_by_ou_with_exactly_the_declared_reads(
    stackset_plan: Plan,
) -> None:
    plan = stackset_plan
    resources = {r["type"]: r["values"] for r in plan["planned_values"]["root_module"]["resources"]}
    stack_set = resources["aws_cloudformation_stack_set"]
    assert stack_set["permission_model"] == "SERVICE_MANAGED"
    assert stack_set["auto_deployment"] == [{"enabled": True, "retain_stacks_on_account_removal": False}]
    (targets,) = resources["aws_cloudformation_stack_set_instance"]["deployment_targets"]
    assert targets["organizational_unit_ids"] == EXAMPLE_INPUTS["stackset"]["organizational_unit_ids"]
    role = json.loads(stack_set["template_body"])["Resources"]["SpokeReadRole"]["Properties"]
    assert role["RoleName"] == DEFAULT_SPOKE_ROLE_NAME
    (policy,) = role["Policies"]
    assert by_sid(policy["PolicyDocument"]) == by_sid(policy_document(Role.SPOKE, Targets()))
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"]["ArnLike"] == {"aws:PrincipalArn": HUB_ROLES}
    assert statement["Condition"]["StringEquals"] == {
        "sts:ExternalId": "config-report-7f3a9c",
        "aws:PrincipalOrgID": "o-a1b2c3d4e5",
    }


def test_cfn_lint_accepts_the_stackset_template_as_planned(
    deploy_tools: DeployTools, stackset_plan: Plan, tmp_path: Path
) -> None:
    # The role inside template_body is a string to Terraform and checkov: CloudFormation's own linter
    # reads it as CloudFormation will, in the region the stack instances are deployed to.
    resources = {r["type"]: r["values"] for r in stackset_plan["planned_values"]["root_module"]["resources"]}
    template = tmp_path / "stackset.template.json"
    template.write_text(resources["aws_cloudformation_stack_set"]["template_body"])
    region = EXAMPLE_INPUTS["stackset"]["region"]
    done = deploy_tools.run("cfn-lint", "--format", "json", "--regions", region, "--", template)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout or "[]") == []
    # cfn-lint read a template with the role in it, not an empty one.
    assert json.loads(template.read_text())["Resources"]["SpokeReadRole"]["Type"] == "AWS::IAM::Role"


@pytest.fixture(scope="session")
def pod_identity_hub_plan(terraform: Terraform, initialized: Callable[[str], str]) -> Plan:
    """The hub example planned offline with EKS Pod Identity."""
    return plan_example(terraform, initialized, "hub", POD_IDENTITY_HUB)


def test_hub_example_with_pod_identity_associates_the_charts_service_account_and_trusts_only_eks(
    pod_identity_hub_plan: Plan, example_plans: dict[str, Plan]
) -> None:
    plan = pod_identity_hub_plan
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    (association,) = [
        r["values"]
        for r in plan["planned_values"]["root_module"]["resources"]
        if r["type"] == "aws_eks_pod_identity_association"
    ]
    assert association["cluster_name"] == "prod-cybsecops-cluster"
    assert association["namespace"] == POD_IDENTITY_HUB["namespace"]
    assert association["service_account"] == values["serviceAccount"]["name"]
    (statement,) = json.loads(planned(plan, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": POD_IDENTITY_HUB["cluster_arn"],
            "aws:RequestTag/kubernetes-namespace": POD_IDENTITY_HUB["namespace"],
            "aws:RequestTag/kubernetes-service-account": values["serviceAccount"]["name"],
        }
    }
    # The permissions do not depend on the trust.
    assert by_sid(permission_policy(plan)) == by_sid(permission_policy(example_plans["hub"]))


@pytest.mark.parametrize(
    ("example", "name", "placeholder"),
    [
        ("spoke", "organization_id", "o-exampleorg1"),
        ("org", "organization_id", "o-exampleorg1"),
        (
            "spoke",
            "hub_role_arns",
            ["arn:aws:iam::111122223333:role/system-config-report-generator-write-role"],
        ),
        ("hub", "kms_key_arn", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("hub", "report_bucket", "example-security-config-reports"),
    ],
)
def test_examples_refuse_documentation_placeholders(
    terraform: Terraform, initialized: Callable[[str], str], example: str, name: str, placeholder: Any
) -> None:
    directory = initialized(f"examples/{example}")
    (terraform.root / directory / "offline_override.tf").write_text(OFFLINE_PROVIDER)
    inputs = EXAMPLE_INPUTS[example] | {name: placeholder}
    (terraform.root / directory / "placeholder.tfvars.json").write_text(json.dumps(inputs))
    done = terraform.run(directory, "plan", "-var-file=placeholder.tfvars.json", "-lock=false", "-no-color")
    assert done.returncode != 0
    assert "placeholder" in done.stderr or "documentation" in done.stderr, done.stderr


def test_examples_have_no_default_for_what_only_the_deployer_knows() -> None:
    for example, required in {
        "spoke": ("hub_role_arns", "external_id", "organization_id"),
        "org": ("hub_role_arns", "organization_id"),
        "aggregator": ("hub_role_arns", "organization_id"),
        "hub": (
            "trust",
            "oidc_provider_arn",
            "cluster_arn",
            "org_role_arn",
            "report_bucket",
            "report_prefix",
            "kms_key_arn",
            "namespace",
        ),
        "stackset": ("organizational_unit_ids", "hub_role_arns", "external_id", "organization_id", "call_as"),
    }.items():
        text = (TERRAFORM_DIR / "examples" / example / "variables.tf").read_text(encoding="utf-8")
        for name in required:
            block = text.split(f'variable "{name}" {{', 1)[1].split("\n}\n", 1)[0]
            assert "default" not in block, f"examples/{example}: {name} must be required"


def test_release_namespace_and_chart_service_account_match_the_hub_trust_subject(
    example_plans: dict[str, Plan],
) -> None:
    # The chart's namespace is the release's (helm -n); the hub example is told the same one.
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    hub = example_plans["hub"]
    namespace = variable(hub, "namespace")
    subject = f"system:serviceaccount:{namespace}:{values['serviceAccount']['name']}"
    (statement,) = json.loads(planned(hub, "aws_iam_role")["assume_role_policy"])["Statement"]

    assert variable(hub, "service_account") == values["serviceAccount"]["name"]
    assert hub["planned_values"]["outputs"]["service_account_subject"]["value"] == subject
    subjects = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == [subject]
    assert values["config"]["spokeRoleName"] == DEFAULT_SPOKE_ROLE_NAME


def checkov_results(deploy_tools: DeployTools, *args: str | Path) -> dict[str, Any]:
    """checkov's JSON report for one framework, offline."""
    done = deploy_tools.run("checkov", *args, "--output", "json", "--skip-download")
    report = json.loads(done.stdout)
    return dict(report[0] if isinstance(report, list) else report)


def assert_nothing_unjustified(report: dict[str, Any], accepted: frozenset[str] = frozenset()) -> None:
    results = report["results"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in results["failed_checks"]
        if c["check_id"] not in accepted
    ]
    assert not failed, "\n".join(failed)
    stale = accepted - {c["check_id"] for c in results["failed_checks"]}
    assert not stale, f"justified findings that no longer occur (remove them): {sorted(stale)}"
    # A scan that read nothing has nothing to fail: it must have found resources and passed checks.
    assert report["summary"]["resource_count"] > 0, report["summary"]
    assert report["summary"]["passed"] > 0
    for skipped in results["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 20, skipped["check_id"]


def test_checkov_finds_nothing_in_the_modules(deploy_tools: DeployTools) -> None:
    assert_nothing_unjustified(
        checkov_results(deploy_tools, "--directory", TERRAFORM_DIR, "--framework", "terraform")
    )


def test_checkov_finds_nothing_in_the_planned_roles(
    deploy_tools: DeployTools,
    terraform: Terraform,
    example_plans: dict[str, Plan],
    pod_identity_hub_plan: Plan,
    tmp_path: Path,
) -> None:
    # The plan holds the policies as AWS will see them, which checkov's policy checks read best.
    plans = example_plans | {"hub-pod-identity": pod_identity_hub_plan}
    for example, plan in plans.items():
        path = tmp_path / f"{example}.tfplan.json"
        path.write_text(json.dumps(plan))
        report = checkov_results(
            deploy_tools, "--file", path, "--framework", "terraform_plan",
            "--repo-root-for-plan-enrichment", terraform.root,
        )  # fmt: skip
        accepted = frozenset(check for ex, check in ACCEPTED_PLAN_CHECKOV_FINDINGS if ex == example)
        assert_nothing_unjustified(report, accepted)
        assert "CKV_AWS_355" in {c["check_id"] for c in report["results"]["passed_checks"]}, example
        skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
        assert skipped == SKIPPED_IN_MODULES[example], example


def test_every_checkov_skip_in_the_terraform_says_why() -> None:
    for path in TERRAFORM_DIR.rglob("*.tf"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "checkov:skip" in line:
                assert re.search(r"#\s*checkov:skip=CKV2?_[A-Z0-9]+_\d+:\s*\S.{20,}", line), f"{path}: {line}"


def parliament_findings(deploy_tools: DeployTools, policy: dict[str, Any]) -> list[dict[str, Any]]:
    """parliament's findings on one policy (read from stdin: parliament refuses --file without a TTY)."""
    done = subprocess.run(
        [str(deploy_tools.path("parliament")), "--json", "--include-community-auditors"],
        input=json.dumps(policy),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_parliament_accepts_the_rendered_permission_policies(
    deploy_tools: DeployTools, example_plans: dict[str, Plan]
) -> None:
    found = set()
    for example, plan in example_plans.items():
        for finding in parliament_findings(deploy_tools, permission_policy(plan)):
            detail = finding["detail"] if isinstance(finding["detail"], list) else []
            subject = ",".join(detail or finding["location"].get("actions", []))
            found.add((example, finding["issue"], subject))
    unexplained = found - ACCEPTED_PARLIAMENT_FINDINGS.keys()
    assert not unexplained, f"parliament findings without a justification: {sorted(unexplained)}"
    stale = ACCEPTED_PARLIAMENT_FINDINGS.keys() - found
    assert not stale, f"justified findings that no longer occur (remove them): {sorted(stale)}"


@pytest.mark.parametrize("module", MODULES)
def test_module_readme_documents_every_input_and_output(module: str) -> None:
    directory = TERRAFORM_DIR / "modules" / module
    declared = set(
        re.findall(r'^(?:variable|output) "(\w+)"', _text(directory, "variables.tf", "outputs.tf"), re.M)
    )
    documented = set(
        re.findall(r"^\| `(\w+)` \|", (directory / "README.md").read_text(encoding="utf-8"), re.M)
    )
    assert declared == documented


def _text(directory: Path, *names: str) -> str:
    return "\n".join((directory / name).read_text(encoding="utf-8") for name in names)
