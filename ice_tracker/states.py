"""The one state table and the one state normaliser for the whole package.

Roster cells, CSLLEA rows, overrides and the published tables all name states through here, so
"WASHINGTON DC", "Washington, D.C.", "D.C." and "DC" are the District of Columbia everywhere (the
nearest name by spelling alone is WASHINGTON, the state). The table is `data/us_states.csv` (name,
postal code, FIPS code, kind); reference spellings are `data/state_aliases.csv`; hand corrections
are `overrides/states.csv` (same columns; they win).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from ice_tracker.config import DEFAULT_OVERRIDES_DIR
from ice_tracker.fileio import read_dict_csv

DATA = Path(__file__).resolve().parent / "data"
TABLE_FILE = DATA / "us_states.csv"
ALIASES_FILE = DATA / "state_aliases.csv"
OVERRIDES_FILE = "states.csv"
FUZZY_CUTOFF = 80.0  # a typo (UTAHJ, MISSISIPPI) ...
FUZZY_GAP = 10.0  # ... but never a guess between two close names (VIRGINIA / WEST VIRGINIA)


def spelling_key(text: str) -> str:
    """Upper case, dots dropped, other punctuation a space: 'Washington, D.C.' → 'WASHINGTON DC'."""
    text = unicodedata.normalize("NFKC", str(text or "")).upper().replace(".", "")
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z ]+", " ", text)).strip()


@dataclass(eq=False)
class StateTable:
    codes: dict[str, str]  # canonical upper-case name → postal code
    fips: dict[str, str]  # canonical name → 2-digit FIPS code
    aliases: dict[str, str]  # spelling key → canonical name
    fingerprint: str

    def code(self, state: str) -> str:
        return self.codes.get(state, "XX")

    def normalise(self, raw: object) -> tuple[str, list[str]]:
        """(canonical upper-case name or "", the rules applied) — the rule names go to quality.csv."""
        return self._normalise(re.sub(r"\s+", " ", str(raw if raw is not None else "").replace("\xa0", " ")).strip())

    @lru_cache(maxsize=4096)  # noqa: B019 - one table per set of files, kept for the process
    def _normalise(self, text: str) -> tuple[str, list[str]]:
        upper = text.upper()
        if not upper:
            return "", ["state_missing"]
        if upper in self.codes:
            return upper, ([] if upper == text else ["state_case"])
        key = spelling_key(text)
        if key in self.aliases:
            return self.aliases[key], ["state_override"]
        by_code = {code: name for name, code in self.codes.items()}
        if key in by_code:
            return by_code[key], ["state_code"]
        by_key = {spelling_key(name): name for name in self.codes}
        if key in by_key:
            return by_key[key], ["state_punctuation"]
        best = process.extract(key, list(by_key), scorer=fuzz.ratio, limit=2)
        if best and best[0][1] >= FUZZY_CUTOFF and (len(best) == 1 or best[0][1] - best[1][1] >= FUZZY_GAP):
            return by_key[best[0][0]], ["state_fuzzy"]
        return "", ["state_unknown"]

    def name(self, raw: object) -> str | None:
        """Canonical name, or None when the spelling is not a state."""
        return self.normalise(raw)[0] or None


_active_overrides_dir: Path = DEFAULT_OVERRIDES_DIR


def use_overrides_dir(overrides_dir: Path) -> None:
    """Make `overrides_dir` (a data dir's `overrides/`) the hand corrections of every state lookup
    in this process that names none: the commands and the daily job call this once for their data
    dir, so matching, publishing and FIPS codes apply the same corrections as the roster."""
    global _active_overrides_dir
    _active_overrides_dir = Path(overrides_dir)


def active_overrides_dir() -> Path:
    return _active_overrides_dir


def load_state_table(overrides_dir: Path | None = None) -> StateTable:
    """The state table with `overrides_dir`'s corrections (default: the process's, see `use_overrides_dir`)."""
    return _load(str(Path(overrides_dir or _active_overrides_dir) / OVERRIDES_FILE))


@lru_cache(maxsize=4)
def _load(overrides_path: str) -> StateTable:
    digest = hashlib.sha256()
    for path in (TABLE_FILE, ALIASES_FILE, Path(overrides_path)):
        digest.update(path.read_bytes() if path.is_file() else b"-")
    table = read_dict_csv(TABLE_FILE, strip=True)
    codes = {row["state"]: row["code"] for row in table}
    fips = {row["state"]: row["fips"] for row in table}
    aliases: dict[str, str] = {}
    for path in (ALIASES_FILE, Path(overrides_path)):
        for row in read_dict_csv(path, strip=True):
            if row.get("raw"):
                if row["state"] not in codes:
                    raise ValueError(f"{path}: {row['raw']!r} points to unknown state {row['state']!r}")
                aliases[spelling_key(row["raw"])] = row["state"]
    return StateTable(codes, fips, aliases, digest.hexdigest())
