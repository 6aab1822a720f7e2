"""`agreements.csv`: the agreements in force, one row each, with everything a user joins or maps on.

One row per agreement id on the newest good participating and pending rosters (history_files.newest_good:
the newest roster of each list that passed the publication check, so an am and a pm roster of one
day collapse to the later one; a duplicated roster row counts once). Each row
carries when the agreement was first seen and last changed (good rosters only), the roster's fields,
its MOA link and where the PDF is archived, the matched CSLLEA 2018 agency (with its name), how it
was matched and the hand note behind it, and state and county FIPS codes. Every snapshot's rows stay
in the roster history (`data/roster_history/`, read through history_files.read_snapshots).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ice_tracker.matching.matcher import Match, canonical_state
from ice_tracker.roster.fips import county_fips, state_fips

AGREEMENT_COLUMNS = [
    "agreement_id", "list", "state", "state_fips", "county", "county_fips", "agency", "type", "support_type",
    "signed", "first_seen", "last_changed", "roster_date", "snapshot", "file", "moa_url", "moa_archived_path",
    "addendum_url", "agency_id", "csllea_agency_name", "ori", "population_policed", "operating_budget", "zip",
    "agency_type", "match_score", "match_method", "match_note", "needs_review",
]
PDF_KINDS = ("moa", "addendum")


def first_seen(history: Iterable[dict[str, str]], suspect: set[tuple[str, str]]) -> dict[str, str]:
    """Agreement id → the earliest date a good roster listed it."""
    found: dict[str, str] = {}
    for row in history:
        ident, day = row.get("agreement_id", ""), row.get("roster_date", "")
        if ident and day and (row.get("snapshot", ""), row.get("file", "")) not in suspect:
            if ident not in found or day < found[ident]:
                found[ident] = day
    return found


def last_changed(changes: Iterable[dict[str, str]]) -> dict[str, str]:
    """Agreement id → the newest date a published change named it."""
    found: dict[str, str] = {}
    for change in changes:
        ident, day = change.get("agreement_id", ""), change.get("roster_date", "")
        if ident and day and day > found.get(ident, ""):
            found[ident] = day
    return found


def archived_paths(manifest: Iterable[dict[str, str]]) -> dict[str, str]:
    """Source URL → path of the newest archived copy of that agreement PDF."""
    newest: dict[str, tuple[str, str]] = {}
    for row in manifest:
        if row.get("kind") in PDF_KINDS and row.get("source_url"):
            stamp = (row.get("fetched_at", ""), row.get("path", ""))
            if stamp > newest.get(row["source_url"], ("", "")):
                newest[row["source_url"]] = stamp
    return {url: stamp[1] for url, stamp in newest.items()}


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def agreement_rows(current: list[dict[str, str]], matches: list[Match], reference: Mapping[str, Mapping[str, Any]],
                   seen: dict[str, str], changed: dict[str, str], pdfs: dict[str, str],
                   reference_fields) -> list[dict[str, str]]:
    """One row per agreement on the current rosters (its first row when the roster repeats it)."""
    by_key = {(m.query.state, m.query.agency): m for m in matches}
    out: dict[tuple[str, str], dict[str, str]] = {}
    for row in current:
        ident, list_name = row.get("agreement_id", ""), row.get("list", "")
        if not ident or (list_name, ident) in out:
            continue
        state = canonical_state(row.get("state", ""))
        m = by_key.get((state, (row.get("agency") or "").strip()))
        ref = reference_fields(m.agency_id if m else None, reference)
        county = row.get("county", "")
        out[(list_name, ident)] = {
            "agreement_id": ident, "list": list_name, "state": state, "state_fips": state_fips(state),
            "county": county, "county_fips": county_fips(state, county), "agency": row.get("agency", ""),
            "type": row.get("type", ""), "support_type": row.get("support_type", ""), "signed": row.get("signed", ""),
            "first_seen": seen.get(ident, row.get("roster_date", "")),
            "last_changed": changed.get(ident, seen.get(ident, row.get("roster_date", ""))),
            "roster_date": row.get("roster_date", ""), "snapshot": row.get("snapshot", ""), "file": row.get("file", ""),
            "moa_url": row.get("moa_url", ""), "moa_archived_path": pdfs.get(row.get("moa_url", ""), ""),
            "addendum_url": row.get("addendum_url", ""),
            "agency_id": (m.agency_id or "") if m else "", "csllea_agency_name": ref["csllea_name"],
            "ori": ref["ori"], "population_policed": ref["population_policed"],
            "operating_budget": ref["operating_budget"], "zip": ref["zip"], "agency_type": ref["agency_type"],
            "match_score": _score(m.match_score) if m else "", "match_method": m.match_method if m else "none",
            "match_note": (m.note or m.review_reason) if m else "", "needs_review": _flag(m.needs_review) if m else "true",
        }
    return [out[key] for key in sorted(out, key=lambda k: (k[0], out[k]["state"], out[k]["agency"], k[1]))]


def _flag(value: bool) -> str:
    return "true" if value else "false"
