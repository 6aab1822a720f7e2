"""`python -m ice_tracker backfill --wayback`: history from before day one, from Wayback Machine captures."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from datetime import date, datetime, timezone
from pathlib import Path

from ice_tracker.config import default_cache_dir, default_data_dir

HELP = ("archive past rosters (workbooks and the pre-2025 HTML table) and dead agreement links from Wayback "
        "Machine captures, each at its capture time (source = wayback)")
log = logging.getLogger(__name__)


DEFAULT_DEADLINE_MINUTES = 24 * 60.0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ice_tracker.sources.ice287g import PAGE_URL
    from ice_tracker.sources.wayback import DEFAULT_BASE_URL, DEFAULT_DELAY

    parser.add_argument("--wayback", action="store_true", required=True,
                        help="backfill from the Wayback Machine (the one source so far; required)")
    parser.add_argument("--since", type=_day, default=None, metavar="DATE", help="only captures from this day (YYYY-MM-DD)")
    parser.add_argument("--until", type=_day, default=None, metavar="DATE", help="only captures up to this day (YYYY-MM-DD)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="archive root (default: $ICE_TRACKER_DATA_DIR or the repository root)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the resume state goes (default: $ICE_TRACKER_CACHE or ~/.cache/ice_tracker)")
    parser.add_argument("--state", type=Path, default=None,
                        help="resume state file (default: <cache-dir>/wayback/backfill_state.json)")
    parser.add_argument("--wayback-url", default=None,
                        help=f"the Wayback Machine's address (default: $ICE_TRACKER_WAYBACK_URL or {DEFAULT_BASE_URL})")
    parser.add_argument("--delay", type=float, default=None,
                        help=f"seconds between requests (default: $ICE_TRACKER_WAYBACK_DELAY or {DEFAULT_DELAY})")
    parser.add_argument("--page-url", default=PAGE_URL, help=f"the page whose captures to read (default: {PAGE_URL})")
    parser.add_argument("--no-agreements", action="store_true", help="rosters only; do not look for dead agreement links")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_MINUTES, metavar="MINUTES",
                        help="end cleanly after this long with what is done (exit 1; run again to continue; "
                             f"default {DEFAULT_DEADLINE_MINUTES:g})")


def _run_locked(args: argparse.Namespace) -> int:
    """0: done (new files or not); 1: some captures or look-ups failed, or the deadline came first
    (run again to continue); 2: the Wayback Machine could not be asked at all (nothing written);
    130/143: interrupted (what was archived is kept, and recorded)."""
    from ice_tracker.archive import Archive, utc_iso
    from ice_tracker.config import SettingError
    from ice_tracker.daily import RunContext, make_client, read_settings
    from ice_tracker.failures import FailureLog
    from ice_tracker.interrupts import RunInterrupted, run_stoppers
    from ice_tracker.sources import wayback
    from ice_tracker.sources.ice287g.backlog import note_backlog
    from ice_tracker.sources.wayback.agreements import DeadLinkRecovery
    from ice_tracker.sources.wayback.client import CdxError, WaybackClient
    from ice_tracker.sources.wayback.rosters import RosterBackfill
    from ice_tracker.sources.wayback.state import BackfillState

    data_dir = (args.data_dir or default_data_dir()).resolve()
    try:
        settings = read_settings(args)
    except SettingError as exc:
        log.error("%s", exc)
        return 2
    cache_dir = args.cache_dir or default_cache_dir()
    context = RunContext(args, settings, data_dir, cache_dir, datetime.now(timezone.utc))
    base = (args.wayback_url or wayback.base_url()).rstrip("/")
    delay = wayback.default_delay() if args.delay is None else args.delay
    state_path = args.state or cache_dir / "wayback" / "backfill_state.json"
    archive = Archive(data_dir, datetime.now(timezone.utc))
    archive.prepare()
    failures = FailureLog(data_dir / "failures.csv")
    result: dict[str, object] = {"wayback_url": base}
    code = 0
    with make_client(context, [base]) as http, run_stoppers(settings.deadline_minutes):
        client = WaybackClient(http, base, delay)
        state = BackfillState(state_path)
        try:
            rosters = RosterBackfill(wayback=client, archive=archive, state=state,
                                     since=args.since, until=args.until, page_url=args.page_url).run()
            result["rosters"] = asdict(rosters)
            code = 1 if rosters.failed else 0
            if not args.no_agreements:
                recovery = DeadLinkRecovery(wayback=client, archive=archive, failures=failures,
                                            unrecoverable=data_dir / "data" / "unrecoverable.csv", state=state).run()
                result["agreements"] = asdict(recovery)
                code = 1 if recovery.lookup_failed else code
            # what the backfilled rosters link and nobody has fetched: the next daily run tries it live
            result["backlog_added"] = note_backlog(archive, failures, utc_iso(datetime.now(timezone.utc)))
        except CdxError as exc:
            log.error("the Wayback Machine could not be asked: %s", exc)
            code = 2 if not archive.added else 1
        except RunInterrupted as exc:  # the deadline or a signal: keep what is archived, say so
            log.error("backfill stopped (%s) after %d new file(s); run it again to continue", exc.reason,
                      len(archive.added))
            result["stopped"] = exc.reason
            failures.save()
            code = exc.exit_code
        finally:
            archive.finish()
            if archive.added:
                archive.save()
        result["requests"] = client.requests
    result["archived"] = [e.path for e in archive.added]
    log.info("backfill: %d file(s) archived from the Wayback Machine in %d request(s)", len(archive.added),
             client.requests)
    print(json.dumps(result, indent=2, sort_keys=True))
    return code


def run(args: argparse.Namespace) -> int:
    """Under the data dir's lock, as the daily job (3: another run holds it; nothing changed)."""
    from ice_tracker.runlock import run_locked

    args.data_dir = (args.data_dir or default_data_dir()).resolve()
    return run_locked(args.data_dir, lambda: _run_locked(args))
