"""What changed between consecutive rosters of the same list, by agreement id.

Kinds: `added`, `removed`, `renamed` (same id, different name key), `changed` (a field of a kept
agreement: state, county, type, signed, MOA/addendum link), `moved_from_pending` (an addition to
the participating list of an agreement that was pending and never participating before) and
`moved_to_participating` (a removal from the pending list of an agreement on the participating
list right before or right after: the second half is known only once the next participating
roster is in, see `settle_moves`), and `editorial`: one row for a batch rewrite of the sheet
(abbreviations expanded, states or counties fixed across many rows), whose per-agreement detail goes
to editorial_changes.csv instead of hundreds of renames.

Only rosters that pass the publication check (checks.py) are compared, always with the list's last
good roster, and a removal is published only once the agreement is missing from two good rosters
in a row (`hold_removals`): a sheet that drops rows for a day announces nothing. An addition that
may continue a vanished agreement, on evidence too weak for a rename, names it in `possible_rename_of`.
"""

from __future__ import annotations

from operator import attrgetter

from ice_tracker.roster.ids import IdState, Match, advance, assign_roster, similarity
from ice_tracker.roster.model import Roster, Row
from ice_tracker.roster.vocab import Vocabulary

CHANGE_COLUMNS = (
    "list", "roster_date", "snapshot", "file", "previous_roster_date", "previous_snapshot", "previous_file",
    "change", "agreement_id", "state", "agency", "support_type", "field", "old", "new", "similarity", "evidence",
    "possible_rename_of",
)
COMPARED_FIELDS = ("state", "county", "type", "signed", "moa_url", "addendum_url")
_COMPARED = attrgetter(*COMPARED_FIELDS)
CHANGE_ORDER = {"editorial": -1, "added": 0, "moved_from_pending": 1, "removed": 2, "moved_to_participating": 3,
                "renamed": 4, "changed": 5, "respelled": 6}
EDITORIAL_FIELDS = ("agency", "state", "county", "type")  # wording, not substance (signed dates and links are)
PENDING_CHECK = "_check_next_participating"  # a pending removal that may prove a move later


def representatives(roster: Roster) -> dict[str, Row]:
    """The first row of each agreement (duplicated rows are reported in quality.csv)."""
    found: dict[str, Row] = {}
    for row in roster.rows:
        found.setdefault(row.agreement_id, row)
    return found


def _record(previous: dict[str, str], roster: Roster, change: str, row: Row, **extra: object) -> dict[str, object]:
    record = {
        "list": roster.list, "roster_date": roster.roster_date.isoformat() if roster.roster_date else "",
        "snapshot": roster.snapshot, "file": roster.file,
        "previous_roster_date": previous["roster_date"], "previous_snapshot": previous["snapshot"],
        "previous_file": previous["file"],
        "change": change, "agreement_id": row.agreement_id, "state": row.state, "agency": row.agency,
        "support_type": row.support_type, "field": "", "old": "", "new": "", "similarity": "", "evidence": "",
        "possible_rename_of": "",
    }
    record.update(extra)
    return record


