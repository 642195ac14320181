"""AWS partitions: which one a region belongs to, and where its console is.

A partition (aws, aws-cn, aws-us-gov, ...) is a separate AWS: its own credentials, ARNs and console.
Its regions are known by their name prefix; every region of no other partition is in `aws`.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

COMMERCIAL = "aws"

PARTITION_PREFIXES = {
    "aws-cn": ("cn-",),
    "aws-us-gov": ("us-gov-",),
    "aws-iso": ("us-iso-",),
    "aws-iso-b": ("us-isob-",),
}
"""Region name prefixes of the partitions other than `aws`."""

# The AWS Management Console's domain in each partition that has a public one (the console endpoints
# of the AWS General Reference; Getting Started with AWS in China; the AWS GovCloud (US) User Guide).
# The isolated partitions' consoles are reachable only from their own networks: no link is made there.
_CONSOLE_DOMAINS = {
    COMMERCIAL: "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def partition_of(region: str) -> str:
    """The partition `region` belongs to: the one whose prefix it has, else `aws`."""
    for partition, prefixes in PARTITION_PREFIXES.items():
        if region.startswith(prefixes):
            return partition
    return COMMERCIAL


def config_timeline_url(region: str, resource_type: str, resource_id: str) -> str:
    """The resource's page in the AWS Config console (its configuration and compliance timeline).

    The timeline exists for every resource type Config records, so one URL serves every finding.
    '' in a partition without a public console. Every value from AWS is percent-encoded (`::` in a
    resource type, `/` and `?` in an ID), so none can end the query or start another parameter.
    """
    console = _timeline_base(region)
    if not console:
        return ""
    return f"{console}resourceId={quote(resource_id, safe='')}&resourceType={_encoded(resource_type)}"


@cache
def _timeline_base(region: str) -> str:
    """The timeline URL of `region`'s Config console up to its parameters ('' without a public console).
    A run has a few regions and resource types, and a finding each of thousands: both are cached."""
    domain = _CONSOLE_DOMAINS.get(partition_of(region))
    if domain is None:
        return ""
    return f"https://{domain}/config/home?region={_encoded(region)}#/resources/timeline?"


@cache
def _encoded(value: str) -> str:
    return quote(value, safe="")
