"""Accepted exceptions: findings whose risk someone accepted, until a date, with a reason and a ticket.

The file (`CONFIG_REPORT_EXCEPTIONS_FILE`: a path, typically a mounted ConfigMap, or an `s3://` URI) is
YAML::

    exceptions:
      - account: "012345678901"        # glob on the account ID (default "*")
        region: "eu-*"                 # glob on the region (default "*")
        rule: restricted-ssh           # glob on the normalized rule name (required)
        resource: sg-0a1b*             # glob on the resource ID (required)
        reason: Bastion host, reviewed quarterly
        ticket: SEC-1234
        expires: 2027-03-31            # the last day it applies (required)

Patterns are case-sensitive shell globs (`*`, `?`, `[...]`). A finding matched by a live exception is
marked accepted (the first matching entry wins) and leaves the headline figures; an entry past its
expiry accepts nothing and is reported as expired; a live entry that matches nothing is reported as
unused; a finding only an expired entry matches says so ("expired <date>", with its ticket). The file is
read and checked before any scanning; a mistake stops the run (exit 2) with the
line and the field to fix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from config_report.domain.model import (
    Acceptance,
    AccountScan,
    ExceptionStatus,
    ExceptionUse,
    Finding,
    Report,
    first_named,
)
from config_report.domain.shelved import mapped
from config_report.errors import ConfigReportError, SettingsError

SETTING = "CONFIG_REPORT_EXCEPTIONS_FILE"
_REQUIRED = ("rule", "resource", "reason", "ticket", "expires")
_PATTERNS = ("account", "region", "rule", "resource")
_FIELDS = frozenset((*_PATTERNS, "reason", "ticket", "expires"))


@dataclass(frozen=True, slots=True)
class AcceptedException:
    """One entry of the exceptions file."""

    source: str  # "<file>:<line>"
    account: str
    region: str
    rule: str
    resource: str
    acceptance: Acceptance

    def live_on(self, day: date) -> bool:
        """True while `day` is on or before the expiry date."""
        return day <= self.acceptance.expires

    def matches(self, finding: Finding) -> bool:
        """True when every pattern matches the finding (the rule pattern, its normalized name)."""
        return (
            fnmatchcase(finding.account_id, self.account)
            and fnmatchcase(finding.region, self.region)
            and fnmatchcase(finding.normalized_name, self.rule)
            and fnmatchcase(finding.resource_id, self.resource)
        )


# --- reading and checking the file -------------------------------------------------------------------


def read_exceptions(location: str, *, fetch: Callable[[str], bytes]) -> tuple[AcceptedException, ...]:
    """Read and check the exceptions file at `location` (a path or `s3://bucket/key`).

    `fetch` reads an `s3://` location (raising `ConfigReportError` saying why it cannot). Raises
    `SettingsError` (exit 2) naming the setting, the line and the field when the file cannot be read
    or is malformed.
    """
    if location.startswith("s3://"):
        try:
            text = fetch(location).decode("utf-8")
        except (ConfigReportError, UnicodeDecodeError) as exc:
            raise SettingsError(
                f"{SETTING}: {_why_unreadable(location, exc)}; check the object exists and the hub role may "
                "s3:GetObject it"
            ) from exc
    else:
        try:
            text = Path(location).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(
                f"{SETTING}: cannot read {location} ({exc}); "
                "mount the exceptions ConfigMap there or fix the path"
            ) from exc
    return parse_exceptions(text, source=Path(location).name if "://" not in location else location)


def _why_unreadable(location: str, exc: Exception) -> str:
    return str(exc) if isinstance(exc, ConfigReportError) else f"cannot read {location} ({exc})"


def parse_exceptions(text: str, *, source: str) -> tuple[AcceptedException, ...]:
    """The entries of an exceptions file's `text`; `source` names the file in messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"{SETTING}: {source}{where}: not valid YAML ({exc})") from None
    if root is None:
        return ()
    entries = _entries_node(root, source)
    return tuple(_entry(node, source) for node in entries)


def _fail(source: str, node: yaml.Node, message: str) -> SettingsError:
    return SettingsError(f"{SETTING}: {source} line {node.start_mark.line + 1}: {message}")


def _entries_node(root: yaml.Node, source: str) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        raise _fail(source, root, "the file must be a mapping with one key, `exceptions:`, holding a list")
    for key, value in root.value:
        if key.value != "exceptions":
            raise _fail(source, key, f"unknown key {key.value!r}; the only top-level key is `exceptions`")
        if isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null"):
            return []
        if not isinstance(value, yaml.SequenceNode):
            raise _fail(source, value, "`exceptions` must be a list of entries (each starting with `- `)")
        return list(value.value)
    return []


