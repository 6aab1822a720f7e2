"""The Wayback Machine as a source of history: rosters and agreements from before this archive began.

ICE overwrote and moved its files in 2025–2026 (one workbook URL reused Jan–Mar 2025; the April 2026
move to `/file-download/download/public/<id>`), so captures are the only copy of many of them.
Entry points: `rosters.backfill_rosters(...)` and `agreements.recover_dead_links(...)`; the command
is `python -m ice_tracker backfill --wayback`.
"""

from __future__ import annotations

import os

DEFAULT_BASE_URL = "https://web.archive.org"
DEFAULT_DELAY = 2.0  # seconds between requests: the Internet Archive asks for gentle crawling


def base_url() -> str:
    """The Wayback Machine's address: $ICE_TRACKER_WAYBACK_URL (tests point it at loopback) or web.archive.org."""
    return (os.environ.get("ICE_TRACKER_WAYBACK_URL") or DEFAULT_BASE_URL).rstrip("/")


def default_delay() -> float:
    """Seconds between two requests: $ICE_TRACKER_WAYBACK_DELAY or DEFAULT_DELAY."""
    raw = os.environ.get("ICE_TRACKER_WAYBACK_DELAY")
    return float(raw) if raw else DEFAULT_DELAY
