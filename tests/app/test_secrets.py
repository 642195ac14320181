"""No secret used by a run appears in anything it writes: logs, workbook, snapshot, manifest, ticket."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from config_report.simulated import SimulatedOrganization
from config_report.simulated.jira import FakeJira
from runner import run_cli

EXTERNAL_ID = "ext-id-7f3a9c2e-must-stay-secret"
HUB_SESSION_TOKEN = "hub-session-token-4b8d1e6a-must-stay-secret"


def readable(name: str, blob: bytes) -> Iterator[tuple[str, bytes]]:
    """The blob and, for a zip (the workbook) or gzip (the snapshot), what it holds, decompressed."""
    yield name, blob
    if blob[:2] == b"\x1f\x8b":
        yield from readable(f"{name} (gunzipped)", gzip.decompress(blob))
    elif blob[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in archive.namelist():
                yield from readable(f"{name}:{member}", archive.read(member))


def test_a_full_run_writes_none_of_the_secrets_it_used(
    simulated_org: SimulatedOrganization, cloud: FakeJira, tmp_path: Path
) -> None:
    simulated_org.faults.reset()
    token_file = tmp_path / "jira-token"
    token_file.write_text(cloud.token + "\n")
    # The ExternalId as the chart provides it: a mounted Secret's file.
    external_id_file = tmp_path / "external-id"
    external_id_file.write_text(EXTERNAL_ID + "\n")
    local_copy = tmp_path / "copy"
    try:
        run = run_cli(
            simulated_org,
            "run",
            CONFIG_REPORT_EXTERNAL_ID_FILE=str(external_id_file),
            AWS_SESSION_TOKEN=HUB_SESSION_TOKEN,
            CONFIG_REPORT_JIRA_URL=cloud.url,
            CONFIG_REPORT_JIRA_PROJECT="SEC",
            CONFIG_REPORT_JIRA_EMAIL=cloud.email,
            CONFIG_REPORT_JIRA_API_TOKEN_FILE=str(token_file),
            CONFIG_REPORT_OUTPUT_DIR=str(local_copy),
            CONFIG_REPORT_LOG_LEVEL="DEBUG",
        )
        issued = simulated_org.faults.issued_secrets
    finally:
        simulated_org.faults.reset()

    outputs = {"stdout": run.stdout.encode(), "stderr (logs)": run.stderr.encode()}
    outputs |= {f"s3://{key}": blob for key, blob in {**run.files, **run.markers}.items()}
    outputs |= {f"local copy {p.name}": p.read_bytes() for p in local_copy.iterdir()}
    outputs |= {f"Jira {r.method} {r.path}": r.body for r in cloud.requests}
    secrets = {EXTERNAL_ID, HUB_SESSION_TOKEN, cloud.token, *issued}

    readable_outputs = [
        (where, text) for name, blob in outputs.items() for where, text in readable(name, blob)
    ]
    leaks = [
        f"{where} holds {secret[:6]}…"
        for where, text in readable_outputs
        for secret in secrets
        if secret.encode() in text
    ]
    # The search reaches inside every output: the run ID, which they all carry, is found in each kind.
    (start,) = [e for e in run.log_events() if e["event"] == "run.start"]
    carriers = {where for where, text in readable_outputs if str(start["run_id"]).encode() in text}
    assert any(".xlsx:xl/" in where for where in carriers)
    assert any("(gunzipped)" in where for where in carriers)
    assert any(where.startswith("Jira POST") for where in carriers)
    assert run.returncode in (0, 3), run.stderr[-3000:]
    assert issued, "the run assumed roles: their session tokens are among the secrets looked for"
    assert any(name.startswith("Jira POST") for name in outputs), "the ticket was written"
    assert any(name.endswith(".xlsx") for name in outputs)
    assert any(".snapshot" in name for name in outputs)
    assert not leaks, leaks
