"""The Helm chart, checked with real helm, kubernetes-validate and checkov (no API server here).

What an API server would check is approximated in three layers: helm's own lint and the chart's values
schema; the Kubernetes OpenAPI schemas of every minor version the chart claims (`kubeVersion` in
Chart.yaml) up to the newest kubernetes-validate knows; and the cross-field rules the schemas cannot
express (podFailurePolicy needs restartPolicy Never, name lengths), asserted here.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from config_report.settings import Settings, env_name, load_settings
from deploy.deploy_tools import CHART_DIR, REPO_ROOT, Chart, DeployTools, Manifest, find

CI_VALUES = sorted((CHART_DIR / "ci").glob("*-values.yaml"))
FULL_VALUES = CHART_DIR / "ci" / "full-values.yaml"
EXISTING_SA_VALUES = CHART_DIR / "ci" / "existing-serviceaccount-values.yaml"
SHARDED_VALUES = CHART_DIR / "ci" / "sharded-values.yaml"
PRODUCTION_VALUES = CHART_DIR / "ci" / "production-values.yaml"
POD_IDENTITY_VALUES = CHART_DIR / "ci" / "pod-identity-values.yaml"
RUNBOOK = REPO_ROOT / "docs" / "deploy.md"
# Settings that never become an environment variable: the token is mounted as a file instead; the
# shard index is Kubernetes' own JOB_COMPLETION_INDEX; a sharded run's name comes from its Job's name.
# A fixed baseline is for one-off backfills (`run --baseline`), never the weekly CronJob, which would
# then compare every week with the same old run. The ExternalId is a value (config.externalId, as in
# full-values.yaml) or a mounted Secret's file (externalIdSecret: production-values.yaml), never both.
NOT_IN_ENV = {"jira_api_token", "shard_index", "run_name", "baseline", "external_id_file"}


def report_cronjob(manifests: list[Manifest]) -> Manifest:
    """The CronJob of the weekly report (a sharded release also has the merge CronJob)."""
    (cronjob,) = [m for m in manifests if m["kind"] == "CronJob" and not _is_merge(m)]
    return cronjob


def merge_cronjob(manifests: list[Manifest]) -> Manifest | None:
    """The CronJob that merges sharded runs left unmerged past their deadline, if rendered."""
    found = [m for m in manifests if m["kind"] == "CronJob" and _is_merge(m)]
    assert len(found) <= 1
    return found[0] if found else None


def _is_merge(manifest: Manifest) -> bool:
    return bool(manifest["metadata"]["labels"].get("app.kubernetes.io/component") == "merge")


def cronjob_pod(manifests: list[Manifest]) -> Manifest:
    """The pod spec of the CronJob's jobs."""
    spec: Manifest = report_cronjob(manifests)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def env_of(pod: Manifest) -> dict[str, str]:
    """The single container's environment as name -> value."""
    (container,) = pod["containers"]
    return {item["name"]: item.get("value", "") for item in container["env"]}


RENDER_NAMES = ["default", *(values.name.removesuffix("-values.yaml") for values in CI_VALUES)]


