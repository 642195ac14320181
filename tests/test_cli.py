"""End to end: `config-report` as a subprocess against the simulated organization, report read from S3.

The workbook read back from S3 is compared with what the seeder put into the organization, cell for
cell: this is what a security engineer opening Monday's report relies on.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from config_report.render.xlsx.cells import fit_cell_text
from config_report.settings import Settings
from config_report.simulated import SeededOrganization, SimulatedOrganization
from headers import HEADERS, SHEETS
from runner import Run, run_cli, run_process

EXTERNAL_ID = "ext-id-that-must-never-be-logged"


@pytest.fixture(scope="module")
def denied_account(simulated_org: SimulatedOrganization) -> str:
    """A member account whose spoke role cannot be assumed (not the hub, not the management account)."""
    seeded = simulated_org.seeded
    special = {seeded.hub.account_id, seeded.management_account_id}
    return next(a.id for a in reversed(seeded.accounts) if a.id not in special)


@pytest.fixture(scope="module")
def faulty_run(simulated_org: SimulatedOrganization, denied_account: str) -> Iterator[Run]:
    """A run under a 20 % Config throttle rate with one account's spoke role denied."""
    simulated_org.faults.reset()
    simulated_org.faults.configure(config_throttle_rate=0.2, deny_assume_role_into=[denied_account], seed=3)
    try:
        yield run_cli(simulated_org, "run", CONFIG_REPORT_EXTERNAL_ID=EXTERNAL_ID)
    finally:
        simulated_org.faults.reset()


def names(seeded: SeededOrganization) -> dict[str, str]:
    return {a.id: a.name for a in seeded.accounts}


def test_a_denied_account_makes_exit_code_3_and_the_report_is_still_published(faulty_run: Run) -> None:
    assert faulty_run.returncode == 3, faulty_run.stderr[-3000:]
    suffixes = sorted(Path(k).name.split(".", 1)[1] for k in faulty_run.files)
    assert suffixes == ["manifest.json", "snapshot.json.gz", "xlsx"]
    assert {Path(k).name.split(".", 1)[0] for k in faulty_run.files} == {
        "aws-config-report-" + run_id(faulty_run)
    }


def run_id(run: Run) -> str:
    (start,) = [e for e in run.log_events() if e["event"] == "run.start"]
    return str(start["run_id"])


def test_the_throttle_really_fired_during_the_run(
    simulated_org: SimulatedOrganization, faulty_run: Run
) -> None:
    # Nothing lost under throttling is what the cell-for-cell tests below prove; this proves it was on.
    assert simulated_org.faults.counts.throttled > 0
    done = [e for e in faulty_run.log_events() if e["event"] == "run.done"]
    assert len(done) == 1
    assert done[0]["exit_code"] == 3


def test_sheets_come_in_the_contract_order_with_exact_headers(faulty_run: Run) -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(faulty_run.file(".xlsx")))
    assert book.sheet_names == SHEETS
    assert {name: faulty_run.sheet(name)[0] for name in HEADERS} == HEADERS


def test_every_rule_is_reported_once_with_its_compliance_and_full_count(
    simulated_org: SimulatedOrganization, faulty_run: Run, denied_account: str
) -> None:
    seeded = simulated_org.seeded
    account_names = names(seeded)
    expected = Counter(
        (
            r.account_id,
            account_names[r.account_id],
            r.region,
            r.rule_name,
            r.compliance.value,
            r.noncompliant_resources,
        )
        for r in seeded.rules
        if r.account_id != denied_account
    )
    rows = faulty_run.sheet("Rules")[1:]
    actual = Counter((a, n, reg, rule, comp, int(count)) for a, n, reg, rule, comp, count, *_ in rows)
    assert actual == expected
    assert max(count for *_, count in actual) > 100, "the seeded rule with > 100 resources is counted in full"


def test_every_noncompliant_resource_appears_exactly_once(
    simulated_org: SimulatedOrganization, faulty_run: Run, denied_account: str
) -> None:
    seeded = simulated_org.seeded
    account_names = names(seeded)
    expected = Counter(
        (
            f.account_id,
            account_names[f.account_id],
            f.region,
            f.rule_name,
            f.resource_type,
            f.resource_id,
            fit_cell_text(f.annotation),
        )
        for f in seeded.findings
        if f.account_id != denied_account
    )
    rows = faulty_run.sheet("Non-compliant resources")[1:]
    actual = Counter(tuple(row[:7]) for row in rows)
    assert actual == expected
    assert sum(actual.values()) == len(rows)