def sort_changes(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(records, key=lambda c: (CHANGE_ORDER[str(c["change"])], c["state"], c["agency"],
                                          c["support_type"], c["field"], c["agreement_id"]))


def diff_roster(roster: Roster, matches: dict[str, Match], state: IdState, vocab: Vocabulary,
                old_rows: dict[str, Row], previous: dict[str, str]) -> list[dict[str, object]]:
    """Changes from the list's previous roster (`old_rows`, `previous`) to `roster`. `state` is as
    it was before `roster` (ids already assigned, not yet advanced)."""
    new_rows = representatives(roster)
    found: list[dict[str, object]] = []
    for ident in sorted(new_rows.keys() - old_rows.keys()):
        row = new_rows[ident]
        if roster.list == "participating" and ident in state.pended and ident not in state.participated:
            extra = {}
            match = matches.get(ident)
            if match and match.evidence == "moved":
                extra = {"field": "agency", "old": match.old_agency, "new": row.agency,
                         "similarity": f"{match.similarity:.1f}", "evidence": "name"}
            found.append(_record(previous, roster, "moved_from_pending", row, **extra))
        else:
            match = matches.get(ident)
            extra = {}
            if match and match.evidence == "possible":
                extra = {"field": "agency", "old": match.old_agency, "new": row.agency,
                         "similarity": f"{match.similarity:.1f}", "possible_rename_of": match.old_id}
            found.append(_record(previous, roster, "added", row, **extra))
    participating_now = state.last.get("participating", {})
    for ident in sorted(old_rows.keys() - new_rows.keys()):
        row = old_rows[ident]
        if roster.list == "pending" and ident in participating_now:
            found.append(_record(previous, roster, "moved_to_participating", row))
        elif roster.list == "pending":
            found.append(_record(previous, roster, "removed", row, **{PENDING_CHECK: True}))
        else:
            found.append(_record(previous, roster, "removed", row))
    for ident in sorted(old_rows.keys() & new_rows.keys()):
        old, new = old_rows[ident], new_rows[ident]
        if old.name_key != new.name_key:
            match = matches.get(ident)
            score = match.similarity if match else similarity(old.name_key, new.name_key, vocab.generic)
            evidence = match.evidence if match else "earlier_name"
            found.append(_record(previous, roster, "renamed", new, field="agency", old=old.agency,
                                 new=new.agency, similarity=f"{score:.1f}", evidence=evidence))
        elif old.agency != new.agency:  # same name key: a respelling, reported only as part of an editorial batch
            found.append(_record(previous, roster, "respelled", new, field="agency", old=old.agency, new=new.agency,
                                 similarity="100.0", evidence="same_name_key"))
        before, after = _COMPARED(old), _COMPARED(new)
        if before != after:
            for name, old_value, new_value in zip(COMPARED_FIELDS, before, after):
                if old_value != new_value:
                    found.append(_record(previous, roster, "changed", new, field=name, old=old_value, new=new_value))
    return sort_changes(found)


def hold_removals(records: list[dict[str, object]], roster: Roster, state: IdState,
                  old_rows: dict[str, Row]) -> list[dict[str, object]]:
    """Publish a removal only when the agreement is also missing from the previous good roster.
    A first absence is remembered in `state.absent` (its row stays in `state.last`, so a return is
    neither an addition nor a removal, and a rename can still find it); call after `advance`."""
    absent = state.absent.setdefault(roster.list, {})
    date = roster.roster_date.isoformat() if roster.roster_date else ""
    kept = []
    for record in records:
        ident = str(record["agreement_id"])
        if record["change"] != "removed":
            absent.pop(ident, None)  # e.g. a pending agreement that turned out to have moved
            kept.append(record)
        elif ident in absent:
            kept.append({**record, "evidence": f"missing from two good rosters since {absent.pop(ident)}"})
        else:
            absent[ident] = date
    current = state.last[roster.list]
    for ident in list(absent):
        if ident in current:
            del absent[ident]  # back on the roster: it never left
        elif ident in old_rows:
            current[ident] = old_rows[ident]
    return kept


def group_editorial(records: list[dict[str, object]], minimum: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(changes, editorial detail): renames, respellings and state/county/type fixes of at least
    `minimum` agreements in one roster become one `editorial` change; fewer stay as they are (and
    respellings, too small to matter, are dropped)."""
    wording = [r for r in records if r["change"] in ("renamed", "respelled")
               or (r["change"] == "changed" and r["field"] in EDITORIAL_FIELDS)]
    others = [r for r in records if r["change"] != "respelled" and not any(r is w for w in wording)]
    touched = {r["agreement_id"] for r in wording}
    if len(touched) < minimum:
        return sort_changes(others + [r for r in wording if r["change"] != "respelled"]), []
    fields = sorted({str(r["field"]) for r in wording}, key=EDITORIAL_FIELDS.index)
    kinds: dict[str, int] = {}
    for r in wording:
        label = f"{r['field']} {r['evidence'] or 'fixed'}" if r["field"] == "agency" else f"{r['field']} fixed"
        kinds[label] = kinds.get(label, 0) + 1
    examples = "; ".join(f"{r['old']} -> {r['new']}" for r in sort_changes(wording)[:3])
    first = wording[0]
    summary = {c: "" for c in CHANGE_COLUMNS} | {k: first[k] for k in (
        "list", "roster_date", "snapshot", "file", "previous_roster_date", "previous_snapshot", "previous_file")}
    summary.update(change="editorial", field=";".join(fields), old=f"{len(touched)} agreements",
                   new=f"e.g. {examples}", evidence="; ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
    return sort_changes(others + [summary]), sort_changes(wording)


def settle_moves(records: list[dict[str, object]], next_participating: set[str] | None) -> list[dict[str, object]]:
    """Pending removals of agreements on the next participating roster become moves; the marker is
    dropped once the next participating roster is known (it stays while it is not)."""
    if not any(PENDING_CHECK in r for r in records):
        return records
    settled = []
    for record in records:
        if PENDING_CHECK in record and next_participating is not None:
            record = {k: v for k, v in record.items() if k != PENDING_CHECK}
            if record["agreement_id"] in next_participating:
                record["change"] = "moved_to_participating"
        settled.append(record)
    return sort_changes(settled)


def diff_all(rosters: list[Roster], matches: dict[tuple[int, str], Match] | None, vocab: Vocabulary) -> list[dict[str, object]]:
    """Assign ids and list every change, rosters in publication order (`matches` is ignored: ids
    are (re)assigned here so each roster is compared with the state before it)."""
    state = IdState()
    per_roster: list[list[dict[str, object]]] = []
    for roster in rosters:
        old_rows = dict(state.last.get(roster.list, {}))
        previous = state.last_roster.get(roster.list)
        found = assign_roster(roster, state, vocab)
        per_roster.append(diff_roster(roster, found, state, vocab, old_rows, previous) if previous else [])
        advance(roster, state)
    out: list[dict[str, object]] = []
    for index, records in enumerate(per_roster):
        following = next((r for r in rosters[index + 1:] if r.list == "participating"), None)
        out.extend(settle_moves(records, {row.agreement_id for row in following.rows} if following else None))
    return [{k: v for k, v in r.items() if k != PENDING_CHECK} for r in out]
