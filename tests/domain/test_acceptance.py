"""Accepted exceptions: the file a security team writes, what it accepts, and what it no longer does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from config_report.domain.acceptance import (
    apply_exceptions,
    exception_lines,
    parse_exceptions,
    read_exceptions,
)
from config_report.domain.figures import figures_of
from config_report.domain.model import ExceptionStatus
from config_report.errors import ExitCode, SettingsError
from config_report.simulated import SimulatedOrganization
from factories import PROD, SANDBOX, sample_report
from runner import run_cli, run_process

TODAY = date(2026, 11, 23)

GOOD = """\
exceptions:
  - account: "012345678901"
    rule: s3-bucket-public-read-*
    resource: "0123"
    reason: Public website bucket
    ticket: SEC-1
    expires: 2026-12-31
  - rule: restricted-ssh
    resource: "*"
    region: eu-*
    reason: Sandbox bastion
    ticket: SEC-2
    expires: 2026-11-22
  - rule: no-such-rule
    resource: "*"
    reason: Left over
    ticket: SEC-3
    expires: 2027-01-01
"""


def test_an_account_id_keeps_its_leading_zero_and_omitted_patterns_match_everything() -> None:
    first, second, _ = parse_exceptions(GOOD, source="exceptions.yaml")

    assert first.account == "012345678901"
    assert first.source == "exceptions.yaml:2"
    assert (second.account, second.region) == ("*", "eu-*")
    assert second.acceptance.expires == date(2026, 11, 22)


def test_a_live_exception_accepts_its_findings_and_they_leave_the_headline() -> None:
    report = apply_exceptions(sample_report(), parse_exceptions(GOOD, source="x.yaml"), today=TODAY)

    accepted = [f for f in report.findings() if f.accepted]
    assert [(f.account_id, f.resource_id) for f in accepted] == [(PROD.id, "0123")]
    assert accepted[0].accepted is not None
    assert accepted[0].accepted.label() == "Public website bucket (SEC-1, until 2026-12-31)"
    figures = figures_of(report)
    assert figures.noncompliant_resources == 3
    assert figures.accepted_resources == 1
    assert {i.name: i.count for i in figures.worst_rules}["s3-bucket-public-read-prohibited"] == 1


def test_an_expired_exception_accepts_nothing_and_says_what_it_would_have_matched() -> None:
    report = apply_exceptions(sample_report(), parse_exceptions(GOOD, source="x.yaml"), today=TODAY)

    expired = report.exceptions[1]
    assert expired.status is ExceptionStatus.EXPIRED
    assert expired.findings == 1  # the sandbox's restricted-ssh finding in eu-west-1
    sandbox = [f for f in report.findings() if f.account_id == SANDBOX.id]
    assert all(f.accepted is None for f in sandbox)
    assert figures_of(report).exceptions_expired == 1


def test_a_finding_only_an_expired_exception_matches_says_what_lapsed_and_counts_again() -> None:
    report = apply_exceptions(sample_report(), parse_exceptions(GOOD, source="x.yaml"), today=TODAY)

    lapsed = [f for f in report.findings() if f.lapsed is not None]
    assert [(f.account_id, f.rule_name) for f in lapsed] == [(SANDBOX.id, "restricted-ssh")]
    assert lapsed[0].lapsed is not None
    assert lapsed[0].lapsed.expired_label() == "expired 2026-11-22: Sandbox bastion (SEC-2)"
    assert lapsed[0].accepted is None


def test_expired_and_unused_exceptions_are_known_by_ticket_and_reason_with_what_became_of_them() -> None:
    report = apply_exceptions(sample_report(), parse_exceptions(GOOD, source="x.yaml"), today=TODAY)

    assert exception_lines(report, ExceptionStatus.EXPIRED) == (
        "SEC-2: Sandbox bastion — expired 2026-11-22, matches 1 finding(s) again (restricted-ssh on *)",
    )
    assert exception_lines(report, ExceptionStatus.UNUSED) == (
        "SEC-3: Left over — matches no finding (no-such-rule on *)",
    )


def test_an_exception_is_live_through_its_expiry_day() -> None:
    report = apply_exceptions(
        sample_report(), parse_exceptions(GOOD, source="x.yaml"), today=date(2026, 11, 22)
    )

    assert report.exceptions[1].status is ExceptionStatus.APPLIED


def test_a_live_exception_that_matches_nothing_is_reported_unused() -> None:
    report = apply_exceptions(sample_report(), parse_exceptions(GOOD, source="x.yaml"), today=TODAY)

    assert [e.status for e in report.exceptions] == [
        ExceptionStatus.APPLIED,
        ExceptionStatus.EXPIRED,
        ExceptionStatus.UNUSED,
    ]
    assert figures_of(report).exceptions_unused == 1


def test_rule_patterns_match_the_normalized_name_of_an_organization_rule() -> None:
    entries = parse_exceptions(
        "exceptions:\n- {rule: restricted-ssh, resource: '*', reason: r, ticket: T-1, expires: 2027-01-01}\n",
        source="x.yaml",
    )
    finding = next(sample_report().findings())
    org_copy = replace(
        finding, rule_name="OrgConfigRule-restricted-ssh-a1b2c3d4", normalized_name="restricted-ssh"
    )
    pack_copy = replace(
        finding, rule_name="restricted-ssh-conformance-pack-abcde1234", normalized_name="restricted-ssh"
    )

    assert entries[0].matches(org_copy)
    assert entries[0].matches(pack_copy)
    assert not entries[0].matches(finding)  # s3-bucket-public-read-prohibited


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("exceptions:\n  - rule: x\n    resource: y\n    reason: r\n    ticket: T\n    expires: 2026-02-30\n",
         "x.yaml line 6: field 'expires': '2026-02-30' is not a date; write YYYY-MM-DD"),
        ("exceptions:\n  - rule: x\n    resource: y\n    reason: r\n    ticket: T\n",
         "x.yaml line 2: field 'expires' is missing"),
        ("exceptions:\n  - rule: x\n    resource: y\n    reason: r\n    ticket: T\n    expiry: 2027-01-01\n",
         "x.yaml line 6: unknown field 'expiry'"),
        ("exceptions:\n  - rule: x\n    resource: y\n    reason: ''\n    ticket: T\n    expires: 2027-1-1\n",
         "x.yaml line 4: field 'reason' must be a non-empty text"),
        ("exceptions:\n  - rule: [x\n", "x.yaml line 3: not valid YAML"),
        ("- rule: x\n", "x.yaml line 1: the file must be a mapping"),
        ("exception:\n  - rule: x\n", "x.yaml line 1: unknown key 'exception'"),
    ],
    ids=["bad-date", "missing-expiry", "unknown-field", "empty-reason", "bad-yaml", "a-list", "typo-key"],
)  # fmt: skip
def test_a_malformed_file_names_the_setting_the_line_and_the_field(text: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_exceptions(text, source="x.yaml")

    assert str(raised.value).startswith("CONFIG_REPORT_EXCEPTIONS_FILE: ")
    assert message in str(raised.value)
    assert raised.value.exit_code == ExitCode.USAGE


def _no_s3(location: str) -> bytes:
    raise AssertionError(f"{location} is a local file")


def test_a_missing_file_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"cannot read .*nowhere\.yaml"):
        read_exceptions(str(tmp_path / "nowhere.yaml"), fetch=_no_s3)


def test_an_empty_file_accepts_nothing() -> None:
    assert parse_exceptions("", source="x.yaml") == ()
    assert parse_exceptions("exceptions:\n", source="x.yaml") == ()


# --- end to end, through the CLI ---------------------------------------------------------------------


def test_a_malformed_file_stops_the_run_with_exit_2_before_any_aws_call(
    simulated_org: SimulatedOrganization, tmp_path: Path
) -> None:
    bad = tmp_path / "exceptions.yaml"
    bad.write_text("exceptions:\n  - rule: x\n    resource: y\n    reason: r\n    ticket: T\n", "utf-8")

    # No AWS endpoint answers at this address: any AWS call would fail the run with exit 1, not 2.
    done = run_process(
        simulated_org,
        "run",
        CONFIG_REPORT_EXCEPTIONS_FILE=str(bad),
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
    )

    assert done.returncode == 2, done.stderr
    assert "CONFIG_REPORT_EXCEPTIONS_FILE: exceptions.yaml line 2: field 'expires' is missing" in done.stderr
    assert '"run.start"' not in done.stderr  # the run never started


def test_exceptions_from_s3_are_read_with_the_hub_role(simulated_org: SimulatedOrganization) -> None:
    seeded = simulated_org.seeded
    s3 = simulated_org.client("s3", account_id=seeded.hub.account_id)
    key = "config/exceptions.yaml"
    s3.put_object(Bucket=seeded.hub.report_bucket, Key=key, Body=b"exceptions:\n  - rule: [\n")
    try:
        done = run_process(
            simulated_org, "run", CONFIG_REPORT_EXCEPTIONS_FILE=f"s3://{seeded.hub.report_bucket}/{key}"
        )
    finally:
        s3.delete_object(Bucket=seeded.hub.report_bucket, Key=key)

    assert done.returncode == 2, done.stderr[-2000:]
    assert f"s3://{seeded.hub.report_bucket}/{key} line 3: not valid YAML" in done.stderr
    assert "discovery.done" not in done.stderr  # nothing was scanned


def test_accepted_expired_and_unused_exceptions_show_in_the_published_workbook(
    simulated_org: SimulatedOrganization, tmp_path: Path
) -> None:
    seeded = simulated_org.seeded
    payments = seeded.account_named("acme-payments-prod")
    volumes = seeded.findings_for(payments.id, seeded.regions[0], "encrypted-volumes")
    ssh = [f for f in seeded.findings if f.rule_name == "restricted-ssh"]
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        f"""exceptions:
  - account: "{payments.id}"
    region: {seeded.regions[0]}
    rule: encrypted-volumes
    resource: vol-*
    reason: Legacy volumes, migration planned
    ticket: SEC-100
    expires: 2999-12-31
  - rule: restricted-ssh
    resource: "*"
    reason: Bastions
    ticket: SEC-101
    expires: 2020-01-31
  - rule: rule-that-is-gone
    resource: "*"
    reason: Old
    ticket: SEC-102
    expires: 2999-12-31
