"""The findings spool: chunks of findings in an unnamed temporary file, read back exactly."""

from __future__ import annotations

import os
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from config_report.domain import shelved as shelved_module
from config_report.domain.changes import compare
from config_report.domain.figures import finished
from config_report.domain.model import (
    Acceptance,
    Account,
    AccountScan,
    Baseline,
    Compliance,
    Coverage,
    CoverageStatus,
    Finding,
    FindingStatus,
    Owner,
    OwnerSource,
    Report,
    ResourceRecord,
    RuleResult,
    RunInfo,
)
from config_report.domain.severity import Severity
from config_report.domain.shelved import shelved_of
from config_report.store.snapshot import read_snapshot, write_snapshot
from config_report.store.spool import Spool
from factories import HOSTILE_STRINGS, PROD, STARTED, finding, run_info


def test_every_field_of_a_finding_reads_back_from_the_spool(tmp_path: Path) -> None:
    accepted = Acceptance("compensating control", "SEC-12", date(2027, 1, 31))
    rich = replace(
        finding(PROD, "restricted-ssh", HOSTILE_STRINGS[0], annotation=HOSTILE_STRINGS[6], accepted=accepted),
        owner=Owner("payments", OwnerSource.RESOURCE_TAG, ResourceRecord.RECORDED),
        first_seen=date(2026, 11, 2),
        status=FindingStatus.PERSISTING,
        severity=Severity.CRITICAL,
    )
    with Spool(tmp_path) as spool:
        key = spool.put((rich, finding(PROD, "restricted-ssh", "plain")))
        assert spool.get(key) == (rich, finding(PROD, "restricted-ssh", "plain"))


@dataclass(frozen=True)
class _Note:
    """A dataclass without slots, of one field: the spool keeps any frozen dataclass."""

    text: str


@dataclass(frozen=True, slots=True)
class _Noted:
    name: str
    note: _Note | None = None
    notes: tuple[_Note, ...] = ()


def test_dataclasses_with_or_without_slots_nested_or_not_read_back_from_the_spool(tmp_path: Path) -> None:
    shared = _Note("shared")
    chunk = (_Noted("a", shared, (shared, _Note("b"))), _Noted("c"), _Noted("d", _Note("")))
    with Spool(tmp_path) as spool:
        back = spool.get(spool.put(chunk))
        assert back == chunk
        assert back[0].note is back[0].notes[0]  # one object in, one object out
        assert spool.get(spool.put((shared,))) == (shared,)


def test_the_spool_leaves_no_file_behind_even_while_it_is_open(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        spool.put((finding(PROD, "restricted-ssh", "sg-1"),))
        assert os.listdir(tmp_path) == []
        assert spool.size > 0


def test_chunks_put_and_read_from_many_threads_each_read_back_their_own(tmp_path: Path) -> None:
    def round_trip(n: int) -> bool:
        chunk = tuple(finding(PROD, f"rule-{n}", f"resource-{n}-{i}") for i in range(50))
        return spool.get(spool.put(chunk)) == chunk

    with Spool(tmp_path) as spool, ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, range(64)))
        assert spool.chunks == 64


def test_findings_kept_on_the_spool_walk_like_the_list_they_came_from(tmp_path: Path) -> None:
    items = [finding(PROD, "s3-bucket-public-read-prohibited", f"bucket-{n}") for n in range(12_345)]
    with Spool(tmp_path) as spool:
        kept = shelved_of(items, spool)
        assert list(kept) == items
        # Compressed, the spool is far smaller than the findings' text.
        assert spool.size < sum(len(f.resource_id) + len(f.rule_name) for f in items)


def _organization(spool: Spool | None, accounts: int, *, run: RunInfo, shift: int) -> Report:
    """`accounts` accounts failing one rule on `FINDINGS_PER_ACCOUNT` buckets each (`shift` renames some)."""
    scans = []
    for number in range(accounts):
        account = Account(id=f"{number:012d}", name=f"workload-{number}", ou="Workloads")
        findings = (
            Finding(account.id, "eu-west-1", "s3-bucket-public-read-prohibited", "AWS::S3::Bucket", f"b-{n}")
            for n in range(shift, shift + FINDINGS_PER_ACCOUNT)
        )
        rule = RuleResult(
            account.id,
            "eu-west-1",
            "s3-bucket-public-read-prohibited",
            Compliance.NON_COMPLIANT,
            FINDINGS_PER_ACCOUNT,
        )
        coverage = Coverage(account.id, "eu-west-1", CoverageStatus.OK)
        scans.append(AccountScan(account, (rule,), shelved_of(findings, spool), (coverage,)))
    return Report(run=run, scans=tuple(scans))


FINDINGS_PER_ACCOUNT = 1_000


def _peak_of_a_week(tmp_path: Path, accounts: int, *, spooled: bool) -> int:
    """Peak traced memory while a week is compared with the last, counted, written and read back."""
    last_week = replace(run_info(), run_id="20261116T090000Z-aaaaaa", started_at=STARTED - timedelta(days=7))
    with Spool(tmp_path) as spool:
        shelf = spool if spooled else None
        previous = finished(_organization(shelf, accounts, run=last_week, shift=0))
        current = _organization(shelf, accounts, run=run_info(), shift=FINDINGS_PER_ACCOUNT // 2)
        tracemalloc.start()
        try:
            report = finished(compare(current, previous, Baseline(run_id=last_week.run_id)))
            read_snapshot(write_snapshot(report, tmp_path / "snapshot.json.gz"), shelf)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_a_week_on_the_spool_holds_one_account_not_the_organization(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks smaller than an account's findings, so that what a list holds until its chunk is full
    # (at most `CHUNK` findings each) is the same for both organizations.
    monkeypatch.setattr(shelved_module, "CHUNK", 200)
    few, many = _peak_of_a_week(tmp_path, 4, spooled=True), _peak_of_a_week(tmp_path, 16, spooled=True)
    # Four times the accounts, about the same memory: what grows is a few bytes of each account's own.
    assert many < 1.5 * few, (few, many)


def test_the_same_week_in_memory_grows_with_the_organization(tmp_path: Path) -> None:
    # The check above can fail: without the spool the same stages need memory for every account.
    few, many = _peak_of_a_week(tmp_path, 4, spooled=False), _peak_of_a_week(tmp_path, 16, spooled=False)
    assert many > 2.5 * few, (few, many)
