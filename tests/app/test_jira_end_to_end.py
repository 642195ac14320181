"""`config-report run` as the CronJob runs it, against the simulated organization and the fake Jira."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config_report.jira import iso_week
from config_report.simulated import SimulatedOrganization, evolve
from config_report.simulated.jira import FakeJira, Flavor
from jira.bodies import seen_lines
from runner import run_process


@pytest.fixture(scope="module")
def organization(simulated_org: SimulatedOrganization) -> Iterator[SimulatedOrganization]:
    """The shared simulator, reseeded small for these runs (which publish), then restored for the rest."""
    simulated_org.reset()
    simulated_org.seed(accounts=6, regions=("eu-west-1",))
    yield simulated_org
    simulated_org.reset()
    simulated_org.seed()


def run_report(
    organization: SimulatedOrganization, jira: FakeJira | None, tmp_path: Path, *flags: str
) -> subprocess.CompletedProcess[str]:
    """One `config-report run` subprocess; returns the completed process."""
    # Each test publishes (and keeps its ticket records) under a prefix of its own.
    settings = {"CONFIG_REPORT_S3_PREFIX": f"{tmp_path.name}/"}
    if jira is not None:
        token_file = tmp_path / "jira-token"
        token_file.write_text(jira.token + "\n")
        settings |= {
            "CONFIG_REPORT_JIRA_URL": jira.url,
            "CONFIG_REPORT_JIRA_PROJECT": "SEC",
            "CONFIG_REPORT_JIRA_API_TOKEN_FILE": str(token_file),
        }
        if jira.flavor == "cloud":
            settings["CONFIG_REPORT_JIRA_EMAIL"] = jira.email
    return run_process(organization, "run", *flags, **settings)


def events(stderr: str, name: str) -> list[dict[str, Any]]:
    """The JSON log events called `name`."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") == name:
                found.append(event)
    return found


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_two_runs_in_one_week_make_one_ticket_with_one_comment_and_two_attachments(
    organization: SimulatedOrganization, tmp_path: Path, flavor: Flavor
) -> None:
    with FakeJira(flavor).running() as jira:
        first = run_report(organization, jira, tmp_path)
        second = run_report(organization, jira, tmp_path)

    assert first.returncode in (0, 3), first.stderr
    assert second.returncode == first.returncode, second.stderr
    [issue] = jira.issues.values()
    assert f"aws-config-report-{iso_week(_started(first.stderr))}" in issue.labels
    assert len(issue.comments) == 1
    assert [a.filename.endswith(".xlsx") for a in issue.attachments] == [True, True]
    assert [e["action"] for e in events(first.stderr + second.stderr, "jira.done")] == ["created", "updated"]
    assert jira.token not in first.stderr + second.stderr + first.stdout + second.stdout


def test_jira_refusing_leaves_the_report_published_and_exits_4(
    organization: SimulatedOrganization, tmp_path: Path
) -> None:
    with FakeJira("datacenter").running() as jira:
        refusal = {"errorMessages": [], "errors": {"customfield_10010": "Team is required."}}
        jira.fail(400, method="POST", path="/issue", body=refusal)
        done = run_report(organization, jira, tmp_path)

    assert done.returncode == 4, done.stderr
    [failure] = events(done.stderr, "jira.failed")
    assert "customfield_10010: Team is required." in failure["error"]
    assert events(done.stderr, "run.failed") == []  # Jira's message is logged once, by the Jira step
    [finished] = events(done.stderr, "run.done")
    s3 = organization.client("s3")
    bucket = organization.client_env()["CONFIG_REPORT_S3_BUCKET"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {uri.removeprefix(f"s3://{bucket}/") for uri in finished["files"].values()} <= keys


def test_without_a_jira_url_the_run_says_so_once(organization: SimulatedOrganization, tmp_path: Path) -> None:
    done = run_report(organization, None, tmp_path)

    assert done.returncode in (0, 3), done.stderr
    [skipped] = events(done.stderr, "jira.skipped")
    assert "CONFIG_REPORT_JIRA_URL" in skipped["reason"]


def test_dry_run_names_the_ticket_and_writes_nothing_to_jira(
    organization: SimulatedOrganization, tmp_path: Path
) -> None:
    with FakeJira("datacenter").running() as jira:
        done = run_report(organization, jira, tmp_path, "--dry-run")

    assert done.returncode in (0, 3), done.stderr
    [outcome] = events(done.stderr, "jira.done")
    assert outcome["action"] == "dry_run"
    assert outcome["message"].startswith("would create a Task in SEC: 'AWS Config compliance ")
    assert jira.issues == {}
    assert [(r.method, r.path) for r in jira.requests] == [
        ("GET", "/rest/api/2/serverInfo"),
        ("POST", "/rest/api/2/search"),
    ]


def _started(stderr: str) -> datetime:
    [start] = events(stderr, "run.start")
    return datetime.fromisoformat(start["timestamp"])


def test_a_rerun_comment_says_what_changed_since_the_ticket_was_created(
    organization: SimulatedOrganization, tmp_path: Path
) -> None:
    # Runs in this week: the one that creates the ticket, one after a fix, one after a new breakage.
    seeded = organization.seeded
    fixed, broken = seeded.findings[0], replace(seeded.findings[1], resource_id="broken-this-week")
    with FakeJira("cloud").running() as jira:
        creating = run_report(organization, jira, tmp_path)
        evolve.fix([fixed], at=datetime.now(UTC))
        run_report(organization, jira, tmp_path)
        evolve.break_resource(broken, at=datetime.now(UTC))
        last = run_report(organization, jira, tmp_path)

    assert last.returncode == creating.returncode, last.stderr[-3000:]
    [issue] = jira.issues.values()
    assert issue.fields["description"]  # created by the first run, which had no baseline under this prefix
    *_, comment = issue.comments
    text = adf_text(comment)
    (start,) = events(creating.stderr, "run.start")
    assert (
        f"Since this ticket was created ({_started(creating.stderr):%Y-%m-%d}, run {start['run_id']})" in text
    )
    assert "New failing evaluations: 1" in text
    assert "Resolved failing evaluations: 1" in text
    assert "broken-this-week" in text


def adf_text(node: Any) -> str:
    """The text of an ADF document."""
    if isinstance(node, dict):
        return str(node.get("text", "")) + " ".join(adf_text(child) for child in node.get("content", []))
    return ""


def test_accounts_denied_alike_are_one_line_of_the_ticket_with_the_fix(
    organization: SimulatedOrganization, tmp_path: Path
) -> None:
    seeded = organization.seeded
    denied = [a for a in seeded.accounts if a.id != seeded.hub.account_id][-3:]
    organization.faults.reset()
    organization.faults.configure(deny_assume_role_into=[a.id for a in denied])
    try:
        with FakeJira("datacenter").running() as jira:
            done = run_report(organization, jira, tmp_path)
    finally:
        organization.faults.reset()

    assert done.returncode == 3, done.stderr[-3000:]
    [issue] = jira.issues.values()
    gaps = [line for line in seen_lines(issue.fields["description"]) if line.startswith("ACCESS_DENIED")]
    assert len(gaps) == 1, gaps  # not one line per account: STS's messages differ only in account IDs
    [line] = gaps
    assert line.startswith("ACCESS_DENIED: 3 account-regions in 3 accounts: ")
    assert all(f"{a.name} ({a.id})" in line for a in denied)
    assert "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::<account>:role/" in line
    assert not any(a.id in line.split("AWS said:")[1] for a in denied)
    assert "Fix: the spoke role is missing in these accounts or does not trust the hub role" in line