def test_last_evaluated_is_a_date_matching_what_config_recorded(
    simulated_org: SimulatedOrganization, faulty_run: Run
) -> None:
    recorded = {
        (f.account_id, f.region, f.rule_name, f.resource_id): f.last_evaluated
        for f in simulated_org.seeded.findings
    }
    for row in faulty_run.sheet("Non-compliant resources")[1:]:
        when = recorded[(row[0], row[2], row[3], row[5])]
        assert when is not None
        # A spreadsheet reader hands back a timestamp of exactly midnight as a date.
        cell = row[7] if isinstance(row[7], datetime) else datetime.combine(row[7], time())
        assert abs(cell - when.astimezone(UTC).replace(tzinfo=None)).total_seconds() < 1


def test_coverage_has_every_region_and_the_denied_account_as_access_denied(
    simulated_org: SimulatedOrganization, faulty_run: Run, denied_account: str
) -> None:
    seeded = simulated_org.seeded
    expected = {
        (c.account_id, c.region): ("ACCESS_DENIED" if c.account_id == denied_account else c.status.value)
        for c in seeded.coverage()
    }
    rows = faulty_run.sheet("Coverage")[1:]
    actual = {(row[0], row[2]): row[3] for row in rows}
    assert actual == expected
    assert len(rows) == len(expected)
    denied_rows = [row for row in rows if row[0] == denied_account]
    assert all("AssumeRole" in row[5] and "AccessDenied" in row[5] for row in denied_rows)
    assert "CONFIG_NOT_ENABLED" in actual.values(), "the seeded organization has regions without Config"


def test_suspended_accounts_are_absent_and_active_ones_listed_with_their_ou(
    simulated_org: SimulatedOrganization, faulty_run: Run
) -> None:
    seeded = simulated_org.seeded
    rows = faulty_run.sheet("Accounts")[1:]
    assert {(row[0], row[1], row[2]) for row in rows} == {(a.id, a.name, a.ou) for a in seeded.accounts}
    assert len(rows) == len(seeded.accounts)
    listed = {row[0] for sheet in SHEETS[1:-1] for row in faulty_run.sheet(sheet)[1:]}
    assert seeded.suspended_accounts
    assert not listed & {a.id for a in seeded.suspended_accounts}


def test_account_ids_with_a_leading_zero_stay_text(
    simulated_org: SimulatedOrganization, faulty_run: Run
) -> None:
    zero = [a.id for a in simulated_org.seeded.accounts if a.id.startswith("0")]
    assert zero, "the seeder makes an account whose ID starts with 0"
    column = [row[0] for row in faulty_run.sheet("Rules")[1:]]
    assert all(isinstance(value, str) and len(value) == 12 for value in column)
    assert set(zero) <= {row[0] for row in faulty_run.sheet("Accounts")[1:]}


def test_hostile_strings_from_aws_never_become_formulas(faulty_run: Run) -> None:
    with zipfile.ZipFile(io.BytesIO(faulty_run.file(".xlsx"))) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in archive.read(name), f"{name} holds a formula"
    values = {cell for row in faulty_run.sheet("Non-compliant resources")[1:] for cell in row[:7]}
    values |= {cell for row in faulty_run.sheet("Accounts")[1:] for cell in row[:2]}
    assert any(isinstance(v, str) and v.startswith("=") for v in values), (
        "seeded formula-like text is kept as text"
    )


def test_the_manifest_names_the_caller_the_failures_and_checksums(
    simulated_org: SimulatedOrganization, faulty_run: Run, denied_account: str
) -> None:
    manifest = json.loads(faulty_run.file("manifest.json"))
    assert manifest["identity"].startswith("arn:aws:")
    assert {f["account_id"] for f in manifest["failures"]} == {denied_account}
    for entry in manifest["files"]:
        body = faulty_run.files[entry["key"]]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert entry["size"] == len(body)
    assert set(manifest["scope"]["accounts"]) == {a.id for a in simulated_org.seeded.accounts}


def test_json_log_lines_keep_their_fields_whatever_a_terminal_shows(faulty_run: Run) -> None:
    # Log pipelines and alerts parse these: the terminal's shorter lines must not leak into JSON.
    events = faulty_run.log_events()
    (start,) = [e for e in events if e["event"] == "run.start"]
    assert list(start) == [
        *("run_id", "identity", "credentials", "region", "region_from", "dry_run", "settings"),
        *("event", "level", "timestamp"),
    ]
    assert set(start["settings"]) == set(Settings.model_fields)
    progress = [e for e in events if e["event"] == "scan.progress"]
    assert progress
    assert {tuple(e) for e in progress} == {
        ("units_done", "units_total", "rate_per_s", "eta_s", "event", "level", "timestamp")
    }
    (done,) = [e for e in events if e["event"] == "run.done"]
    assert list(done)[-4:] == ["files", "event", "level", "timestamp"]
    assert len(done["files"]) == 3


