"""Roster history as validity intervals: one line per agreement version instead of one per row per snapshot.

A roster of ~2,400 rows published twice a day repeats almost every row. Stored per snapshot, the
history grows by a whole roster per workbook and a day with three changes shows as thousands of new
lines. Here each list's rosters are read in publication order and every value is kept once, with
the roster it first appeared in (`valid_from`) and the first roster of the same list without it
(`valid_to`, empty while still in force). An unchanged agreement's line never changes, so a day
without changes changes nothing but one line of the roster list, and a changed agreement closes
one line and adds another.

Three interval tables give back every roster row exactly:
- versions: an agreement's fields (`agreement_id` + `occurrence`, 2 for a duplicated row);
- positions: where the row stands (a rank rows sort by, see ranks.py, and the step in Excel row
  numbers from the row above), kept apart so that ICE re-sorting a workbook never touches a version
  line. A position stays in force after its row leaves (rows sort among the rows present), so adding
  or removing a row changes one position line at most;
- quality: what was fixed in which row (row-level issues follow the row; file-level ones carry the file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ice_tracker.roster.model import HISTORY_COLUMNS
from ice_tracker.roster.ranks import place

ROW = HISTORY_COLUMNS[HISTORY_COLUMNS.index("row_number"):]  # a roster row as RosterRows holds it
FIELDS = ROW[1:ROW.index("agreement_id")]
AGREEMENT = ROW.index("agreement_id")
FORMAT = ROW.index("source_format")  # the same for every row of a roster: kept in snapshots.csv
META = ("snapshot", "file", "roster_date", "roster_date_source", "list")
KEY = ("list", "agreement_id", "occurrence")
SPAN = ("valid_from", "valid_from_date", "valid_to", "valid_to_date")
SNAPSHOT_COLUMNS = (*META, "rows", "source_format", "verdict")  # verdict: the publication check's (checks.py)
VERSION_COLUMNS = (*KEY, *FIELDS, *SPAN)
POSITION_COLUMNS = (*KEY, "rank", "row_step", *SPAN)
QUALITY_COLUMNS = (*KEY, "file", "column", "raw", "fixed", "rule", *SPAN)


class HistoryCorrupt(ValueError):
    """The interval files do not add up to the rosters they list (edited by hand, or truncated)."""


@dataclass
class RosterRows:
    """One roster as the history step saw it: its metadata, its rows (HISTORY_COLUMNS from
    `row_number` on, as text), its quality issues (row, column, raw, fixed, rule), how it held its
    rows (`source_format`) and the publication check's verdict (good / suspect)."""

    snapshot: str
    file: str
    roster_date: str
    roster_date_source: str
    list: str
    rows: list[Sequence[str]] = field(default_factory=list)
    quality: list[Sequence[str]] = field(default_factory=list)
    source_format: str = "xlsx"
    verdict: str = "good"

    def meta(self) -> tuple[str, ...]:
        return (self.snapshot, self.file, self.roster_date, self.roster_date_source, self.list)


def roster_ids(metas: Iterable[Sequence[str]]) -> list[str]:
    """How intervals name a roster: its snapshot, or `snapshot/file` when a snapshot holds two
    rosters of one list (never seen, but then the snapshot alone would be ambiguous)."""
    metas = list(metas)
    seen: dict[tuple[str, str], int] = {}
    for meta in metas:
        seen[(meta[0], meta[4])] = seen.get((meta[0], meta[4]), 0) + 1
    return [meta[0] if seen[(meta[0], meta[4])] == 1 else f"{meta[0]}/{meta[1]}" for meta in metas]


def row_keys(rows: Iterable[Sequence[str]]) -> list[tuple[str, str]]:
    """(agreement_id, occurrence) of each row: the n-th row of one agreement in a roster is occurrence n."""
    counts: dict[str, int] = {}
    keys = []
    for row in rows:
        agreement = row[AGREEMENT]
        counts[agreement] = counts.get(agreement, 0) + 1
        keys.append((agreement, str(counts[agreement])))
    return keys


