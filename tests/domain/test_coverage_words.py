"""Each coverage status in words: what it means for the report and what fixes it."""

from __future__ import annotations

import pytest

from config_report.domain.coverage_words import status_words
from config_report.domain.model import CoverageStatus


@pytest.mark.parametrize("status", list(CoverageStatus))
def test_every_status_says_what_it_means_and_every_status_but_ok_says_the_fix(status: CoverageStatus) -> None:
    words = status_words(status)

    assert words.meaning.endswith(".")
    assert bool(words.fix) is (status is not CoverageStatus.OK)
    assert words.detail().startswith(words.meaning)
    if words.fix:
        assert words.detail().endswith(f" Fix: {words.fix}.")


def test_config_not_enabled_says_the_region_is_not_checked_and_how_to_enable_it() -> None:
    detail = status_words(CoverageStatus.CONFIG_NOT_ENABLED).detail()

    assert detail.startswith("AWS Config has no configuration recorder in this region: no rule checks")
    assert "Fix: enable AWS Config here (a configuration recorder and a delivery channel)" in detail
    assert "StackSet" in detail


def test_an_opt_in_region_is_explained_in_words_not_by_the_credentials_error_aws_gives() -> None:
    detail = status_words(CoverageStatus.REGION_NOT_ENABLED).detail()

    assert detail.startswith("An opt-in region this account has not enabled")
    assert "security token" not in detail
    assert "CONFIG_REPORT_REGIONS" in detail


def test_gaps_say_what_is_missing_from_the_report() -> None:
    for status in (s for s in CoverageStatus if s.is_gap):
        assert "missing from the report" in status_words(status).meaning, status


def test_each_state_the_summary_counts_has_a_short_note_and_read_or_gaps_need_none() -> None:
    states = [s for s in CoverageStatus if s is not CoverageStatus.OK and not s.is_gap]

    assert all(0 < len(status_words(s).note) <= 60 for s in states)
    assert status_words(CoverageStatus.CONFIG_NOT_ENABLED).note != "nothing to report there"
    assert not any(status_words(s).note for s in CoverageStatus if s not in states)


def test_what_the_read_found_follows_the_words_so_the_error_stays_in_detail() -> None:
    words = status_words(CoverageStatus.ERROR)

    detail = words.detail("InternalFailure: We encountered an internal error. Please try again.")

    assert detail.startswith(words.meaning)
    assert detail.endswith("Found: InternalFailure: We encountered an internal error. Please try again.")
