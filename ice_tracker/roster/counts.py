"""Agreements and distinct agencies per roster × list × model × state (with `ALL` totals)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

from ice_tracker.roster.model import Roster

COUNT_COLUMNS = ("roster_date", "snapshot", "file", "list", "support_type", "state", "rows", "agreements", "agencies")
ALL = "ALL"


def _count(meta: tuple[str, str, str, str], rows: Iterable[tuple[str, str, str, str]]) -> list[tuple]:
    """Count lines of one roster; `meta` = (roster_date, snapshot, file, list), each row =
    (support_type, state, agreement_id, agency name key)."""
    groups: dict[tuple[str, str], list] = defaultdict(lambda: [0, set(), set()])
    for model, state, agreement, key in rows:
        group = groups[(model, state)]
        group[0] += 1
        group[1].add(agreement)
        group[2].add((state, key))
    for (model, state), (n, agreements, agencies) in list(groups.items()):
        for total in ((model, ALL), (ALL, state), (ALL, ALL)):
            merged = groups[total]
            merged[0] += n
            merged[1] |= agreements
            merged[2] |= agencies
    return [(*meta, model, state, n, len(agreements), len(agencies))
            for (model, state), (n, agreements, agencies) in sorted(groups.items())]


def roster_counts(rosters: list[Roster]) -> list[tuple]:
    """`agreements` = distinct agreement ids, `agencies` = distinct (state, agency name key),
    `rows` = workbook rows (more than agreements when a row is duplicated)."""
    out = []
    for roster in rosters:
        date = roster.roster_date.isoformat() if roster.roster_date else ""
        out += _count((date, roster.snapshot, roster.file, roster.list),
                      ((r.support_type, r.state, r.agreement_id, r.name_key) for r in roster.rows))
    return out


def counts_frame(history: pd.DataFrame, vocab) -> pd.DataFrame:
    """`roster_counts` of the per-snapshot history table (read_snapshots), as text columns."""
    from ice_tracker.roster.ids import name_key

    keys: dict[str, str] = {}
    out: list[tuple] = []
    columns = ["roster_date", "snapshot", "file", "list", "support_type", "state", "agreement_id", "agency"]
    for meta, part in history[columns].groupby(["snapshot", "file"], sort=False):
        first = part.iloc[0]
        rows = ((m, s, a, keys.get(n) or keys.setdefault(n, name_key(n, vocab)))
                for m, s, a, n in zip(part["support_type"], part["state"], part["agreement_id"], part["agency"]))
        out += _count((first["roster_date"], first["snapshot"], first["file"], first["list"]), rows)
    return pd.DataFrame([[str(v) for v in row] for row in out], columns=list(COUNT_COLUMNS), dtype=str)
