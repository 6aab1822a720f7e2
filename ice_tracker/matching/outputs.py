"""From roster history to the published match files: agreements.csv (the agreements in force, see
agreements.py), agency_matches.csv, match_review.csv.

All three are written through `fileio` (atomic, byte-identical on unchanged input): rows sorted,
scores with one decimal, counts and money as integers, nothing that depends on the clock.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ice_tracker.fileio import read_dict_csv, write_dict_csv
from ice_tracker.matching import agreements
from ice_tracker.matching.aliases import Override
from ice_tracker.matching.matcher import Match, Query, canonical_state
from ice_tracker.roster.history_files import (SNAPSHOTS, history_present, newest_good, read_snapshots,
                                             suspect_rosters)

log = logging.getLogger(__name__)

AGREEMENTS = Path("agreements.csv")
MATCHES = Path("data/agency_matches.csv")
REVIEW = Path("data/match_review.csv")

MATCH_COLUMNS = [
    "state", "agency", "county", "roster_type", "roster_rows", "kind", "agency_id", "csllea_name", "ori",
    "agency_type", "match_score", "match_method", "runner_up_id", "runner_up_name", "runner_up_score",
    "needs_review", "review_reason",
]
REVIEW_COLUMNS = [
    "state", "agency", "county", "kind", "match_method", "agency_id", "csllea_name", "review_reason",
    *[f"candidate_{n}_{part}" for n in (1, 2, 3) for part in ("id", "name", "score")],
]
IGNORED_COUNTIES = {"", "#N/A", "#NA", "N/A", "NA", "NONE"}


class RosterHistoryMissing(FileNotFoundError):
    """The roster history has not been built in this data directory."""


@dataclass
class MatchRun:
    queries: list[Query]
    matches: list[Match]
    unused_overrides: list[Override] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> int:
        return sum(m.needs_review for m in self.matches)

    @property
    def matched(self) -> int:
        return sum(m.agency_id is not None for m in self.matches)


def read_roster_history(data_dir: Path, cache_dir: Path | None = None) -> list[dict[str, str]]:
    """Every row of every roster snapshot (history_files.read_snapshots; its parquet cache in `cache_dir`)."""
    out_dir = Path(data_dir) / "data"
    if not history_present(out_dir):
        raise RosterHistoryMissing(
            f"{out_dir / SNAPSHOTS} not found: build the roster history first "
            "(`python -m ice_tracker history`)"
        )
    return read_snapshots(out_dir, cache_dir).to_dict("records")


def _most_common(values: Iterable[str], ignore: set[str] = frozenset()) -> str:
    counts = Counter(v.strip() for v in values if v and v.strip().upper() not in ignore)
    if not counts:
        return ""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


def row_key(row: dict[str, str]) -> tuple[str, str]:
    return canonical_state(row.get("state", "")), (row.get("agency") or "").strip()


def distinct_queries(rows: list[dict[str, str]]) -> list[Query]:
    """One query per (state, agency), carrying its most common county and ICE type, sorted."""
    grouped: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        key = row_key(row)
        if key[1]:
            grouped.setdefault(key, []).append(row)
    return [
        Query(state, agency,
              _most_common((r.get("county", "") for r in members), IGNORED_COUNTIES),
              _most_common(r.get("type", "") for r in members))
        for (state, agency), members in sorted(grouped.items())
    ]


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _integer(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(int(round(float(value))))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _reference_fields(agency_id: str | None, reference: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The CSLLEA fields written beside a match (`reference`: agency_id → CSLLEA row, see matched_reference)."""
    if agency_id is None or agency_id not in reference:
        return dict.fromkeys(("csllea_name", "ori", "population_policed", "operating_budget", "zip", "agency_type"), "")
    row = reference[agency_id]
    return {
        "csllea_name": row["name"], "ori": row["ori"], "population_policed": _integer(row["population"]),
        "operating_budget": _integer(row["operating_budget"]), "zip": row["zip"], "agency_type": row["agency_type"],
    }


