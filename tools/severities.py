"""Regenerate the severity table, `MANAGED_RULE_SEVERITY` in `src/config_report/domain/severity.py`,
from the AWS Security Hub controls reference.

    git clone https://github.com/awsdocs/aws-security-hub-user-guide /tmp/sh-guide
    git -C /tmp/sh-guide checkout bda5bf7     # the last commit with the documents (archived since)
    git clone https://github.com/iainelder/security-hub-controls /tmp/sh-controls
    python tools/severities.py /tmp/sh-guide --current /tmp/sh-controls/security-hub-controls.jsonl

It reads every control section of `doc_source/*-controls.md` (the control's ID, severity and AWS Config
rule), keeps the controls an AWS managed rule evaluates, turns each rule's name into its identifier, takes
each control's current severity from `--current` (JSON lines with `Id` and `Severity`, a listing of the
reference's control table) where it lists the control, keeps each rule's highest severity, and rewrites
the block between the markers in severity.py (sorted, one rule a line, each naming its controls). What it
leaves out, and why, goes to stderr. A control section it cannot read stops it (exit 1): a format it
does not know must not drop controls silently. The sources' commits and dates are read with git; pass
`--source` and `--current-source` (`commit date`) when a path is not a git checkout.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from config_report.domain.severity import Severity

MODULE = Path(__file__).resolve().parent.parent / "src" / "config_report" / "domain" / "severity.py"
BEGIN, END = "# BEGIN GENERATED TABLE", "# END GENERATED TABLE"
SOURCE_REPO = "awsdocs/aws-security-hub-user-guide"
CURRENT_REPO = "iainelder/security-hub-controls"
LINE_LENGTH = 110  # ruff's, pyproject.toml

# Managed rules whose identifier is not their name upper-cased with `-` → `_` (each one's page in the
# AWS Config Developer Guide says "the rule identifier and rule name are different").
IDENTIFIER_BY_NAME = {
    "cloudtrail-enabled": "CLOUD_TRAIL_ENABLED",
    "ec2-instance-managed-by-systems-manager": "EC2_INSTANCE_MANAGED_BY_SSM",
    "ec2-instances-in-vpc": "INSTANCES_IN_VPC",
    "multi-region-cloudtrail-enabled": "MULTI_REGION_CLOUD_TRAIL_ENABLED",
    "restricted-common-ports": "RESTRICTED_INCOMING_TRAFFIC",
    "restricted-ssh": "INCOMING_SSH_DISABLED",
}
RATED = tuple(s for s in Severity if s is not Severity.UNRATED)

_SECTION = re.compile(r"^## \\\[(?P<id>[A-Za-z0-9]+\\?\.[0-9]+)\\\]")
_SEVERITY = re.compile(r"^\*\*Severity:\s*\*\*\s*(?P<severity>\w+)")
# "**AWS Config rule:**", "**AWS Config rule: **", "AWS Config rule:", "**AWS Configrule:**", and more
_RULE = re.compile(r"^\**\s*AWS\s*Config\s*\**\s*rule\s*:\s*\**\s*(?P<rule>.*)$", re.IGNORECASE)
_RULE_PAGE = re.compile(r"/config/latest/developerguide/(?P<name>[a-z0-9-]+?)(?:\.html)?\)")
_RULE_CODE = re.compile(r"`(?P<name>[a-z0-9-]+)`")
# "(Custom rule developed by Security Hub)", "None (custom Security Hub rule)"; not "cloudfront-custom-ssl-…"
_CUSTOM = re.compile(r"\bcustom (?:rule developed by )?Security Hub\b", re.IGNORECASE)
_NO_RULE = re.compile(r"^None\b")


class FormatError(Exception):
    """Control sections the parser cannot read, one problem a line."""


@dataclass(frozen=True, slots=True)
class Control:
    """One control section: its ID, severity and rule (`None` when it uses no rule)."""

    id: str  # "S3.3"
    severity: Severity
    rule: str | None  # the rule's name (or its Developer Guide page), as the section gives it
    custom: bool  # a rule Security Hub developed itself, not an AWS managed rule
    where: str  # file:line, for messages


@dataclass(frozen=True, slots=True)
class Rated:
    """A control as the table uses it: its severity now, and what it was in the documents."""

    control: Control
    id: str  # as the current listing spells it (the documents wrote "Autoscaling.5" once)
    severity: Severity
    listed: bool  # the current listing still has the control (always true without a listing)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the table."""

    identifier: str
    severity: Severity
    controls: tuple[Rated, ...]

    def comment(self) -> str:
        """The entry's controls: each lower one with its severity, a changed one with its 2023 one."""
        notes = []
        for rated in self.controls:
            note = rated.id
            if rated.severity is not self.severity:
                note += f" {rated.severity}"
            if not rated.listed:
                note += " (retired)"
            elif rated.severity is not rated.control.severity:
                note += f" (was {rated.control.severity})"
            notes.append(note)
        return ", ".join(notes)