def _entry(node: yaml.Node, source: str) -> AcceptedException:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(source, node, "an exception must be a mapping of account, region, rule, resource, ...")
    fields: dict[str, yaml.ScalarNode] = {}
    for key, value in node.value:
        name = str(key.value)
        if name not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise _fail(source, key, f"unknown field {name!r}; an exception has {known}")
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            raise _fail(source, value, f"field {name!r} must be a non-empty text")
        fields[name] = value
    for name in _REQUIRED:
        if name not in fields:
            needed = ", ".join(_REQUIRED)
            raise _fail(source, node, f"field {name!r} is missing; every exception needs {needed}")
    line = node.start_mark.line + 1
    return AcceptedException(
        source=f"{source}:{line}",
        account=_text(fields, "account"),
        region=_text(fields, "region"),
        rule=_text(fields, "rule"),
        resource=_text(fields, "resource"),
        acceptance=Acceptance(
            reason=_text(fields, "reason"),
            ticket=_text(fields, "ticket"),
            expires=_date(fields["expires"], source),
        ),
    )


def _text(fields: dict[str, yaml.ScalarNode], name: str) -> str:
    # The raw scalar, not YAML's reading of it: an account ID 012345678901 must keep its leading zero.
    node = fields.get(name)
    return str(node.value).strip() if node is not None else "*"


def _date(node: yaml.ScalarNode, source: str) -> date:
    try:
        return date.fromisoformat(str(node.value).strip())
    except ValueError:
        message = f"field 'expires': {node.value!r} is not a date; write YYYY-MM-DD"
        raise _fail(source, node, message) from None


# --- applying them to a report -----------------------------------------------------------------------


def apply_exceptions(report: Report, exceptions: Sequence[AcceptedException], *, today: date) -> Report:
    """`report` with each finding a live exception matches marked accepted, each finding only an expired
    one matches marked lapsed, and every entry's outcome."""
    live = [e for e in exceptions if e.live_on(today)]
    expired = [e for e in exceptions if not e.live_on(today)]
    used: Counter[str] = Counter()
    expired_hits: Counter[str] = Counter()
    scans = tuple(_accept_in(scan, live, expired, used, expired_hits) for scan in report.scans)
    outcomes = tuple(_outcome(e, today, used, expired_hits) for e in exceptions)
    return replace(report, scans=scans, exceptions=outcomes)


def _accept_in(
    scan: AccountScan,
    live: Sequence[AcceptedException],
    expired: Sequence[AcceptedException],
    used: Counter[str],
    expired_hits: Counter[str],
) -> AccountScan:
    """`scan` with its findings judged; counts each live entry's uses and each expired entry's matches
    (what it would accept were it live) as it goes."""
    if not live and not expired:
        return scan

    def judged(finding: Finding) -> Finding:
        lapsing = [e for e in expired if e.matches(finding)]
        expired_hits.update(e.source for e in lapsing)
        entry = next((e for e in live if e.matches(finding)), None)
        if entry is not None:
            used[entry.source] += 1
            return replace(finding, accepted=entry.acceptance)
        return replace(finding, lapsed=lapsing[0].acceptance) if lapsing else finding

    return replace(scan, findings=mapped(scan.findings, judged))


def _outcome(
    entry: AcceptedException, today: date, used: Counter[str], expired_hits: Counter[str]
) -> ExceptionUse:
    if not entry.live_on(today):
        status, count = ExceptionStatus.EXPIRED, expired_hits[entry.source]
    else:
        count = used.get(entry.source, 0)
        status = ExceptionStatus.APPLIED if count else ExceptionStatus.UNUSED
    return ExceptionUse(
        source=entry.source,
        account=entry.account,
        region=entry.region,
        rule=entry.rule,
        resource=entry.resource,
        acceptance=entry.acceptance,
        status=status,
        findings=count,
    )


# --- what the outputs say of them --------------------------------------------------------------------

EXCEPTION_REQUEST = "To request an exception"
"""The words before CONFIG_REPORT_EXCEPTION_REQUEST, on the Summary and in the ticket."""


def exception_lines(report: Report, status: ExceptionStatus) -> tuple[str, ...]:
    """The entries with `status`, each known by its ticket and reason, what became of it and what it
    covers; the first ten, then how many more."""
    return first_named(
        [
            f"{e.title()} — {e.outcome()} ({e.rule} on {e.resource})"
            for e in report.exceptions
            if e.status is status
        ]
    )