@pytest.fixture(scope="module")
def renders(chart: Chart, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every render a deployer can make from the examples, each once: the minimal values alone
    (`default`) and with each `ci/*-values.yaml` (named without `-values.yaml`), one file each."""
    directory = tmp_path_factory.mktemp("renders")
    outputs = {}
    for name, values in zip(RENDER_NAMES, [None, *CI_VALUES], strict=True):
        target = directory / f"{name}.yaml"
        target.write_text(chart.render_text(values=[values] if values else []))
        outputs[name] = target
    return outputs


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda v: v.name)
def test_helm_lint_strict_passes(deploy_tools: DeployTools, values: Path) -> None:
    output = deploy_tools.check("helm", "lint", "--strict", str(CHART_DIR), "--values", str(values))
    assert "0 chart(s) failed" in output


def test_the_defaults_alone_do_not_render_a_cronjob_that_would_fail_every_monday(
    deploy_tools: DeployTools,
) -> None:
    # Helm 4's lint treats `fail` as information (lint renders with placeholder values); an install,
    # like `helm template`, stops there with the message.
    done = deploy_tools.run("helm", "template", "config-report", str(CHART_DIR))
    assert done.returncode != 0
    assert "serviceAccount.roleArn is required" in done.stderr


REQUIRED = {  # what is missing: (--set overrides on the minimal values, what the message must say)
    "hub IRSA role": (["serviceAccount.roleArn="], "serviceAccount.roleArn is required"),
    "report bucket": (["config.s3Bucket="], "config.s3Bucket is required"),
    "org-list role": (["config.orgRoleArn="], "config.orgRoleArn is required"),
    "documentation account": (
        ["serviceAccount.roleArn=arn:aws:iam::111122223333:role/system-config-report-generator-write-role"],
        "documentation account 111122223333",
    ),
    "ExternalId twice": (
        ["config.externalId=abc-123", "externalIdSecret.existingSecret=config-report-external-id"],
        "keep one",
    ),
    "EKS Pod Identity with an IRSA role as well": (["serviceAccount.podIdentity=true"], "keep one"),
    "the aggregator source without an aggregator": (["config.source=aggregator"], "config.aggregatorName"),
    "the weekly verification without an aggregator": (["verify.enabled=true"], "config.aggregatorName"),
}


@pytest.mark.parametrize(("sets", "message"), REQUIRED.values(), ids=REQUIRED.keys())
def test_required_values_are_enforced_at_render_time_with_an_example(
    chart: Chart, sets: list[str], message: str
) -> None:
    error = chart.rejects(sets)
    assert message in error, error
    assert "e.g." in error or "111122223333" in error or "keep one" in error


def test_the_org_role_may_be_left_out_only_on_purpose(chart: Chart) -> None:
    env = env_of(cronjob_pod(chart.render(sets=["config.orgRoleArn=", "orgRoleRequired=false"])))
    assert "CONFIG_REPORT_ORG_ROLE_ARN" not in env


def test_every_resource_goes_to_the_release_namespace(chart: Chart) -> None:
    other = Chart(chart.tools, namespace="config-report-ptdev")
    manifests = other.render(values=[FULL_VALUES])
    assert {m["metadata"]["namespace"] for m in manifests} == {"config-report-ptdev"}
    assert not [m for m in manifests if m["kind"] == "Namespace"], "the namespace is created beforehand"


def test_the_external_id_secret_is_a_mounted_file_never_an_environment_value(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = chart.render(values=[PRODUCTION_VALUES], sets=["externalIdSecret.key=id"])
    for pod in (cronjob_pod(manifests), find(manifests, "Pod")["spec"]):
        (container,) = pod["containers"]
        # checkov CKV_K8S_35: no Secret reaches the container through its environment.
        assert not [item for item in container["env"] if "secretKeyRef" in item.get("valueFrom", {})]
        assert "CONFIG_REPORT_EXTERNAL_ID" not in [item["name"] for item in container["env"]]
        (volume,) = [v for v in pod["volumes"] if v["name"] == "external-id"]
        assert volume["secret"] == {
            "secretName": "config-report-external-id",
            "defaultMode": 0o440,
            "items": [{"key": "id", "path": "id"}],
        }
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "external-id"]
        assert mount["readOnly"] is True
        assert env_of(pod)["CONFIG_REPORT_EXTERNAL_ID_FILE"] == f"{mount['mountPath']}/id"
    # The application reads that variable as the file setting.
    for name, value in env_of(cronjob_pod(manifests)).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert str(settings.external_id_file) == "/var/run/secrets/config-report/external-id/id"
    assert settings.external_id is None


def yaml_block_after(text: str, marker: str) -> Any:
    """The YAML of the fenced block whose first line is `marker`."""
    block = text.split(marker, 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)


def key_paths(values: Any, prefix: str = "") -> set[str]:
    """Every leaf's dotted path."""
    if not isinstance(values, dict):
        return {prefix}
    return {path for key, value in values.items() for path in key_paths(value, f"{prefix}{key}.")}


def test_the_production_values_are_the_runbooks_example() -> None:
    # ci/production-values.yaml is what the gates check; the runbook is what deployers copy.
    runbook = yaml_block_after(RUNBOOK.read_text(encoding="utf-8"), "# values-ptdev.yaml")
    production = yaml.safe_load(PRODUCTION_VALUES.read_text(encoding="utf-8"))
    assert key_paths(runbook) == key_paths(production)
    assert production["externalIdSecret"] == runbook["externalIdSecret"]
    assert production["jiraApiToken"] == runbook["jiraApiToken"]


def oldest_claimed_kubernetes() -> tuple[int, int]:
    """The oldest Kubernetes minor the chart claims to support: Chart.yaml's `kubeVersion: ">=1.N.0-0"`."""
    claim = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["kubeVersion"])
    match = re.fullmatch(r">=\s*v?(\d+)\.(\d+)(\.\d+)?(-0)?", claim.strip())
    assert match, f"kubeVersion {claim!r} is not a lower bound these tests can read"
    return int(match.group(1)), int(match.group(2))


