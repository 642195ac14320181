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
from config_report.domain.model import Baseline, Changes, CoverageStatus, Finding, Report
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
from jira.bodies import body_text

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
    gaps = text[text.index("Coverage gaps") : text.index("Worst rules")]
    assert f"Prod Payments ({PROD.id}), us-east-1: rule restricted-ssh could not be read" in gaps
    assert "ACCESS_DENIED" in gaps
    assert "denied by policy" in gaps


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
