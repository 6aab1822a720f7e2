"""Reference lists and hand corrections, read from data files so a reviewer sees every rule in a diff.

- package data `data/us_states.csv` (50 states, DC, territories) and `data/agency_words.csv`
  (abbreviations, prefixes and generic words used to compare agency names);
- `overrides/states.csv` (state spellings → canonical name) and `overrides/roster_fixes.csv`
  (column, raw value, optional state/agency condition → fixed value), editable by hand.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ice_tracker.config import OVERRIDES_DIR

PACKAGE_DATA = Path(__file__).resolve().parent / "data"


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
    state_aliases: dict[str, str]  # upper-case alias → canonical name
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


def load_vocabulary(overrides_dir: Path = OVERRIDES_DIR) -> Vocabulary:
    paths = [PACKAGE_DATA / "us_states.csv", PACKAGE_DATA / "agency_words.csv",
             overrides_dir / "states.csv", overrides_dir / "roster_fixes.csv"]
    return _load(tuple(str(p) for p in paths))


@lru_cache(maxsize=4)
def _load(paths: tuple[str, ...]) -> Vocabulary:
    states_path, words_path, aliases_path, fixes_path = map(Path, paths)
    digest = hashlib.sha256()
    for path in (states_path, words_path, aliases_path, fixes_path):
        digest.update(path.read_bytes() if path.is_file() else b"-")
    states = {row["state"].strip(): row["code"].strip() for row in _rows(states_path)}
    aliases = {row["raw"].strip().upper(): row["state"].strip() for row in _rows(aliases_path) if row["raw"].strip()}
    unknown = sorted(v for v in aliases.values() if v not in states)
    if unknown:
        raise ValueError(f"{aliases_path}: aliases point to unknown states {unknown}")
    abbreviations: dict[str, str] = {}
    prefixes: list[tuple[str, ...]] = []
    generic: set[str] = set()
    kinds: set[str] = set()
    for row in _rows(words_path):
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
    return Vocabulary(states, aliases, abbreviations, tuple(prefixes), frozenset(generic), frozenset(kinds), fixes, digest.hexdigest())
