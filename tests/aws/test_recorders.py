"""Whether Config records in a region, read from the simulated recorders as AWS reports them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from config_report.aws.recorders import recorder_state
from config_report.domain.model import CoverageStatus
from config_report.simulated import SimulatedOrganization, _moto
from config_report.simulated.recorders import Recorder, recorder_arn
from simulated.aws_callers import scratch_account_id

REGION = "eu-west-1"
NAME = "AWSConfigurationRecorderForSecurityHubCSPM"
PRINCIPAL = "securityhub.amazonaws.com"


def only_service_linked(recorder: Recorder) -> str:
    """A fresh account whose only recorder in REGION is `recorder` (its ARN filled in)."""
    account_id = scratch_account_id()
    arn = recorder_arn(account_id, REGION, recorder.name)
    _moto.service_linked_recorders(account_id, REGION).put(replace(recorder, arn=arn))
    return account_id


def test_a_failure_is_recognized_whatever_the_case_aws_writes_it_in(
    simulated_org: SimulatedOrganization,
) -> None:
    # The API's enum says `Failure`; AWS's own documentation and CIS benchmarks print FAILURE.
    failing = Recorder(NAME, "", recording=True, last_status="FAILURE", service_principal=PRINCIPAL)
    account_id = only_service_linked(failing)

    state = recorder_state(simulated_org.client("config", account_id=account_id))

    assert state.status is CoverageStatus.CONFIG_RECORDER_FAILING
    assert state.detail == f"recorder '{NAME}' failing"


def test_a_service_linked_recorder_that_does_not_record_is_not_recording(
    simulated_org: SimulatedOrganization,
) -> None:
    stopped_at = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
    stopped = Recorder(NAME, "", recording=False, stopped_at=stopped_at, service_principal=PRINCIPAL)
    account_id = only_service_linked(stopped)

    state = recorder_state(simulated_org.client("config", account_id=account_id))

    assert state.status is CoverageStatus.CONFIG_NOT_RECORDING
    assert state.detail.startswith(f"recorder '{NAME}' stopped at 2026-11-30 07:15 UTC")


def test_a_region_without_any_recorder_is_config_not_enabled(simulated_org: SimulatedOrganization) -> None:
    state = recorder_state(simulated_org.client("config", account_id=scratch_account_id()))

    assert (state.status, state.detail) == (CoverageStatus.CONFIG_NOT_ENABLED, "no configuration recorder")