def kubernetes_versions(deploy_tools: DeployTools) -> list[str]:
    """Every Kubernetes minor from the oldest the chart claims to the newest kubernetes-validate knows."""
    listing = deploy_tools.check(
        "python", "-c", "import kubernetes_validate.utils as u; print(' '.join(u.all_versions()))"
    )
    known = sorted({tuple(map(int, v.split(".")[:2])) for v in listing.split()})
    oldest = oldest_claimed_kubernetes()
    # The claim must be checkable: a schema for the oldest claimed minor, and none missing after it.
    assert oldest in known, f"kubernetes-validate has no schema for the claimed {oldest}: {listing}"
    versions = [v for v in known if v >= oldest]
    assert [minor for _, minor in versions] == list(range(oldest[1], versions[-1][1] + 1)), versions
    return [f"{major}.{minor}.0" for major, minor in versions]


def assert_valid_kubernetes(deploy_tools: DeployTools, files: list[Path]) -> None:
    """kubernetes-validate --strict, every resource of every file against every version."""
    versions = kubernetes_versions(deploy_tools)
    version_args = [arg for v in versions for arg in ("-k", v)]
    done = deploy_tools.run("kubernetes-validate", "--strict", *version_args, *files)
    # A missing schema is only a WARN for kubernetes-validate; here it fails like an ERROR does.
    problems = [line for line in done.stdout.splitlines() if not line.startswith("INFO")]
    assert done.returncode == 0, done.stdout + done.stderr
    assert not problems, "\n".join(problems)
    resources = sum(len([d for d in yaml.safe_load_all(f.read_text()) if d]) for f in files)
    passed = [line for line in done.stdout.splitlines() if " passed for resource " in line]
    assert len(passed) == resources * len(versions), done.stdout


def test_every_render_is_valid_for_every_kubernetes_minor_the_chart_claims(
    deploy_tools: DeployTools, renders: dict[str, Path]
) -> None:
    # One kubernetes-validate run: every render against every minor.
    assert_valid_kubernetes(deploy_tools, list(renders.values()))


