"""tools/severities.py: the controls reference read, the severity table written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from severities import (
    BEGIN,
    END,
    FormatError,
    Provenance,
    build_table,
    identifier_of,
    read_controls,
    read_current,
    render,
    replace_block,
)

from config_report.domain.severity import Severity

# Control sections in the reference's markdown shapes (escaped brackets and dots, bold labels, the rule
# as a Developer Guide link, a code span, or none), with made-up titles.
STORAGE = r"""# Storage controls<a name="storage-controls"></a>

## \[S3\.2\] First storage control<a name="s3-2"></a>

**Severity:** Critical

**AWS Config rule:** [https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-public-read-prohibited](https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-public-read-prohibited)

### Remediation<a name="s3-2-remediation"></a>

The AWS Config rule is not the point here\.

## \[S3\.9\] Second storage control<a name="s3-9"></a>

**Severity: ** Medium

AWS Config rule: `s3-bucket-logging-enabled`

## \[SQS\.1\] A control on a rule Security Hub wrote<a name="sqs-1"></a>

**Severity:** Medium

**AWS Configrule:** `sqs-queue-encrypted` \(Custom rule developed by Security Hub\)
"""
ACCOUNT = r"""# Account controls<a name="account-controls"></a>

## \[IAM\.7\] A password control<a name="iam-7"></a>

**Severity:** Medium