def read_controls(doc_source: Path) -> list[Control]:
    """Every control section of the `*-controls.md` files; raises `FormatError` listing the unreadable."""
    controls: list[Control] = []
    problems: list[str] = []
    for path in sorted(doc_source.glob("*-controls.md")):
        for section in _sections(path):
            control = _control(section, problems)
            if control is not None:
                controls.append(control)
    if problems:
        raise FormatError("\n".join(problems))
    if not controls:
        raise FormatError(f"no control sections in {doc_source}/*-controls.md")
    return controls


@dataclass(frozen=True, slots=True)
class _Section:
    id: str
    where: str
    lines: tuple[str, ...]


def _sections(path: Path) -> Iterator[_Section]:
    """Each control's section: from its `## [ID]` heading to the next `## ` heading."""
    heading: tuple[str, int] | None = None
    lines: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("## "):
            if heading is not None:
                yield _Section(heading[0], f"{path.name}:{heading[1]}", tuple(lines))
            match = _SECTION.match(line)
            heading = (match["id"].replace("\\", ""), number) if match else None
            lines = []
        elif heading is not None:
            lines.append(line.strip())
    if heading is not None:
        yield _Section(heading[0], f"{path.name}:{heading[1]}", tuple(lines))


def _control(section: _Section, problems: list[str]) -> Control | None:
    severities = [m["severity"] for m in map(_SEVERITY.match, section.lines) if m]
    rules = [m["rule"].strip() for m in map(_RULE.match, section.lines) if m]
    where = f"{section.where} [{section.id}]"
    if len(severities) != 1 or severities[0].upper() not in {s.value for s in RATED}:
        problems.append(f"{where}: severity lines {severities!r}")
        return None
    if len(rules) != 1:
        problems.append(f"{where}: AWS Config rule lines {rules!r}")
        return None
    severity, text = Severity(severities[0].upper()), rules[0]
    if _NO_RULE.match(text):
        return Control(section.id, severity, None, custom=bool(_CUSTOM.search(text)), where=where)
    names = {m["name"] for m in _RULE_PAGE.finditer(text)} or {m["name"] for m in _RULE_CODE.finditer(text)}
    if len(names) != 1:
        problems.append(f"{where}: no single rule name in {text!r}")
        return None
    return Control(section.id, severity, names.pop(), custom=bool(_CUSTOM.search(text)), where=where)


def identifier_of(rule: str) -> str:
    """A managed rule's source identifier, from its name (or its Developer Guide page's name)."""
    return IDENTIFIER_BY_NAME.get(rule, rule.upper().replace("-", "_"))


def read_current(lines: Iterable[str]) -> dict[str, tuple[str, Severity]]:
    """Control ID (case-folded) → (the ID as listed, its severity), from JSON lines: `Id`, `Severity`."""
    current = {}
    for line in lines:
        if line.strip():
            row = json.loads(line)
            current[row["Id"].casefold()] = (row["Id"], Severity(row["Severity"].upper()))
    return current


def build_table(
    controls: Sequence[Control], current: Mapping[str, tuple[str, Severity]] | None
) -> list[Entry]:
    """One entry per managed rule, sorted by identifier: the highest severity of the controls using it."""
    by_rule: dict[str, list[Rated]] = defaultdict(list)
    for control in controls:
        if control.rule is None or control.custom:
            continue
        if current is None:
            rated = Rated(control, control.id, control.severity, listed=True)
        elif (listed := current.get(control.id.casefold())) is None:
            rated = Rated(control, control.id, control.severity, listed=False)
        else:
            rated = Rated(control, *listed, listed=True)
        by_rule[identifier_of(control.rule)].append(rated)
    entries = []
    for identifier, using in sorted(by_rule.items()):
        severity = min((r.severity for r in using), key=lambda s: s.rank)
        entries.append(Entry(identifier, severity, tuple(sorted(using, key=lambda r: _id_key(r.id)))))
    return entries


