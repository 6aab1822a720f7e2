"""Ctrl-C, SIGTERM and the whole-run deadline end a run the same way: as an exception the daily
job catches, so it can record what it did (`data/last_run.json`), release the data-dir lock and exit
with a code that says why, instead of dying with a traceback and no record.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped from outside; `reason` is our own word for why (SIGINT, SIGTERM, deadline)."""

    def __init__(self, reason: str, exit_code: int):
        super().__init__(reason)
        self.reason = reason
        self.exit_code = exit_code


class DeadlineReached(RunInterrupted):
    """The whole-run deadline passed: the run ends cleanly with what it has."""

    def __init__(self, minutes: float):
        super().__init__("deadline", 1)
        self.minutes = minutes


@contextmanager
def run_stoppers(deadline_minutes: float | None = None) -> Iterator[None]:
    """Turn SIGINT/SIGTERM (and SIGALRM at the deadline) into RunInterrupted while the block runs.

    Only the first stop raises; later signals are logged, so the clean-up itself is not cut short.
    Outside the main thread (signals cannot be caught there) the block runs unguarded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopped: list[str] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stopped:
            log.warning("%s received while stopping; finishing the clean-up first", name)
            return
        if signum == signal.SIGALRM:
            stopped.append("deadline")
            raise DeadlineReached(deadline_minutes or 0.0)
        stopped.append(name)
        raise RunInterrupted(name, 128 + signum)

    wanted = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGALRM] if deadline_minutes else [])
    previous = {signum: signal.signal(signum, stop) for signum in wanted}
    if deadline_minutes:
        signal.setitimer(signal.ITIMER_REAL, deadline_minutes * 60)
    try:
        yield
    finally:
        if deadline_minutes:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
