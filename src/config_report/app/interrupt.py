"""SIGTERM (a Job deadline, a node drain, an eviction): stop scheduling, publish what was read.

Kubernetes sends SIGTERM, waits the pod's `terminationGracePeriodSeconds`, then sends SIGKILL. The
first SIGTERM sets an event that the scan coordinator checks before starting each unit: units in flight
finish, the rest are reported `INTERRUPTED`, and the report is published (exit 3). The handler then
steps aside, so a second SIGTERM ends the process at once: that run is lost, nothing else (earlier
runs' files are never overwritten, and a run without its manifest is incomplete by contract).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from config_report.logs import get_logger


@contextmanager
def stop_on_sigterm() -> Iterator[threading.Event]:
    """Within the block, the first SIGTERM sets the yielded event instead of ending the process.

    Signals can only be handled on the main thread: elsewhere (a test calling the pipeline from a
    worker thread) the event is yielded but never set by a signal.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def first_sigterm(signum: int, frame: FrameType | None) -> None:
        # Only set the event here: logging from a signal handler could re-enter a half-written line.
        stop.set()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    previous = signal.signal(signal.SIGTERM, first_sigterm)
    leaving = threading.Event()
    herald = threading.Thread(target=_announce, args=(stop, leaving), name="sigterm-herald", daemon=True)
    herald.start()
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        leaving.set()
        stop.set()  # releases the herald, which says nothing once the block is left
        herald.join()


def _announce(stop: threading.Event, leaving: threading.Event) -> None:
    # Logged from this thread, not from the handler: the log line says at once that SIGTERM was taken
    # (and that a second one now ends the process), while the scan winds down.
    stop.wait()
    if not leaving.is_set():
        get_logger().warning(
            "run.stopping",
            reason="SIGTERM: no new account × region is started; the report follows. "
            "A second SIGTERM ends the process without one",
        )
