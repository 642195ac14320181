"""The weekly Jira ticket, against the fake Jira (both flavors) over HTTP; its record in the report
bucket (in memory, and in the simulated S3 for what only S3 does: encryption, a missing bucket)."""

from __future__ import annotations

import base64
import io
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog

from config_report import logs
from config_report.app.run import published_workbook
from config_report.aws.session import client_config
from config_report.domain.acceptance import apply_exceptions, parse_exceptions
from config_report.domain.changes import compare
from config_report.domain.figures import finished
from config_report.domain.model import (
    Acceptance,
    Account,
    AccountScan,
    Baseline,
    Changes,
    Coverage,
    CoverageStatus,
    Finding,
    Owner,
    OwnerSource,
    Report,
)
from config_report.domain.severity import Severity
from config_report.errors import JiraError
from config_report.jira import PublishedWorkbook, TicketOutcome, sync_weekly_ticket
from config_report.render.xlsx.workbook import write_workbook
from config_report.settings import BucketConfig, JiraConfig, Settings, load_settings
from config_report.simulated import SimulatedOrganization
from config_report.simulated.jira import FakeJira, Flavor
from config_report.store.bucket import MemoryBucket, ReportBucket, S3Bucket
from config_report.store.publish import PublishedRun, describe_files
from config_report.store.tickets import TicketRecords
from factories import DENIED, PROD, STARTED, finding, prod_scan, sample_report
from jira.bodies import body_text, seen_lines

WEEK = "2026-W48"  # factories.STARTED is Monday 2026-11-23
LABEL = f"aws-config-report-{WEEK}"
BUCKET = "reports-bucket"
RUN_PREFIX = "aws-config-reports/2026/11/23/20261123T090000Z-3f9c2a/"


@pytest.fixture
def s3(simulated_org: SimulatedOrganization) -> Any:
    """The hub's S3 client in the simulated organization."""
    return simulated_org.client("s3")


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A bucket of this test's own, removed afterwards: the shared simulator stays as it was."""
    name = f"jira-ledger-{next(_buckets)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


_buckets = itertools.count(1)


def s3_bucket(
    sim: SimulatedOrganization,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    *,
    prefix: str = "aws-config-reports/",
    kms_key_id: str | None = None,
) -> S3Bucket:
    """The report bucket `name` in the simulated S3, as the hub reads and writes it."""
    for variable, value in sim.client_env().items():
        monkeypatch.setenv(variable, value)
    config = BucketConfig(bucket=name, prefix=prefix, kms_key_id=kms_key_id, upload_retry_seconds=0)
    clients = client_config(load_settings({}).client_config())
    return S3Bucket(config, session=boto3.Session(), client_config=clients)


def _records(bucket: ReportBucket | None = None) -> TicketRecords:
    config = BucketConfig(
        bucket="reports", prefix="aws-config-reports/", kms_key_id=None, upload_retry_seconds=0
    )
    return TicketRecords(bucket or MemoryBucket(config))


@pytest.fixture
def ledger() -> TicketRecords:
    return _records()


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param).running() as fake:
        yield fake


@pytest.fixture
def published(tmp_path: Path) -> PublishedWorkbook:
    workbook = write_workbook(sample_report(), tmp_path / "aws-config-report-2026-11-23.xlsx")
    run = PublishedRun(
        bucket=BUCKET, region="eu-west-1", run_prefix=RUN_PREFIX, files=describe_files([workbook], RUN_PREFIX)
    )
    return published_workbook(run)


