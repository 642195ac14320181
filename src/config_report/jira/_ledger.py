"""Where the key of each week's ticket is kept, so a re-run never depends on Jira's search alone.

Jira Cloud's search is eventually consistent: a ticket created a minute ago may not be found yet.
The key is therefore recorded (in the report bucket: `store.tickets`) the moment the ticket exists,
and read first.
"""

from __future__ import annotations

from typing import Protocol


class TicketLedger(Protocol):
    """Remembers which ticket belongs to which ISO week (for example `2026-W48`)."""

    def known_key(self, week: str) -> str | None:
        """The key stored for `week`, or None when no ticket was created for it yet."""
        ...

    def created_by(self, week: str) -> str | None:
        """The run ID that created `week`'s ticket, or None when not recorded."""
        ...

    def remember(self, week: str, key: str, *, run_id: str) -> None:
        """Store `key` as the ticket of `week`, created by run `run_id`."""
        ...
