"""The Coverage sheet: each account × region's status, what it means and its fix, then AWS's message."""

from __future__ import annotations

from pathlib import Path

from python_calamine import CalamineWorkbook

from config_report.domain.coverage_words import status_words
from config_report.domain.figures import finished
from config_report.domain.model import AccountScan, Coverage, CoverageStatus, Report
from config_report.render.xlsx.workbook import write_workbook
from factories import SANDBOX, run_info
from headers import COVERAGE_HEADER

OPT_IN_MESSAGE = (
    "DescribeConfigurationRecorderStatus: UnrecognizedClientException: "
    "The security token included in the request is invalid."
)


def test_detail_says_what_each_status_means_and_its_fix_and_aws_message_keeps_awss_words(
    tmp_path: Path,
) -> None:
    rows = (
        Coverage(SANDBOX.id, "us-east-1", CoverageStatus.OK),
        Coverage(SANDBOX.id, "eu-west-1", CoverageStatus.CONFIG_NOT_ENABLED, "no configuration recorder"),
        Coverage(SANDBOX.id, "ap-southeast-5", CoverageStatus.REGION_NOT_ENABLED, OPT_IN_MESSAGE),
    )
    report = finished(Report(run=run_info(), scans=(AccountScan(account=SANDBOX, coverage=rows),)))

    path = write_workbook(report, tmp_path / "report.xlsx")

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Coverage").to_python()
    assert sheet[0] == COVERAGE_HEADER
    by_region = {row[2]: dict(zip(COVERAGE_HEADER, row, strict=True)) for row in sheet[1:]}
    opt_in = by_region["ap-southeast-5"]
    assert opt_in["Status"] == "REGION_NOT_ENABLED"
    assert str(opt_in["Detail"]).startswith("An opt-in region this account has not enabled")
    assert "Fix: none if the account does not use the region" in str(opt_in["Detail"])
    assert opt_in["AWS Message"] == OPT_IN_MESSAGE
    off = by_region["eu-west-1"]
    assert off["Detail"] == status_words(CoverageStatus.CONFIG_NOT_ENABLED).detail(
        "no configuration recorder"
    )
    assert str(opt_in["Detail"]).endswith(f"Found: {OPT_IN_MESSAGE}"), (
        "AWS's words after ours, as DESIGN.md says"
    )
    assert off["AWS Message"] == "no configuration recorder"
    assert by_region["us-east-1"]["Detail"] == status_words(CoverageStatus.OK).meaning
    assert by_region["us-east-1"]["AWS Message"] == ""
