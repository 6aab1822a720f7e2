"""The daily job behind `python scraper.py`: run each step, summarise, choose the exit code.

Exit codes (the README's table):
- 0: the run completed; new files or not, and files that failed to download are recorded in
  failures.csv and retried next run;
- 1: some steps or derivations failed, or the run deadline cut it short; the others' results were
  written and `data/last_run.json` names what failed;
- 2: nothing could be achieved (no page, no verifiable roster workbook, network down) or the input
  was unusable (a bad --data-dir or ICE_TRACKER_* value): one line on stderr, and nothing written;
- 3: another run holds the data dir's lock; nothing changed;
- 130 / 143: stopped by Ctrl-C (SIGINT) / SIGTERM; `data/last_run.json` says so.
"""

from __future__ import annotations

import argparse
import logging
import re
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ice_tracker import __version__
from ice_tracker.commands.moa import add_budget_arguments
from ice_tracker.archive import Archive, remove_empty_temp_dir, utc_iso
from ice_tracker.config import SettingError, default_cache_dir, default_data_dir, env_number, overrides_for
from ice_tracker.errors import UsageError, run_guarded
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import write_json
from ice_tracker.http import DEFAULT_MAX_BYTES, HttpClient
from ice_tracker.interrupts import DeadlineReached, RunInterrupted, run_stoppers
from ice_tracker.logging_setup import configure_logging, log_failure, safe_text
from ice_tracker.memory_pages import tune_for_large_tables
from ice_tracker.runlock import DataDirLock, LockHeld
from ice_tracker.sources import ddp
from ice_tracker.sources.ice287g import PAGE_URL
from ice_tracker.sources.ice287g.scrape import ScrapeFailed, scrape_287g
from ice_tracker.staging import commit_staging, discard_staging, finish_interrupted_swap, open_staging
from ice_tracker.states import use_overrides_dir

log = logging.getLogger(__name__)

ALWAYS_ALLOWED_HOSTS = ("ice.gov",)

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING, EXIT_LOCKED = 0, 1, 2, 3
DEFAULT_DEADLINE_MINUTES = 80.0  # below the workflow's 90-minute limit, leaving time to commit
FETCH_STEPS = ("287g", "releases")


class StepFailed(Exception):
    """A step achieved nothing it should have; the message says why."""


DESCRIPTION = "The daily job: archive new 287(g) workbooks and agreements, then refresh derived data."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python scraper.py", description=DESCRIPTION,
                                     epilog="Exit codes: 0 completed; 1 some steps failed or the deadline cut the "
                                            "run short; 2 nothing achieved or unusable input (nothing written); "
                                            "3 another run holds the data dir; 130/143 Ctrl-C/SIGTERM.")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The daily job's options (shared by scraper.py and `python -m ice_tracker scrape`)."""
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data root holding sheets/, agreements/, manifest.csv, data/ (default: repository root)")
    parser.add_argument("--page-url", default=PAGE_URL, help=f"the ICE 287(g) page (default: {PAGE_URL})")
    parser.add_argument("--only", action="append", choices=sorted(STEPS), metavar="STEP",
                        help=f"run only this step; repeatable (steps: {', '.join(STEPS)})")
    parser.add_argument("--no-pdfs", action="store_true", help="archive workbooks only; skip agreement PDFs")
    parser.add_argument("--ddp-page", action="append", default=None, metavar="URL",
                        help="a Deportation Data Project page to watch for releases; repeatable "
                             f"(default: {', '.join(ddp.DEFAULT_PAGES)})")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="big downloads, parse caches and CSLLEA, never committed "
                             "(default: $ICE_TRACKER_CACHE or ~/.cache/ice_tracker)")
    parser.add_argument("--csllea", default=None, metavar="PATH_OR_URL",
                        help="CSLLEA 2018 file for the agency matching (default: reference/csllea/, else the "
                             "published copy, downloaded once into the cache dir and verified)")
    parser.add_argument("--deadline", type=float, default=None, metavar="MINUTES",
                        help="end the run cleanly with what it has after this many minutes "
                             f"(default: $ICE_TRACKER_RUN_DEADLINE or {DEFAULT_DEADLINE_MINUTES:g})")
    add_budget_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log debug detail (and the traceback of any error)")


