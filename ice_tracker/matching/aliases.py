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

from ice_tracker.config import REPO_ROOT
from ice_tracker.fileio import read_dict_csv
from ice_tracker.matching.normalise import roster_key

log = logging.getLogger(__name__)

OVERRIDES_DIR = REPO_ROOT / "overrides"
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


def load_overrides(path: Path | None = None) -> dict[tuple[str, str], Override]:
    """Overrides keyed by `roster_key(state, agency)`; malformed lines are logged and skipped."""
    path = path or OVERRIDES_DIR / MATCHES_FILE
    found: dict[tuple[str, str], Override] = {}
    for line, row in enumerate(read_dict_csv(path), start=2):
        key = roster_key(row.get("state"), row.get("agency"))
        target = (row.get("agency_id") or "").strip()
        if not key[0] or not key[1] or not target:
            log.error("%s line %d: needs state, agency and agency_id (or NONE); skipped", path, line)
            continue
        if key in found:
            log.error("%s line %d: %s / %s repeats line %d; first kept", path, line, *key, found[key].line)
            continue
        agency_id = None if target.upper() == NO_MATCH else target.removesuffix(".0")
        found[key] = Override(key[0], row["agency"].strip(), agency_id, (row.get("note") or "").strip(), line)
    return found


def load_aliases(path: Path | None = None) -> dict[tuple[str, str], Alias]:
    """Aliases keyed by `roster_key(state, alias)`."""
    path = path or OVERRIDES_DIR / ALIASES_FILE
    found: dict[tuple[str, str], Alias] = {}
    for line, row in enumerate(read_dict_csv(path), start=2):
        key = roster_key(row.get("state"), row.get("alias"))
        target = (row.get("csllea_name") or "").strip()
        if not key[0] or not key[1] or not target:
            log.error("%s line %d: needs state, alias and csllea_name; skipped", path, line)
            continue
        found.setdefault(key, Alias(key[0], row["alias"].strip(), target, (row.get("note") or "").strip(), line))
    return found
