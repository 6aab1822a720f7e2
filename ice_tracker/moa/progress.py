"""Progress of a long MOA run: a bar on a terminal, otherwise a log line now and then.

A first run reads ~2,400 PDFs over more than one day's budget; whoever watches the Actions log
needs to see how many are left and roughly when it will be done.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

EVERY_PDFS = 50
EVERY_SECONDS = 60.0


def eta(done: int, total: int, elapsed: float) -> str:
    """'12 min' left at the pace so far ('?' before anything finished)."""
    if done <= 0 or elapsed <= 0:
        return "?"
    seconds = (total - done) * elapsed / done
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class Progress:
    """`with Progress(total) as bar: bar.step()` after each PDF."""

    def __init__(self, total: int, what: str = "moa", stream: Any = None) -> None:
        self.total, self.what, self.done = total, what, 0
        self.started = self.last_log = time.monotonic()
        stream = stream or sys.stderr
        self.bar = None
        if total and getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=what, unit="pdf", file=stream)

    def step(self, note: str = "") -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        now = time.monotonic()
        if self.done == self.total or self.done % EVERY_PDFS == 0 or now - self.last_log >= EVERY_SECONDS:
            self.last_log = now
            left = self.total - self.done
            log.info("%s: %d of %d PDFs done, %d left, about %s to go%s", self.what, self.done, self.total, left,
                     eta(self.done, self.total, now - self.started), f" ({note})" if note else "")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.close()
