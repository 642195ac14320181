"""The one retry policy of the project's own retries: how often, for how long, and how long to wait.

AWS calls are retried by botocore (`aws.session.client_config`). What botocore cannot know is retried
here: an S3 write refused while a bucket or key policy propagates, Jira answering 429 or 5xx, a ticket
create that failed with an unknown outcome, a history write that lost a race. Each says which errors
are worth another try; the waits between tries are the same everywhere: 1, 2, 4 … seconds, at most
`MAX_BACKOFF_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MAX_BACKOFF_SECONDS = 30.0


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (from 1): 1, 2, 4 … at most 30."""
    return min(2.0 ** (attempt - 1), MAX_BACKOFF_SECONDS)


class RetryLater(Exception):
    """Raised by an operation whose answer asked to be tried again after `after` seconds (a
    `Retry-After` header); None: after the usual backoff."""

    def __init__(self, after: float | None = None) -> None:
        super().__init__(f"try again after {after} s" if after is not None else "try again")
        self.after = after


@dataclass(frozen=True, slots=True)
class Retry:
    """Try an operation at most `attempts` times (None: no limit) and stop before a wait would end more
    than `seconds` after the first try (None: no limit); `wait=False` tries again at once.

    The default tries once. `sleep` and `clock` are what waits and what tells the time (tests pass fakes).
    """

    attempts: int | None = 1
    seconds: float | None = None
    wait: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def call(
        self,
        operation: Callable[[int], T],
        *,
        retryable: Callable[[Exception], bool],
        on_retry: Callable[[int, float, Exception], None] | None = None,
    ) -> T:
        """`operation(attempt)` until it returns; an error that is not `retryable`, or that comes when
        the limits are spent, is raised as it is. `on_retry(attempt, delay, error)` runs before a wait.
        """
        deadline = None if self.seconds is None else self.clock() + self.seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation(attempt)
            except Exception as exc:
                delay = _delay(exc, attempt) if self.wait else 0.0
                spent = (self.attempts is not None and attempt >= self.attempts) or (
                    deadline is not None and self.clock() + delay > deadline
                )
                if spent or not retryable(exc):
                    raise
                if on_retry is not None:
                    on_retry(attempt, delay, exc)
                if delay:
                    self.sleep(delay)


def _delay(exc: Exception, attempt: int) -> float:
    if isinstance(exc, RetryLater) and exc.after is not None:
        return exc.after
    return backoff(attempt)
