"""What changed between consecutive rosters of the same list, by agreement id.

Kinds: `added`, `removed`, `renamed` (same id, different name key), `changed` (a field of a kept
agreement: state, county, type, signed, MOA/addendum link), `moved_from_pending` (an addition to
the participating list of an agreement that was pending and never participating before) and
`moved_to_participating` (a removal from the pending list of an agreement on the participating
list right before or right after).
"""

from __future__ import annotations

from ice_tracker.roster.ids import Match, similarity
from ice_tracker.roster.model import Roster, Row
from ice_tracker.roster.vocab import Vocabulary

CHANGE_COLUMNS = (
    "list", "roster_date", "snapshot", "file", "previous_roster_date", "previous_snapshot", "previous_file",
    "change", "agreement_id", "state", "agency", "support_type", "field", "old", "new", "similarity", "evidence",
)
COMPARED_FIELDS = ("state", "county", "type", "signed", "moa_url", "addendum_url")
CHANGE_ORDER = {"added": 0, "moved_from_pending": 1, "removed": 2, "moved_to_participating": 3, "renamed": 4, "changed": 5}


def representatives(roster: Roster) -> dict[str, Row]:
    """The first row of each agreement (duplicated rows are reported in quality.csv)."""
    found: dict[str, Row] = {}
    for row in roster.rows:
        found.setdefault(row.agreement_id, row)
    return found


def _record(previous: Roster, roster: Roster, change: str, row: Row, **extra: object) -> dict[str, object]:
    record = {
        "list": roster.list, "roster_date": roster.roster_date.isoformat() if roster.roster_date else "",
        "snapshot": roster.snapshot, "file": roster.file,
        "previous_roster_date": previous.roster_date.isoformat() if previous.roster_date else "",
        "previous_snapshot": previous.snapshot, "previous_file": previous.file,
        "change": change, "agreement_id": row.agreement_id, "state": row.state, "agency": row.agency,
        "support_type": row.support_type, "field": "", "old": "", "new": "", "similarity": "", "evidence": "",
    }
    record.update(extra)
    return record


def diff_all(rosters: list[Roster], matches: dict[tuple[int, str], Match], vocab: Vocabulary) -> list[dict[str, object]]:
    """Every change between consecutive rosters of each list (rosters in publication order)."""
    ids = [set(representatives(r)) for r in rosters]
    changes: list[dict[str, object]] = []
    previous_index: dict[str, int] = {}
    for index, roster in enumerate(rosters):
        before = previous_index.get(roster.list)
        previous_index[roster.list] = index
        if before is None:
            continue
        previous = rosters[before]
        old_rows, new_rows = representatives(previous), representatives(roster)
        found: list[dict[str, object]] = []
        for ident in sorted(new_rows.keys() - old_rows.keys()):
            row = new_rows[ident]
            match = matches.get((index, ident))
            if roster.list == "participating" and _was_only_pending(rosters, ids, index, ident):
                extra = {}
                if match and match.evidence == "moved":
                    extra = {"field": "agency", "old": match.old_agency, "new": row.agency,
                             "similarity": f"{match.similarity:.1f}", "evidence": "name"}
                found.append(_record(previous, roster, "moved_from_pending", row, **extra))
            else:
                found.append(_record(previous, roster, "added", row))
        for ident in sorted(old_rows.keys() - new_rows.keys()):
            row = old_rows[ident]
            kind = "removed"
            if roster.list == "pending" and _on_participating_nearby(rosters, ids, index, ident):
                kind = "moved_to_participating"
            found.append(_record(previous, roster, kind, row))
        for ident in sorted(old_rows.keys() & new_rows.keys()):
            old, new = old_rows[ident], new_rows[ident]
            if old.name_key != new.name_key:
                match = matches.get((index, ident))
                score = match.similarity if match else similarity(old.name_key, new.name_key, vocab.generic)
                evidence = match.evidence if match else "earlier_name"
                found.append(_record(previous, roster, "renamed", new, field="agency", old=old.agency,
                                     new=new.agency, similarity=f"{score:.1f}", evidence=evidence))
            for name in COMPARED_FIELDS:
                if getattr(old, name) != getattr(new, name):
                    found.append(_record(previous, roster, "changed", new, field=name,
                                         old=getattr(old, name), new=getattr(new, name)))
        found.sort(key=lambda c: (CHANGE_ORDER[str(c["change"])], c["state"], c["agency"], c["support_type"],
                                  c["field"], c["agreement_id"]))
        changes.extend(found)
    return changes


def _was_only_pending(rosters: list[Roster], ids: list[set[str]], index: int, ident: str) -> bool:
    seen_pending = False
    for earlier in range(index):
        if ident in ids[earlier]:
            if rosters[earlier].list == "participating":
                return False
            seen_pending = True
    return seen_pending


def _on_participating_nearby(rosters: list[Roster], ids: list[set[str]], index: int, ident: str) -> bool:
    """On the participating roster current at `index`, or on the next one published."""
    before = next((i for i in range(index - 1, -1, -1) if rosters[i].list == "participating"), None)
    after = next((i for i in range(index + 1, len(rosters)) if rosters[i].list == "participating"), None)
    return any(i is not None and ident in ids[i] for i in (before, after))
