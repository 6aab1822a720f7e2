"""Match roster agencies to CSLLEA 2018 agencies: one scored answer (or a reasoned "no match") each.

Order of evidence, first that decides wins:
1. an override a person wrote (`overrides/agency_matches.csv`), including "NONE";
2. an alias (`overrides/agency_aliases.csv`) naming the CSLLEA agency;
3. the same normalised name among CSLLEA agencies of the same state and a compatible kind;
4. a fuzzy score (rapidfuzz token-sort ratio on core names, whole-state block at once).

Kinds keep like with like: a jail, a corrections department or a county commission is never the
sheriff; kinds CSLLEA does not hold (guards, commissions) get "no match". County is evidence: a
small bonus or penalty, and what separates same-name townships; when it cannot, nobody is chosen.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from ice_tracker.matching.aliases import Alias, Override
from ice_tracker.matching.normalise import (
    COMPATIBLE,
    EXPECTED_IN_CSLLEA,
    clean_county,
    clean_name,
    core_name,
    normalise_state,
    parent_name,
    place_core,
    reference_kind,
    roster_key,
    roster_kind,
    state_postal,
)

log = logging.getLogger(__name__)

ACCEPT = 90.0  # lowest fuzzy score that is given an agency_id
CONFIDENT = 95.0  # at or above, with a clear margin, no review needed
MIN_MARGIN = 3.0  # best must beat a different runner-up by this much to be chosen
CLEAR_MARGIN = 8.0  # below this margin the choice is flagged for review
CANDIDATE_FLOOR = 60.0  # candidates scoring below are not worth showing
REVIEW_FLOOR = 80.0  # an unmatched agency of a kind CSLLEA rarely holds is reviewed only above this
COUNTY_BONUS = 2.0
COUNTY_PENALTY = 6.0
COUNTY_SAME = 85.0  # county spellings this similar are the same county ('Alleghany' / 'ALLEGHENY')
TOP_CANDIDATES = 3
PLACE_ONLY_SCORE = 92.0  # a sheriff whose place matches once COUNTY/CITY are ignored (Virginia cities)
SOLE_STATE_POLICE_SCORE = 90.0  # a state-level police/patrol/DPS and the state's only primary state police
TOKEN_SAME = 70.0  # a word this similar to a word of the other name counts as the same word (a typo)


@dataclass(frozen=True)
class Query:
    """One distinct roster agency: (state, agency) with its most common county and ICE type."""

    state: str
    agency: str
    county: str = ""
    roster_type: str = ""


@dataclass(frozen=True)
class Candidate:
    agency_id: str
    name: str
    score: float


@dataclass
class Match:
    query: Query
    agency_id: str | None
    match_score: float | None
    match_method: str  # exact / alias / fuzzy / override / none
    needs_review: bool
    review_reason: str = ""
    kind: str = ""
    candidates: list[Candidate] = field(default_factory=list)  # best first, distinct agencies
    note: str = ""  # the hand note behind an override or alias ("created January 2025 ...")

    @property
    def runner_up(self) -> Candidate | None:
        """The best candidate that was not chosen."""
        return next((c for c in self.candidates if c.agency_id != self.agency_id), None)


class Reference:
    """CSLLEA prepared for matching: cleaned names, cores, kinds and counties, grouped by state."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.reset_index(drop=True)
        names = self.frame["name"].astype(str)
        self.clean = [clean_name(n) for n in names]
        self.core = [core_name(c) for c in self.clean]
        parents = [parent_name(n) for n in names]
        self.parent_core = [core_name(clean_name(p)) if p else "" for p in parents]
        self.kind = [reference_kind(c, t) for c, t in zip(self.clean, self.frame["agency_type_code"])]
        self.county = [clean_county(c) for c in self.frame["county"]]
        self.ids = self.frame["agency_id"].astype(str).tolist()
        self.names = names.tolist()
        self.id_index = {agency_id: i for i, agency_id in enumerate(self.ids)}
        self.blocks: dict[str, np.ndarray] = {
            state: np.asarray(index, dtype=np.int64)
            for state, index in self.frame.groupby("state", sort=True).indices.items()
        }

    def in_state(self, postal: str) -> np.ndarray:
        return self.blocks.get(postal, np.empty(0, dtype=np.int64))


def _candidate(ref: Reference, i: int, score: float) -> Candidate:
    return Candidate(ref.ids[i], ref.names[i], round(float(score), 1))


def _override_match(query: Query, override: Override, ref: Reference) -> Match | None:
    if override.agency_id is None:
        return Match(query, None, None, "override", False, f"override: {override.note or 'no CSLLEA agency'}",
                     note=override.note)
    if override.agency_id not in ref.id_index:
        log.error("override line %d: agency_id %s is not in CSLLEA; ignored", override.line, override.agency_id)
        return None
    i = ref.id_index[override.agency_id]
    return Match(query, override.agency_id, 100.0, "override", False, "", candidates=[_candidate(ref, i, 100.0)],
                 note=override.note)


