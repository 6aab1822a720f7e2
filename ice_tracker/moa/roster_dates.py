"""ICE's own "SIGNED" date for each agreement PDF, from the roster rows that link to it.

The participating-agencies workbook gives, per row, the date the agreement was signed and a link to
the MOA PDF. On the 17 labelled fixture MOAs that date is ICE's countersignature date (the later of
the two) in 16 cases and one day after it in the 17th. So when ICE's date cannot be read off the
PDF itself (hand-written, unreadable), the roster's date fills it, marked `ice_signed_source =
roster`; and the LEA, which signs first, cannot have signed after it, which bounds the window the
handwriting reader searches. `roster_signed` is published beside the MOA's own dates so that
disagreements stay visible.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ice_tracker.roster.history_files import iter_history_rows

log = logging.getLogger(__name__)


def pdf_key(url_or_path: str) -> str:
    """A PDF's file name, percent-decoded and lower-cased: how a roster link meets an archived file."""
    return unquote(PurePosixPath(urlsplit(url_or_path).path).name).strip().lower()


def roster_signed_dates(history_dir: Path, cache_dir: Path | None = None) -> dict[str, list[str]]:
    """PDF key → the SIGNED dates on the newest roster snapshot that links that PDF as its MOA.

    Newest, because ICE corrects SIGNED values over time. Several dates mean several agreements
    share one PDF; the caller then fills nothing. `history_dir` holds the roster history (`data/`),
    `cache_dir` the cached per-snapshot table (history_files.read_snapshots).
    """
    newest: dict[str, tuple[str, set[str]]] = {}
    for row in iter_history_rows(history_dir, cache_dir):
        url, signed = row.get("moa_url", ""), row.get("signed", "")
        if not url or not signed or row.get("list") != "participating":
            continue
        key, snapshot = pdf_key(url), row.get("snapshot", "")
        seen = newest.get(key)
        if seen is None or snapshot > seen[0]:
            newest[key] = (snapshot, {signed})
        elif snapshot == seen[0]:
            seen[1].add(signed)
    log.info("roster SIGNED dates known for %d agreement PDFs", len(newest))
    return {key: sorted(dates) for key, (_, dates) in newest.items()}


def signed_for(paths: list[str], known: dict[str, list[str]]) -> list[str]:
    """The roster's SIGNED dates for a PDF archived under `paths` (any of its names)."""
    return sorted({date for path in paths for date in known.get(pdf_key(path), [])})
