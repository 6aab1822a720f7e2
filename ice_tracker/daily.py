"""The daily job behind `python scraper.py`: run each step, summarise, choose the exit code.

Exit codes: 0 the run completed (new files or not, recorded failures or not); 2 every requested step
failed outright (no page, no verifiable roster workbook, network down), and then nothing was written;
1 some steps failed and the others' results were written.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ice_tracker import __version__
from ice_tracker.archive import Archive, remove_empty_temp_dir, utc_iso
from ice_tracker.config import default_cache_dir, default_data_dir
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import write_json
from ice_tracker.http import DEFAULT_MAX_BYTES, HttpClient
from ice_tracker.logging_setup import configure_logging
from ice_tracker.sources import ddp
from ice_tracker.sources.ice287g import PAGE_URL
from ice_tracker.sources.ice287g.scrape import ScrapeFailed, scrape_287g

log = logging.getLogger(__name__)

ALWAYS_ALLOWED_HOSTS = ("ice.gov",)


class StepFailed(Exception):
    """A step achieved nothing it should have; the message says why."""


DESCRIPTION = "The daily job: archive new 287(g) workbooks and agreements, then refresh derived data."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python scraper.py", description=DESCRIPTION)
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
                        help="big downloads and intermediates, never committed (default: ~/.cache/ice_tracker)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def make_client(data_dir: Path, extra_urls: list[str]) -> HttpClient:
    """The HTTP client every step shares; tunable through ICE_TRACKER_* environment variables."""
    hosts = set(ALWAYS_ALLOWED_HOSTS) | {urlsplit(u).hostname or "" for u in extra_urls}
    return HttpClient(
        allowed_hosts=hosts,
        temp_dir=data_dir / ".tmp",
        timeout=(env_float("ICE_TRACKER_CONNECT_TIMEOUT", 15), env_float("ICE_TRACKER_READ_TIMEOUT", 120)),
        retries=int(env_float("ICE_TRACKER_RETRIES", 4)),
        backoff_factor=env_float("ICE_TRACKER_BACKOFF", 2.0),
        max_bytes=int(env_float("ICE_TRACKER_MAX_BYTES", DEFAULT_MAX_BYTES)),
    )


def step_287g(args: argparse.Namespace, data_dir: Path, run_time: datetime) -> dict[str, Any]:
    archive = Archive(data_dir, run_time)
    archive.prepare()
    failures = FailureLog(data_dir / "failures.csv")
    with make_client(data_dir, [args.page_url]) as client:
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
        result["http"] = {"requests": client.stats.requests, "bytes_downloaded": client.stats.bytes_downloaded,
                          "not_modified": client.stats.not_modified, "seconds": round(client.stats.seconds, 3)}
    log.info("287(g): %d new workbook(s), %d new agreement PDF(s), %d failure(s) this run, %d outstanding",
             len(summary.new_workbooks), len(summary.new_pdfs), len(summary.failures), len(failures.rows))
    return result


def step_releases(args: argparse.Namespace, data_dir: Path, run_time: datetime) -> dict[str, Any]:
    """DDP releases: detect, archive only what is new, hand detentions files to the derivations."""
    from ice_tracker.sources.ddp.store import DEFAULT_REPO_LIMIT
    from ice_tracker.sources.ddp.watch import DEFAULT_MAX_BYTES as DDP_MAX_BYTES, WatchFailed, watch_releases

    pages = getattr(args, "ddp_page", None) or list(ddp.DEFAULT_PAGES)
    cache_dir = (getattr(args, "cache_dir", None) or default_cache_dir()).resolve()
    failures = FailureLog(data_dir / "failures.csv")
    with make_client(data_dir, [*pages, *(f"https://{host}/" for host in ddp.ALLOWED_HOSTS)]) as client:
        try:
            summary = watch_releases(pages=pages, client=client, data_dir=data_dir, cache_dir=cache_dir,
                                     failures=failures, run_time=run_time,
                                     repo_limit=int(env_float("ICE_TRACKER_DDP_REPO_LIMIT", DEFAULT_REPO_LIMIT)),
                                     max_bytes=int(env_float("ICE_TRACKER_DDP_MAX_BYTES", DDP_MAX_BYTES)))
        except WatchFailed as exc:
            raise StepFailed(str(exc)) from exc
        finally:
            remove_empty_temp_dir(data_dir)
        failures.save()
        result = asdict(summary)
        result["http"] = {"requests": client.stats.requests, "bytes_downloaded": client.stats.bytes_downloaded,
                          "seconds": round(client.stats.seconds, 3)}
    log.info("DDP: release %s%s, %d new file(s), %d failure(s)", summary.release_id,
             " (new)" if summary.new_release else "", len(summary.files_new), len(summary.failures))
    return result


def _derive_history(data_dir: Path) -> dict[str, Any]:
    from ice_tracker.roster.history import build_history

    return build_history(data_dir)


def _derive_matching(data_dir: Path) -> dict[str, Any]:
    from ice_tracker.matching.pipeline import run_matching

    run = run_matching(data_dir)
    return {"agencies": len(run.queries), "matched": run.matched, "needs_review": run.needs_review,
            "unused_overrides": len(run.unused_overrides), "files_changed": run.files_changed}


def _derive_moa(data_dir: Path) -> dict[str, Any]:
    from ice_tracker.moa.table import run_moa

    return run_moa(data_dir)


def _derive_publish(data_dir: Path) -> dict[str, Any]:
    from ice_tracker.publish.run import run_publish

    return run_publish(data_dir)


# Derivations in dependency order; each reads only the archive and earlier derivations.
DERIVATIONS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "history": _derive_history,
    "matching": _derive_matching,
    "moa": _derive_moa,
    "publish": _derive_publish,
}


def step_derive(args: argparse.Namespace, data_dir: Path, run_time: datetime) -> dict[str, Any]:
    """Rebuild every derived table from the archive (no network, except CSLLEA's one-time download).

    A derivation that fails is logged and recorded; the others still run. The step fails only when
    every derivation failed."""
    results: dict[str, Any] = {}
    for name, derive in DERIVATIONS.items():
        try:
            results[name] = derive(data_dir)
        except Exception as exc:  # one broken derivation must not stop the others
            log.exception("derivation %s failed", name)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    errors = [name for name, result in results.items() if "error" in result]
    if len(errors) == len(results):
        raise StepFailed("every derivation failed: " + "; ".join(f"{n}: {results[n]['error']}" for n in errors))
    results["headline"] = _derive_headline(results)
    if errors:
        results["errors"] = errors
    return results


def _derive_headline(results: dict[str, Any]) -> str:
    """'roster: 3 added, 1 renamed' from the newest participating roster's changes, or ''."""
    newest = results.get("history", {}).get("newest_changes", {}).get("participating", {})
    counts = {k: v for k, v in newest.items() if k not in ("snapshot", "file") and isinstance(v, int) and v}
    if not counts or "roster_history/" not in str(results.get("history", {}).get("files_changed", [])):
        return ""
    return "roster: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()))


# Each step: name → function(args, data_dir, run_time) -> summary dict, run in this order
# (releases before derive, so a new DDP release's detention outputs are in place first).
STEPS: dict[str, Callable[[argparse.Namespace, Path, datetime], dict[str, Any]]] = {
    "287g": step_287g,
    "releases": step_releases,
    "derive": step_derive,
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def commit_message(results: dict[str, dict[str, Any]]) -> str:
    """One line for the daily commit, e.g. '287(g): 1 new workbook, 5 new agreements'."""
    parts = []
    scrape = results.get("287g")
    if scrape and "error" not in scrape:
        bits = [_plural(len(scrape["new_workbooks"]), "new workbook"), _plural(len(scrape["new_pdfs"]), "new agreement")]
        if scrape["failures"]:
            bits.append(_plural(len(scrape["failures"]), "failure"))
        parts.append("287(g): " + ", ".join(bits))
    for name, result in results.items():
        if name != "287g" and result.get("headline"):
            parts.append(str(result["headline"]))
    failed = [name for name, result in results.items() if "error" in result]
    if failed:
        parts.append("failed: " + ", ".join(failed))
    return "; ".join(parts) or "no changes"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose)
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run the requested steps; see the module docstring for the exit codes."""
    data_dir = (args.data_dir or default_data_dir()).resolve()
    run_time = datetime.now(timezone.utc).replace(microsecond=0)
    steps = [name for name in STEPS if not args.only or name in args.only]
    log.info("ice-tracker %s: steps %s, data dir %s", __version__, ", ".join(steps), data_dir)
    results: dict[str, dict[str, Any]] = {}
    for name in steps:
        try:
            results[name] = STEPS[name](args, data_dir, run_time)
        except StepFailed as exc:
            log.error("step %s failed: %s", name, exc)
            results[name] = {"error": str(exc)}
    failed = [name for name in steps if "error" in results[name]]
    if len(failed) == len(steps):
        log.error("nothing achieved; nothing written")
        return 2
    summary = {
        "started_at": utc_iso(run_time),
        "finished_at": utc_iso(datetime.now(timezone.utc)),
        "version": __version__,
        "steps": results,
        "commit_message": commit_message(results),
    }
    write_json(data_dir / "data" / "last_run.json", summary)
    log.info("summary: %s", summary["commit_message"])
    return 1 if failed else 0
