"""Logs for `kubectl logs` and for people: JSON lines off a terminal, readable text and a bar on one.

Logs go to stderr; stdout carries only what a command answers (the report path, check results).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import structlog

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
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    return as_json


def get_logger() -> Any:
    """The project's logger (structlog bound logger)."""
    return structlog.get_logger("config_report")


@dataclass
class Progress:
    """Account-regions done out of total, with rate and ETA: a bar on a terminal, periodic events otherwise.

    The total may grow or shrink while accounts' regions are learned (each `update` says it).
    """

    total: int
    as_json: bool
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    every_seconds: float = 15.0
    started: float = field(default_factory=time.monotonic)
    _last_event: float = 0.0

    def update(self, done: int, total: int | None = None) -> None:
        """Report that `done` account-regions out of `total` (when given, else the last) are finished."""
        if total is not None:
            self.total = total
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else None
        if self.as_json:
            now = time.monotonic()
            if done == self.total or now - self._last_event >= self.every_seconds:
                self._last_event = now
                get_logger().info(
                    "scan.progress",
                    units_done=done,
                    units_total=self.total,
                    rate_per_s=round(rate, 2),
                    eta_s=round(eta, 1) if eta is not None else None,
                )
            return
        width = 30
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "." * (width - filled)
        eta_text = f"ETA {eta:5.0f}s" if eta is not None else ""
        self.stream.write(f"\r[{bar}] {done}/{self.total} account-regions  {rate:5.1f}/s  {eta_text}")
        if done == self.total:
            self.stream.write("\n")
        self.stream.flush()
