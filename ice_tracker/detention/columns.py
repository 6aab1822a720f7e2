"""Column names of ICE detention tables: one alias table maps every known layout to one vocabulary.

ICE renamed columns between releases ("Detention Book In Date And Time" → "Book In Date Time",
"Unique Identifier" → "Anonymized Identifier") and DDP's processed parquet uses snake_case names.
The mapping is data (`column_aliases.csv`), so a new layout is one reviewed line, not a code change.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ALIASES_CSV = Path(__file__).with_name("column_aliases.csv")
NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Columns the derivations need; a table without any of them cannot be used. Without a person id
# nothing can be de-duplicated, merged into stays or counted as distinct people, so it is required
# (a missing id in some rows is fine: those rows are counted and reported, never de-duplicated).
REQUIRED = ("unique_identifier", "book_in_date_time", "detention_facility_code")
REQUIRED_LABELS = {
    "unique_identifier": "person identifier column",
    "book_in_date_time": "book-in date column",
    "detention_facility_code": "detention facility code column",
}
# Source-file bookkeeping added by the readers; never part of a row's identity.
PROVENANCE = ("source_file", "source_sheet", "source_row")


def normalize_name(name: object) -> str:
    """'Book In Date Time ' / 'book_in_date_time' / 'BOOK-IN DATE TIME' → 'book_in_date_time'."""
    return NON_ALNUM.sub("_", str(name).strip().lower()).strip("_")


@dataclass(frozen=True)
class ColumnSpec:
    canonical: str
    kind: str  # id, datetime, date, number, text, bond_date, bond_number, provenance


@lru_cache(maxsize=1)
def alias_table() -> dict[str, ColumnSpec]:
    """Normalised alias → spec (every canonical name is also its own alias)."""
    table: dict[str, ColumnSpec] = {}
    with open(ALIASES_CSV, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            spec = ColumnSpec(row["canonical"], row["kind"])
            for alias in [row["canonical"], *row["aliases"].split("|")]:
                if alias.strip():
                    table[normalize_name(alias)] = spec
    return table


@lru_cache(maxsize=1)
def specs_by_canonical() -> dict[str, ColumnSpec]:
    return {spec.canonical: spec for spec in alias_table().values()}


def columns_of_kind(*kinds: str) -> list[str]:
    return sorted(name for name, spec in specs_by_canonical().items() if spec.kind in kinds)


def map_header(names: list[object]) -> tuple[list[str], list[str]]:
    """Canonical (or normalised, if unknown) name per header cell, and the unknown ones.

    Repeated names get a numeric suffix so no column is silently dropped.
    """
    table = alias_table()
    mapped: list[str] = []
    unknown: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(names):
        norm = normalize_name(raw) if raw not in (None, "") else f"column_{index + 1}"
        spec = table.get(norm)
        name = spec.canonical if spec else norm
        if not spec and not norm.startswith("column_"):
            unknown.append(str(raw))
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        mapped.append(name)
    return mapped, unknown


def known_name_count(cells: list[object]) -> int:
    """How many cells of a row are known column names (used to find the header row)."""
    table = alias_table()
    return sum(1 for cell in cells if isinstance(cell, str) and normalize_name(cell) in table)


def describe_missing(missing: list[str]) -> str:
    """One line naming what a table lacks and the header names that would have been recognised."""
    parts = []
    for name in missing:
        aliases = sorted({alias for alias, spec in _display_aliases().items() if spec == name})
        parts.append(f"{REQUIRED_LABELS.get(name, name)} (e.g. {', '.join(repr(a) for a in aliases[:5])})")
    return "no " + "; no ".join(parts)


@lru_cache(maxsize=1)
def _display_aliases() -> dict[str, str]:
    """Header names as written in the alias table (not normalised) → canonical, for messages."""
    out: dict[str, str] = {}
    with open(ALIASES_CSV, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for alias in row["aliases"].split("|"):
                if alias.strip() and " " in alias:
                    out[alias.strip()] = row["canonical"]
    return out
