"""AWS callers for the simulated organization's own tests: credentials plus boto3 clients on the simulator."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# botocore counts `total_max_attempts` including the first try (`max_attempts` counts retries only).
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
# The simulator is on loopback: no proxy from the environment.
LOOPBACK = Config(proxies={})

# Accounts the seeder never touches: a test that writes Config state works in one of its own.
_scratch_accounts = itertools.count(900_000_000_001)


def scratch_account_id() -> str:
    """An account no seeder and no other test uses."""
    return str(next(_scratch_accounts))


class Caller:
    """One set of credentials on the simulator; `client()` makes boto3 clients with them."""

    def __init__(self, endpoint_url: str, **credentials: str) -> None:
        self.endpoint_url = endpoint_url
        self._session = boto3.session.Session(**credentials)

    def client(self, service: str, region: str = "eu-west-1", config: Config | None = None) -> Any:
        """A boto3 client of `service` in `region`."""
        merged = LOOPBACK.merge(config) if config else LOOPBACK
        return self._session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=merged
        )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    """AWS's error code, message and HTTP status of a refused call."""
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def add_customer_recorder(config: Any, account_id: str) -> None:
    """The account's own configuration recorder in the client's region, started."""
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{account_id}:role/config-recorder",
            "recordingGroup": {"allSupported": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-delivery"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
