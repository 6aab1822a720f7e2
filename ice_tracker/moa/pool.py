"""Read agreement PDFs in worker processes: one core each, a memory cap, a deadline per PDF.

A PDF is a file strangers control. Each is read in a worker process whose address space is capped
(`RLIMIT_AS`, limit `moa_pdf_memory_mb`) and which is killed when one PDF takes longer than
`moa_pdf_seconds`; a crash, a memory blow-up or a hang then costs that PDF only (it comes back as
a `failed_limit` row, recorded for a person and not read again until the extractor changes) and
the run goes on with a fresh worker. Workers are long-lived so the OCR and handwriting models are
loaded once per worker, not once per PDF. Results are handed to the caller as they finish, so the
caller can save each one at once (a kill loses only the PDFs in progress).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from ice_tracker.limits import limit

log = logging.getLogger(__name__)

# At the budget no new PDF is started; those in progress get this long to finish (and be saved),
# so a run stops within ~30 s of its budget even when a PDF is slow.
GRACE_SECONDS = 20.0
STARTUP_SECONDS = 300.0  # loading Tesseract's and the handwriting reader's settings on a loaded runner
READY = "ready"


class WorkerFailed(RuntimeError):
    """A worker process could not start: nothing is recorded against any PDF."""


@dataclass(frozen=True)
class Job:
    """One PDF to read: `phase` is "metadata" (OCR only what the fields need) or "full"."""

    sha256: str
    item: Any  # table.ArchivedPdf (kept Any: this module does not import the table)
    roster_ice: str
    phase: str


@dataclass(frozen=True)
class Settings:
    """What every worker needs to read PDFs the same way (picklable)."""

    data_dir: Path
    out_dir: Path
    tesseract: str | None
    dpi: int | None
    handwriting: bool
    limits: dict[str, float]  # read by the caller: workers fork from a server started earlier
    ocr_cache: Path | None = None  # where OCR words are kept between passes and runs (ocr_cache)
    ocr_threads: int = 0  # Tesseract processes per worker (0: one per core); see `ocr_threads_per_worker`


def ocr_threads_per_worker(workers: int) -> int:
    """Each worker's share of the cores for Tesseract, so that N workers run about N cores' worth
    of Tesseract processes (each single-threaded, OMP_THREAD_LIMIT=1) instead of N x cores."""
    return max(1, available_cores() // max(1, workers))


def moa_limits() -> dict[str, float]:
    """The limits a worker applies, read now (with their environment overrides)."""
    return {name: limit(name) for name in ("moa_page_points", "moa_pdf_memory_mb", "moa_pdf_pages")}


Result = tuple[dict[str, Any], dict[str, float]]  # (metadata row, timing stats)


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cap_memory(megabytes: float) -> None:
    """Limit this process's address space (the worker's, not the caller's)."""
    cap = int(megabytes * 1024 * 1024)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def worker_main(conn: Connection, settings: Settings) -> None:
    """Serve jobs from `conn` until it sends None (runs in the worker process)."""
    from ice_tracker.logging_setup import configure_logging
    from ice_tracker.moa.table import read_one, worker_tools

    configure_logging(verbose=False)
    cap_memory(settings.limits["moa_pdf_memory_mb"])
    tools = worker_tools(settings)
    conn.send(READY)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            result = read_one(settings, job, tools)
        except MemoryError:
            megabytes = settings.limits["moa_pdf_memory_mb"]
            result = limit_row(job, f"needed more than {megabytes:g} MB (limit moa_pdf_memory_mb)"), {}
        conn.send(result)


def limit_row(job: Job, reason: str) -> dict[str, Any]:
    """The row of a PDF that broke a limit: kept in the archive, recorded, never read again as is."""
    from ice_tracker.moa.table import EXTRACTOR_VERSION

    return {"sha256": job.sha256, "status": "failed_limit", "error": reason, "ocr": "", "extractor": EXTRACTOR_VERSION}


def worker_context() -> Any:
    """Workers forked from a clean server process (no inherited threads, sockets or model
    sessions of the caller) that has imported the readers once, so a worker starts in ms."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ice_tracker.moa.table"])
    return context


class Worker:
    def __init__(self, context: Any, settings: Settings) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child, settings), daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.started = 0.0
        self.ready = False

    def give(self, job: Job) -> None:
        if not self.ready:  # a worker that cannot start is a broken install, not a bad PDF
            try:
                if not self.conn.poll(STARTUP_SECONDS) or self.conn.recv() != READY:
                    raise WorkerFailed(f"an MOA worker sent nothing within {STARTUP_SECONDS:g} s of starting")
            except (EOFError, OSError) as exc:
                raise WorkerFailed(f"an MOA worker died while starting (exit code {self.process.exitcode}); "
                                   "see the log above") from exc
            self.ready = True
        self.job, self.started = job, time.monotonic()
        self.conn.send(job)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_jobs(
    jobs: Iterable[Job],
    settings: Settings,
    on_result: Callable[[Job, Result], None],
    workers: int,
    stop_at: float | None = None,
) -> list[Job]:
    """Read `jobs` in order over `workers` processes; returns the jobs left when `stop_at`
    (a `time.monotonic()` instant) came first. PDFs still in progress `GRACE_SECONDS` after
    `stop_at` are abandoned (read again next run)."""
    context = worker_context()
    queue = deque(jobs)
    deadline = limit("moa_pdf_seconds")
    pool = [Worker(context, settings) for _ in range(max(1, min(workers, len(queue))))] if queue else []
    try:
        while queue or any(w.job for w in pool):
            now = time.monotonic()
            draining = stop_at is not None and now >= stop_at
            if draining and (now >= stop_at + GRACE_SECONDS or not any(w.job for w in pool)):  # type: ignore[operator]
                left = [w.job for w in pool if w.job] + list(queue)
                for worker in pool:
                    if worker.job:
                        worker.stop(kill=True)
                        worker.job = None
                return left  # type: ignore[return-value]
            for worker in pool:
                if worker.job is None and queue and not draining:
                    worker.give(queue.popleft())
            busy = [w for w in pool if w.job]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for index, worker in enumerate(pool):
                job = worker.job
                if job is None:
                    continue
                result: Result | None = None
                gone = False
                if worker.conn in ready:
                    try:
                        result = worker.conn.recv()
                    except (EOFError, OSError):  # the worker died: its end of the pipe closed
                        gone = True
                broken = False
                if result is None and (gone or worker.process.sentinel in ready and not worker.conn.poll()):
                    worker.process.join(timeout=1)
                    reason = f"the reader died (exit code {worker.process.exitcode}): memory or a crash on this PDF"
                    result, broken = (limit_row(job, reason), {}), True
                elif result is None and time.monotonic() - worker.started > deadline:
                    result, broken = (limit_row(job, f"took more than {deadline:g} s (limit moa_pdf_seconds)"), {}), True
                if result is None:
                    continue
                if broken:
                    log.warning("MOA %s: %s", job.item.paths[0], result[0]["error"])
                    worker.stop(kill=True)
                    pool[index] = worker = Worker(context, settings)
                worker.job = None
                on_result(job, result)
        return []
    finally:
        for worker in pool:
            worker.stop(kill=worker.job is not None)