class Sleeps(list[float]):
    """Records how long the client would have waited, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def settings_for(jira: FakeJira, **overrides: Any) -> JiraConfig:
    values: dict[str, Any] = {
        "jira_url": jira.url,
        "jira_project": "SEC",
        "jira_api_token": jira.token,
        "jira_email": jira.email if jira.flavor == "cloud" else None,
        "jira_labels": ["security", "aws-config"],
    }
    config = Settings(**(values | overrides)).jira_config()
    assert config is not None
    return config


def sync(
    jira: FakeJira,
    published: PublishedWorkbook,
    ledger: TicketRecords,
    *,
    report: Report | None = None,
    sleeps: Sleeps | None = None,
    **overrides: Any,
) -> TicketOutcome:
    return sync_weekly_ticket(
        settings_for(jira, **overrides),
        report or sample_report(),
        published,
        ledger,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


# --- create and update -------------------------------------------------------------------------


def test_first_run_of_the_week_creates_a_labelled_ticket_and_attaches_the_workbook(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    outcome = sync(jira, published, ledger)

    assert outcome.action == "created"
    assert outcome.attached
    [issue] = jira.issues.values()
    assert outcome.key == issue.key
    assert outcome.url == f"{jira.url}/browse/{issue.key}"
    assert issue.labels == [LABEL, "security", "aws-config"]
    assert issue.fields["summary"] == (
        f"AWS Config compliance {WEEK}: 4 non-compliant resources, 4 failing evaluations, "
        "3 accounts, 1 coverage gap"
    )
    assert issue.fields["issuetype"] == {"name": "Task"}
    [attachment] = issue.attachments
    assert attachment.filename == "aws-config-report-2026-11-23.xlsx"
    assert attachment.content == published.local_path.read_bytes()
    assert ledger.known_key(WEEK) == issue.key


def test_description_names_gaps_worst_rules_and_accounts_and_where_the_report_is(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    sync(jira, published, ledger)

    [issue] = jira.issues.values()
    description = issue.fields["description"]
    assert isinstance(description, dict if jira.flavor == "cloud" else str)
    text = body_text(description)
    assert f"s3://{BUCKET}/{RUN_PREFIX}aws-config-report-2026-11-23.xlsx" in text
    assert (
        "https://eu-west-1.console.aws.amazon.com/s3/object/reports-bucket?region=eu-west-1&prefix=" in text
    )
    assert DENIED.id in text  # the account whose role could not be assumed is a coverage gap
    for expected in (
        "Coverage gaps",
        "Worst rules",
        "Worst accounts",
        "s3\\-bucket\\-public\\-read\\-prohibited",
    ):
        assert expected.replace("\\", "") in text.replace("\\", "")


def test_second_run_of_the_week_comments_and_attaches_without_a_second_ticket(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    first = sync(jira, published, ledger)
    second = sync(jira, published, ledger)

    assert (first.action, second.action) == ("created", "updated")
    assert second.key == first.key
    [issue] = jira.issues.values()
    [comment] = issue.comments
    assert isinstance(comment, dict if jira.flavor == "cloud" else str)
    assert "New run of the weekly report" in body_text(comment)
    assert len(issue.attachments) == 2


def test_rerun_while_search_lags_finds_the_new_ticket_by_its_stored_key(
    published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    with FakeJira("cloud", search_lag=100).running() as lagging:
        sync(lagging, published, ledger)
        searches_after_create = len(lagging.requests_to("POST", "/search/jql"))
        sync(lagging, published, ledger)

        assert len(lagging.issues) == 1
        assert len(lagging.requests_to("POST", "/search/jql")) == searches_after_create
        [issue] = lagging.issues.values()
        assert len(issue.comments) == 1


def test_search_finds_the_open_ticket_when_nothing_is_stored(
    datacenter: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    other_ledger = _records()
    created = sync(datacenter, published, other_ledger)

    updated = sync(datacenter, published, ledger)

    assert updated.action == "updated"
    assert updated.key == created.key
    assert len(datacenter.issues) == 1


def test_closed_ticket_of_the_week_gets_a_new_ticket_recorded_in_its_place(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    first = sync(jira, published, ledger)
    assert first.key is not None
    jira.close_issue(first.key)

    second = sync(jira, published, ledger)

    assert second.action == "created"
    assert second.key != first.key
    assert ledger.known_key(WEEK) == second.key


def judged(extra_before: list[Finding], extra_now: list[Finding]) -> Report:
    """This week's sample report compared with last week's (the sample report with other findings)."""
    before = sample_report(extra_findings=extra_before)
    last_week = replace(
        before,
        run=replace(before.run, run_id="20261116T090000Z-aaaaaa", started_at=STARTED - timedelta(days=7)),
    )
    baseline = Baseline(
        source="s3://b/last.snapshot.json.gz",
        run_id=last_week.run.run_id,
        started_at=last_week.run.started_at,
        figures=last_week.figures,
    )
    return compare(sample_report(extra_findings=extra_now), last_week, baseline)


def test_the_ticket_leads_with_new_and_resolved_counts_and_the_worst_new_findings(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    fixed = finding(PROD, "s3-bucket-public-read-prohibited", "old-bucket")
    new = [
        finding(
            PROD,
            "OrgConfigRule-restricted-ssh-ab12cd",
            f"sg-new-{n}",
            resource_type="AWS::EC2::SecurityGroup",
        )
        for n in range(4)
    ]
    sync(jira, published, ledger, report=judged([fixed], new))

    [issue] = jira.issues.values()
    assert issue.fields["summary"].startswith(
        f"AWS Config compliance {WEEK}: 4 new, 1 resolved; 8 non-compliant"
    )
    text = body_text(issue.fields["description"]).replace("\\", "")
    changes = text.index("Since the previous run (2026-11-16, run 20261116T090000Z-aaaaaa)")
    assert changes < text.index("Figures") < text.index("Worst rules")
    assert "Newly non-compliant resources: 4 (change +3)" in text
    assert "Resources no longer non-compliant: 1" in text
    assert "New failing evaluations: 4" in text
    assert "Resolved failing evaluations: 1" in text
    assert f"restricted-ssh: 4 new: Prod Payments ({PROD.id}) eu-west-1 sg-new-0" in text
    assert "and 1 more" in text


def test_a_rerun_comment_says_what_changed_since_the_run_that_created_the_ticket(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    creating = judged([], [])
    sync(jira, published, ledger, report=creating)
    asked: list[str] = []
    since_creation = judged(
        [
            finding(PROD, "s3-bucket-public-read-prohibited", "a"),
            finding(PROD, "s3-bucket-public-read-prohibited", "b"),
        ],
        [],
    )

    def since_run(run_id: str) -> Changes | None:
        asked.append(run_id)
        return since_creation.changes

    sync_weekly_ticket(
        settings_for(jira), judged([], []), published, ledger, since_run=since_run, sleep=Sleeps()
    )

    assert asked == [creating.run.run_id]
    [issue] = jira.issues.values()
    [comment] = issue.comments
    text = body_text(comment)
    assert "Since this ticket was created" in text
    assert "Resolved failing evaluations: 2" in text
    assert seen_lines(comment)[1:3] == [
        "New critical and high findings",
        "None. Since this ticket was created (2026-11-16, run 20261116T090000Z-aaaaaa): "
        "no new finding is critical or high.",
    ]


def test_without_a_baseline_the_ticket_says_why(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    report = compare(sample_report(), None, Baseline(problem="first run: no earlier report under s3://b/p/"))
    sync(jira, published, ledger, report=report)

    [issue] = jira.issues.values()
    assert "No baseline: first run: no earlier report under s3://b/p/" in body_text(
        issue.fields["description"]
    ).replace("\\", "")
    assert issue.fields["summary"].startswith(f"AWS Config compliance {WEEK}: 4 non-compliant")


@pytest.mark.parametrize(("flavor", "who"), [("cloud", "accountId"), ("datacenter", "name")])
def test_configured_fields_go_on_new_tickets(
    flavor: Flavor, who: str, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    with FakeJira(flavor, required_fields={"customfield_10010": "Team"}).running() as jira:
        sync(
            jira,
            published,
            ledger,
            jira_issue_type="Bug",
            jira_components=["AWS"],
            jira_priority="High",
            jira_assignee="sec-bot",
            jira_extra_fields=json.dumps({"customfield_10010": {"id": "42"}}),
        )
        [issue] = jira.issues.values()
        assert issue.fields["issuetype"] == {"name": "Bug"}
        assert issue.fields["components"] == [{"name": "AWS"}]
        assert issue.fields["priority"] == {"name": "High"}
        assert issue.fields["assignee"] == {who: "sec-bot"}
        assert issue.fields["customfield_10010"] == {"id": "42"}


def test_oversized_workbook_is_linked_not_attached(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    outcome = sync(jira, published, ledger, jira_attachment_max_mb=0.001)

    assert not outcome.attached
    assert "linked only" in outcome.message
    assert jira.requests_to("POST", "/attachments") == []
    [issue] = jira.issues.values()
    assert "above the 0.001 MB limit" in body_text(issue.fields["description"])


# --- dry run -------------------------------------------------------------------------------------


def test_dry_run_describes_the_create_and_writes_nothing(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    outcome = sync_weekly_ticket(settings_for(jira), sample_report(), published, ledger, dry_run=True)

    assert outcome.action == "dry_run"
    assert outcome.key is None
    assert outcome.message.startswith(f"would create a Task in SEC: 'AWS Config compliance {WEEK}")
    assert jira.issues == {}
    assert ledger.known_key(WEEK) is None


def test_dry_run_names_the_ticket_it_would_update_and_writes_nothing(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    created = sync(jira, published, ledger)
    requests_before = len(jira.requests)

    outcome = sync_weekly_ticket(settings_for(jira), sample_report(), published, ledger, dry_run=True)

    assert (outcome.action, outcome.key) == ("dry_run", created.key)
    assert outcome.message.startswith(f"would comment on {created.key}")
    writes = [r for r in jira.requests[requests_before:] if r.method == "POST" and "/search" not in r.path]
    assert writes == []
    [issue] = jira.issues.values()
    assert (issue.comments, len(issue.attachments)) == ([], 1)


# --- failures ------------------------------------------------------------------------------------


def test_wrong_token_fails_with_jiras_message(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    with pytest.raises(
        JiraError, match=r"Jira answered 401 .*not authenticated.*Check CONFIG_REPORT_JIRA_EMAIL"
    ):
        sync(jira, published, ledger, jira_api_token="not-the-token")
    assert jira.issues == {}


def test_required_custom_field_is_named_in_the_error(
    published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    with (
        FakeJira("cloud", required_fields={"customfield_10010": "Team"}).running() as jira,
        pytest.raises(JiraError) as caught,
    ):
        sync(jira, published, ledger)

    message = str(caught.value)
    assert "Jira answered 400 when asked to create a Task in project SEC" in message
    assert "customfield_10010: Team is required." in message
    assert "set them in CONFIG_REPORT_JIRA_EXTRA_FIELDS" in message


def test_429_waits_as_long_as_retry_after_says(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    jira.fail(429, path="/search", retry_after="7")
    sleeps = Sleeps()

    outcome = sync(jira, published, ledger, sleeps=sleeps)

    assert outcome.action == "created"
    assert sleeps == [7.0]


def test_server_errors_are_retried_with_backoff_until_jira_recovers(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    sync(jira, published, ledger)
    jira.fail(502, path="/comment", times=2)
    sleeps = Sleeps()

    outcome = sync(jira, published, ledger, sleeps=sleeps)

    assert outcome.action == "updated"
    assert sleeps == [1.0, 2.0]
    [issue] = jira.issues.values()
    assert len(issue.comments) == 1


def test_server_errors_that_persist_end_in_a_jira_error(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    jira.fail(
        503, path="/search", times=100, body={"errorMessages": ["Jira is in maintenance"], "errors": {}}
    )
    sleeps = Sleeps()

    with pytest.raises(JiraError, match=r"Jira answered 503 .*: Jira is in maintenance"):
        sync(jira, published, ledger, sleeps=sleeps)

    assert len(jira.requests_to("POST", "/search")) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_create_that_fails_after_saving_the_ticket_does_not_make_a_second_one(
    datacenter: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    datacenter.fail(500, method="POST", path="/rest/api/2/issue", then_apply=True)

    outcome = sync(datacenter, published, ledger)

    [issue] = datacenter.issues.values()
    assert (outcome.action, outcome.key) == ("created", issue.key)
    assert ledger.known_key(WEEK) == issue.key
    assert len(issue.attachments) == 1


def test_create_that_fails_before_saving_is_tried_again_after_a_pause(
    datacenter: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    datacenter.fail(500, method="POST", path="/rest/api/2/issue")
    sleeps = Sleeps()

    outcome = sync(datacenter, published, ledger, sleeps=sleeps)

    assert outcome.action == "created"
    assert len(datacenter.issues) == 1
    creates = [r for r in datacenter.requests if r.method == "POST" and r.path == "/rest/api/2/issue"]
    assert [r.status for r in creates] == [500, 201]
    assert sleeps == [1.0]


def test_no_log_line_or_error_carries_the_token(
    cloud: FakeJira, published: PublishedWorkbook, ledger: TicketRecords, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    logs.configure(log_format="json", level="DEBUG", stream=stream)
    caplog.set_level(logging.DEBUG)
    cloud.fail(429, path="/search", retry_after="0")
    cloud.fail(500, path="/attachments")
    try:
        sync(cloud, published, ledger)
        sync(cloud, published, ledger)
        with pytest.raises(JiraError) as caught:
            sync(cloud, published, ledger, jira_api_token=cloud.token + "-revoked")
    finally:
        structlog.reset_defaults()

    basic = base64.b64encode(f"{cloud.email}:{cloud.token}".encode()).decode()
    written = stream.getvalue() + caplog.text + str(caught.value)
    assert "jira.retry" in stream.getvalue()  # the retries were logged, so the logs were really captured
    assert "HTTP Request" in caplog.text
    for secret in (cloud.token, basic):
        assert secret not in written
        assert all(secret not in str(record.args) for record in caplog.records)


def test_unreadable_token_file_is_a_jira_failure_not_a_usage_error(
    cloud: FakeJira, published: PublishedWorkbook, ledger: TicketRecords, tmp_path: Path
) -> None:
    settings = settings_for(cloud, jira_api_token=None, jira_api_token_file=tmp_path / "missing")

    with pytest.raises(JiraError, match="CONFIG_REPORT_JIRA_API_TOKEN_FILE: cannot read") as caught:
        sync_weekly_ticket(settings, sample_report(), published, ledger)

    assert caught.value.exit_code == 4
    assert cloud.requests == []


# --- the ticket record in S3 ---------------------------------------------------------------------


def test_ticket_record_is_one_small_object_per_week_encrypted_with_the_report_key(
    simulated_org: SimulatedOrganization, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id = simulated_org.client("kms").create_key()["KeyMetadata"]["KeyId"]
    ledger = TicketRecords(
        s3_bucket(simulated_org, monkeypatch, bucket, prefix="reports/", kms_key_id=key_id)
    )

    ledger.remember(WEEK, "SEC-7", run_id="20261123T090000Z-3f9c2a")

    head = s3.head_object(Bucket=bucket, Key=f"reports/jira/{WEEK}.json")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"].endswith(key_id)) == ("aws:kms", True)
    assert (ledger.known_key(WEEK), ledger.known_key("2026-W49")) == ("SEC-7", None)
    assert ledger.created_by(WEEK) == "20261123T090000Z-3f9c2a"


def test_unreadable_ticket_record_stops_the_ticket_rather_than_risking_a_duplicate(
    cloud: FakeJira,
    published: PublishedWorkbook,
    simulated_org: SimulatedOrganization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing_bucket = TicketRecords(s3_bucket(simulated_org, monkeypatch, "no-such-bucket-here"))

    with pytest.raises(JiraError, match="cannot read the ticket record s3://no-such-bucket-here/"):
        sync(cloud, published, missing_bucket)

    assert cloud.issues == {}


def test_a_tampered_ticket_record_is_refused() -> None:
    config = BucketConfig(
        bucket="reports", prefix="aws-config-reports/", kms_key_id=None, upload_retry_seconds=0
    )
    bucket = MemoryBucket(config)
    bucket.put(bucket.ticket_key(WEEK), b'{"key": "../../admin"}', content_type="application/json")
    ledger = _records(bucket)

    with pytest.raises(JiraError, match="is not a ticket record; delete it to start over"):
        ledger.known_key(WEEK)


def test_a_rule_that_alone_could_not_be_read_is_listed_under_coverage_gaps(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    # The only gap of the run: one rule whose details were denied; every region was read.
    prod = prod_scan()
    denied = "GetComplianceDetailsByConfigRule: AccessDeniedException: denied by policy"
    rules = tuple(
        replace(r, read_status=CoverageStatus.ACCESS_DENIED, read_detail=denied)
        if r.rule_name == "restricted-ssh"
        else r
        for r in prod.rules
    )
    report = finished(Report(run=sample_report().run, scans=(replace(prod, rules=rules),)))
    assert (report.figures.coverage_gaps, report.figures.rules_unread) == (0, 1)

    sync(jira, published, ledger, report=report)

    [issue] = jira.issues.values()
    text = body_text(issue.fields["description"])
    assert "Coverage gaps" in text
    [gap] = [line for line in seen_lines(issue.fields["description"]) if line.startswith("ACCESS_DENIED")]
    assert gap.startswith(
        f"ACCESS_DENIED: 1 rule that alone could not be read (its region was) in 1 account: "
        f"Prod Payments ({PROD.id}). Rules: restricted-ssh. "
        "AWS said: GetComplianceDetailsByConfigRule: AccessDeniedException: denied by policy. "
        "Fix: the spoke role's policy does not allow this call"
    )


def test_the_ticket_names_expired_and_unused_exceptions_and_how_to_request_one(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    entries = parse_exceptions(
        """exceptions:
  - rule: restricted-ssh
    resource: "*"
    reason: Sandbox bastion
    ticket: SEC-2
    expires: 2026-11-01
  - rule: no-such-rule
    resource: "*"
    reason: Left over
    ticket: SEC-3
    expires: 2027-01-01
