"""Logs for `kubectl logs` and for people: JSON lines off a terminal, readable text on one.

Logs go to stderr; stdout carries only what a command answers (the report path, check results).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from config_report.terminal import ConsoleLoggerFactory, console

_SECRET_WORDS = ("token", "secret", "password", "authorization", "external_id")


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Defence in depth: settings are logged through Settings.public_view(), but any stray field
    # whose name smells of a secret is masked before it can reach a log line.
    for key, value in event.items():
        if value and isinstance(value, str) and any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = "***"
    return event


def wants_json(log_format: str, stream: TextIO) -> bool:
    """JSON when asked, or when `auto` and the stream is not a terminal (a pod's log)."""
    return log_format == "json" or (log_format == "auto" and not stream.isatty())


def configure(log_format: str = "auto", level: str = "INFO", stream: TextIO | None = None) -> bool:
    """Set up structlog for this process; returns True when the output is JSON lines."""
    out = stream or sys.stderr
    as_json = wants_json(log_format, out)
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        # On a terminal, lines go through the console that also draws the progress bar, never over it.
        logger_factory=structlog.PrintLoggerFactory(file=out)
        if as_json
        else ConsoleLoggerFactory(console(out)),
        cache_logger_on_first_use=False,
    )
    return as_json


def get_logger() -> Any:
    """The project's logger (structlog bound logger)."""
    return structlog.get_logger("config_report")
