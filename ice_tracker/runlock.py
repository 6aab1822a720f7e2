"""One run at a time per data dir: `<data-dir>/.ice_tracker.lock`.

Two runs on one data dir would each archive the same new files and append the same manifest and
history rows. The lock is an exclusive `flock` on the lock file, which the kernel releases when its
holder dies however it dies, so a lock left by a killed run is never mistaken for a live one; the
file itself says who holds it (pid, host, start time) for the message a second run prints, and a
file left by a dead holder is taken over and logged.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger(__name__)

LOCK_NAME = ".ice_tracker.lock"


class LockHeld(Exception):
    """Another live run holds the data dir; the message names it."""


def _holder_text(raw: str) -> str:
    try:
        info = json.loads(raw)
        return f"pid {int(info['pid'])} on {str(info['host'])[:64]}, started {str(info['started_at'])[:32]}"
    except (ValueError, KeyError, TypeError):
        return "an unknown process"


class DataDirLock:
    """`with DataDirLock(data_dir):` holds the data dir for this process; raises LockHeld when taken."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace")
                os.close(fd)
                raise LockHeld(f"another run holds {self.path} ({_holder_text(holder)})") from None
            try:
                same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:  # else the holder removed it between our open and flock: try again
                break
            os.close(fd)
        previous = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        if previous:
            log.warning("taking over a stale lock left by a run that ended without releasing it (%s)",
                        _holder_text(previous))
        started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_at": started}) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink()  # while still locked, so no other run can have opened this file
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


LOCK_HELD_EXIT = 3  # documented in the README's exit-code table


def run_locked(data_dir: Path, work: Callable[[], int]) -> int:
    """Run a command's `work` under the data dir's lock, as the daily job does: exit 3 and change
    nothing when another run holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with DataDirLock(data_dir):
            return work()
    except LockHeld as exc:
        log.error("%s; nothing changed (exit %d)", exc, LOCK_HELD_EXIT)
        return LOCK_HELD_EXIT