def match_rows(matches: list[Match], reference: Mapping[str, Mapping[str, Any]],
               roster_rows: Counter) -> list[dict[str, str]]:
    out = []
    for m in matches:
        q = m.query
        ref = _reference_fields(m.agency_id, reference)
        runner = m.runner_up
        out.append({
            "state": q.state, "agency": q.agency, "county": q.county, "roster_type": q.roster_type,
            "roster_rows": roster_rows[(q.state, q.agency)], "kind": m.kind, "agency_id": m.agency_id or "",
            "csllea_name": ref["csllea_name"], "ori": ref["ori"], "agency_type": ref["agency_type"],
            "match_score": _score(m.match_score), "match_method": m.match_method,
            "runner_up_id": runner.agency_id if runner else "", "runner_up_name": runner.name if runner else "",
            "runner_up_score": _score(runner.score) if runner else "",
            "needs_review": _flag(m.needs_review), "review_reason": m.review_reason,
        })
    return sorted(out, key=lambda r: (r["state"], r["agency"]))


def review_rows(matches: list[Match], reference: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    out = []
    for m in matches:
        if not m.needs_review:
            continue
        q = m.query
        row = {"state": q.state, "agency": q.agency, "county": q.county, "kind": m.kind,
               "match_method": m.match_method, "agency_id": m.agency_id or "",
               "csllea_name": _reference_fields(m.agency_id, reference)["csllea_name"],
               "review_reason": m.review_reason}
        for n, candidate in enumerate(m.candidates[:3], start=1):
            row.update({f"candidate_{n}_id": candidate.agency_id, f"candidate_{n}_name": candidate.name,
                        f"candidate_{n}_score": _score(candidate.score)})
        out.append(row)
    return sorted(out, key=lambda r: (r["state"], r["agency"]))


def in_force(data_dir: Path, rows: list[dict[str, str]], matches: list[Match],
             indexed: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """agreements.csv's rows: the newest good roster of each list (`rows`: the whole history, see
    read_roster_history), with dates from the history and changes, PDF paths from the manifest (every
    input written by the roster history and the scrape)."""
    out_dir = Path(data_dir) / "data"
    suspect = suspect_rosters(out_dir)
    newest = {(s["snapshot"], s["file"]) for s in newest_good(out_dir).values()}
    current = [r for r in rows if (r.get("snapshot", ""), r.get("file", "")) in newest]
    return agreements.agreement_rows(
        current, matches, indexed,
        agreements.first_seen(rows, suspect), agreements.last_changed(read_dict_csv(out_dir / "changes.csv")),
        agreements.archived_paths(read_dict_csv(Path(data_dir) / "manifest.csv")), _reference_fields)


def matched_reference(reference: pd.DataFrame, matches: list[Match]) -> dict[str, dict[str, Any]]:
    """agency_id → CSLLEA row, for the matched agencies only: a dict lookup per agreement, not a
    DataFrame .loc (thousands of those cost seconds a day)."""
    ids = {m.agency_id for m in matches if m.agency_id}
    return {row["agency_id"]: row for row in reference[reference["agency_id"].isin(ids)].to_dict("records")}


def write_outputs(data_dir: Path, rows: list[dict[str, str]], matches: list[Match],
                  reference: pd.DataFrame) -> list[str]:
    """Write the three files; returns the relative paths that changed."""
    indexed = matched_reference(reference, matches)
    counts = Counter(row_key(r) for r in rows)
    changed = []
    for rel, header, content in (
        (AGREEMENTS, agreements.AGREEMENT_COLUMNS, in_force(data_dir, rows, matches, indexed)),
        (MATCHES, MATCH_COLUMNS, match_rows(matches, indexed, counts)),
        (REVIEW, REVIEW_COLUMNS, review_rows(matches, indexed)),
    ):
        if write_dict_csv(Path(data_dir) / rel, header, content):
            changed.append(str(rel))
    return changed
