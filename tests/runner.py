"""Running `config-report` as a user does: a subprocess pointed at the simulated organization."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

from config_report.simulated import SimulatedOrganization


@dataclass(frozen=True)
class Run:
    """One finished `config-report` process and the files it published.

    `files` are the run's report files (and Jira records); `markers` the keys it wrote beside them
    (the preflight marker and the `latest.json` pointer).
    """

    returncode: int
    stdout: str
    stderr: str
    files: dict[str, bytes]
    markers: dict[str, bytes] = field(default_factory=dict)

    def file(self, suffix: str) -> bytes:
        (name,) = [n for n in self.files if n.endswith(suffix)]
        return self.files[name]

    def sheet(self, name: str) -> list[list[Any]]:
        book = CalamineWorkbook.from_filelike(io.BytesIO(self.file(".xlsx")))
        rows: list[list[Any]] = book.get_sheet_by_name(name).to_python()
        return rows

    def sheet_xml(self, name: str) -> str:
        """The raw XML of one sheet of the published workbook (hyperlinks, print setup)."""
        rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
        main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
        with zipfile.ZipFile(io.BytesIO(self.file(".xlsx"))) as archive:
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
            targets = {r.get("Id"): r.get("Target", "") for r in rels}
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
            (sheet,) = [s for s in book.iter(f"{main}sheet") if s.get("name") == name]
            return archive.read("xl/" + targets[sheet.get(rel)]).decode()

    def log_events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.startswith("{")]


def run_cli(sim: SimulatedOrganization, *args: str, **env: str | None) -> Run:
    """Run `config-report` in a clean environment pointed at the simulator; collect what it wrote to S3.

    A variable given as None is left out (the simulator's access keys, for a pod whose credentials come
    from elsewhere).
    """
    return RunningCli(sim, *args, **env).finish()


class RunningCli:
    """`config-report` started in the background (to be signalled), whose S3 output `finish` collects."""

    def __init__(self, sim: SimulatedOrganization, *args: str, **env: str | None) -> None:
        self._s3 = sim.client("s3")
        self._bucket = sim.seeded.hub.report_bucket
        self._before = {o["Key"]: o["ETag"] for o in _objects(self._s3, self._bucket)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "config_report", *args],
            env=_environment(sim, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr_read: list[str] = []

    def wait_for_event(self, name: str) -> dict[str, Any]:
        """Read the log until the JSON event `name` (the process's own word, not a sleep); return it."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr_read.append(line)
            if line.startswith("{") and (event := json.loads(line)).get("event") == name:
                return dict(event)
        raise AssertionError(
            f"the process ended without logging {name}: {''.join(self._stderr_read)[-2000:]}"
        )

    def finish(self) -> Run:
        """Wait for the process (10 minutes at most: a hang guard, not a timing assumption)."""
        try:
            stdout, stderr = self.process.communicate(timeout=600)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.communicate()
        # New keys, and `latest.json`, the one key a run replaces.
        new = [o["Key"] for o in _objects(self._s3, self._bucket) if self._before.get(o["Key"]) != o["ETag"]]
        files = {key: self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read() for key in new}
        markers = {key: files.pop(key) for key in list(files) if _is_marker(key)}
        return Run(self.process.returncode, stdout, "".join(self._stderr_read) + stderr, files, markers)


def _is_marker(key: str) -> bool:
    # Objects every run rewrites beside its own files: the newest-run pointer and the run history.
    return "/preflight/" in f"/{key}" or key.endswith(("latest.json", "history/runs.jsonl"))


def run_process(
    sim: SimulatedOrganization, *args: str, **env: str | None
) -> subprocess.CompletedProcess[str]:
    """`python -m config_report ARGS` with only the simulator's AWS settings (and `env`, None: unset) set."""
    return subprocess.run(
        [sys.executable, "-m", "config_report", *args],
        env=_environment(sim, env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _environment(sim: SimulatedOrganization, env: dict[str, str | None]) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONFIG_REPORT_"))}
    merged = environment | sim.client_env() | {"CONFIG_REPORT_LOG_FORMAT": "json"} | env
    return {k: v for k, v in merged.items() if v is not None}


def _objects(s3: Any, bucket: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        yield from page.get("Contents", [])
