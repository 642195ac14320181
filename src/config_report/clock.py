"""The run's clock: the time a run says it started, which dates its files, its weeks and finding ages.

Always the real time in production. `CONFIG_REPORT_TESTING_NOW` (an ISO-8601 time) sets it for tests
and the demo, which replay several weekly runs in minutes; it is honoured only when `AWS_ENDPOINT_URL`
points at a loopback address (the simulated organization), and refused (exit 2, before any AWS call)
anywhere else, so it can never misdate a real report. It is deliberately not a flag or a chart value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlparse

from config_report.errors import SettingsError

TESTING_NOW = "CONFIG_REPORT_TESTING_NOW"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def run_started_at(environ: Mapping[str, str] = os.environ) -> datetime:
    """Now (UTC), or the testing time when one is set against the simulated organization."""
    value = environ.get(TESTING_NOW)
    if not value:
        return datetime.now(UTC)
    endpoint = environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(endpoint).hostname not in _LOOPBACK:
        raise SettingsError(
            f"{TESTING_NOW} sets the clock of runs against the simulated organization only, and "
            f"AWS_ENDPOINT_URL ({endpoint or 'unset'}) is not a loopback address: unset {TESTING_NOW}"
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SettingsError(
            f"{TESTING_NOW}: {value!r} is not an ISO-8601 time; use e.g. 2026-11-23T09:00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
