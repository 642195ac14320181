"""ListDiscoveredResources on the simulator, over HTTP with boto3, as the API reference describes it:
current resources, and deleted ones with their deletion time only when asked for.

Each test records its resources in an account of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config_report.simulated import _moto
from config_report.simulated.inventory import ConfigurationItem
from simulated.aws_callers import add_customer_recorder, error_of

REGION = "eu-west-1"

DELETED_AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
BUCKET = "AWS::S3::Bucket"


@pytest.fixture
def recorded(config: Any, account_id: str) -> Any:
    """A recording account with two current buckets and one deleted, and a volume."""
    add_customer_recorder(config, account_id)
    inventory = _moto.inventory(account_id, REGION)
    for name in ("logs", "assets", "old-exports"):
        inventory.put(ConfigurationItem(BUCKET, name))
    inventory.put(ConfigurationItem("AWS::EC2::Volume", "vol-0abc"))
    inventory.delete(BUCKET, "old-exports", at=DELETED_AT)
    return config


def test_deleted_resources_are_listed_with_their_deletion_time_only_when_asked_for(recorded: Any) -> None:
    current = recorded.list_discovered_resources(resourceType=BUCKET)["resourceIdentifiers"]
    everything = recorded.list_discovered_resources(resourceType=BUCKET, includeDeletedResources=True)[
        "resourceIdentifiers"
    ]

    assert [r["resourceId"] for r in current] == ["assets", "logs"]
    assert all("resourceDeletionTime" not in r for r in current)
    assert [(r["resourceId"], r.get("resourceDeletionTime")) for r in everything] == [
        ("assets", None),
        ("logs", None),
        ("old-exports", DELETED_AT),
    ]


def test_resource_ids_narrow_the_listing_to_those_resources_of_the_type(recorded: Any) -> None:
    listed = recorded.list_discovered_resources(
        resourceType=BUCKET,
        resourceIds=["old-exports", "vol-0abc", "never-seen"],
        includeDeletedResources=True,
    )["resourceIdentifiers"]

    assert [(r["resourceType"], r["resourceId"]) for r in listed] == [(BUCKET, "old-exports")]


def test_listing_pages_by_limit(recorded: Any) -> None:
    first = recorded.list_discovered_resources(resourceType=BUCKET, includeDeletedResources=True, limit=2)
    rest = recorded.list_discovered_resources(
        resourceType=BUCKET, includeDeletedResources=True, limit=2, nextToken=first["nextToken"]
    )

    assert len(first["resourceIdentifiers"]) == 2
    assert [r["resourceId"] for r in rest["resourceIdentifiers"]] == ["old-exports"]
    assert "nextToken" not in rest


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param(
            {"limit": 101},
            ("InvalidLimitException", "Value '101' at 'limit' failed to satisfy constraint: Member must have "
             "value less than or equal to 100"),
            id="limit-above-100",
        ),
        pytest.param(
            {"resourceIds": [f"b-{n}" for n in range(21)]},
            ("ValidationException", "The specified list had more than 20 resource ID's. "
             "It must have '20' or less items"),
            id="more-than-20-ids",
        ),
        pytest.param(
            {"resourceIds": ["logs"], "resourceName": "logs"},
            ("ValidationException", "Both Resource ID and Resource Name cannot be specified in the request"),
            id="ids-and-name",
        ),
    ],
)  # fmt: skip
def test_listing_refuses_what_the_api_reference_forbids(
    recorded: Any, arguments: dict[str, Any], expected: tuple[str, str]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        recorded.list_discovered_resources(resourceType=BUCKET, **arguments)

    assert error_of(excinfo) == (*expected, 400)


def test_a_region_without_a_recorder_has_no_recorder_to_describe_resources(config: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        config.list_discovered_resources(resourceType=BUCKET)

    assert error_of(excinfo)[0] == "NoAvailableConfigurationRecorderException"