@pytest.mark.parametrize("values", [None, FULL_VALUES, SHARDED_VALUES], ids=["default", "full", "sharded"])
def test_job_created_from_the_cronjob_is_a_valid_job(
    chart: Chart, deploy_tools: DeployTools, tmp_path: Path, values: Path | None
) -> None:
    # What `kubectl create job --from=cronjob/<name> <job>` submits: the jobTemplate as a Job.
    cronjob = report_cronjob(chart.render(values=[values] if values else []))
    template = cronjob["spec"]["jobTemplate"]
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "config-report-manual-1764300000",
            "namespace": cronjob["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
        },
        "spec": template["spec"],
    }
    target = tmp_path / "job.yaml"
    target.write_text(yaml.safe_dump(job))
    assert_valid_kubernetes(deploy_tools, [target])
    # The API server rejects a podFailurePolicy unless the pods never restart in place.
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_sharded_runs_are_an_indexed_job_whose_pods_share_the_run_name(chart: Chart) -> None:
    manifests = chart.render(values=[SHARDED_VALUES])
    job = report_cronjob(manifests)["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == 4
    (container,) = job["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["CONFIG_REPORT_SHARD_COUNT"]["value"] == "4"
    run_name = env["CONFIG_REPORT_RUN_NAME"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert run_name == "metadata.labels['batch.kubernetes.io/job-name']"
    # Unsharded (the default), the Job is the plain one-pod Job it always was.
    plain = find(chart.render(), "CronJob")["spec"]["jobTemplate"]["spec"]
    assert "completionMode" not in plain
    assert "CONFIG_REPORT_RUN_NAME" not in env_of(cronjob_pod(chart.render()))


def test_sharded_runs_get_a_merge_cronjob_that_merges_runs_left_unmerged_past_the_deadline(
    chart: Chart,
) -> None:
    manifests = chart.render(values=[SHARDED_VALUES])
    merge = merge_cronjob(manifests)
    assert merge is not None
    spec = merge["spec"]
    assert (spec["schedule"], spec["concurrencyPolicy"]) == ("15 * * * *", "Forbid")
    job = spec["jobTemplate"]["spec"]
    assert "completionMode" not in job, "one pod merges"
    # The same retries, deadline and exit-code policy as the report's Job.
    assert {k: v for k, v in job.items() if k != "template"} == {
        k: v
        for k, v in report_cronjob(manifests)["spec"]["jobTemplate"]["spec"].items()
        if k not in ("template", "completionMode", "completions", "parallelism")
    }
    pod = job["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["merge", "--overdue"]
    env = env_of(pod)
    assert env["CONFIG_REPORT_MERGE_DEADLINE_SECONDS"] == "18000"
    assert env["CONFIG_REPORT_SHARD_COUNT"] == "4"
    assert "CONFIG_REPORT_RUN_NAME" not in env, "it finds the runs in the bucket, not by its own Job's name"
    # Unsharded, nothing is left to merge.
    assert merge_cronjob(chart.render()) is None


def test_a_merge_deadline_within_the_jobs_own_deadline_is_refused(chart: Chart) -> None:
    # A shard may run (and retry) until activeDeadlineSeconds, then write its part in the grace period.
    error = chart.rejects(
        ["config.shardCount=3", "cronJob.activeDeadlineSeconds=7200", "config.mergeDeadlineSeconds=7200"]
    )
    assert "config.mergeDeadlineSeconds (7200)" in error, error
    assert "at least 7500" in error, error
    # Unsharded, the deadline is never used and not checked.
    assert chart.render(sets=["cronJob.activeDeadlineSeconds=7200", "config.mergeDeadlineSeconds=7200"])


def test_cronjob_runs_weekly_once_at_a_time_and_fails_fast_on_configuration_errors(chart: Chart) -> None:
    manifests = chart.render()
    spec = find(manifests, "CronJob")["spec"]
    assert spec["schedule"] == "0 9 * * 1"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 1
    assert job["activeDeadlineSeconds"] > 0
    (fail_rule,) = [r for r in job["podFailurePolicy"]["rules"] if r["action"] == "FailJob"]
    container_names = [c["name"] for c in job["template"]["spec"]["containers"]]
    assert fail_rule["onExitCodes"]["containerName"] in container_names
    assert fail_rule["onExitCodes"]["operator"] == "In"
    assert 2 in fail_rule["onExitCodes"]["values"]
    assert 1 not in fail_rule["onExitCodes"]["values"], "exit 1 (nothing published) is worth a retry"


def test_pods_meet_the_restricted_pod_security_standard(chart: Chart) -> None:
    manifests = chart.render(values=[FULL_VALUES])
    check_pod = find(manifests, "Pod")
    assert check_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    for pod in (cronjob_pod(manifests), check_pod["spec"]):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] >= 10000
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] == {"cpu": "500m", "memory": "512Mi"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        volumes = {v["name"]: v for v in pod["volumes"]}
        (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]]
        assert all(m.get("readOnly") for m in container["volumeMounts"] if m["mountPath"] != "/tmp")


def test_preflight_pod_runs_check_with_the_jobs_identity_and_settings(chart: Chart) -> None:
    manifests = chart.render(values=[FULL_VALUES])
    job_pod, check_pod = cronjob_pod(manifests), find(manifests, "Pod")["spec"]
    assert job_pod["containers"][0]["args"] == ["run"]
    assert check_pod["containers"][0]["args"] == ["check"]
    assert check_pod["serviceAccountName"] == job_pod["serviceAccountName"]
    assert env_of(check_pod) == env_of(job_pod)


def test_every_setting_reaches_the_pod_as_its_environment_variable(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(cronjob_pod(chart.render(values=[FULL_VALUES])))
    expected = {env_name(field) for field in Settings.model_fields if field not in NOT_IN_ENV}
    assert {name for name in env if name.startswith("CONFIG_REPORT_")} == expected
    assert env["AWS_REGION"] == "eu-west-1"
    # The rendered environment is what the application accepts, with the meaning the values had.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.accounts == ["012345678901", "123456789012"]
    assert settings.regions == ["eu-west-1", "eu-central-1", "us-east-1"]
    assert settings.concurrency == 32
    assert (settings.environment, settings.s3_prefix) == ("prod", "aws-config-reports/prod/")
    assert settings.account_concurrency == 3
    assert (settings.fail_on, settings.gap_tolerance) == (["jira"], 2)
    assert settings.jira_attachment_max_mb == 7.5
    assert json.loads(settings.jira_extra_fields or "") == {"customfield_10010": 3}
    assert str(settings.jira_api_token_file) == "/var/run/secrets/config-report/jira/api-token"
    aggregator = settings.aggregator_config()
    assert settings.source == "aggregator"
    assert aggregator is not None
    assert (aggregator.name, aggregator.region, aggregator.findings) == (
        "acme-organization-aggregator",
        "eu-central-1",
        "query",
    )
    assert aggregator.max_source_age.total_seconds() == 12 * 3600


def test_default_values_leave_unset_settings_to_the_application(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(cronjob_pod(chart.render()))
    for absent in ("EXTERNAL_ID", "REGIONS", "S3_PREFIX", "S3_KMS_KEY_ID", "JIRA_URL", "ENVIRONMENT"):
        assert "CONFIG_REPORT_" + absent not in env
    assert "AWS_REGION" not in env, "left to the IRSA webhook, which sets the cluster's region"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from_chart = load_settings()
    for name in env:
        monkeypatch.delenv(name)
    defaults = load_settings()
    # The one deliberate difference: a pod's logs go to the cluster's pipeline as JSON lines.
    assert from_chart.log_format == "json"
    # The others are the minimal values' required ones.
    given = {"log_format", "org_role_arn", "s3_bucket"}
    assert from_chart.model_dump(exclude=given) == defaults.model_dump(exclude=given)


def test_jira_token_is_a_mounted_secret_file_never_an_environment_value(chart: Chart) -> None:
    manifests = chart.render(values=[FULL_VALUES])
    for pod in (cronjob_pod(manifests), find(manifests, "Pod")["spec"]):
        (container,) = pod["containers"]
        names = [item["name"] for item in container["env"]]
        assert "CONFIG_REPORT_JIRA_API_TOKEN" not in names
        assert not [item for item in container["env"] if "JIRA" in item["name"] and "valueFrom" in item]
        (volume,) = [v for v in pod["volumes"] if "secret" in v]
        assert volume["secret"]["secretName"] == "config-report-jira"
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["readOnly"] is True
        token_file = env_of(pod)["CONFIG_REPORT_JIRA_API_TOKEN_FILE"]
        assert token_file == f"{mount['mountPath']}/{volume['secret']['items'][0]['path']}"


def test_exceptions_configmap_is_mounted_read_only_and_the_setting_names_its_file(chart: Chart) -> None:
    manifests = chart.render(values=[FULL_VALUES], sets=["config.exceptionsFile=s3://other-bucket/x.yaml"])
    for pod in (cronjob_pod(manifests), find(manifests, "Pod")["spec"]):
        (container,) = pod["containers"]
        (volume,) = [v for v in pod["volumes"] if "configMap" in v]
        assert volume["configMap"]["name"] == "config-report-exceptions"
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["readOnly"] is True
        names = [item["name"] for item in container["env"]]
        assert names.count("CONFIG_REPORT_EXCEPTIONS_FILE") == 1, "the ConfigMap wins over the S3 URI"
        assert env_of(pod)["CONFIG_REPORT_EXCEPTIONS_FILE"] == f"{mount['mountPath']}/exceptions.yaml"


def test_service_account_carries_the_irsa_role_and_templated_annotations(chart: Chart) -> None:
    manifests = chart.render(values=[FULL_VALUES])
    account = find(manifests, "ServiceAccount")
    assert account["metadata"]["name"] == "report-generator-sa"
    annotations = account["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == (
        "arn:aws:iam::123456789012:role/system-config-report-generator-write-role"
    )
    assert annotations["config-report/release"] == "config-report", "annotations go through tpl"
    assert cronjob_pod(manifests)["serviceAccountName"] == "report-generator-sa"


def test_pod_identity_leaves_the_role_to_the_association_and_lets_the_pods_reach_the_agent(
    chart: Chart,
) -> None:
    manifests = chart.render(values=[POD_IDENTITY_VALUES])
    account = find(manifests, "ServiceAccount")
    # No IRSA annotation: with one, the SDK would take IRSA's credentials before the agent's.
    assert "annotations" not in account["metadata"]
    assert account["metadata"]["name"] == cronjob_pod(manifests)["serviceAccountName"]
    for pod in (cronjob_pod(manifests), find(manifests, "Pod")["spec"]):
        # EKS's webhook sets the container credentials variables; the chart sets none of AWS's own.
        assert not [name for name in env_of(pod) if name.startswith("AWS_") and name != "AWS_REGION"]
        assert env_of(pod)["AWS_REGION"] == "eu-west-1", "Pod Identity sets no region"
    policy = find(manifests, "NetworkPolicy")["spec"]
    (agent,) = [rule for rule in policy["egress"] if {"protocol": "TCP", "port": 80} in rule["ports"]]
    assert agent == {
        "ports": [{"protocol": "TCP", "port": 80}],
        "to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}, {"ipBlock": {"cidr": "fd00:ec2::23/128"}}],
    }
    # IRSA's pods never need the agent.
    irsa = find(chart.render(values=[PRODUCTION_VALUES]), "NetworkPolicy")["spec"]
    assert not [rule for rule in irsa["egress"] if {"protocol": "TCP", "port": 80} in rule["ports"]]


def test_pod_identity_values_are_the_production_values_but_for_the_identity() -> None:
    production = yaml.safe_load(PRODUCTION_VALUES.read_text(encoding="utf-8"))
    pod_identity = yaml.safe_load(POD_IDENTITY_VALUES.read_text(encoding="utf-8"))
    assert pod_identity["serviceAccount"] == {"podIdentity": True, "roleArn": ""}
    same = {key for key in production if key not in ("serviceAccount", "networkPolicy")}
    assert {key: pod_identity[key] for key in same} == {key: production[key] for key in same}


def test_existing_service_account_is_used_not_created(chart: Chart) -> None:
    manifests = chart.render(values=[EXISTING_SA_VALUES])
    assert not [m for m in manifests if m["kind"] == "ServiceAccount"]
    assert cronjob_pod(manifests)["serviceAccountName"] == "report-generator-sa"


def test_network_policy_allows_only_cluster_dns_and_https_out_and_nothing_in(chart: Chart) -> None:
    policy = find(chart.render(), "NetworkPolicy")["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in policy
    ports = {(p["protocol"], p["port"]) for rule in policy["egress"] for p in rule["ports"]}
    assert ports == {("UDP", 53), ("TCP", 53), ("TCP", 443)}
    dns, https = policy["egress"]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert "to" not in https, "without egressCidrs, HTTPS may go anywhere (values.yaml says so)"


def test_network_policy_limits_https_to_the_listed_vpc_endpoint_cidrs(chart: Chart) -> None:
    policy = find(chart.render(values=[FULL_VALUES]), "NetworkPolicy")["spec"]
    (https,) = [rule for rule in policy["egress"] if {"protocol": "TCP", "port": 443} in rule["ports"]]
    assert https["to"] == [{"ipBlock": {"cidr": "10.0.64.0/20"}}, {"ipBlock": {"cidr": "10.0.80.0/20"}}]


def test_long_names_are_cut_to_kubernetes_limits(chart: Chart) -> None:
    manifests = chart.render(sets=["fullnameOverride=" + "r" * 40 + "-" + "x" * 22])
    for manifest in manifests:
        assert len(manifest["metadata"]["name"]) <= 63
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", manifest["metadata"]["name"])
    # The controller names each Job "<cronjob>-<11 characters>", which must stay within 63.
    assert len(find(manifests, "CronJob")["metadata"]["name"]) <= 52
    sharded = chart.render(sets=["fullnameOverride=" + "r" * 40 + "-" + "x" * 22, "config.shardCount=2"])
    merge = merge_cronjob(sharded)
    assert merge is not None
    assert len(merge["metadata"]["name"]) <= 52
    assert merge["metadata"]["name"].endswith("-merge")


def notes(chart: Chart, tmp_path: Path, sets: list[str]) -> str:
    """NOTES.txt as helm install prints it (rendered as a template: no cluster here to install into)."""
    copy = tmp_path / "chart"
    shutil.copytree(chart.directory, copy)
    (copy / "templates" / "NOTES.txt").rename(copy / "notes.txt")
    (copy / "templates" / "notes.yaml").write_text('text: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n')
    rendered = Chart(chart.tools, copy)
    output = chart.tools.check(
        "helm", *rendered.template_args(sets=sets), "--show-only", "templates/notes.yaml"
    )
    text: str = yaml.safe_load(output)["text"]
    return text


def test_notes_show_the_manual_trigger_and_log_commands(chart: Chart, tmp_path: Path) -> None:
    text = notes(chart, tmp_path, sets=["config.s3Bucket=reports-bucket", "config.environment=stg"])
    assert "JOB=config-report-manual-$(date +%s)" in text
    assert 'kubectl create job --from=cronjob/config-report "$JOB" -n security-compliance' in text
    assert 'kubectl logs -f job/"$JOB" -n security-compliance' in text
    assert "helm test config-report" in text
    assert (
        "aws s3 cp s3://reports-bucket/aws-config-reports/stg/latest.json - | jq -r .files.workbook" in text
    )


def test_manual_job_names_stay_within_63_characters(chart: Chart, tmp_path: Path) -> None:
    text = notes(chart, tmp_path, sets=["fullnameOverride=" + "n" * 63])
    (prefix,) = re.findall(r"JOB=(\S+)-\$\(date \+%s\)", text)
    assert len(prefix) + len("-1764300000") <= 63


REJECTED = {  # what is wrong: (--set overrides, the value helm's message must name, as a JSON pointer)
    "schedule of the wrong type": (["cronJob.schedule=5"], "/cronJob/schedule"),
    "schedule that is not cron": (["cronJob.schedule=every monday"], "/cronJob/schedule"),
    "time zone inside the schedule": (["cronJob.schedule=TZ=UTC 0 9 * * 1"], "/cronJob/schedule"),
    "IRSA role ARN that is not a role ARN": (
        ["serviceAccount.roleArn=arn:aws:iam::123:user/x"],
        "/serviceAccount/roleArn",
    ),
    "IRSA role given as an extra annotation": (
        ["serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/x"],
        "/serviceAccount/annotations",
    ),
    "negative CPU request": (["resources.requests.cpu=-1"], "/resources/requests/cpu"),
    "negative memory limit": (["resources.limits.memory=-512Mi"], "/resources/limits/memory"),
    "account ID given as a number": (["config.accounts[0]=12345678901"], "/config/accounts/0"),
    "misspelt setting": (["config.s3bucket=reports"], "s3bucket"),
    "unknown source": (["config.source=mirror"], "/config/source"),
    "aggregator findings neither details nor query": (
        ["config.aggregatorFindings=all"],
        "/config/aggregatorFindings",
    ),
    "aggregator sources never fresh enough": (
        ["config.aggregatorMaxAgeHours=0"],
        "/config/aggregatorMaxAgeHours",
    ),
    "negative verification sample": (["verify.sample=-1"], "/verify/sample"),
    "unknown log format": (["config.logFormat=xml"], "/config/logFormat"),
    "concurrency above the application's maximum": (["config.concurrency=1000"], "/config/concurrency"),
    "Jira URL without a token Secret": (
        ["config.jiraUrl=https://x.atlassian.net", "config.jiraProject=SEC"],
        "/jiraApiToken/existingSecret",
    ),
    "writable root filesystem": (
        ["securityContext.readOnlyRootFilesystem=false"],
        "/securityContext/readOnlyRootFilesystem",
    ),
    "running as root allowed": (
        ["podSecurityContext.runAsNonRoot=false"],
        "/podSecurityContext/runAsNonRoot",
    ),
    "retrying configuration errors": (["cronJob.failJobOnExitCodes={3}"], "/cronJob/failJobOnExitCodes"),
    "merge schedule with a time zone inside": (
        ["mergeCronJob.schedule=TZ=Europe/Paris 30 * * * *"],
        "/mergeCronJob/schedule",
    ),
    "Jira token as an environment variable": (
        ["extraEnv[0].name=CONFIG_REPORT_JIRA_API_TOKEN"],
        "/extraEnv/0/name",
    ),
    "ExternalId as an environment variable": (
        ["extraEnv[0].name=CONFIG_REPORT_EXTERNAL_ID"],
        "/extraEnv/0/name",
    ),
}


@pytest.mark.parametrize(("sets", "value"), REJECTED.values(), ids=REJECTED.keys())
def test_schema_rejects_bad_values(chart: Chart, sets: list[str], value: str) -> None:
    message = chart.rejects(sets)
    assert "values don't meet the specifications of the schema" in message, message
    assert value in message, message


def schema_pairs(values: Any, schema: Manifest, path: str) -> Iterator[tuple[str, set[str], set[str]]]:
    """(path, keys in values.yaml, properties in the schema) for every object the schema spells out."""
    if not isinstance(values, dict) or "properties" not in schema:
        return
    yield path, set(values), set(schema["properties"])
    for key, value in values.items():
        yield from schema_pairs(value, schema["properties"].get(key, {}), f"{path}.{key}")


def test_values_and_schema_describe_the_same_keys() -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    for path, in_values, in_schema in schema_pairs(values, schema, "values"):
        assert in_values == in_schema, (
            f"{path}: only in values {in_values - in_schema}, only in schema " + str(in_schema - in_values)
        )


def test_schema_limits_agree_with_the_application_settings() -> None:
    config = json.loads((CHART_DIR / "values.schema.json").read_text())["properties"]["config"]["properties"]
    for value, field in (
        ("logFormat", "log_format"),
        ("logLevel", "log_level"),
        ("jiraFlavor", "jira_flavor"),
        ("source", "source"),
        ("aggregatorFindings", "aggregator_findings"),
    ):
        assert config[value]["enum"] == list(get_args(Settings.model_fields[field].annotation))
    for value, field in (
        ("concurrency", "concurrency"),
        ("accountConcurrency", "account_concurrency"),
        ("shardCount", "shard_count"),
        ("maxAttempts", "max_attempts"),
        ("mergeDeadlineSeconds", "merge_deadline_seconds"),
    ):
        metadata = {type(m).__name__: m for m in Settings.model_fields[field].metadata}
        assert config[value]["minimum"] == metadata["Ge"].ge
        assert config[value]["maximum"] == metadata["Le"].le


def test_every_value_is_documented() -> None:
    # helm-docs style: a "# --" comment above each value, or above an object documented as a whole.
    lines = (CHART_DIR / "values.yaml").read_text().splitlines()
    undocumented = []
    documented_parents: list[tuple[int, bool]] = []  # (indent, documented) of the enclosing keys
    for number, line in enumerate(lines):
        key = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
        if not key:
            continue
        indent = len(key.group(1))
        while documented_parents and documented_parents[-1][0] >= indent:
            documented_parents.pop()
        comments = []
        for previous in reversed(lines[:number]):
            if not previous.strip().startswith("#"):
                break
            comments.append(previous)
        documented = any("# --" in c for c in comments)
        is_section = line.rstrip().endswith(":")
        if not (documented or is_section or any(d for _, d in documented_parents)):
            undocumented.append(f"values.yaml:{number + 1}: {line.strip()}")
        documented_parents.append((indent, documented))
    assert not undocumented, "\n".join(undocumented)


# checkov findings the chart skips in the manifest itself, each under the condition that justifies it.
JUSTIFIED_SKIPS: dict[str, Callable[[list[Manifest]], bool]] = {
    # The preflight pod runs `config-report check` once and exits: nothing to probe.
    "CKV_K8S_8": lambda manifests: True,
    "CKV_K8S_9": lambda manifests: True,
    # The deployer chose a tag, not a digest (image.digest empty).
    "CKV_K8S_43": lambda manifests: (
        "@sha256:" not in json.dumps([m for m in manifests if m["kind"] in ("CronJob", "Pod")])
    ),
    # The deployer turned the chart's NetworkPolicy off (networkPolicy.enabled=false).
    "CKV2_K8S_6": lambda manifests: not [m for m in manifests if m["kind"] == "NetworkPolicy"],
}


@pytest.mark.parametrize("render", RENDER_NAMES)
def test_checkov_scans_each_render_alone_and_finds_nothing_unjustified(
    deploy_tools: DeployTools, renders: dict[str, Path], render: str
) -> None:
    # Alone: a scan of several renders together lets one render's NetworkPolicy cover another's pods.
    path = renders[render]
    done = deploy_tools.run(
        "checkov", "--file", path, "--framework", "kubernetes", "--output", "json", "--skip-download"
    )
    report = json.loads(done.stdout)
    results = report["results"]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed_checks"]]
    assert not failed, "\n".join(failed)
    # A scan that read nothing passes everything: every workload of the render must have been checked.
    manifests = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    workloads = {f"{m['kind']}.{m['metadata']['namespace']}.{m['metadata']['name']}" for m in manifests}
    workloads = {w for w in workloads if w.split(".")[0] in ("CronJob", "Pod")}
    checked = {c["resource"] for kind in ("passed_checks", "failed_checks") for c in results[kind]}
    assert report["summary"]["resource_count"] > 0, f"checkov found no resource in {path.name}"
    assert workloads, path.name
    assert workloads <= checked, (workloads, checked)
    for skipped in results["skipped_checks"]:
        # Each skip is an annotation in the template, says why in the manifest itself, and applies
        # only where its condition holds.
        assert len(skipped["check_result"]["suppress_comment"]) > 30, skipped["check_id"]
        assert JUSTIFIED_SKIPS[skipped["check_id"]](manifests), skipped
    if not [m for m in manifests if m["kind"] == "NetworkPolicy"]:
        assert "CKV2_K8S_6" in {c["check_id"] for c in results["skipped_checks"]}, render


def test_the_pod_has_time_to_publish_what_it_read_after_sigterm(chart: Chart) -> None:
    pod = cronjob_pod(chart.render(values=[FULL_VALUES]))
    # Long enough for in-flight calls, writing the workbook and the upload retries (values.yaml says why).
    assert pod["terminationGracePeriodSeconds"] == 300


def test_the_weekly_verification_is_a_second_cronjob_of_the_same_pod_running_verify_on_a_sample(
    chart: Chart,
) -> None:
    manifests = chart.render(values=[CHART_DIR / "ci" / "verify-values.yaml"])
    report, verification = sorted(
        (m for m in manifests if m["kind"] == "CronJob"), key=lambda m: str(m["metadata"]["name"])
    )
    job = verification["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]

    assert verification["metadata"]["name"] == f"{report['metadata']['name']}-verify"
    assert verification["spec"]["schedule"] == "0 7 * * 1"
    assert pod["containers"][0]["args"] == ["verify", "--sample", "20"]
    # The same identity, settings and restrictions as the report's pods; a difference fails the Job at once.
    report_pod = report["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert env_of(pod) == env_of(report_pod)
    assert pod["serviceAccountName"] == report_pod["serviceAccountName"]
    assert pod["containers"][0]["securityContext"] == report_pod["containers"][0]["securityContext"]
    assert job["backoffLimit"] == 0
    assert job["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] == [2]
    assert env_of(pod)["CONFIG_REPORT_SOURCE"] == "aggregator"