class Encoder:
    """Builds the interval tables one roster at a time (publication order), so that a daily run adds
    only the new rosters to the state saved after the previous run (`to_json` / `from_json`)."""

    TABLES = ("v", "p", "q")

    def __init__(self) -> None:
        self.snapshots: list[tuple[str, ...]] = []
        self.ids: list[str] = []
        # per list and table: key -> [value, from, from_date, from_index]; closed runs as records
        self.open: dict[str, dict[str, dict]] = {}
        self.closed: dict[str, dict[str, list]] = {}
        self.count: dict[str, int] = {}

    def add(self, roster: RosterRows, rid: str) -> None:
        name = roster.list
        open_ = self.open.setdefault(name, {t: {} for t in self.TABLES})
        closed = self.closed.setdefault(name, {t: [] for t in self.TABLES})
        index = self.count.get(name, 0)
        self.count[name] = index + 1
        formats = {row[FORMAT] for row in roster.rows} - {roster.source_format}
        if formats:
            raise ValueError(f"{roster.file}: rows say source_format {sorted(formats)}, the roster "
                             f"{roster.source_format!r}")
        self.snapshots.append((*roster.meta(), str(len(roster.rows)), roster.source_format, roster.verdict))
        self.ids.append(rid)
        keys = row_keys(roster.rows)
        ranks = place(keys, {key: run[0][0] for key, run in open_["p"].items()})
        steps = [str(int(row[0]) - (int(before[0]) if before else 0))
                 for row, before in zip(roster.rows, [None, *roster.rows[:-1]])]
        # rows that left keep their position (nothing to write for them): only present rows are compared
        placed = {key: run[0] for key, run in open_["p"].items()}
        placed.update((key, (rank, step)) for key, rank, step in zip(keys, ranks, steps))
        by_row = {row[0]: key for key, row in zip(keys, roster.rows)}
        issues = {}
        for row, column, raw, fixed, rule in roster.quality:
            key = by_row.get(str(row), ("", ""))
            issues[(*key, "" if key[0] else roster.file, column, raw, fixed, rule)] = ()
        values = {"v": {k: tuple(row[1:AGREEMENT]) for k, row in zip(keys, roster.rows)}, "p": placed, "q": issues}
        for table in self.TABLES:
            runs, now = open_[table], values[table]
            for key in [k for k, run in runs.items() if now.get(k) != run[0]]:
                value, start, start_date, start_index = runs.pop(key)
                closed[table].append((key, value, start, start_date, rid, roster.roster_date, start_index))
            for key, value in now.items():
                if key not in runs:
                    runs[key] = (value, rid, roster.roster_date, index)

    def tables(self, orphans: Sequence[Sequence[str]] = ()) -> dict[str, list[tuple]]:
        """The interval tables as sorted lines; `orphans`: quality issues of workbooks that are no
        roster (snapshot, file, row, column, raw, fixed, rule), in force while the file is archived."""
        out: dict[str, list] = {t: [] for t in self.TABLES}
        for name in sorted(self.open):
            for table in self.TABLES:
                out[table] += [((name, *k), v, *span) for k, v, *span in self.closed[name][table]]
                out[table] += [((name, *k), v, start, date, "", "", index)
                               for k, (v, start, date, index) in self.open[name][table].items()]
        for snapshot, file, _row, column, raw, fixed, rule in orphans:
            out["q"].append((("", "", "", file, column, raw, fixed, rule), (), snapshot, "", "", "", -1))

        def lines(records, order):
            records.sort(key=order)
            return [(*key, *value, *span[:4]) for key, value, *span in records]

        by_key = lambda r: (r[0][0], r[0][1], int(r[0][2] or 0), r[6])  # noqa: E731  list, id, occurrence, start
        return {
            "snapshots": list(self.snapshots),
            "versions": lines(out["v"], by_key),
            "positions": lines(out["p"], by_key),
            "quality": lines(out["q"], lambda r: (r[0][0], r[0][1], int(r[0][2] or 0), r[0][3:], r[2], r[6])),
        }

    def to_json(self) -> dict:
        return {"snapshots": self.snapshots, "ids": self.ids, "count": self.count,
                "open": {n: {t: [[list(k), v, *run] for k, (v, *run) in tables[t].items()] for t in self.TABLES}
                         for n, tables in self.open.items()},
                "closed": self.closed}

    @classmethod
    def from_json(cls, data: dict) -> Encoder:
        def value(table: str, v):
            return tuple(v) if table != "p" else (v[0], v[1])

        encoder = cls()
        encoder.snapshots = [tuple(s) for s in data["snapshots"]]
        encoder.ids, encoder.count = list(data["ids"]), dict(data["count"])
        encoder.open = {n: {t: {tuple(k): (value(t, v), *run) for k, v, *run in tables[t]} for t in cls.TABLES}
                        for n, tables in data["open"].items()}
        encoder.closed = {n: {t: [(tuple(k), value(t, v), *span) for k, v, *span in tables[t]] for t in cls.TABLES}
                          for n, tables in data["closed"].items()}
        return encoder


