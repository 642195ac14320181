"""Partitions: which AWS a region belongs to, and the console page of a resource in it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from config_report.domain.partitions import config_timeline_url, partition_of


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("eu-west-1", "aws"),
        ("ap-southeast-5", "aws"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
    ],
)
def test_a_region_belongs_to_the_partition_its_name_says(region: str, partition: str) -> None:
    assert partition_of(region) == partition


@pytest.mark.parametrize(
    ("region", "console"),
    [
        ("eu-west-1", "https://console.aws.amazon.com"),
        ("cn-north-1", "https://console.amazonaws.cn"),
        ("us-gov-east-1", "https://console.amazonaws-us-gov.com"),
    ],
)
def test_a_resource_links_to_its_config_timeline_in_its_partitions_console(region: str, console: str) -> None:
    url = config_timeline_url(region, "AWS::EC2::SecurityGroup", "sg-0a1b2c3d4e5f")

    assert url == (
        f"{console}/config/home?region={region}"
        "#/resources/timeline?resourceId=sg-0a1b2c3d4e5f&resourceType=AWS%3A%3AEC2%3A%3ASecurityGroup"
    )


def test_a_partition_without_a_public_console_gets_no_link() -> None:
    assert config_timeline_url("us-iso-east-1", "AWS::S3::Bucket", "bucket") == ""


def test_an_id_that_looks_like_more_parameters_stays_one_encoded_value() -> None:
    resource_id = "arn:aws:iam::123456789012:role/a b&resourceType=AWS::Fake#x?y=1"

    url = config_timeline_url("eu-west-1", "AWS::IAM::Role", resource_id)

    fragment = urlsplit(url).fragment
    path, _, query = fragment.partition("?")
    assert path == "/resources/timeline"
    assert "#" not in fragment
    assert parse_qs(query) == {"resourceId": [resource_id], "resourceType": ["AWS::IAM::Role"]}