def _alias_target(alias: Alias, postal: str, ref: Reference) -> int | None:
    wanted = clean_name(alias.csllea_name)
    hits = [int(i) for i in ref.in_state(postal) if ref.clean[i] == wanted]
    if len(hits) != 1:
        log.error("alias line %d: %d CSLLEA agencies named %r in %s; alias ignored",
                  alias.line, len(hits), alias.csllea_name, postal)
        return None
    return hits[0]


def tokens_accounted(left: str, right: str) -> bool:
    """Every word of each core name has a look-alike in the other: the names differ by typos only.

    Token-sort scores forgive a missing short word ('FLORIDA A M UNIVERSITY' vs 'UNIVERSITY FLORIDA'
    scores 90); a fuzzy match must not.
    """
    a, b = left.split(), right.split()
    if not a or not b:
        return False
    return all(max(fuzz.ratio(x, y) for y in b) >= TOKEN_SAME for x in a) and all(
        max(fuzz.ratio(y, x) for x in a) >= TOKEN_SAME for y in b
    )


def _county_adjustment(query_county: str, cand_counties: list[str]) -> np.ndarray:
    """+bonus where the county agrees, -penalty where both are known and differ, 0 when unknown."""
    adjust = np.zeros(len(cand_counties))
    if not query_county:
        return adjust
    for j, county in enumerate(cand_counties):
        if not county:
            continue
        same = county == query_county or fuzz.ratio(county, query_county) >= COUNTY_SAME
        adjust[j] = COUNTY_BONUS if same else -COUNTY_PENALTY
    return adjust


def _decide(query: Query, kind: str, q_core: str, ref: Reference, block: np.ndarray, raw: np.ndarray,
            exact: np.ndarray, adjusted: np.ndarray, via: dict[int, str] | None = None) -> Match:
    """Pick from one query's scored candidates (arrays aligned with `block`); `via` explains rule-based scores."""
    via = via or {}
    worth = np.flatnonzero(raw >= CANDIDATE_FLOOR)
    # An exact normalised name beats any fuzzy one; then score (county included), then id for stable output.
    order = sorted(worth.tolist(), key=lambda j: (not exact[j], -adjusted[j], ref.ids[block[j]]))
    shown = order[:TOP_CANDIDATES + 1]
    candidates = [_candidate(ref, int(block[j]), min(100.0, adjusted[j])) for j in shown]
    if not COMPATIBLE.get(kind):
        reason = f"a {kind.replace('_', ' ')} is not a CSLLEA agency type"
        return Match(query, None, None, "none", False, reason, kind, candidates)
    if not shown:
        review = kind in EXPECTED_IN_CSLLEA
        reason = "no CSLLEA agency of this kind with a similar name in the state" if review else ""
        return Match(query, None, None, "none", review, reason, kind, candidates)
    best = shown[0]
    best_score = min(100.0, float(adjusted[best]))
    runner = shown[1] if len(shown) > 1 else None
    runner_score = float(min(100.0, adjusted[runner])) if runner is not None else 0.0
    margin = best_score - runner_score
    chosen = ref.ids[block[best]]
    if exact[best]:
        if runner is not None and exact[runner] and margin < MIN_MARGIN:
            reason = "several CSLLEA agencies in the state share this name; county does not tell them apart"
            return Match(query, None, None, "none", True, reason, kind, candidates)
        if ref.core[block[best]] != q_core:
            reason = f"CSLLEA lists a division of this agency: {ref.names[block[best]]}"
            return Match(query, chosen, best_score, "exact", True, reason, kind, candidates)
        return Match(query, chosen, best_score, "exact", False, "", kind, candidates)
    if best in via and best_score >= ACCEPT and margin >= MIN_MARGIN:
        return Match(query, chosen, round(best_score, 1), "fuzzy", True, via[best], kind, candidates)
    if best_score >= ACCEPT and not tokens_accounted(q_core, ref.core[block[best]]) and not tokens_accounted(
        q_core, ref.parent_core[block[best]]
    ):
        reason = f"closest CSLLEA agency scored {best_score:.0f} but its name has words the roster name lacks"
        return Match(query, None, None, "none", True, reason, kind, candidates)
    if best_score < ACCEPT:
        review = kind in EXPECTED_IN_CSLLEA or best_score >= REVIEW_FLOOR
        reason = f"closest CSLLEA agency scored {best_score:.0f}, below {ACCEPT:.0f}" if review else ""
        return Match(query, None, None, "none", review, reason, kind, candidates)
    if margin < MIN_MARGIN:
        reason = f"two CSLLEA agencies score within {margin:.0f} points"
        return Match(query, None, None, "none", True, reason, kind, candidates)
    reasons = []
    if best_score < CONFIDENT:
        reasons.append(f"fuzzy score {best_score:.1f} below {CONFIDENT:.0f}")
    if margin < CLEAR_MARGIN:
        reasons.append(f"runner-up within {margin:.0f} points")
    return Match(query, chosen, round(best_score, 1), "fuzzy", bool(reasons), "; ".join(reasons), kind, candidates)


