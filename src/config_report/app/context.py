"""The run context: what every stage of a run shares, built once from the settings.

The typed parts of the settings each layer needs (the scan's, the bucket's, Jira's, the outcome
policy), the hub, the report bucket and how this run publishes to it (a dry run's publisher writes
nothing), the accepted exceptions, the stop event SIGTERM sets, and the run's identity and clock.
`run`, the shards and their merge build it with `open_run`; `check` uses `report_bucket` alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from config_report.aws.session import Hub, connect_hub
from config_report.clock import run_started_at
from config_report.domain.acceptance import AcceptedException, read_exceptions
from config_report.errors import SettingsError
from config_report.logs import get_logger
from config_report.settings import AggregatorConfig, JiraConfig, OutcomePolicy, ScanConfig, Settings
from config_report.store.bucket import ReportBucket, S3Bucket
from config_report.store.publish import DryRunPublisher, Publisher, new_run_id
from config_report.store.spool import Spool


@dataclass(frozen=True, slots=True)
class RunContext:
    """Everything a run's stages share; nothing in it changes while the run goes on."""

    settings: Settings  # the raw settings, for what only the app reads (log format, shards, output dir)
    scan: ScanConfig
    jira: JiraConfig | None  # None: no ticket
    outcome: OutcomePolicy
    hub: Hub
    bucket: ReportBucket
    publisher: Publisher
    exceptions: tuple[AcceptedException, ...]
    as_json: bool  # JSON log lines (a pod), or a terminal with a progress bar
    run_id: str
    started_at: datetime
    stop: threading.Event = field(default_factory=threading.Event)
    aggregator: AggregatorConfig | None = None  # the aggregator named, read with source aggregator
    # Where the run's rules and findings are kept once read (a temporary file), so memory holds one
    # account's at a time.
    spool: Spool = field(default_factory=Spool)

    @property
    def dry_run(self) -> bool:
        """True when this run writes nothing (`run --dry-run`)."""
        return not self.publisher.writes


def open_run(
    settings: Settings,
    *,
    as_json: bool,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    started_at: datetime | None = None,
) -> RunContext:
    """Check what can be checked before any AWS call, connect the hub, and build the run's context.

    `started_at` is the run's clock when given (the demo replays last week's run), else `clock`'s.
    Raises `SettingsError` (nothing scanned) for a missing bucket, an unreadable ExternalId file or a bad
    exceptions file.
    """
    if not settings.s3_bucket and not dry_run:
        raise SettingsError(
            "CONFIG_REPORT_S3_BUCKET (--s3-bucket) is not set; `run` publishes to S3: set the report bucket"
        )
    started = started_at or run_started_at()
    scan = settings.scan_config()  # reads the ExternalId file, if any: before any AWS call
    # A local exceptions file is checked before any AWS call; one in S3 as soon as the hub can read it.
    location = settings.exceptions_file
    in_s3 = (location or "").startswith("s3://")
    exceptions = () if in_s3 else _exceptions(location, fetch=_no_s3)
    hub = connect_hub(settings.client_config())
    bucket = report_bucket(settings, hub)
    if in_s3:
        exceptions = _exceptions(location, fetch=bucket.fetch_uri)
    return RunContext(
        settings=settings,
        scan=scan,
        jira=settings.jira_config(),
        outcome=settings.outcome_policy(),
        hub=hub,
        bucket=bucket,
        publisher=DryRunPublisher(bucket) if dry_run else Publisher(bucket),
        exceptions=exceptions,
        as_json=as_json,
        run_id=new_run_id(started),
        started_at=started,
        stop=stop or threading.Event(),
        aggregator=settings.aggregator_config(),
    )


def report_bucket(settings: Settings, hub: Hub) -> ReportBucket:
    """The report bucket, read and written as the hub."""
    return S3Bucket(settings.bucket_config(), session=hub.session, client_config=hub.config)


def _exceptions(location: str | None, *, fetch: Callable[[str], bytes]) -> tuple[AcceptedException, ...]:
    if not location:
        return ()
    exceptions = read_exceptions(location, fetch=fetch)
    get_logger().info("exceptions.loaded", source=location, entries=len(exceptions))
    return exceptions


def _no_s3(location: str) -> bytes:
    raise AssertionError(f"{location} is read once the hub is connected")