""",
        source="exceptions.yaml",
    )
    judged = apply_exceptions(sample_report(), entries, today=STARTED.date())
    report = finished(replace(judged, exception_request="https://wiki.example.com/exceptions"))

    sync(jira, published, ledger, report=report)

    [issue] = jira.issues.values()
    text = body_text(issue.fields["description"])
    section = text[text.index("Accepted exceptions") : text.index("Worst rules")]
    assert "Expired: SEC-2: Sandbox bastion — expired 2026-11-01" in section
    assert "Unused: SEC-3: Left over — matches no finding" in section
    request = section[section.index("To request an exception:") :]
    assert "https://wiki.example.com/exceptions" in request


# --- what a triager reads first ------------------------------------------------------------------


PAYMENTS = Owner("payments-team", OwnerSource.RESOURCE_TAG)
PLATFORM = Owner("platform-team", OwnerSource.ACCOUNT_TAG)


def rated_finding(
    account: Account, rule: str, resource_id: str, severity: Severity, owner: Owner | None = None, **kw: Any
) -> Finding:
    """A finding as the run has it by the time of the ticket: rated, and with its owner."""
    return replace(finding(account, rule, resource_id, **kw), severity=severity, owner=owner)


def lines_of(jira: FakeJira) -> list[str]:
    """The lines a triager reads in the week's ticket."""
    [issue] = jira.issues.values()
    return seen_lines(issue.fields["description"])


