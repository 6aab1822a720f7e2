"""The records the roster pipeline passes between its steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter

from ice_tracker.models import MODEL_CODES  # noqa: F401  (re-exported: the roster's name for the one list)
from ice_tracker.roster.filenames import PART_RANK

HISTORY_COLUMNS = (
    "snapshot", "file", "roster_date", "roster_date_source", "list", "row_number",
    "state", "state_raw", "agency", "county", "county_raw", "type",
    "support_type", "support_type_raw", "signed", "signed_raw", "moa_url", "addendum_url", "agreement_id", "source_format",
)
QUALITY_COLUMNS = ("snapshot", "file", "row", "column", "raw", "fixed", "rule")
LISTS = ("participating", "pending")


@dataclass(slots=True)
class Row:
    """One workbook data row, normalised. `name_key` compares agency names (see ids.name_key)."""

    snapshot: str
    file: str
    roster_date: str
    roster_date_source: str
    list: str
    row_number: int
    state: str
    state_raw: str
    agency: str
    county: str
    county_raw: str
    type: str
    support_type: str
    support_type_raw: str
    signed: str
    signed_raw: str
    moa_url: str
    addendum_url: str
    agreement_id: str = ""
    name_key: str = ""
    source_format: str = "xlsx"  # xlsx (a workbook) / html_table (the page's table, before Feb 2025)

    def as_tuple(self) -> tuple:
        return _HISTORY_VALUES(self)


_HISTORY_VALUES = attrgetter(*HISTORY_COLUMNS)


@dataclass
class Roster:
    """One archived workbook: a snapshot of one list."""

    snapshot: str
    file: str
    list: str
    sha256: str
    fetched: datetime | None
    roster_date: date | None
    roster_date_source: str
    part_of_day: str
    rows: list[Row] = field(default_factory=list)
    sequence: int = 0  # archive order (archive.ArchivedWorkbook.sequence)

    @property
    def label(self) -> str:
        return f"{self.snapshot}/{self.file}"

    def order_key(self) -> tuple:
        """Publication order: the roster's own date and part of day, then the archive's order; the
        fetch time only breaks ties. Never the clock first: a clock set back once made a republished
        roster "older" than the one before it, and 24 additions were announced as 24 removals."""
        fetched = self.fetched.isoformat() if self.fetched else ""
        return (self.roster_date or date.min, PART_RANK.get(self.part_of_day, 0), self.list, self.sequence, fetched,
                self.file)


def quality(roster: Roster, row: int, column: str, raw: str, fixed: str, rule: str) -> dict[str, object]:
    return {"snapshot": roster.snapshot, "file": roster.file, "row": row, "column": column,
            "raw": raw, "fixed": fixed, "rule": rule}