**AWS Config rule:** [https://docs.aws.amazon.com/config/latest/developerguide/iam-password-policy.html](https://docs.aws.amazon.com/config/latest/developerguide/iam-password-policy.html)

## \[IAM\.16\] Another password control<a name="iam-16"></a>

**Severity:** Low

**AWS Config** rule: [https://docs.aws.amazon.com/config/latest/developerguide/iam-password-policy.html](https://docs.aws.amazon.com/config/latest/developerguide/iam-password-policy.html)

## \[EC2\.13\] A port control<a name="ec2-13"></a>

**Severity:** High

**AWS Config rule: **[https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html](https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html)

## \[CloudWatch\.1\] A metric filter control<a name="cloudwatch-1"></a>

**Severity:** Low

**AWS Config rule:** None

## \[CloudFront\.7\] A certificate control<a name="cloudfront-7"></a>

**Severity:** Medium

**AWS Config rule:** [https://docs.aws.amazon.com/config/latest/developerguide/cloudfront-custom-ssl-certificate.html](https://docs.aws.amazon.com/config/latest/developerguide/cloudfront-custom-ssl-certificate.html)
"""


@pytest.fixture
def doc_source(tmp_path: Path) -> Path:
    folder = tmp_path / "doc_source"
    folder.mkdir()
    (folder / "s3-controls.md").write_text(STORAGE, encoding="utf-8")
    (folder / "iam-controls.md").write_text(ACCOUNT, encoding="utf-8")
    (folder / "securityhub-standards-view-controls.md").write_text("# Not a control\n\n## Steps\n", "utf-8")
    return folder


def test_every_control_is_read_in_each_shape(doc_source: Path) -> None:
    controls = {c.id: c for c in read_controls(doc_source)}
    assert set(controls) == {
        "S3.2",
        "S3.9",
        "SQS.1",
        "IAM.7",
        "IAM.16",
        "EC2.13",
        "CloudWatch.1",
        "CloudFront.7",
    }
    assert controls["S3.2"].rule == "s3-bucket-public-read-prohibited"
    assert controls["S3.2"].severity is Severity.CRITICAL
    assert controls["S3.9"].rule == "s3-bucket-logging-enabled"
    assert controls["SQS.1"].custom
    assert not controls["CloudFront.7"].custom  # "custom" in a managed rule's own name
    assert controls["CloudWatch.1"].rule is None


def test_the_table_keeps_managed_rules_only_each_at_its_highest(doc_source: Path) -> None:
    entries = {e.identifier: e for e in build_table(read_controls(doc_source), None)}
    assert {i: e.severity for i, e in entries.items()} == {
        "CLOUDFRONT_CUSTOM_SSL_CERTIFICATE": Severity.MEDIUM,
        "IAM_PASSWORD_POLICY": Severity.MEDIUM,  # IAM.7 MEDIUM, IAM.16 LOW
        "INCOMING_SSH_DISABLED": Severity.HIGH,  # restricted-ssh
        "S3_BUCKET_LOGGING_ENABLED": Severity.MEDIUM,
        "S3_BUCKET_PUBLIC_READ_PROHIBITED": Severity.CRITICAL,
    }
    assert entries["IAM_PASSWORD_POLICY"].comment() == "IAM.7, IAM.16 LOW"


def test_the_current_listing_gives_todays_severity_and_marks_retired_controls(doc_source: Path) -> None:
    listing = [
        json.dumps({"Id": "CloudFront.7", "Severity": "LOW"}),
        json.dumps({"Id": "S3.2", "Severity": "CRITICAL"}),
        json.dumps({"Id": "IAM.7", "Severity": "MEDIUM"}),
        json.dumps({"Id": "IAM.16", "Severity": "LOW"}),
        json.dumps({"Id": "EC2.13", "Severity": "HIGH"}),
    ]
    entries = {e.identifier: e for e in build_table(read_controls(doc_source), read_current(listing))}
    assert entries["CLOUDFRONT_CUSTOM_SSL_CERTIFICATE"].severity is Severity.LOW
    assert entries["CLOUDFRONT_CUSTOM_SSL_CERTIFICATE"].comment() == "CloudFront.7 (was MEDIUM)"
    assert entries["S3_BUCKET_LOGGING_ENABLED"].severity is Severity.MEDIUM  # S3.9 no longer listed
    assert entries["S3_BUCKET_LOGGING_ENABLED"].comment() == "S3.9 (retired)"


def test_a_section_it_cannot_read_stops_it(doc_source: Path) -> None:
    (doc_source / "new-controls.md").write_text(
        "## \\[New\\.1\\] A control in a new shape\n\n**Severity:** Medium\n\n**Evaluated by:** something\n",
        encoding="utf-8",
    )
    with pytest.raises(FormatError, match=r"new-controls\.md:1 \[New\.1\]"):
        read_controls(doc_source)


def test_rule_names_that_are_not_their_identifiers() -> None:
    assert identifier_of("restricted-ssh") == "INCOMING_SSH_DISABLED"
    assert identifier_of("cloudtrail-enabled") == "CLOUD_TRAIL_ENABLED"
    assert identifier_of("s3-bucket-public-write-prohibited") == "S3_BUCKET_PUBLIC_WRITE_PROHIBITED"


def test_the_block_is_replaced_in_place_and_formatted(doc_source: Path, tmp_path: Path) -> None:
    entries = build_table(read_controls(doc_source), None)
    block = render(entries, Provenance(("0" * 40, "2023-03-10"), None))
    module = f'"""Doc."""\n\nfrom x import y\n\n{BEGIN}\nOLD = 1\n{END}\n\n\ndef after() -> None: ...\n'
    updated = replace_block(module, block)
    assert updated.startswith('"""Doc."""\n\nfrom x import y\n\n# BEGIN GENERATED TABLE\n')
    assert updated.endswith(f"{END}\n\n\ndef after() -> None: ...\n")
    assert "OLD" not in updated
    assert replace_block(updated, block) == updated
    assert '        "IAM_PASSWORD_POLICY": Severity.MEDIUM,  # IAM.7, IAM.16 LOW\n' in block
    assert "#   IAM_PASSWORD_POLICY: MEDIUM IAM.7; LOW IAM.16\n" in block
    generated = tmp_path / "generated.py"
    generated.write_text(
        "from collections.abc import Mapping\nfrom types import MappingProxyType\n\n"
        f"from config_report.domain.severity import Severity\n\n{block}",
        encoding="utf-8",
    )
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "format", "--check", "--config", "line-length = 110", str(generated)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_module_without_markers_is_refused() -> None:
    with pytest.raises(FormatError, match="markers"):
        replace_block('"""Doc."""\n', "block\n")