""",
        "utf-8",
    )

    request = "https://wiki.example.com/security/exceptions"
    run = run_cli(
        simulated_org,
        "run",
        CONFIG_REPORT_EXCEPTIONS_FILE=str(exceptions),
        CONFIG_REPORT_EXCEPTION_REQUEST=request,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    findings = run.sheet("Non-compliant resources")
    column = findings[0].index("Accepted")
    assert findings[0][:4] == ["Account ID", "Account Name", "Region", "Rule Name"]
    accepted = {
        (row[0], row[5]) for row in findings[1:] if row[column] and not row[column].startswith("expired")
    }
    assert accepted == {(payments.id, f.resource_id) for f in volumes}
    assert {row[column] for row in findings[1:] if (row[0], row[5]) in accepted} == {
        "Legacy volumes, migration planned (SEC-100, until 2999-12-31)"
    }
    lapsed = {(row[0], row[2], row[5]): row[column] for row in findings[1:] if row[3] == "restricted-ssh"}
    assert lapsed == {
        (f.account_id, f.region, f.resource_id): "expired 2020-01-31: Bastions (SEC-101)" for f in ssh
    }
    summary = {row[0]: row[1] for row in run.sheet("Summary") if row and row[0]}
    assert summary["Non-compliant resources"] == len(
        {f.resource for f in seeded.findings if f not in volumes}
    )
    assert summary["Failing evaluations"] == len(seeded.findings) - len(volumes)
    assert summary["Accepted resources"] == len(volumes)
    assert (summary["Applied"], summary["Expired"], summary["Unused"]) == (1, 1, 1)
    lines = [str(row[0]) for row in run.sheet("Summary") if row]
    assert (
        f"SEC-101: Bastions — expired 2020-01-31, matches {len(ssh)} finding(s) again (restricted-ssh on *)"
        in lines
    )
    assert "SEC-102: Old — matches no finding (rule-that-is-gone on *)" in lines
    assert f"To request an exception: {request}" in lines
    assert "<hyperlink " in run.sheet_xml("Summary"), "the request is a link"
    listed = run.sheet("Accepted exceptions")
    assert listed[0] == [
        *("Exception", "Account", "Region", "Rule", "Resource"),
        *("Reason", "Ticket", "Expires", "Status", "Findings", "Defined At"),
    ]
    assert [(row[0], row[8], row[9], row[10]) for row in listed[1:]] == [
        ("SEC-100: Legacy volumes, migration planned", "APPLIED", len(volumes), "exceptions.yaml:2"),
        ("SEC-101: Bastions", "EXPIRED", len(ssh), "exceptions.yaml:9"),
        ("SEC-102: Old", "UNUSED", 0, "exceptions.yaml:14"),
    ]