@dataclass(frozen=True)
class Settings:
    """Every ICE_TRACKER_* value the daily job reads, checked once before anything runs."""

    connect_timeout: float
    read_timeout: float
    retries: int
    backoff: float
    max_bytes: int
    ddp_repo_limit: int
    ddp_max_bytes: int
    deadline_minutes: float


def read_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment and options; SettingError names the first unusable value."""
    from ice_tracker.sources.ddp.store import DEFAULT_REPO_LIMIT
    from ice_tracker.sources.ddp.watch import DEFAULT_MAX_BYTES as DDP_MAX_BYTES

    deadline = getattr(args, "deadline", None)
    if deadline is None:
        deadline = env_number("ICE_TRACKER_RUN_DEADLINE", DEFAULT_DEADLINE_MINUTES)
    if not deadline > 0:
        raise SettingError(f"--deadline / ICE_TRACKER_RUN_DEADLINE must be a positive number of minutes, got {deadline}")
    return Settings(
        connect_timeout=env_number("ICE_TRACKER_CONNECT_TIMEOUT", 15, minimum=0.001),
        read_timeout=env_number("ICE_TRACKER_READ_TIMEOUT", 120, minimum=0.001),
        retries=int(env_number("ICE_TRACKER_RETRIES", 4, integer=True)),
        backoff=env_number("ICE_TRACKER_BACKOFF", 2.0),
        max_bytes=int(env_number("ICE_TRACKER_MAX_BYTES", DEFAULT_MAX_BYTES, integer=True, minimum=1)),
        ddp_repo_limit=int(env_number("ICE_TRACKER_DDP_REPO_LIMIT", DEFAULT_REPO_LIMIT, integer=True)),
        ddp_max_bytes=int(env_number("ICE_TRACKER_DDP_MAX_BYTES", DDP_MAX_BYTES, integer=True, minimum=1)),
        deadline_minutes=float(deadline),
    )


@dataclass
class RunContext:
    """What every step gets: the options, where data and caches live, when the run started."""

    args: argparse.Namespace
    settings: Settings
    data_dir: Path
    cache_dir: Path
    run_time: datetime


def make_client(ctx: RunContext, extra_urls: list[str]) -> HttpClient:
    """The HTTP client every step shares; tunable through ICE_TRACKER_* environment variables."""
    hosts = set(ALWAYS_ALLOWED_HOSTS) | {urlsplit(u).hostname or "" for u in extra_urls}
    settings = ctx.settings
    return HttpClient(
        allowed_hosts=hosts,
        temp_dir=ctx.data_dir / ".tmp",
        timeout=(settings.connect_timeout, settings.read_timeout),
        retries=settings.retries,
        backoff_factor=settings.backoff,
        max_bytes=settings.max_bytes,
    )


def peak_rss_mb() -> float:
    """The largest resident size so far of this process or any finished child (workers, sandbox)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)  # Linux reports KiB