def encode(rosters: list[RosterRows], orphans: Sequence[Sequence[str]] = ()) -> dict[str, list[tuple]]:
    """Interval tables (lines sorted so that an unchanged line never moves) from rosters in publication order."""
    encoder = Encoder()
    for rid, roster in zip(roster_ids(r.meta() for r in rosters), rosters):
        encoder.add(roster, rid)
    return encoder.tables(orphans)


def decode(snapshots: list[dict[str, str]], versions: list[dict[str, str]],
           positions: list[dict[str, str]]) -> list[list[tuple[str, ...]]]:
    """The rows (HISTORY_COLUMNS, as text) of each roster in `snapshots`: the exact inverse of
    `encode`. Raises HistoryCorrupt when the tables do not add up."""
    metas = [tuple(s[c] for c in META) for s in snapshots]
    ids = roster_ids(metas)
    out_by_roster: list[list[tuple]] = [[] for _ in metas]
    for name in sorted({m[4] for m in metas}):
        order = [i for i, m in enumerate(metas) if m[4] == name]
        index_of = {ids[i]: n for n, i in enumerate(order)}
        starts: list[list] = [[] for _ in order]
        ends: list[list] = [[] for _ in order]
        for kind, table in (("v", versions), ("p", positions)):
            for line in table:
                if line["list"] != name:
                    continue
                key = (line["agreement_id"], line["occurrence"])
                if kind == "v":
                    value = tuple(line[c] for c in FIELDS)
                else:
                    value = (line["rank"], int(line["row_step"]))
                begin = index_of.get(line["valid_from"])
                end = index_of.get(line["valid_to"]) if line["valid_to"] else len(order)
                if begin is None or end is None:
                    raise HistoryCorrupt(f"{name} {key}: roster {line['valid_from']!r}/{line['valid_to']!r} not listed")
                starts[begin].append((kind, key, value))
                if end < len(order):
                    ends[end].append((kind, key))
        active = {"v": {}, "p": {}}
        for n, i in enumerate(order):
            for kind, key in ends[n]:
                active[kind].pop(key, None)
            for kind, key, value in starts[n]:
                active[kind][key] = value
            try:
                present = sorted(active["v"], key=lambda k: active["p"][k][0])
            except KeyError as exc:
                raise HistoryCorrupt(f"{ids[i]} {name}: row {exc} has a version but no position") from None
            rows, number, fmt = [], 0, snapshots[i].get("source_format") or "xlsx"
            for key in present:
                number += active["p"][key][1]
                rows.append((*metas[i], str(number), *active["v"][key], key[0], fmt))
            expected = int(snapshots[i].get("rows") or 0)
            if len(rows) != expected:
                raise HistoryCorrupt(f"{ids[i]} {name}: {len(rows)} rows rebuilt, {expected} listed")
            out_by_roster[i] = rows
    return out_by_roster


def rosters_from_rows(rows: Iterable[dict[str, object]]) -> list[RosterRows]:
    """Per-snapshot rows (HISTORY_COLUMNS dicts, e.g. an older history file) grouped into rosters,
    in snapshot order: what `encode` takes."""
    rosters: dict[tuple[str, str], RosterRows] = {}
    for row in rows:
        text = {c: str(row.get(c, "")) for c in HISTORY_COLUMNS}
        text["source_format"] = text["source_format"] or "xlsx"  # files written before the column
        roster = rosters.setdefault((text["snapshot"], text["file"]),
                                    RosterRows(*(text[c] for c in META), source_format=text["source_format"]))
        roster.rows.append([text[c] for c in ROW])
    return [rosters[key] for key in sorted(rosters, key=lambda k: (k[0], rosters[k].list, k[1]))]