def test_logs_are_json_lines_with_one_line_per_account_and_no_secrets(
    simulated_org: SimulatedOrganization, faulty_run: Run, denied_account: str
) -> None:
    events = faulty_run.log_events()
    assert len(events) == len([line for line in faulty_run.stderr.splitlines() if line.strip()])
    finished = [e["account_id"] for e in events if e["event"] == "account.done"]
    assert sorted(finished) == sorted(a.id for a in simulated_org.seeded.accounts)
    assert events[0]["event"] == "run.start"
    assert events[0]["identity"].startswith("arn:aws:")
    (denied,) = [e for e in events if e["event"] == "account.done" and e["account_id"] == denied_account]
    assert denied["status"] == "ACCESS_DENIED"
    (reason,) = denied["gaps"]
    assert reason.startswith("ACCESS_DENIED: AssumeRole: AccessDenied")
    assert sorted(denied["gaps"][reason]) == sorted(simulated_org.seeded.regions)
    assert EXTERNAL_ID not in faulty_run.stderr
    assert EXTERNAL_ID.encode() not in faulty_run.file("manifest.json")


def test_a_second_run_publishes_beside_the_first_and_a_clean_run_exits_0(
    simulated_org: SimulatedOrganization, faulty_run: Run
) -> None:
    simulated_org.faults.reset()
    clean = run_cli(simulated_org, "run")
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert len(clean.files) == 3
    assert not set(clean.files) & set(faulty_run.files)


def test_invalid_configuration_exits_2_before_any_aws_call(simulated_org: SimulatedOrganization) -> None:
    before = simulated_org.faults.counts.requests
    bad = run_process(simulated_org, "run", CONFIG_REPORT_REGIONS="moon-base-1")
    assert bad.returncode == 2
    assert "CONFIG_REPORT_REGIONS" in bad.stderr
    assert "'moon-base-1'" in bad.stderr
    assert simulated_org.faults.counts.requests == before


@pytest.mark.parametrize("command", ["run", "check"])
def test_an_external_id_file_that_cannot_be_read_exits_2_before_any_aws_call(
    simulated_org: SimulatedOrganization, tmp_path: Path, command: str
) -> None:
    # The mounted Secret is missing (wrong key or name): a configuration error, not a denied account.
    before = simulated_org.faults.counts.requests
    bad = run_process(simulated_org, command, CONFIG_REPORT_EXTERNAL_ID_FILE=str(tmp_path / "absent"))
    assert bad.returncode == 2, bad.stdout + bad.stderr
    (event,) = [json.loads(line) for line in bad.stderr.splitlines() if '"settings.invalid"' in line]
    assert "CONFIG_REPORT_EXTERNAL_ID_FILE (--external-id-file): cannot read" in event["error"]
    assert simulated_org.faults.counts.requests == before


def test_ou_and_account_filters_choose_what_is_scanned(simulated_org: SimulatedOrganization) -> None:
    simulated_org.faults.reset()
    seeded = simulated_org.seeded
    in_workloads = {a.id for a in seeded.accounts if a.ou.split("/")[0] == "Workloads"}
    skipped = sorted(in_workloads)[0]
    run = run_cli(simulated_org, "run", CONFIG_REPORT_OUS="Workloads", CONFIG_REPORT_EXCLUDE_ACCOUNTS=skipped)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {row[0] for row in run.sheet("Accounts")[1:]} == in_workloads - {skipped}


def test_without_a_region_list_each_account_is_scanned_in_its_enabled_regions(
    simulated_org: SimulatedOrganization,
) -> None:
    simulated_org.faults.reset()
    seeded = simulated_org.seeded
    enabled = {(a, r) for a, r in seeded.config_enabled}
    accounts = sorted({a for a, _ in enabled})[:2]
    run = run_cli(simulated_org, "run", CONFIG_REPORT_REGIONS="", CONFIG_REPORT_ACCOUNTS=",".join(accounts))
    assert run.returncode == 0, run.stderr[-2000:]
    coverage = {(row[0], row[2]): row[3] for row in run.sheet("Coverage")[1:]}
    assert {region for _, region in coverage} >= set(seeded.regions)
    assert not any(region.startswith(("cn-", "us-gov-")) for _, region in coverage)
    for account in accounts:
        for region in seeded.regions:
            assert coverage[(account, region)] == seeded.coverage_status(account, region).value


def test_an_org_role_that_cannot_be_assumed_fails_with_exit_1_and_names_the_setting(
    simulated_org: SimulatedOrganization,
) -> None:
    simulated_org.faults.reset()
    simulated_org.faults.configure(deny_assume_role_into=[simulated_org.seeded.management_account_id])
    try:
        run = run_cli(simulated_org, "run")
    finally:
        simulated_org.faults.reset()
    assert run.returncode == 1
    assert not run.files
    (failed,) = [e for e in run.log_events() if e["event"] == "run.failed"]
    assert "CONFIG_REPORT_ORG_ROLE_ARN" in failed["error"]
    assert "AccessDenied" in failed["error"]
