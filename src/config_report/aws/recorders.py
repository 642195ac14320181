"""Whether AWS Config records in one account × region, and whether its results can be trusted.

A region holds at most one customer-managed recorder and any number of service-linked ones, which AWS
services create for themselves (Security Hub CSPM's records what its controls need, and its
`securityhub-*` rules evaluate there). `DescribeConfigurationRecorderStatus` without arguments returns
the customer-managed recorder only, so:

1. One `DescribeConfigurationRecorderStatus` call. A customer-managed recorder decides the region.
2. Only when there is none: `ListConfigurationRecorders` (every page), then the status of each
   service-linked recorder by its ARN. One that records makes the region read, and `Detail` names it.

A recorder decides the region by its status: `recording` with a last recording event that did not fail
is read (`None` here); `recording` with `lastStatus` `Failure` is `CONFIG_RECORDER_FAILING`, with AWS's
error code and message (its results are stale: CIS asks for both `recording` and a non-failing last
status); a recorder that does not record is `CONFIG_NOT_RECORDING`, with the time it stopped; no
recorder at all is `CONFIG_NOT_ENABLED`.

A spoke role without `config:ListConfigurationRecorders` (one deployed before this version) cannot
see service-linked recorders: the region keeps the customer-managed verdict, `Detail` says what was not
checked, and the run warns once with the fix. Any other error is the caller's to handle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config_report.aws.errors import AwsError, describe_error, error_code, is_access_denied
from config_report.domain.model import CoverageStatus
from config_report.logs import warn_once

# The largest MaxResults of ListConfigurationRecorders (AWS Config API reference).
_LIST_PAGE_SIZE = 20
_FAILURE = "failure"  # AWS's enum is `Failure`; its own documentation prints FAILURE
UNLISTED_FIX = (
    "grant the spoke role config:ListConfigurationRecorders (re-apply deploy/terraform's "
    "spoke-read-role); until then a region recorded only by a service-linked recorder (Security Hub's) "
    "reads as CONFIG_NOT_ENABLED"
)


@dataclass(frozen=True, slots=True)
class RecorderState:
    """What the recorders say of a region: `status` None when it is read, and a note for `Detail`."""

    status: CoverageStatus | None
    detail: str = ""


def recorder_state(config_client: Any) -> RecorderState:
    """Whether Config records in the region (see the module docstring for the calls and verdicts)."""
    own = config_client.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    if own:
        return _verdict(own)
    try:
        linked = list(_service_linked_statuses(config_client))
    except AwsError as exc:
        if not is_access_denied(exc):
            raise
        _warn_once(exc)
        return RecorderState(
            CoverageStatus.CONFIG_NOT_ENABLED,
            f"no configuration recorder; service-linked recorders not checked: {describe_error(exc)}",
        )
    if not linked:
        return RecorderState(CoverageStatus.CONFIG_NOT_ENABLED, "no configuration recorder")
    verdict = _verdict(linked)
    if verdict.status is not None:
        return verdict
    names = ", ".join(f"{r.get('name', '?')} ({r.get('servicePrincipal', '?')})" for r in linked)
    return RecorderState(None, f"no customer-managed recorder: service-linked {names} records here")


def _service_linked_statuses(config_client: Any) -> Iterator[Mapping[str, Any]]:
    pages = config_client.get_paginator("list_configuration_recorders").paginate(
        PaginationConfig={"PageSize": _LIST_PAGE_SIZE}
    )
    for page in pages:
        for summary in page.get("ConfigurationRecorderSummaries", []):
            if summary.get("servicePrincipal"):
                answer = config_client.describe_configuration_recorder_status(Arn=summary["arn"])
                yield from answer.get("ConfigurationRecordersStatus", [])


def _verdict(recorders: list[Mapping[str, Any]]) -> RecorderState:
    recording = [r for r in recorders if r.get("recording")]
    if any(not _failing(r) for r in recording):
        return RecorderState(None)
    if recording:
        failures = "; ".join(_failure(r) for r in recording)
        return RecorderState(CoverageStatus.CONFIG_RECORDER_FAILING, failures)
    stopped = "; ".join(
        f"recorder {r.get('name', '?')!r} stopped at {_utc_text(r['lastStopTime'])}"
        if r.get("lastStopTime")
        else f"recorder {r.get('name', '?')!r} not recording"
        for r in recorders
    )
    return RecorderState(CoverageStatus.CONFIG_NOT_RECORDING, stopped)


def _failing(recorder: Mapping[str, Any]) -> bool:
    return str(recorder.get("lastStatus") or "").lower() == _FAILURE


def _failure(recorder: Mapping[str, Any]) -> str:
    since = recorder.get("lastStatusChangeTime")
    when = f" since {_utc_text(since)}" if since else ""
    error = ": ".join(
        str(part) for part in (recorder.get("lastErrorCode"), recorder.get("lastErrorMessage")) if part
    )
    return f"recorder {recorder.get('name', '?')!r} failing{when}" + (f": {error}" if error else "")


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _warn_once(exc: Exception) -> None:
    """One warning per error code: every region without a recorder in every account would say the same."""
    warn_once(
        "config_recorders.unlisted",
        key=(error_code(exc) or type(exc).__name__,),
        action="config:ListConfigurationRecorders",
        reason=describe_error(exc),
        fix=UNLISTED_FIX,
    )
