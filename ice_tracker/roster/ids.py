"""Stable agreement ids: one per agency × model, surviving trivial and detected renames.

Rosters are walked in publication order. A row's key is (state, model, name key), where the name
key ignores case, spacing, apostrophe style, punctuation, common abbreviations and a leading
"City of"/"Town of" (ice_tracker/data/agency_words.csv). A known key keeps its id. A new key is matched against
the agreements that disappeared from the same list since its previous roster (and, on the
participating list, against agreements still waiting on the pending list): same state and model,
and either the same MOA link or (of the same kind) the same signed date with a similar name
(similarity >= rename_min_similarity in data/publication_checks.csv), or a very similar name.
Best pairs win; everything else gets a new id, and a weaker pairing (same state and model, same
link or similar name, but no more) is only named as `possible_rename_of` on the addition. The id is `<postal code>-<model>-<hash of the first
name key>`, so it is stable across re-runs and readable at a glance.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from ice_tracker.roster.checks import limit
from ice_tracker.roster.model import MODEL_CODES, Roster, Row
from ice_tracker.roster.vocab import Vocabulary

NAME_THRESHOLD = 90.0  # name similarity alone
# with the same signed date or MOA link (data/publication_checks.csv, rename_min_similarity, says why)
SIGNED_THRESHOLD = limit("rename_min_similarity")
EVIDENCE_RANK = {"moa_url": 3, "state_fix": 2, "signed": 1, "name": 0}
APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")
TRAILING_STATE = re.compile(r",\s*([A-Z]{2})\.?\s*$")


@lru_cache(maxsize=65536)
def name_key(name: str, vocab: Vocabulary) -> str:
    """Agency name reduced to what identifies it: `Ft. Myers Police Dept.` → `FORT MYERS POLICE DEPARTMENT`."""
    text = APOSTROPHES.sub("", name.upper()).replace("&", " AND ")
    suffix = TRAILING_STATE.search(text)  # "Arnaudville Police Department, LA"
    if suffix and suffix.group(1) in vocab.states.values():
        text = text[: suffix.start()]
    tokens: list[str] = []
    for token in re.sub(r"[^A-Z0-9]+", " ", text).split():
        tokens.extend(vocab.abbreviations.get(token, token).split())
    for prefix in vocab.prefixes:
        if tuple(tokens[: len(prefix)]) == prefix and len(tokens) > len(prefix):
            tokens = tokens[len(prefix):]
            break
    return " ".join(tokens)


def similarity(a: str, b: str, generic: frozenset[str]) -> float:
    """0–100: edit similarity of the distinctive words only (sorted). Generic words (county,
    sheriff's office, police…) are shared by most names, so scoring on them would pair `Madison
    County Sheriff's Office` with `Marion County Sheriff's Office`; an extra distinctive word
    (`West Melbourne`, `University of North Florida`) costs, a generic one (`… Department`) not."""
    if a == b:
        return 100.0
    return round(fuzz.token_sort_ratio(core(a, generic), core(b, generic)), 1)


@lru_cache(maxsize=65536)
def core(key: str, generic: frozenset[str]) -> str:
    """The distinctive words of a name key (the whole key when every word is generic)."""
    return " ".join(t for t in key.split() if t not in generic) or key


def same_kind(a: str, b: str, kinds: frozenset[str]) -> bool:
    """False when both names say what kind of agency they are and the kinds differ (sheriff vs police)."""
    kind_a = kinds.intersection(a.split())
    kind_b = kinds.intersection(b.split())
    return not kind_a or not kind_b or bool(kind_a & kind_b)


@dataclass
class Match:
    """Why a new name kept an older agreement's id."""

    old_agency: str
    old_state: str
    similarity: float
    evidence: str  # moa_url / signed / name / state_fix, "moved" (pending → participating), "possible" (weak)
    old_id: str = ""  # for "possible": the agreement the new one may continue (it keeps its own id)


def _evidence(old: Row, new: Row, score: float, vocab: Vocabulary) -> str | None:
    if old.state != new.state:  # a corrected state: everything else identical
        same = (old.name_key, old.county, old.signed) == (new.name_key, new.county, new.signed)
        return "state_fix" if same and old.county and old.signed else None
    if old.moa_url and old.moa_url == new.moa_url and score >= SIGNED_THRESHOLD:
        return "moa_url"  # one agreement PDF: the kind word may change (State Patrol → State Police)
    if not same_kind(old.name_key, new.name_key, vocab.kinds):
        return None
    if old.signed and old.signed == new.signed and score >= SIGNED_THRESHOLD:
        return "signed"
    if score >= NAME_THRESHOLD:
        return "name"
    return None


def make_id(row: Row, vocab: Vocabulary, taken: set[str]) -> str:
    digest = hashlib.sha1(f"{row.state}|{row.support_type}|{row.name_key}".encode()).hexdigest()
    base = f"{vocab.code(row.state)}-{MODEL_CODES.get(row.support_type, 'UNK')}-{digest[:6]}"
    ident, n = base, 1
    while ident in taken:
        n += 1
        ident = f"{base}-{n}"
    return ident


def _candidate_pairs(unresolved: dict[tuple[str, str, str], list[Row]], pool: list[tuple[str, Row, bool]],
                     vocab: Vocabulary) -> list[tuple]:
    """Every acceptable (new key, older id) pairing, best first once sorted. Only names of the same
    model and state are scored; another state only for an identical name (a corrected state)."""
    by_block: dict[tuple[str, str], list[tuple[str, Row, bool]]] = {}
    by_name: dict[tuple[str, str], list[tuple[str, Row, bool]]] = {}
    for item in pool:
        old = item[1]
        by_block.setdefault((old.support_type, old.state), []).append(item)
        if not item[2]:
            by_name.setdefault((old.support_type, old.name_key), []).append(item)
    pairs = []
    for key, rows in unresolved.items():
        new = rows[0]
        same_state = by_block.get((new.support_type, new.state), [])
        other_state = [i for i in by_name.get((new.support_type, new.name_key), []) if i[1].state != new.state]
        new_core = core(new.name_key, vocab.generic)
        for ident, old, moved in same_state + other_state:
            same_link = bool(old.moa_url) and old.moa_url == new.moa_url
            if not same_link and old.state == new.state:  # cheap reject before the full scoring
                if fuzz.token_sort_ratio(new_core, core(old.name_key, vocab.generic), score_cutoff=SIGNED_THRESHOLD) == 0:
                    continue
            score = similarity(old.name_key, new.name_key, vocab.generic)
            evidence = _evidence(old, new, score, vocab)
            if evidence is not None:
                pairs.append((-EVIDENCE_RANK[evidence], -score, key, ident, evidence, old, moved))
            elif old.state == new.state and not moved and (same_link or score >= SIGNED_THRESHOLD):
                # weaker: named as `possible_rename_of` on the addition only
                pairs.append((1, -score, key, ident, "possible", old, moved))  # after every real pair
    return pairs


ROW_STATE_FIELDS = ("state", "support_type", "name_key", "agency", "county", "type", "signed", "moa_url",
                    "addendum_url", "agreement_id")


@dataclass
class IdState:
    """Everything id assignment (and change detection) needs to know about the rosters seen so far,
    so a run can continue from the last roster instead of replaying the whole history."""

    registry: dict[tuple[str, str, str], str] = field(default_factory=dict)
    all_ids: set[str] = field(default_factory=set)
    last: dict[str, dict[str, Row]] = field(default_factory=dict)  # list → id → its first row
    waiting: dict[str, Row] = field(default_factory=dict)  # pending ids that never reached participating
    participated: set[str] = field(default_factory=set)  # ids ever on the participating list
    pended: set[str] = field(default_factory=set)  # ids ever on the pending list
    last_roster: dict[str, dict[str, str]] = field(default_factory=dict)  # list → snapshot/file/roster_date
    good: dict[str, dict] = field(default_factory=dict)  # list → checks.Profile (JSON) of its last good roster
    absent: dict[str, dict[str, str]] = field(default_factory=dict)  # list → id → roster date it first went missing

    def to_json(self) -> dict:
        def rows(found: dict[str, Row]) -> dict[str, dict]:
            return {i: {f: getattr(r, f) for f in ROW_STATE_FIELDS} for i, r in sorted(found.items())}

        return {
            "registry": sorted([*k, v] for k, v in self.registry.items()),
            "all_ids": sorted(self.all_ids),
            "last": {name: rows(found) for name, found in sorted(self.last.items())},
            "waiting": rows(self.waiting),
            "participated": sorted(self.participated),
            "pended": sorted(self.pended),
            "last_roster": self.last_roster,
            "good": self.good,
            "absent": {name: dict(sorted(found.items())) for name, found in sorted(self.absent.items())},
        }

    @classmethod
    def from_json(cls, data: dict) -> "IdState":
        def rows(found: dict[str, dict]) -> dict[str, Row]:
            return {i: _state_row(values) for i, values in found.items()}

        return cls(
            registry={(a, b, c): v for a, b, c, v in data["registry"]},
            all_ids=set(data["all_ids"]),
            last={name: rows(found) for name, found in data["last"].items()},
            waiting=rows(data["waiting"]),
            participated=set(data["participated"]),
            pended=set(data["pended"]),
            last_roster=data["last_roster"],
            good=data.get("good", {}),
            absent=data.get("absent", {}),
        )


def _state_row(values: dict[str, str]) -> Row:
    row = Row(snapshot="", file="", roster_date="", roster_date_source="", list="", row_number=0, state="",
              state_raw="", agency="", county="", county_raw="", type="", support_type="", support_type_raw="",
              signed="", signed_raw="", moa_url="", addendum_url="")
    for name, value in values.items():
        setattr(row, name, value)
    return row


def assign_roster(roster: Roster, state: IdState, vocab: Vocabulary) -> dict[str, Match]:
    """Set `agreement_id` on the roster's rows and advance `state`; returns the name matches made."""
    for row in roster.rows:
        row.name_key = row.name_key or name_key(row.agency, vocab)
    here: dict[str, tuple[str, str, str]] = {}  # id → the key holding it in this roster
    unresolved: dict[tuple[str, str, str], list[Row]] = {}
    for row in roster.rows:
        key = (row.state, row.support_type, row.name_key)
        ident = state.registry.get(key)
        if ident is not None and here.get(ident, key) == key:
            here[ident] = key
            row.agreement_id = ident
        else:
            unresolved.setdefault(key, []).append(row)
    gone = {i: r for i, r in state.last.get(roster.list, {}).items() if i not in here}
    pool = [(i, r, False) for i, r in sorted(gone.items())]
    if roster.list == "participating":
        pool += [(i, r, True) for i, r in sorted(state.waiting.items()) if i not in here and i not in gone]
    matches: dict[str, Match] = {}
    pairs = _candidate_pairs(unresolved, pool, vocab)
    pairs.sort(key=lambda p: p[:4])
    possible: dict[tuple[str, str, str], Match] = {}
    for _, negative_score, key, ident, evidence, old, moved in pairs:
        if key not in unresolved or ident in here:
            continue
        if evidence == "possible":  # too weak to keep the id: named on the addition, decided by a person
            possible.setdefault(key, Match(old.agency, old.state, -negative_score, evidence, ident))
            continue
        state.registry[key] = ident
        here[ident] = key
        for row in unresolved.pop(key):
            row.agreement_id = ident
        matches[ident] = Match(old.agency, old.state, -negative_score, "moved" if moved else evidence)
    for key, rows in sorted(unresolved.items()):
        ident = make_id(rows[0], vocab, state.all_ids)
        state.all_ids.add(ident)
        state.registry[key] = ident
        for row in rows:
            row.agreement_id = ident
        if key in possible:
            matches[ident] = possible[key]
    current: dict[str, Row] = {}
    for row in roster.rows:
        current.setdefault(row.agreement_id, row)
        state.all_ids.add(row.agreement_id)
    state.last[roster.list] = current
    return matches


def assign_ids(rosters: list[Roster], vocab: Vocabulary) -> dict[tuple[int, str], Match]:
    """Set `agreement_id` on every row (rosters in publication order); returns the name matches
    made, keyed by (roster index, id). (`advance` must follow each roster for the next to see it.)"""
    state = IdState()
    matches: dict[tuple[int, str], Match] = {}
    for index, roster in enumerate(rosters):
        for ident, match in assign_roster(roster, state, vocab).items():
            matches[(index, ident)] = match
        advance(roster, state)
    return matches


def advance(roster: Roster, state: IdState) -> None:
    """Record that `roster` has been seen (after its changes were computed against the old state)."""
    current = state.last[roster.list]
    state.last_roster[roster.list] = {"snapshot": roster.snapshot, "file": roster.file,
                                      "roster_date": roster.roster_date.isoformat() if roster.roster_date else ""}
    if roster.list == "pending":
        state.pended.update(current)
        state.waiting.update({i: r for i, r in current.items() if i not in state.participated})
    else:
        state.participated.update(current)
        for ident in current:
            state.waiting.pop(ident, None)
