"""Agreements and distinct agencies per roster × list × model × state (with `ALL` totals)."""

from __future__ import annotations

from collections import defaultdict

from ice_tracker.roster.model import Roster

COUNT_COLUMNS = ("roster_date", "snapshot", "file", "list", "support_type", "state", "rows", "agreements", "agencies")
ALL = "ALL"


def roster_counts(rosters: list[Roster]) -> list[tuple]:
    """`agreements` = distinct agreement ids, `agencies` = distinct (state, agency name key),
    `rows` = workbook rows (more than agreements when a row is duplicated)."""
    out = []
    for roster in rosters:
        groups: dict[tuple[str, str], list] = defaultdict(lambda: [0, set(), set()])
        for row in roster.rows:
            group = groups[(row.support_type, row.state)]
            group[0] += 1
            group[1].add(row.agreement_id)
            group[2].add((row.state, row.name_key))
        for (model, state), (rows, agreements, agencies) in list(groups.items()):
            for total in ((model, ALL), (ALL, state), (ALL, ALL)):
                merged = groups[total]
                merged[0] += rows
                merged[1] |= agreements
                merged[2] |= agencies
        date = roster.roster_date.isoformat() if roster.roster_date else ""
        for (model, state), (rows, agreements, agencies) in sorted(groups.items()):
            out.append((date, roster.snapshot, roster.file, roster.list, model, state, rows, len(agreements), len(agencies)))
    return out