def timed(function: Callable[..., dict[str, Any]], *args: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """`function(*args)` and its cost: wall seconds and the peak memory so far (for last_run.json's timings)."""
    started = time.monotonic()
    result = function(*args)
    return result, {"seconds": round(time.monotonic() - started, 2), "peak_rss_mb": peak_rss_mb()}


def _http_stats(client: HttpClient) -> dict[str, Any]:
    return {"requests": client.stats.requests, "bytes_downloaded": client.stats.bytes_downloaded,
            "not_modified": client.stats.not_modified, "seconds": round(client.stats.seconds, 3)}


def step_287g(ctx: RunContext) -> dict[str, Any]:
    args, data_dir = ctx.args, ctx.data_dir
    archive = Archive(data_dir, ctx.run_time)
    archive.prepare()
    failures = FailureLog(data_dir / "failures.csv")
    with make_client(ctx, [args.page_url]) as client:
        try:
            summary = scrape_287g(page_url=args.page_url, client=client, archive=archive, failures=failures,
                                  include_pdfs=not args.no_pdfs)
        except ScrapeFailed as exc:
            raise StepFailed(str(exc)) from exc
        finally:
            archive.finish()
        archive.save()
        result = asdict(summary)
        result["failures_outstanding"] = len(failures.rows)
        result["http"] = _http_stats(client)
    log.info("287(g): %d new workbook(s), %d new agreement PDF(s), %d failure(s) this run, %d outstanding",
             len(summary.new_workbooks), len(summary.new_pdfs), len(summary.failures), len(failures.rows))
    return result


def step_releases(ctx: RunContext) -> dict[str, Any]:
    """DDP releases: detect, archive only what is new, hand detentions files to the derivations."""
    from ice_tracker.sources.ddp.watch import WatchFailed, watch_releases

    data_dir = ctx.data_dir
    pages = getattr(ctx.args, "ddp_page", None) or list(ddp.DEFAULT_PAGES)
    failures = FailureLog(data_dir / "failures.csv")
    with make_client(ctx, [*pages, *(f"https://{host}/" for host in ddp.ALLOWED_HOSTS)]) as client:
        try:
            summary = watch_releases(pages=pages, client=client, data_dir=data_dir, cache_dir=ctx.cache_dir,
                                     failures=failures, run_time=ctx.run_time,
                                     repo_limit=ctx.settings.ddp_repo_limit, max_bytes=ctx.settings.ddp_max_bytes)
        except WatchFailed as exc:
            raise StepFailed(str(exc)) from exc
        finally:
            remove_empty_temp_dir(data_dir)
        failures.save()
        result = asdict(summary)
        result["http"] = _http_stats(client)
    log.info("DDP: release %s%s, %d new file(s), %d failure(s)", summary.release_id,
             " (new)" if summary.new_release else "", len(summary.files_new), len(summary.failures))
    return result


def _derive_history(view: Path, ctx: RunContext) -> dict[str, Any]:
    from ice_tracker.roster.history import build_history

    return build_history(view, cache_dir=ctx.cache_dir / "roster")


def _derive_matching(view: Path, ctx: RunContext) -> dict[str, Any]:
    from ice_tracker.matching.pipeline import run_matching

    run = run_matching(view, getattr(ctx.args, "csllea", None), ctx.cache_dir)
    return {"agencies": len(run.queries), "matched": run.matched, "needs_review": run.needs_review,
            "unused_overrides": len(run.unused_overrides), "files_changed": run.files_changed}


def _derive_moa(view: Path, ctx: RunContext) -> dict[str, Any]:
    from ice_tracker.moa.journal import moa_journal
    from ice_tracker.moa.table import run_moa

    # the journal lives in the real data dir, not the staging view: a killed run keeps what it read
    return run_moa(view, roster_cache=ctx.cache_dir / "roster", budget_minutes=getattr(ctx.args, "moa_budget", None),
                   workers=getattr(ctx.args, "moa_workers", None), journal=moa_journal(ctx.data_dir),
                   ocr_cache=ctx.cache_dir / "moa_ocr")


def _derive_publish(view: Path, ctx: RunContext) -> dict[str, Any]:
    from ice_tracker.publish.run import run_publish

    return run_publish(view, ctx.cache_dir / "roster")


# Derivations in dependency order; each reads only the archive and earlier derivations.
DERIVATIONS: dict[str, Callable[[Path, RunContext], dict[str, Any]]] = {
    "history": _derive_history,
    "matching": _derive_matching,
    "moa": _derive_moa,
    "publish": _derive_publish,
}


def step_derive(ctx: RunContext) -> dict[str, Any]:
    """Rebuild every derived table from the archive (no network, except CSLLEA's one-time download).

    The derivations run against a staging view of the data dir and their outputs are moved into
    place together at the end (ice_tracker/staging.py), so a kill leaves the previous complete set.
    A derivation that fails (raises, or reports errors) is logged and named in `failed`; the others
    still run. The step fails only when every derivation failed."""
    view = open_staging(ctx.data_dir)
    results: dict[str, Any] = {}
    timings: dict[str, dict[str, float]] = {}
    try:
        for name, derive in DERIVATIONS.items():
            try:
                results[name], timings[name] = timed(derive, view, ctx)
            except Exception as exc:  # one broken derivation must not stop the others
                results[name] = {"error": log_failure(log, f"derivation {name} failed", exc)}
                continue
            reported = results[name].get("errors") if isinstance(results[name], dict) else None
            if reported:
                log.error("derivation %s reported %d error(s)", name, len(reported))
                results[name]["error"] = f"{len(reported)} error(s) reported"
        failed = [name for name, result in results.items() if "error" in result]
        if len(failed) == len(results):
            raise StepFailed("every derivation failed")
        results["files_changed"] = commit_staging(ctx.data_dir)
        if "moa" not in failed:
            from ice_tracker.moa.journal import moa_journal

            moa_journal(ctx.data_dir).unlink(missing_ok=True)  # its rows are in place now
    finally:
        discard_staging(ctx.data_dir)
    results["headline"] = _derive_headline(results)
    results["timings"] = timings
    if failed:
        results["failed"] = failed
    return results


def _derive_headline(results: dict[str, Any]) -> str:
    """'roster: 3 added, 1 renamed; moa: 1,200 of 2,400 read, continuing', or ''."""
    moa = str(results.get("moa", {}).get("headline", ""))
    roster = _roster_headline(results)
    return "; ".join(part for part in (roster, moa) if part)


def _roster_headline(results: dict[str, Any]) -> str:
    """'roster: 3 added, 1 renamed' from the newest participating roster's changes, or ''; a newest
    roster that failed the publication check is named ('suspect roster: …'), since it announces nothing."""
    history = results.get("history", {})
    suspect = safe_text(", ".join(history.get("newest_suspect", [])), limit=200)  # file names come from ICE
    newest = history.get("newest_changes", {}).get("participating", {})
    counts = {k: v for k, v in newest.items()
              if k not in ("snapshot", "file") and isinstance(v, int) and v and re.fullmatch(r"[a-z_]{1,30}", k)}
    if "roster_history/" not in str(history.get("files_changed", [])):
        return ""
    parts = ["roster: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()))] if counts else []
    return "; ".join(parts + ([f"suspect roster: {suspect}"] if suspect else []))


# Each step: name → function(context) -> summary dict, run in this order
# (releases before derive, so a new DDP release's detention outputs are in place first).
STEPS: dict[str, Callable[[RunContext], dict[str, Any]]] = {
    "287g": step_287g,
    "releases": step_releases,
    "derive": step_derive,
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def failed_parts(results: dict[str, dict[str, Any]]) -> list[str]:
    """Every failed step and derivation, in run order: ['287g', 'derive (matching)']."""
    parts = []
    for name, result in results.items():
        if "error" in result:
            parts.append(name)
        parts += [f"{name} ({sub})" for sub in result.get("failed", [])]
    return parts


def _iso_date(value: Any) -> str:
    text = str(value or "")
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else ""


def _releases_message(releases: dict[str, Any]) -> list[str]:
    """'DDP: new release through 2026-03-10, 3 files' or 'DDP: 1 more file for release 2026-03-10'."""
    new_files, failed_files = len(releases.get("files_new", [])), len(releases.get("failures", []))
    lost = len((releases.get("durability") or {}).get("missing", []))
    lost_text = [f"DDP: {_plural(lost, 'archived file')} missing everywhere"] if lost else []
    release = _iso_date(releases.get("release_id"))
    if releases.get("new_release"):
        through = _iso_date(releases.get("through"))
        when = f"through {through}" if through else f"first seen {release}" if release else ""
        text = f"DDP: new release {when}".rstrip() + f", {_plural(new_files + int(releases.get('files_held', 0)), 'file')}"
    elif new_files:
        text = f"DDP: {_plural(new_files, 'more file')}" + (f" for release {release}" if release else "")
    else:
        return lost_text
    return [text + (f", {failed_files} failed" if failed_files else "")] + lost_text


def commit_message(results: dict[str, dict[str, Any]], stopped: str = "") -> str:
    """One line for the daily commit, e.g. '287(g): 1 new workbook, 5 new agreements'.

    Built only from counts and our own words (step and derivation names, dates we parsed), never
    from text a page, workbook or server supplied: a commit message can close issues and is shown
    in logs."""
    parts = []
    scrape = results.get("287g")
    if scrape and "error" not in scrape:
        bits = [_plural(len(scrape["new_workbooks"]), "new workbook"), _plural(len(scrape["new_pdfs"]), "new agreement")]
        if scrape["failures"]:
            bits.append(_plural(len(scrape["failures"]), "failure"))
        parts.append("287(g): " + ", ".join(bits))
    releases = results.get("releases")
    if releases and "error" not in releases:
        parts += _releases_message(releases)
    derive = results.get("derive")
    if derive and derive.get("headline"):
        parts.append(str(derive["headline"]))
    failed = failed_parts(results)
    if failed:
        parts.append("failed: " + ", ".join(failed))
    if stopped:
        parts.append("deadline reached" if stopped == "deadline" else f"interrupted ({stopped})")
    return safe_text("; ".join(parts) or "no changes", limit=300)


def main(argv: list[str] | None = None) -> int:
    tune_for_large_tables()
    args = build_parser().parse_args(argv)
    configure_logging(verbose=getattr(args, "verbose", False))
    return run_guarded(run, args)


def _check_data_dir(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a folder")


def run(args: argparse.Namespace) -> int:
    """Run the requested steps under the data dir's lock; see the module docstring for the exit codes."""
    settings = read_settings(args)
    data_dir = (args.data_dir or default_data_dir()).resolve()
    _check_data_dir(data_dir)
    created = not data_dir.exists()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = DataDirLock(data_dir)
        lock.acquire()
    except LockHeld as exc:
        log.error("%s; this run changed nothing (exit %d)", exc, EXIT_LOCKED)
        return EXIT_LOCKED
    except OSError as exc:
        raise UsageError(f"cannot write to the data dir {data_dir}: {exc.strerror or exc}") from exc
    try:
        with run_stoppers(settings.deadline_minutes):
            return _run_locked(args, settings, data_dir)
    finally:
        lock.release()
        if created:
            try:
                data_dir.rmdir()  # a run that achieved nothing leaves no empty folder behind
            except OSError:
                pass


def _run_locked(args: argparse.Namespace, settings: Settings, data_dir: Path) -> int:
    run_time = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.monotonic()
    ctx = RunContext(args, settings, data_dir, (getattr(args, "cache_dir", None) or default_cache_dir()).resolve(),
                     run_time)
    steps = [name for name in STEPS if not args.only or name in args.only]
    use_overrides_dir(overrides_for(data_dir))  # every state lookup applies this data dir's corrections
    log.info("ice-tracker %s: steps %s, data dir %s, deadline %g min", __version__, ", ".join(steps), data_dir,
             settings.deadline_minutes)
    results: dict[str, dict[str, Any]] = {}
    timings: dict[str, dict[str, float]] = {}
    stopped: RunInterrupted | None = None
    try:
        finish_interrupted_swap(data_dir)
        for name in steps:
            if name == "derive" and any(s in steps for s in FETCH_STEPS) and \
                    all("error" in results[s] for s in FETCH_STEPS if s in steps):
                log.warning("derive skipped: nothing could be fetched, so the derived data would not change")
                results[name] = {"error": "skipped: nothing could be fetched"}
                continue
            try:
                results[name], timings[name] = timed(STEPS[name], ctx)
            except StepFailed as exc:
                log.error("step %s failed: %s", name, safe_text(str(exc), limit=500))
                results[name] = {"error": safe_text(str(exc), limit=500)}
    except RunInterrupted as exc:
        stopped = exc
        running = next((n for n in steps if n not in results), "")
        if isinstance(exc, DeadlineReached):
            log.error("the run deadline (%g min) was reached during %s; ending with what the run has",
                      settings.deadline_minutes, running or "the summary")
        else:
            log.error("interrupted by %s during %s; recording what the run did", exc.reason, running or "the summary")
        for name in steps:
            results.setdefault(name, {"error": "deadline reached" if exc.reason == "deadline" else f"interrupted ({exc.reason})"})
    failed = [name for name in steps if "error" in results[name]]
    if stopped is None and len(failed) == len(steps):
        log.error("nothing achieved; nothing written")
        return EXIT_NOTHING
    code = stopped.exit_code if stopped else (EXIT_PARTIAL if failed_parts(results) else EXIT_OK)
    reason = stopped.reason if stopped else ""
    summary = {
        "started_at": utc_iso(run_time),
        "finished_at": utc_iso(datetime.now(timezone.utc)),
        "seconds": round(time.monotonic() - started, 1),
        "version": __version__,
        "exit_code": code,
        "outcome": {"": "completed" if code == EXIT_OK else "partial", "deadline": "deadline reached"}.get(
            reason, "interrupted"),
        "interrupted_by": reason if reason and reason != "deadline" else "",
        "deadline_minutes": settings.deadline_minutes,
        "deadline_reached": reason == "deadline",
        "failed": failed_parts(results),
        "steps": results,
        "timings": timings,  # per step: wall seconds, peak memory so far (derivations: steps.derive.timings)
        "commit_message": commit_message(results, reason),
    }
    write_json(data_dir / "data" / "last_run.json", summary)
    log.info("summary: %s (exit %d)", summary["commit_message"], code)
    return code
