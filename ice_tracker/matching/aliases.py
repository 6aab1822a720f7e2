"""Hand knowledge as reviewable data: match overrides and name aliases under `overrides/`.

`overrides/agency_matches.csv` (state, agency, agency_id or NONE, note) is a person's final word on
one roster name and is applied before anything else. `overrides/agency_aliases.csv` (state, alias,
csllea_name, note) says that a roster name is another spelling of a CSLLEA name (a Department of
Public Safety that CSLLEA lists as its highway patrol); the matcher still checks the CSLLEA name
exists and is unique in the state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ice_tracker.config import DEFAULT_OVERRIDES_DIR
from ice_tracker.fileio import read_dict_csv
from ice_tracker.matching.normalise import roster_key

log = logging.getLogger(__name__)

MATCHES_FILE = "agency_matches.csv"
ALIASES_FILE = "agency_aliases.csv"
NO_MATCH = "NONE"


@dataclass(frozen=True)
class Override:
    state: str
    agency: str
    agency_id: str | None  # None: a person decided CSLLEA has no such agency
    note: str
    line: int


@dataclass(frozen=True)
class Alias:
    state: str
    alias: str
    csllea_name: str
    note: str
    line: int


def _valid_rows(path: Path, name_column: str, target_column: str):
    """(line, roster key, row, target) for each complete line; incomplete or repeated lines are logged, skipped."""
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(read_dict_csv(path), start=2):
        key = roster_key(row.get("state"), row.get(name_column))
        target = (row.get(target_column) or "").strip()
        if not all((*key, target)):
            log.error("%s line %d: needs state, %s and %s; skipped", path, line, name_column, target_column)
        elif key in seen:
            log.error("%s line %d: %s / %s repeats line %d; first kept", path, line, *key, seen[key])
        else:
            seen[key] = line
            yield line, key, row, target


def load_overrides(path: Path | None = None) -> dict[tuple[str, str], Override]:
    """Overrides keyed by `roster_key(state, agency)`; agency_id NONE means "no CSLLEA agency"."""
    return {
        key: Override(key[0], row["agency"].strip(), None if target.upper() == NO_MATCH else target.removesuffix(".0"),
                      (row.get("note") or "").strip(), line)
        for line, key, row, target in _valid_rows(path or DEFAULT_OVERRIDES_DIR / MATCHES_FILE, "agency", "agency_id")
    }


def load_aliases(path: Path | None = None) -> dict[tuple[str, str], Alias]:
    """Aliases keyed by `roster_key(state, alias)`."""
    return {
        key: Alias(key[0], row["alias"].strip(), target, (row.get("note") or "").strip(), line)
        for line, key, row, target in _valid_rows(path or DEFAULT_OVERRIDES_DIR / ALIASES_FILE, "alias", "csllea_name")
    }
