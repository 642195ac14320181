"""Fixtures of the simulated organization's own tests: AWS callers as the hub or through sts:AssumeRole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from config_report.simulated import FaultLayer, SimulatedOrganization
from simulated.aws_callers import Caller, scratch_account_id


@pytest.fixture
def hub(simulated_org: SimulatedOrganization) -> Caller:
    """The hub: moto's default credentials, account 123456789012."""
    return Caller(simulated_org.endpoint_url, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def assume_role(simulated_org: SimulatedOrganization, hub: Caller) -> Callable[[str], Caller]:
    """Assume a role from the hub, as the scanner does; returns the role's caller."""

    def assume(role_arn: str) -> Caller:
        credentials = hub.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="tests")["Credentials"]
        return Caller(
            simulated_org.endpoint_url,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    return assume


@pytest.fixture
def faults(simulated_org: SimulatedOrganization) -> Iterator[FaultLayer]:
    """The fault layer, clean before the test and reset after it."""
    simulated_org.faults.reset()
    yield simulated_org.faults
    simulated_org.faults.reset()


@pytest.fixture
def account_id() -> str:
    """An account of this test's own."""
    return scratch_account_id()


@pytest.fixture
def config(simulated_org: SimulatedOrganization, account_id: str) -> Any:
    """A Config client in eu-west-1 of the test's account."""
    return simulated_org.client("config", account_id=account_id)