def _match_block(queries: list[Query], kinds: list[str], ref: Reference, block: np.ndarray) -> list[Match]:
    """Score every query of one state against every CSLLEA agency of that state in one go."""
    q_clean = [clean_name(q.agency) for q in queries]
    q_core = [core_name(c) for c in q_clean]
    if len(block) == 0:
        empty = np.empty(0)
        none = empty.astype(bool)
        return [_decide(q, k, c, ref, block, empty, none, empty) for q, k, c in zip(queries, kinds, q_core)]
    c_core = [ref.core[i] for i in block]
    c_parent = [ref.parent_core[i] for i in block]
    scores = process.cdist(q_core, c_core, scorer=fuzz.token_sort_ratio, dtype=np.float32)
    if any(c_parent):
        scores = np.maximum(scores, process.cdist(q_core, c_parent, scorer=fuzz.token_sort_ratio, dtype=np.float32))
    c_kind = np.asarray([ref.kind[i] for i in block])
    c_county = [ref.county[i] for i in block]
    core_arr = np.asarray(c_core, dtype=object)
    parent_arr = np.asarray(c_parent, dtype=object)
    sheriff_places = np.asarray([place_core(c) if k == "sheriff" else "" for c, k in zip(c_core, c_kind)], dtype=object)
    state_police = np.flatnonzero(c_kind == "state_police")
    results = []
    for row, (query, kind) in enumerate(zip(queries, kinds)):
        allowed = np.isin(c_kind, list(COMPATIBLE.get(kind, ())))
        raw = np.where(allowed, scores[row], 0.0)
        via: dict[int, str] = {}
        if kind == "sheriff":
            for j in np.flatnonzero(sheriff_places == place_core(q_core[row])):
                if raw[j] < PLACE_ONLY_SCORE:
                    raw[j] = PLACE_ONLY_SCORE
                    via[int(j)] = "same place once County/City are ignored (Virginia independent city?)"
        if kind == "state_police" and len(state_police) == 1:
            j = int(state_police[0])
            if raw[j] < SOLE_STATE_POLICE_SCORE:
                raw[j] = SOLE_STATE_POLICE_SCORE
                via[j] = "a state-level police/patrol/public-safety agency: the state's only primary state police"
        exact = allowed & ((core_arr == q_core[row]) | (parent_arr == q_core[row]))
        adjusted = raw.astype(np.float64)
        worth = np.flatnonzero(raw >= CANDIDATE_FLOOR)
        if len(worth):
            adjusted[worth] += _county_adjustment(clean_county(query.county), [c_county[j] for j in worth])
        results.append(_decide(query, kind, q_core[row], ref, block, raw, exact, adjusted, via))
    return results


def match_agencies(queries: Iterable[Query], ref: Reference, overrides: dict[tuple[str, str], Override] | None = None,
                   aliases: dict[tuple[str, str], Alias] | None = None) -> list[Match]:
    """Match each distinct query; results come back in the order of `queries`."""
    queries = list(queries)
    overrides = overrides or {}
    aliases = aliases or {}
    results: dict[int, Match] = {}
    pending: dict[str, list[int]] = {}
    for n, query in enumerate(queries):
        key = roster_key(query.state, query.agency)
        postal = state_postal(query.state) or ""
        kind = roster_kind(clean_name(query.agency), query.roster_type)
        if key in overrides:
            found = _override_match(query, overrides[key], ref)
            if found:
                found.kind = kind
                results[n] = found
                continue
        if key in aliases:
            target = _alias_target(aliases[key], postal, ref)
            if target is not None:
                results[n] = Match(query, ref.ids[target], 100.0, "alias", False, "", kind,
                                   [_candidate(ref, target, 100.0)], note=aliases[key].note)
                continue
        pending.setdefault(postal, []).append(n)
    for postal, members in sorted(pending.items()):
        block_queries = [queries[n] for n in members]
        kinds = [roster_kind(clean_name(q.agency), q.roster_type) for q in block_queries]
        for n, found in zip(members, _match_block(block_queries, kinds, ref, ref.in_state(postal))):
            results[n] = found
    return [results[n] for n in range(len(queries))]


def unused_overrides(overrides: dict[tuple[str, str], Override], queries: Iterable[Query]) -> list[Override]:
    """Overrides whose (state, agency) no longer appears on any roster: report them, a person decides."""
    seen = {roster_key(q.state, q.agency) for q in queries}
    return [o for key, o in sorted(overrides.items()) if key not in seen]


def canonical_state(raw: str) -> str:
    """Canonical state of a roster value, or the upper-cased value when it is not a known state."""
    return normalise_state(raw) or str(raw or "").strip().upper()
