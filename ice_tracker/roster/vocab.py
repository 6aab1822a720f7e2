"""Reference lists and hand corrections, read from data files so a reviewer sees every rule in a diff.

- the package's one state table (`ice_tracker/states.py`: `ice_tracker/data/us_states.csv`, its
  reference spellings and `overrides/states.csv`) and the agency words (abbreviations,
  prefixes and generic words used to compare agency names; the rows marked `ids` or `both` of the
  package's one agency-word table, `ice_tracker/data/agency_words.csv`, shared with matching);
- `overrides/roster_fixes.csv` (column, raw value, optional state/agency condition → fixed value),
  editable by hand.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ice_tracker.config import DEFAULT_OVERRIDES_DIR
from ice_tracker.states import StateTable, load_state_table

AGENCY_WORDS = Path(__file__).resolve().parents[1] / "data" / "agency_words.csv"  # shared with matching


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: (v or "") for k, v in row.items()} for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class Fix:
    """A hand correction: `raw` in `column` becomes `fixed` (only in `state`/for `agency` when given)."""

    column: str
    raw: str
    fixed: str
    state: str = ""
    agency: str = ""


@dataclass(eq=False)  # hashed by identity: one instance per set of rule files, used as a cache key
class Vocabulary:
    states: dict[str, str]  # canonical upper-case name → postal code
    state_table: StateTable
    abbreviations: dict[str, str]
    prefixes: tuple[tuple[str, ...], ...]
    generic: frozenset[str]
    kinds: frozenset[str]
    fixes: dict[tuple[str, str], list[Fix]] = field(default_factory=dict)
    fingerprint: str = ""  # changes whenever any rule file changes (part of the parse-cache key)

    def code(self, state: str) -> str:
        return self.states.get(state, "XX")

    def fix(self, column: str, raw: str, state: str = "", agency: str = "") -> str | None:
        """The hand-corrected value for this cell, or None when no rule applies."""
        for rule in self.fixes.get((column, raw.strip()), []):
            if rule.state and rule.state != state:
                continue
            if rule.agency and rule.agency.strip().upper() != agency.strip().upper():
                continue
            return rule.fixed
        return None


def load_vocabulary(overrides_dir: Path = DEFAULT_OVERRIDES_DIR) -> Vocabulary:
    paths = [AGENCY_WORDS, overrides_dir / "roster_fixes.csv"]
    return _load(tuple(str(p) for p in paths), load_state_table(overrides_dir))


@lru_cache(maxsize=4)
def _load(paths: tuple[str, ...], state_table: StateTable) -> Vocabulary:
    words_path, fixes_path = map(Path, paths)
    digest = hashlib.sha256(state_table.fingerprint.encode())
    for path in (words_path, fixes_path):
        digest.update(path.read_bytes() if path.is_file() else b"-")
    abbreviations: dict[str, str] = {}
    prefixes: list[tuple[str, ...]] = []
    generic: set[str] = set()
    kinds: set[str] = set()
    for row in _rows(words_path):
        if row["used_for"].strip() not in ("ids", "both"):
            continue
        kind, word = row["kind"].strip(), row["word"].strip().upper()
        if kind == "abbreviation":
            abbreviations[word] = row["replacement"].strip().upper()
        elif kind == "prefix":
            prefixes.append(tuple(word.split()))
        elif kind == "generic":
            generic.add(word)
        elif kind == "kind":
            kinds.add(word)
    fixes: dict[tuple[str, str], list[Fix]] = {}
    for row in _rows(fixes_path):
        fix = Fix(row["column"].strip(), row["raw"].strip(), row["fixed"].strip(),
                  row.get("state", "").strip().upper(), row.get("agency", "").strip())
        fixes.setdefault((fix.column, fix.raw), []).append(fix)
    for rules in fixes.values():  # the most specific rule wins
        rules.sort(key=lambda f: (not f.agency, not f.state))
    return Vocabulary(state_table.codes, state_table, abbreviations, tuple(prefixes), frozenset(generic), frozenset(kinds), fixes, digest.hexdigest())
