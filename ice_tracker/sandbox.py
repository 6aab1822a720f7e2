"""Run a parse function on an untrusted file in a worker process with memory, CPU and wall limits.

A workbook can make the cell reader allocate hundreds of GB and abort the whole interpreter
(exit 134); a PDF can loop forever. Run in the daily job's own process, either costs the whole
run. Here the function runs in a child process that sets its own `RLIMIT_AS` (address space: the
interpreter's size at start plus the profile's budget) and `RLIMIT_CPU` (per call), while the
parent waits at most the wall deadline. An abort, a kill, a `MemoryError` or a timeout becomes a
`SandboxFailure` naming the reason, for that file only; the next call starts a fresh worker.

One worker serves many calls (one per profile, started on first use, closed at exit), so a
history rebuild of 64 workbooks pays for one interpreter start, not 64. The worker is a resource
sandbox, not a privilege one: it runs our own code with our permissions.

Profiles and their limits are in ice_tracker/limits.py: `parse` (roster workbooks, PDF
structure, DDP file checks) and `ddp_parse` (the detention derivations on a release).
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ice_tracker.limits import limit

log = logging.getLogger(__name__)

HEADER = struct.Struct("!Q")
LIMIT_PREFIX = "ICE_TRACKER_LIMIT_"
PROFILES = ("parse", "ddp_parse")


class SandboxFailure(RuntimeError):
    """The worker died, ran out of memory or time on this input; the message says which."""


def _describe_exit(code: int, memory: float, cpu: float) -> str:
    if code in (-signal.SIGABRT, 134):
        return f"parser aborted (exit 134, SIGABRT): an allocation over the {memory / 1024**3:.1f} GiB memory limit"
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return f"parser used its {cpu:,.0f} s of CPU time"
    if code < 0:
        return f"parser killed by signal {signal.Signals(-code).name}"
    return f"parser exited with status {code}"


def _worker_env() -> dict[str, str]:
    """The environment, with this package importable wherever the caller's working directory is."""
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["RUST_BACKTRACE"] = "0"  # an allocation failure is reported here in one line, not 40
    return env


class Sandbox:
    """One worker process for one limit profile; `call(func, *args)` runs `func(*args)` inside it."""

    def __init__(self, profile: str):
        if profile not in PROFILES:
            raise ValueError(f"unknown sandbox profile {profile!r}")
        self.profile = profile
        self.memory = limit(f"{profile}_memory")
        self.cpu = limit(f"{profile}_cpu_seconds")
        self.wall = limit(f"{profile}_wall_seconds")
        self.process: subprocess.Popen[bytes] | None = None
        self.calls = 0

    def start(self) -> None:
        """Start the worker now (it imports in the background while the caller does other work)."""
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ice_tracker.sandbox", str(int(self.memory)), str(int(self.cpu))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, env=_worker_env())

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()

    def _kill(self) -> int:
        process, self.process = self.process, None
        assert process is not None
        if process.poll() is None:
            process.kill()
        return process.wait()

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """`func(*args)` in the worker. Exceptions the function raises are re-raised here as they
        were; a worker that dies or overruns raises SandboxFailure and is replaced next call."""
        self.start()
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        request = pickle.dumps((func.__module__, func.__qualname__, args, _limit_overrides()),
                               protocol=pickle.HIGHEST_PROTOCOL)
        self.calls += 1
        try:
            process.stdin.write(HEADER.pack(len(request)) + request)
            process.stdin.flush()
            reply = self._read_reply(process, time.monotonic() + self.wall)
        except BrokenPipeError:
            reply = None
        if reply is None:
            code = self._kill()
            raise SandboxFailure(_describe_exit(code, self.memory, self.cpu))
        status, value = pickle.loads(reply)
        if status == "ok":
            return value
        if isinstance(value, MemoryError):
            self._kill()  # a worker that hit its memory limit may be in a bad state
            raise SandboxFailure(f"parser ran out of memory (limit {self.memory / 1024**3:.1f} GiB)")
        raise value

    def _read_reply(self, process: subprocess.Popen[bytes], deadline: float) -> bytes | None:
        """The worker's framed reply, or None when it died; SandboxFailure past the deadline."""
        assert process.stdout is not None
        fd = process.stdout.fileno()
        buffer = bytearray()
        needed = HEADER.size
        have_header = False
        while len(buffer) < needed:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                self._kill()
                raise SandboxFailure(f"parser passed its wall deadline of {self.wall:,.0f} s")
            chunk = os.read(fd, max(needed - len(buffer), 1 << 16))
            if not chunk:
                return None
            buffer += chunk
            if not have_header and len(buffer) >= HEADER.size:
                have_header = True
                needed = HEADER.size + HEADER.unpack_from(buffer)[0]
        return bytes(buffer[HEADER.size:needed])


_SHARED: dict[str, Sandbox] = {}


def _limit_overrides() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith(LIMIT_PREFIX)}


def shared(profile: str) -> Sandbox:
    """The process-wide worker of a profile (closed when the interpreter exits; replaced when the
    profile's limits were changed since it started)."""
    box = _SHARED.get(profile)
    fresh = Sandbox(profile)
    if box is None or (box.memory, box.cpu, box.wall) != (fresh.memory, fresh.cpu, fresh.wall):
        if box is not None:
            box.close()
        box = _SHARED[profile] = fresh
    return box


def run_limited(profile: str, func: Callable[..., Any], *args: Any) -> Any:
    """`func(*args)` in the shared worker of `profile` (see Sandbox.call)."""
    return shared(profile).call(func, *args)


@atexit.register
def close_all() -> None:
    for box in list(_SHARED.values()):
        box.close()
    _SHARED.clear()


# ----- the worker side ---------------------------------------------------------------------------
def _address_space() -> int:
    """This process's current virtual size in bytes (Linux), else 0."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _set_limits(memory: int) -> None:
    import resource

    ceiling = _address_space() + memory
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a core file


def _cpu_budget(seconds: int) -> None:
    """Allow `seconds` more CPU from now (the soft limit sends SIGXCPU, which ends the worker)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    now = int(used.ru_utime + used.ru_stime) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (now + seconds, resource.RLIM_INFINITY))


def _read_exact(stream: Any, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _serve(memory: int, cpu: int) -> None:
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the replies
    replies = os.fdopen(reply_fd, "wb")
    requests = sys.stdin.buffer
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s sandbox %(name)s: %(message)s")
    _set_limits(memory)
    while (header := _read_exact(requests, HEADER.size)) is not None:
        body = _read_exact(requests, HEADER.unpack(header)[0])
        if body is None:
            break
        try:
            module, qualname, args, overrides = pickle.loads(body)
            for name in [n for n in os.environ if n.startswith(LIMIT_PREFIX)]:
                del os.environ[name]
            os.environ.update(overrides)  # the caller's limits now, not when the worker started
            func: Any = importlib.import_module(module)
            for part in qualname.split("."):
                func = getattr(func, part)
            _cpu_budget(cpu)
            outcome: tuple[str, Any] = ("ok", func(*args))
        except BaseException as exc:  # everything goes back to the caller, who decides
            outcome = ("error", exc)
        try:
            reply = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable exception still has to be told
            reply = pickle.dumps(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]} ({exc})")))
        replies.write(HEADER.pack(len(reply)) + reply)
        replies.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