def section(lines: list[str], heading: str) -> list[str]:
    """The lines under `heading`, up to the next heading of the ticket."""
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if _is_heading(lines[i])), len(lines))
    return lines[start:end]


def _is_heading(line: str) -> bool:
    # The counts' heading names the baseline run: "Since the previous run (2026-11-16, run …)".
    since = line.startswith(("Since the previous run (", "Since this ticket was created ("))
    return line in _HEADINGS or (since and line.endswith(")"))


_HEADINGS = {
    "New critical and high findings",
    "Owners and OUs with the most new findings",
    "Coverage gaps",
    "Accepted exceptions",
    "Figures",
    "Worst new findings",
    "Worst rules",
    "Worst accounts",
    "Report",
}


def test_the_ticket_leads_with_the_new_critical_and_high_findings_and_their_owners(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    accepted = Acceptance("Temporary", "SEC-9", STARTED.date() + timedelta(days=30))
    new = [
        rated_finding(
            PROD, "ec2-imdsv2-check", "i-0abc", Severity.HIGH, PLATFORM, resource_type="AWS::EC2::Instance"
        ),
        rated_finding(PROD, "s3-bucket-public-write-prohibited", "open-bucket", Severity.CRITICAL, PAYMENTS),
        rated_finding(
            PROD, "encrypted-volumes", "vol-1", Severity.MEDIUM, PAYMENTS, resource_type="AWS::EC2::Volume"
        ),
        replace(
            rated_finding(PROD, "s3-bucket-public-read-prohibited", "accepted", Severity.CRITICAL, PAYMENTS),
            accepted=accepted,
        ),
    ]
    sync(jira, published, ledger, report=judged([], new))

    lines = lines_of(jira)
    assert lines[1] == "New critical and high findings"
    assert section(lines, "New critical and high findings") == [
        "Since the previous run (2026-11-16, run 20261116T090000Z-aaaaaa): 2 findings on 2 resources "
        "(1 CRITICAL, 1 HIGH).",
        f"CRITICAL s3-bucket-public-write-prohibited: Prod Payments ({PROD.id}), eu-west-1, "
        "AWS::S3::Bucket open-bucket, owner payments-team",
        f"HIGH ec2-imdsv2-check: Prod Payments ({PROD.id}), eu-west-1, AWS::EC2::Instance i-0abc, "
        "owner platform-team",
    ]
    assert section(lines, "Owners and OUs with the most new findings") == [
        "By owner:",
        "payments-team: 2 resources with new findings (1 critical or high)",
        "platform-team: 1 resource with new findings (1 critical or high)",
        "By OU:",
        "Workloads/Prod: 3 resources with new findings (2 critical or high)",
    ]
    order = [
        lines.index(h)
        for h in ("Coverage gaps", "Accepted exceptions", "Figures", "Worst rules")
        if h in lines
    ]
    assert order == sorted(order)
    assert lines.index("Owners and OUs with the most new findings") < order[0]


def test_past_fifteen_new_critical_findings_the_ticket_says_how_many_more(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    new = [
        rated_finding(PROD, "s3-bucket-public-read-prohibited", f"b-{n:02d}", Severity.CRITICAL)
        for n in range(20)
    ]
    sync(jira, published, ledger, report=judged([], new))

    listed = section(lines_of(jira), "New critical and high findings")
    assert listed[0].endswith("20 findings on 20 resources (20 CRITICAL, 0 HIGH).")
    assert len(listed) == 1 + 15 + 1
    assert listed[-1] == "… and 5 more: the Changes sheet lists them (Status NEW)"
    assert all("owner (no owner)" in line for line in listed[1:16])


def test_owners_past_the_fifth_are_one_other_row_so_the_table_adds_up(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    new = [
        rated_finding(
            PROD,
            "encrypted-volumes",
            f"vol-{team}-{n}",
            Severity.MEDIUM,
            Owner(f"team-{team}", OwnerSource.RESOURCE_TAG),
        )
        for team in range(8)
        for n in range(team + 1)
    ]
    sync(jira, published, ledger, report=judged([], new))

    owners = section(lines_of(jira), "Owners and OUs with the most new findings")
    assert owners[:7] == [
        "By owner:",
        *(f"team-{t}: {t + 1} resources with new findings (0 critical or high)" for t in (7, 6, 5, 4, 3)),
        "other 3 owners: 6 resources with new findings (0 critical or high)",
    ]
    assert section(lines_of(jira), "New critical and high findings") == [
        "None. Since the previous run (2026-11-16, run 20261116T090000Z-aaaaaa): "
        "no new finding is critical or high."
    ]


def test_without_a_baseline_the_ticket_says_nothing_can_be_called_new_and_counts_this_runs(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    critical = rated_finding(PROD, "s3-bucket-public-write-prohibited", "open", Severity.CRITICAL)
    report = compare(
        sample_report(extra_findings=[critical]),
        None,
        Baseline(problem="first run: no earlier report under s3://b/p/"),
    )
    sync(jira, published, ledger, report=report)

    lines = lines_of(jira)
    assert section(lines, "New critical and high findings") == [
        "No baseline: first run: no earlier report under s3://b/p/. Nothing can be called new; this run has "
        "1 critical or high finding (Non-compliant resources sheet, Severity)."
    ]
    assert section(lines, "Owners and OUs with the most new findings") == [
        "Not known without a baseline (see above)."
    ]


HUB_SESSION = "arn:aws:sts::999999999999:assumed-role/config-report-hub/config-report"


def assume_role_denied(account_id: str) -> str:
    """What the scan records when STS refuses the spoke role, as AWS words it (account IDs inside)."""
    return (
        f"AssumeRole: AccessDenied: User: {HUB_SESSION} is not authorized to perform: sts:AssumeRole on "
        f"resource: arn:aws:iam::{account_id}:role/system-config-report-generator-read-role"
    )


def gap_report(
    gaps: list[tuple[CoverageStatus, str]], *, regions: tuple[str, ...] = ("eu-west-1",)
) -> Report:
    """One account per gap (`status`, its detail with {id} for the account ID), each region a gap."""
    scans = [prod_scan()]
    for n, (status, detail) in enumerate(gaps, start=1):
        account = Account(id=f"{n:012d}", name=f"Team {n}", ou="Workloads")
        coverage = tuple(Coverage(account.id, r, status, detail.format(id=account.id)) for r in regions)
        scans.append(AccountScan(account=account, coverage=coverage))
    return finished(Report(run=sample_report().run, scans=tuple(scans)))


def test_gaps_with_one_cause_are_one_line_with_the_accounts_and_the_fix(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    denied = [(CoverageStatus.ACCESS_DENIED, assume_role_denied("{id}"))] * 12
    timeout = [(CoverageStatus.ERROR, "DescribeConfigRules: ReadTimeoutError: Read timeout on endpoint URL")]
    sync(jira, published, ledger, report=gap_report(denied + timeout, regions=("eu-west-1", "us-east-1")))

    gaps = section(lines_of(jira), "Coverage gaps")
    assert len(gaps) == 2
    first_ten = ", ".join(f"Team {n} ({n:012d})" for n in range(1, 11))
    assert gaps[0] == (
        f"ACCESS_DENIED: 24 account-regions in 12 accounts: {first_ten}, and 2 more. "
        "AWS said: AssumeRole: AccessDenied: User: arn:aws:sts::<account>:assumed-role/config-report-hub/"
        "config-report is not authorized to perform: sts:AssumeRole on resource: "
        "arn:aws:iam::<account>:role/system-config-report-generator-read-role. "
        "Fix: the spoke role is missing in these accounts or does not trust the hub role: deploy it "
        "(the spoke module or StackSet in deploy/terraform) under the name in "
        "CONFIG_REPORT_SPOKE_ROLE_NAME, then run config-report check."
    )
    assert gaps[1].startswith("ERROR: 2 account-regions in 1 account: Team 13 (000000000013). AWS said: ")
    assert "Fix: AWS answered with an error, not a denial" in gaps[1]


def test_a_denial_through_the_aggregator_names_the_aggregator_role_not_the_spoke_role(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    role = "arn:aws:iam::002718281828:role/system-config-report-generator-read-aggregator-role"
    not_assumed = (
        f"cannot assume CONFIG_REPORT_AGGREGATOR_ROLE_ARN {role} (AssumeRole: AccessDenied: User: "
        f"{HUB_SESSION} is not authorized to perform: sts:AssumeRole on resource: {role}); check that "
        f"role's trust policy allows {HUB_SESSION}"
    )
    not_allowed = (
        "aggregator acme-organization-aggregator in eu-central-1: DescribeAggregateComplianceByConfigRules: "
        "AccessDeniedException: not authorized; grant the aggregator role the reads of deploy/terraform's "
        "aggregator-read-role"
    )
    denied = [(CoverageStatus.ACCESS_DENIED, not_assumed), (CoverageStatus.ACCESS_DENIED, not_allowed)]
    sync(jira, published, ledger, report=gap_report(denied))

    gaps = section(lines_of(jira), "Coverage gaps")
    assert len(gaps) == 2
    for gap in gaps:
        assert "Fix: the aggregator read role (CONFIG_REPORT_AGGREGATOR_ROLE_ARN)" in gap
        assert "spoke" not in gap


def test_a_huge_organizations_ticket_stays_within_jiras_text_limit(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    # 400 accounts, each a gap with its own message as long as a coverage row keeps (300 characters; and
    # the sample's denied account: 401 causes), and 400 new critical findings, each with its own owner,
    # on resources and rules with long names.
    gaps = [
        (
            CoverageStatus.ERROR,
            f"GetComplianceDetailsByConfigRule: InternalFailure: node {n} failed ".ljust(300, "y"),
        )
        for n in range(400)
    ]
    before = gap_report(gaps)
    new = [
        rated_finding(
            PROD,
            f"rule-with-a-long-normalized-name-{n}",
            f"arn:aws:s3:::bucket-with-a-long-name-{n}" * 2,
            Severity.CRITICAL,
            Owner(f"owner-with-a-long-name-{n}" * 3, OwnerSource.RESOURCE_TAG),
        )
        for n in range(400)
    ]
    report = judged([], new)
    report = finished(replace(report, scans=(*report.scans, *before.scans[1:])))

    outcome = sync(jira, published, ledger, report=report)

    assert outcome.action == "created"  # the fake refuses a description over 32,767 characters
    lines = lines_of(jira)
    assert section(lines, "Coverage gaps")[-1] == "… and 391 other causes: see the Coverage and Rules sheets"


PRIORITIES = json.dumps({"CRITICAL": "Highest", "high": "High"})


@pytest.mark.parametrize(
    ("severities", "mapping", "expected"),
    [
        ((Severity.HIGH, Severity.CRITICAL, Severity.LOW), PRIORITIES, "Highest"),
        ((Severity.HIGH, Severity.MEDIUM), PRIORITIES, "High"),
        # No entry for the worst: the next milder severity's.
        ((Severity.CRITICAL,), json.dumps({"HIGH": "High"}), "High"),
        # None applies: the configured priority, as before.
        ((Severity.MEDIUM, Severity.UNRATED), PRIORITIES, "Medium"),
    ],
)
def test_the_worst_new_severity_sets_the_new_tickets_priority(
    cloud: FakeJira,
    published: PublishedWorkbook,
    ledger: TicketRecords,
    severities: tuple[Severity, ...],
    mapping: str,
    expected: str,
) -> None:
    new = [rated_finding(PROD, f"rule-{s.value.lower()}", f"r-{s.value}", s) for s in severities]
    sync(
        cloud,
        published,
        ledger,
        report=judged([], new),
        jira_priority="Medium",
        jira_priority_by_severity=mapping,
    )

    [issue] = cloud.issues.values()
    assert issue.fields["priority"] == {"name": expected}


def test_an_accepted_or_old_finding_does_not_raise_the_priority(
    cloud: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    old = rated_finding(PROD, "s3-bucket-public-write-prohibited", "old", Severity.CRITICAL)
    accepted = replace(
        rated_finding(PROD, "s3-bucket-public-write-prohibited", "new", Severity.CRITICAL),
        accepted=Acceptance("Known", "SEC-1", STARTED.date() + timedelta(days=9)),
    )
    sync(
        cloud, published, ledger, report=judged([old], [old, accepted]), jira_priority_by_severity=PRIORITIES
    )

    [issue] = cloud.issues.values()
    assert "priority" not in issue.fields


def test_owners_of_new_critical_and_high_findings_add_their_components(
    jira: FakeJira, published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    new = [
        rated_finding(PROD, "s3-bucket-public-write-prohibited", "open", Severity.CRITICAL, PAYMENTS),
        rated_finding(PROD, "encrypted-volumes", "vol-1", Severity.MEDIUM, PLATFORM),
        rated_finding(
            PROD, "ec2-imdsv2-check", "i-1", Severity.HIGH, Owner("unmapped", OwnerSource.RESOURCE_TAG)
        ),
    ]
    components = json.dumps({"payments-team": "Payments", "platform-team": "Platform"})
    sync(
        jira,
        published,
        ledger,
        report=judged([], new),
        jira_components=["AWS"],
        jira_owner_components=components,
    )

    [issue] = jira.issues.values()
    assert issue.fields["components"] == [{"name": "AWS"}, {"name": "Payments"}]


def test_a_component_the_project_lacks_names_the_settings_to_correct(
    published: PublishedWorkbook, ledger: TicketRecords
) -> None:
    new = [rated_finding(PROD, "s3-bucket-public-write-prohibited", "open", Severity.CRITICAL, PAYMENTS)]
    with (
        FakeJira("datacenter", components=("AWS",)).running() as jira,
        pytest.raises(JiraError) as caught,
    ):
        sync(
            jira,
            published,
            ledger,
            report=judged([], new),
            jira_owner_components='{"payments-team": "Payments"}',
        )

    message = str(caught.value)
    assert "components: Component name 'Payments' is not valid" in message
    assert "CONFIG_REPORT_JIRA_OWNER_COMPONENTS" in message
    assert jira.issues == {}