def _id_key(control_id: str) -> tuple[str, int]:
    service, _, number = control_id.partition(".")
    return service.casefold(), int(number)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where the table came from: the documents' commit and date, the listing's (when used)."""

    source: tuple[str, str]
    current: tuple[str, str] | None


def render(entries: Sequence[Entry], provenance: Provenance) -> str:
    """The generated block, markers included, formatted as ruff formats it."""
    commit, date = provenance.source
    sources = f"{SOURCE_REPO} doc_source/*-controls.md at {commit} ({date})"
    if provenance.current is not None:
        current_commit, current_date = provenance.current
        sources += (
            f"; current severities: {CURRENT_REPO} security-hub-controls.jsonl at {current_commit}"
            f" ({current_date}); a control no longer listed is marked retired and keeps its 2023 severity"
        )
    paragraphs = [
        "Generated by tools/severities.py (its docstring says how to run it); do not edit by hand.",
        f"{len(entries)} managed rules, from {sum(len(e.controls) for e in entries)} Security Hub controls."
        f" Sources: {sources}.",
        "Each entry names its controls; one rated otherwise shows its severity, (was …) its 2023 one.",
    ]
    conflicts = [e for e in entries if len({r.severity for r in e.controls}) > 1]
    if conflicts:
        paragraphs.append("Rules whose controls disagree (the highest severity is kept):")
    head = [BEGIN]
    for paragraph in paragraphs:
        head += textwrap.wrap(paragraph, LINE_LENGTH, initial_indent="# ", subsequent_indent="#   ")
    for entry in conflicts:
        head += textwrap.wrap(
            f"{entry.identifier}: {_by_severity(entry)}",
            LINE_LENGTH,
            initial_indent="#   ",
            subsequent_indent="#     ",
        )
    body = ["MANAGED_RULE_SEVERITY: Mapping[str, Severity] = MappingProxyType(", "    {"]
    for entry in entries:
        line = f'        "{entry.identifier}": Severity.{entry.severity.name},'
        comment = f"  # {entry.comment()}"
        if len(line + comment) > LINE_LENGTH:
            comment = f"  # {len(entry.controls)} controls: listed above"
        body.append(line + comment)
    body += ["    }", ")", END]
    return "\n".join(head + body) + "\n"


def _by_severity(entry: Entry) -> str:
    groups: dict[Severity, list[str]] = defaultdict(list)
    for rated in entry.controls:
        groups[rated.severity].append(rated.id)
    return "; ".join(f"{s} {', '.join(groups[s])}" for s in sorted(groups, key=lambda s: s.rank))


def replace_block(module: str, block: str) -> str:
    """The module with its generated block replaced."""
    start, end = module.find(BEGIN), module.find(END)
    if start < 0 or end < start:
        raise FormatError(f"the markers {BEGIN!r} … {END!r} are missing")
    return module[:start] + block + module[end + len(END) + 1 :]


def git_provenance(path: Path) -> tuple[str, str]:
    """The commit checked out where `path` is, and its date (YYYY-MM-DD)."""
    folder = path if path.is_dir() else path.parent
    out = subprocess.run(  # noqa: S603 - a fixed command on a path the user gave
        ["git", "-C", str(folder), "log", "-1", "--format=%H %cs"],  # noqa: S607 - git from PATH
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return out[0], out[1]


def _summary(controls: Sequence[Control], entries: Sequence[Entry]) -> Iterator[str]:
    """What the table left out and what it resolved, for the person regenerating it."""
    rated = [r for e in entries for r in e.controls]
    custom = [c.id for c in controls if c.custom]
    without = [c.id for c in controls if c.rule is None and not c.custom]
    retired = [r.id for r in rated if not r.listed]
    changed = [
        f"{r.id} {r.control.severity}→{r.severity}" for r in rated if r.severity is not r.control.severity
    ]
    yield f"{len(controls)} controls read; {len(entries)} managed rules rated, from {len(rated)} controls"
    yield f"left out, a rule Security Hub developed itself ({len(custom)}): {', '.join(custom)}"
    yield f"left out, no AWS Config rule ({len(without)}): {', '.join(without)}"
    if retired:
        yield f"not in the current listing, 2023 severity kept ({len(retired)}): {', '.join(retired)}"
    if changed:
        yield f"severity changed since the documents ({len(changed)}): {', '.join(changed)}"
    for entry in entries:
        if len({r.severity for r in entry.controls}) > 1:
            yield f"conflict, {entry.severity} kept: {entry.identifier}: {_by_severity(entry)}"


def _provenance(given: Sequence[str] | None, path: Path) -> tuple[str, str]:
    return (given[0], given[1]) if given else git_provenance(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkout", type=Path, help=f"a checkout of {SOURCE_REPO} (or its doc_source folder)")
    parser.add_argument("--current", type=Path, help=f"security-hub-controls.jsonl from {CURRENT_REPO}")
    parser.add_argument("--source", nargs=2, metavar=("COMMIT", "DATE"), help="the checkout's, without git")
    parser.add_argument("--current-source", nargs=2, metavar=("COMMIT", "DATE"), help="the listing's")
    parser.add_argument(
        "--output", type=Path, default=MODULE, help="the module to rewrite (default: %(default)s)"
    )
    args = parser.parse_args(argv)

    doc_source = args.checkout / "doc_source" if (args.checkout / "doc_source").is_dir() else args.checkout
    try:
        controls = read_controls(doc_source)
    except FormatError as exc:
        print(f"cannot read the controls:\n{exc}", file=sys.stderr)
        return 1
    current = read_current(args.current.read_text(encoding="utf-8").splitlines()) if args.current else None
    provenance = Provenance(
        _provenance(args.source, args.checkout),
        _provenance(args.current_source, args.current) if args.current else None,
    )
    entries = build_table(controls, current)
    block = render(entries, provenance)
    module = args.output.read_text(encoding="utf-8")
    try:
        updated = replace_block(module, block)
    except FormatError as exc:
        print(f"cannot update {args.output}: {exc}", file=sys.stderr)
        return 1
    if updated != module:
        args.output.write_text(updated, encoding="utf-8")
    for line in _summary(controls, entries):
        print(line, file=sys.stderr)
    docstring = updated.replace(block, "")
    for commit, _ in filter(None, (provenance.source, provenance.current)):
        if commit not in docstring:
            print(f"the module's docstring does not cite commit {commit}: update it", file=sys.stderr)
    print(f"{'wrote' if updated != module else 'unchanged'}: {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
