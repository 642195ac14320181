"""Logs for `kubectl logs` and for people: JSON lines off a terminal, readable text on one.

Logs go to stderr; stdout carries only what a command answers (the report path, check results).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Hashable, MutableMapping
from dataclasses import dataclass
from typing import Any, TextIO

import structlog
from rich.console import Console
from rich.text import Text

_consoles: dict[int, Console] = {}


def console(stream: TextIO | None = None) -> Console:
    """The one console writing to `stream` (default stderr), shared by log lines and the bar."""
    out = stream or sys.stderr
    found = _consoles.get(id(out))
    if found is None:
        found = Console(file=out, highlight=False, soft_wrap=True)
        _consoles[id(out)] = found
    return found


class ConsoleLogger:
    """A structlog logger that prints each rendered line through the shared console."""

    def __init__(self, target: Console) -> None:
        self._console = target

    def msg(self, message: str) -> None:
        """Print one rendered log line (ANSI colours kept) above any live progress bar."""
        self._console.print(Text.from_ansi(message))

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


@dataclass(frozen=True, slots=True)
class ConsoleLoggerFactory:
    """structlog's logger factory for the terminal: every logger prints through `target`."""

    target: Console

    def __call__(self, *args: Any) -> ConsoleLogger:
        return ConsoleLogger(self.target)


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


_warned: set[tuple[str, Hashable]] = set()
_warned_lock = threading.Lock()


def warn_once(event: str, *, key: Hashable, **fields: Any) -> None:
    """Log the warning `event` only the first time it is raised for `key` in this process.

    For what would otherwise repeat in every account and region (a value this version does not know,
    an action the spoke role lacks): one line says it, with the fix. Safe from any thread.
    """
    with _warned_lock:
        if (event, key) in _warned:
            return
        _warned.add((event, key))
    get_logger().warning(event, **fields)
