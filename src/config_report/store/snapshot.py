"""The machine-readable snapshot: the same data as the workbook, as versioned gzip JSON.

Published next to the workbook so that tools (and next week's run, to count what changed) never have to
parse a spreadsheet. The layout is a contract, versioned by its `schema` field:

    {"schema": "config-report/snapshot/v1",
     "run": {...}, "figures": {...},
     "accounts": [...], "rules": [...], "findings": [...], "coverage": [...], "skipped_rules": [...],
     "carried": [...]}

Lists are flat and in account order; every row names its `account_id`. Datetimes are ISO-8601 in UTC
(`2026-11-23T09:00:00.000000Z`); a naive datetime is taken to be UTC already. `figures` and each account's
`status` are derived, for readers' convenience, and ignored when reading back.

Added within v1, optional when reading (snapshots written before them are still read): the figure
`failing_evaluations` (`noncompliant_resources` counts distinct resources since it came), each finding's
`first_seen` date (`2026-11-23`) and `status` (`NEW`, `PERSISTING` or null) from the comparison with
the previous run, each rule's `conformance_packs` (pack names as deployed in the rule's account and
region, an organization pack's copy as `OrgConformsPack-<name>-<suffix>`; null when they could not be
read), and `carried`: earlier findings in account-regions this run could not read, kept
only for their first-seen dates (see `config_report.domain.changes`).

Writing streams one row at a time through gzip, a row a line; the output is byte-for-byte reproducible
for the same report (no gzip timestamp or file name), so identical runs have identical checksums.
Reading streams too: in that layout a snapshot of millions of findings is parsed a line at a time, each
account's findings handed to a shelf (`domain.findings`) as they come. The layout is not part of the
contract: any JSON of the same document reads back, parsed whole.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from config_report.domain.figures import finished
from config_report.domain.model import (
    Acceptance,
    Account,
    AccountScan,
    Compliance,
    Coverage,
    CoverageStatus,
    EvaluationFlag,
    Figures,
    Finding,
    FindingStatus,
    Owner,
    OwnerSource,
    Report,
    ResourceRecord,
    RuleInfo,
    RuleResult,
    RunInfo,
    SkippedRule,
    SkipReason,
)
from config_report.domain.owners import shared_owner
from config_report.domain.rules import normalize_rule_name
from config_report.domain.severity import Severity
from config_report.domain.shelved import Shelf, Shelved, ShelvedBuilder
from config_report.errors import PublishError

SCHEMA = "config-report/snapshot/v1"
T = TypeVar("T")
# Sections added to v1 after it first shipped: a snapshot written before them reads back without them.
_ADDED_SECTIONS = frozenset({"skipped_rules"})


def write_snapshot(report: Report, path: Path) -> Path:
    """Write `report` as a gzip JSON snapshot at `path` and return `path`.

    Raises `PublishError` when the file cannot be written.
    """
    try:
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as packed,
            io.TextIOWrapper(packed, encoding="utf-8", newline="\n") as text,
        ):
            _write_document(report, text)
    except OSError as exc:
        raise PublishError(f"could not write the snapshot {path}: {exc}") from exc
    return path


def read_snapshot(path: Path, shelf: Shelf | None = None) -> Report:
    """Read a snapshot written by `write_snapshot` back into the `Report` it was written from.

    With a `shelf` the findings go onto it as they are read (see `read_snapshot_stream`).
    Raises `ValueError` when the file is not a readable v1 snapshot.
    """
    try:
        with path.open("rb") as raw:
            return read_snapshot_stream(raw, shelf)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc


def read_snapshot_bytes(data: bytes, shelf: Shelf | None = None) -> Report:
    """Like `read_snapshot`, for a snapshot already in memory (e.g. last week's, fetched from S3)."""
    return read_snapshot_stream(io.BytesIO(data), shelf)


def read_snapshot_stream(stream: IO[bytes], shelf: Shelf | None = None) -> Report:
    """Read a gzip JSON snapshot from `stream` one row at a time.

    A snapshot as `write_snapshot` lays it out (a row a line) is parsed line by line, so memory holds
    one row, plus the findings of one account until they go onto `shelf` (kept in memory without one).
    Any other layout of the same JSON (a tool that rewrote it) is parsed whole.
    Raises `ValueError` when it is not a readable v1 snapshot.
    """
    reader = _Reader(shelf)
    try:
        with (
            gzip.GzipFile(fileobj=stream, mode="rb") as packed,
            io.TextIOWrapper(packed, encoding="utf-8", newline="\n") as text,
        ):
            _read_rows(text, reader)
        # Its figures are computed from what it holds: the snapshot's own `figures` are for other readers.
        return finished(reader.report())
    except _SchemaError:
        raise
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a gzip JSON snapshot: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed {SCHEMA} snapshot: {exc!r}") from exc


# --- writing -----------------------------------------------------------------------------------------


def _write_document(report: Report, out: IO[str]) -> None:
    # The small parts first, so `zcat snapshot.json.gz | head` shows the run and its figures.
    out.write(f'{{"schema": {_dumps(SCHEMA)},\n')
    out.write(f' "run": {_dumps(_encode_run(report.run))},\n')
    out.write(f' "figures": {_dumps(_encode_figures(report.figures))}')
    sections: tuple[tuple[str, Iterable[dict[str, object]]], ...] = (
        ("accounts", (_encode_account(scan) for scan in report.scans)),
        ("rules", (_encode_rule(rule) for rule in report.rules())),
        ("findings", (_encode_finding(finding) for finding in report.findings())),
        ("coverage", (_encode_coverage(row) for row in report.coverage())),
        ("skipped_rules", (_encode_skipped(rule) for rule in report.skipped_rules())),
        ("carried", (_encode_finding(finding) for finding in report.carried)),
    )
    for name, rows in sections:
        out.write(f',\n "{name}": [')
        separator = "\n  "
        for row in rows:
            out.write(separator + _dumps(row))
            separator = ",\n  "
        out.write("\n ]")
    out.write("}\n")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _iso(moment: datetime) -> str:
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso_or_none(moment: datetime | None) -> str | None:
    return _iso(moment) if moment is not None else None


def _encode_run(run: RunInfo) -> dict[str, object]:
    return {
        "run_id": run.run_id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "identity": run.identity,
        "regions": list(run.regions),
        "settings": run.settings,
    }


def _encode_figures(figures: Figures) -> dict[str, object]:
    encoded: dict[str, object] = {}
    for name in SNAPSHOT_FIGURES:
        value = getattr(figures, name)
        encoded[name] = [dataclasses.asdict(item) for item in value] if isinstance(value, tuple) else value
    return {**encoded, "complete": figures.complete}


SNAPSHOT_FIGURES = (
    "accounts",
    "accounts_fully_scanned",
    "regions_scanned",
    "regions_total",
    "regions_without_config",
    "coverage_gaps",
    "rules_compliant",
    "rules_noncompliant",
    "rules_other",
    "noncompliant_resources",
    "failing_evaluations",
    "critical_high_resources",
    "worst_rules",
    "worst_accounts",
    "regions_not_recording",
    "regions_recorder_failing",
    "regions_not_enabled",
    "regions_denied_by_scp",
    "rules_unread",
    "rules_evaluation_failed",
    "rules_stale",
    "rules_skipped",
    "accepted_resources",
    "exceptions_expired",
    "exceptions_unused",
)
"""The figures a snapshot carries, named one by one: a figure joins the contract on purpose."""


def _encode_account(scan: AccountScan) -> dict[str, object]:
    account = scan.account
    return {
        "id": account.id,
        "name": account.name,
        "ou": account.ou,
        "ou_ids": list(account.ou_ids),
        "email": account.email,
        "status": scan.status.value,
        "owner": account.owner,
    }


def _encode_rule(rule: RuleResult) -> dict[str, object]:
    return {
        "account_id": rule.account_id,
        "region": rule.region,
        "rule_name": rule.rule_name,
        "compliance": rule.compliance.value,
        "noncompliant_resources": rule.noncompliant_resources,
        "normalized_name": rule.normalized_name,
        "created_by": rule.created_by,
        "state": rule.state,
        "read_status": rule.read_status.value,
        "read_detail": rule.read_detail,
        "last_successful_evaluation": _iso_or_none(rule.last_successful_evaluation),
        "last_failed_evaluation": _iso_or_none(rule.last_failed_evaluation),
        "last_error_code": rule.last_error_code,
        "evaluation_flag": rule.evaluation_flag.value if rule.evaluation_flag else None,
        "info": dataclasses.asdict(rule.info) if rule.info else None,
        "conformance_packs": list(rule.conformance_packs) if rule.conformance_packs is not None else None,
        "severity": rule.severity.value,
    }


def _encode_skipped(rule: SkippedRule) -> dict[str, object]:
    return {
        "account_id": rule.account_id,
        "region": rule.region,
        "rule_name": rule.rule_name,
        "normalized_name": rule.normalized_name,
        "reason": rule.reason.name,
    }


def _encode_finding(finding: Finding) -> dict[str, object]:
    return {
        "account_id": finding.account_id,
        "region": finding.region,
        "rule_name": finding.rule_name,
        "resource_type": finding.resource_type,
        "resource_id": finding.resource_id,
        "annotation": finding.annotation,
        "last_evaluated": _iso_or_none(finding.last_evaluated),
        "normalized_name": finding.normalized_name,
        "accepted": _encode_acceptance(finding.accepted) if finding.accepted else None,
        "lapsed": _encode_acceptance(finding.lapsed) if finding.lapsed else None,
        "owner": _encode_owner(finding.owner) if finding.owner else None,
        "first_seen": finding.first_seen.isoformat() if finding.first_seen else None,
        "status": finding.status.value if finding.status else None,
        "severity": finding.severity.value,
    }


def _encode_owner(owner: Owner) -> dict[str, object]:
    return {
        "name": owner.name,
        "source": owner.source.name,
        "record": owner.record.name if owner.record else None,
        "deleted_at": _iso_or_none(owner.deleted_at),
        "detail": owner.detail,
    }


def _encode_acceptance(accepted: Acceptance) -> dict[str, object]:
    return {"reason": accepted.reason, "ticket": accepted.ticket, "expires": accepted.expires.isoformat()}


def _encode_coverage(row: Coverage) -> dict[str, object]:
    return {
        "account_id": row.account_id,
        "region": row.region,
        "status": row.status.value,
        "detail": row.detail,
    }


# --- reading -----------------------------------------------------------------------------------------


class _SchemaError(ValueError):
    """A JSON document that is not a v1 snapshot."""


def _check_schema(document: object) -> None:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else type(document).__name__
        raise _SchemaError(f"unsupported snapshot schema {found!r}; this version reads {SCHEMA!r}")


def _read_rows(text: IO[str], reader: _Reader) -> None:
    """Feed `reader` the snapshot's parts: line by line in `write_snapshot`'s layout, else whole."""
    first = text.readline()
    if not first.startswith('{"schema": ') or not first.rstrip().endswith(","):
        document = json.loads(first + text.read())
        _check_schema(document)
        reader.document(document)
        return
    _check_schema(json.loads(first.rstrip().rstrip(",") + "}"))
    section: str | None = None
    for line in text:
        item = line.strip()
        if section is not None:
            if item.startswith("]"):
                reader.end(section)
                section = None
            else:
                reader.row(section, json.loads(item.removesuffix(",")))
        elif item.endswith("["):
            section = json.loads(item.removesuffix("[").rstrip().removesuffix(":"))
            reader.start(section)
        elif item:
            reader.value(json.loads("{" + item.removesuffix(",") + "}"))


class _Reader:
    """Builds a `Report` from a snapshot's values and rows, in the order the snapshot holds them: rules
    and findings onto the shelf account by account, the other rows (a few per account) in memory."""

    def __init__(self, shelf: Shelf | None) -> None:
        self._values: dict[str, Any] = {}
        self._accounts: list[Account] = []
        self._rows: dict[str, dict[str, list[Any]]] = {}
        self._rules: _ByAccount[RuleResult] = _ByAccount(shelf)
        self._findings: _ByAccount[Finding] = _ByAccount(shelf)
        self._carried: ShelvedBuilder[Finding] = ShelvedBuilder(shelf)
        self._seen: set[str] = set()

    def document(self, document: dict[str, Any]) -> None:
        """A snapshot parsed whole: its values, then its sections' rows."""
        self.value({k: v for k, v in document.items() if not isinstance(v, list)})
        # The accounts first, whatever order a tool wrote the keys in: every other row names one.
        for name, rows in sorted(document.items(), key=lambda item: item[0] != "accounts"):
            if isinstance(rows, list):
                self.start(name)
                for row in rows:
                    self.row(name, row)
                self.end(name)

    def value(self, values: dict[str, Any]) -> None:
        """Top-level values (run, figures) as they come."""
        self._values.update(values)

    def start(self, section: str) -> None:
        """A section begins; its rows follow."""
        self._seen.add(section)

    def row(self, section: str, item: dict[str, Any]) -> None:
        """One row of `section`."""
        if section == "accounts":
            account = _decode_account(item)
            self._accounts.append(account)
            self._rows[account.id] = {name: [] for name in _ROW_DECODERS}
            self._rules.open(account.id)
            self._findings.open(account.id)
        elif section == "carried":
            self._carried.add(_decode_finding(item))
        elif section == "rules":
            rule = _decode_rule(item)
            if not self._rules.add(rule.account_id, rule):
                raise _not_listed(section, rule.account_id)
        elif section == "findings":
            finding = _decode_finding(item)
            if not self._findings.add(finding.account_id, finding):
                raise _not_listed(section, finding.account_id)
        elif section in _ROW_DECODERS:
            row = _ROW_DECODERS[section](item)
            rows = self._rows.get(row.account_id)
            if rows is None:
                raise _not_listed(section, row.account_id)
            rows[section].append(row)

    def end(self, section: str) -> None:
        """A section ends."""
        self._rules.end()
        self._findings.end()

    def report(self) -> Report:
        """The report read, once every part has been given."""
        # A section added after v1 first shipped may be absent from older snapshots; the others may not.
        missing = {"accounts", "rules", "findings", *_ROW_DECODERS} - _ADDED_SECTIONS - self._seen
        if missing:
            raise KeyError(sorted(missing)[0])
        scans = tuple(
            AccountScan(
                account=account,
                rules=self._rules.done(account.id),
                findings=self._findings.done(account.id),
                coverage=tuple(self._rows[account.id]["coverage"]),
                skipped=tuple(self._rows[account.id]["skipped_rules"]),
            )
            for account in self._accounts
        )
        return Report(run=_decode_run(self._values["run"]), scans=scans, carried=self._carried.done())


class _ByAccount(Generic[T]):
    """One shelved list per account, from rows that come account by account."""

    def __init__(self, shelf: Shelf | None) -> None:
        self._shelf = shelf
        self._builders: dict[str, ShelvedBuilder[T]] = {}
        self._last: ShelvedBuilder[T] | None = None

    def open(self, account_id: str) -> None:
        """An account listed: its rows may follow."""
        self._builders[account_id] = ShelvedBuilder(self._shelf)

    def add(self, account_id: str, item: T) -> bool:
        """Add `item` to its account's list; False when the account was not listed."""
        builder = self._builders.get(account_id)
        if builder is None:
            return False
        if builder is not self._last:
            # Rows come account by account: the one before is complete, so it leaves memory now.
            self.end()
            self._last = builder
        builder.add(item)
        return True

    def end(self) -> None:
        """The rows of the account being read end here."""
        if self._last is not None:
            self._last.flush()

    def done(self, account_id: str) -> Shelved[T]:
        """The account's list."""
        return self._builders[account_id].done()


def _not_listed(section: str, account_id: str) -> ValueError:
    return ValueError(f"{section} row for account {account_id}, which is not in 'accounts'")


def _decode_run(item: dict[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=item["run_id"],
        started_at=datetime.fromisoformat(item["started_at"]),
        finished_at=datetime.fromisoformat(item["finished_at"]),
        identity=item["identity"],
        regions=tuple(item["regions"]),
        settings=dict(item["settings"]),
    )


def _decode_account(item: dict[str, Any]) -> Account:
    return Account(
        id=item["id"],
        name=item["name"],
        ou=item["ou"],
        ou_ids=tuple(item["ou_ids"]),
        email=item["email"],
        owner=item.get("owner", ""),
    )


def _decode_rule(item: dict[str, Any]) -> RuleResult:
    return RuleResult(
        account_id=item["account_id"],
        region=item["region"],
        rule_name=item["rule_name"],
        compliance=Compliance(item["compliance"]),
        noncompliant_resources=int(item["noncompliant_resources"]),
        # Fields added within v1: older snapshots lack them, and get the model's defaults (a rule's
        # normalized name is worked out from its name, as the scan would have).
        normalized_name=item.get("normalized_name")
        or normalize_rule_name(item["rule_name"], item.get("created_by") or None),
        created_by=item.get("created_by", ""),
        state=item.get("state", "ACTIVE"),
        read_status=CoverageStatus(item.get("read_status", CoverageStatus.OK.value)),
        read_detail=item.get("read_detail", ""),
        last_successful_evaluation=_datetime_or_none(item.get("last_successful_evaluation")),
        last_failed_evaluation=_datetime_or_none(item.get("last_failed_evaluation")),
        last_error_code=item.get("last_error_code", ""),
        evaluation_flag=EvaluationFlag(item["evaluation_flag"]) if item.get("evaluation_flag") else None,
        info=RuleInfo(**item["info"]) if item.get("info") else None,
        conformance_packs=_packs_or_none(item.get("conformance_packs", [])),
        # Snapshots written before severities were rated have none: the comparison rates them again.
        severity=Severity(item.get("severity", Severity.UNRATED.value)),
    )


def _packs_or_none(value: list[str] | None) -> tuple[str, ...] | None:
    return tuple(value) if value is not None else None


def _decode_skipped(item: dict[str, Any]) -> SkippedRule:
    return SkippedRule(
        account_id=item["account_id"],
        region=item["region"],
        rule_name=item["rule_name"],
        normalized_name=item["normalized_name"],
        reason=SkipReason[item["reason"]],
    )


def _datetime_or_none(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _decode_finding(item: dict[str, Any]) -> Finding:
    first_seen, status = item.get("first_seen"), item.get("status")
    return Finding(
        account_id=item["account_id"],
        region=item["region"],
        rule_name=item["rule_name"],
        resource_type=item["resource_type"],
        resource_id=item["resource_id"],
        annotation=item["annotation"],
        last_evaluated=_datetime_or_none(item["last_evaluated"]),
        normalized_name=item.get("normalized_name") or normalize_rule_name(item["rule_name"]),
        accepted=_decode_acceptance(item.get("accepted")),
        lapsed=_decode_acceptance(item.get("lapsed")),
        owner=_decode_owner(item.get("owner")),
        first_seen=date.fromisoformat(first_seen) if first_seen is not None else None,
        status=FindingStatus(status) if status is not None else None,
        severity=Severity(item.get("severity", Severity.UNRATED.value)),
    )


def _decode_owner(item: dict[str, Any] | None) -> Owner | None:
    # Snapshots written before owners existed have no "owner" key.
    if item is None:
        return None
    return shared_owner(
        item["name"],
        OwnerSource[item["source"]],
        _decode_record(item),
        deleted_at=_datetime_or_none(item.get("deleted_at")),
        detail=item.get("detail", ""),
    )


def _decode_record(item: dict[str, Any]) -> ResourceRecord | None:
    if "record" in item:
        return ResourceRecord[item["record"]] if item["record"] else None
    # Written before deletions were read from Config: `resource_deleted` meant only "no current item".
    return ResourceRecord.NOT_RECORDED if item.get("resource_deleted") else None


def _decode_acceptance(item: dict[str, Any] | None) -> Acceptance | None:
    # Snapshots written before exceptions existed have no "accepted" key.
    if item is None:
        return None
    return Acceptance(item["reason"], item["ticket"], date.fromisoformat(item["expires"]))


def _decode_coverage(item: dict[str, Any]) -> Coverage:
    return Coverage(
        account_id=item["account_id"],
        region=item["region"],
        status=CoverageStatus(item["status"]),
        detail=item["detail"],
    )


_ROW_DECODERS: Mapping[str, Callable[[dict[str, Any]], Coverage | SkippedRule]] = {
    "coverage": _decode_coverage,
    "skipped_rules": _decode_skipped,
}
