"""Values read by a person, for the fields the extractor left blank or got wrong.

Some signing dates are hand-written too loosely for any reader here (see `data/moa_review.csv`,
the queue of what is still missing). A person who reads one records it in
`overrides/moa_fields.csv` (sha256, file, field, value, note: how it was read); the value then
wins over every extracted one and says `<field>_source = override`. Keyed by content hash, so an
override follows the bytes, under whatever name ICE published them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ice_tracker.fileio import read_dict_csv
from ice_tracker.models import MODEL_NAMES

log = logging.getLogger(__name__)

FILE_NAME = "moa_fields.csv"
COLUMNS = ["sha256", "file", "field", "value", "note"]
MODELS = set(MODEL_NAMES)  # model codes (ice_tracker/data/program_models.csv)
FIELDS = ("model", "lea_name", "lea_signed", "ice_signed")  # the fields with a `<field>_source` column
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FieldOverride:
    sha256: str
    field: str
    value: str
    note: str
    line: int


def valid_value(field: str, value: str) -> bool:
    if field in ("lea_signed", "ice_signed"):
        try:
            return dt.date.fromisoformat(value).isoformat() == value
        except ValueError:
            return False
    if field == "model":
        return value in MODELS
    return bool(value)


def load_field_overrides(path: Path) -> tuple[dict[str, dict[str, FieldOverride]], list[str]]:
    """sha256 → field → override, and the lines that were refused (logged, never applied)."""
    found: dict[str, dict[str, FieldOverride]] = {}
    problems: list[str] = []
    for line, row in enumerate(read_dict_csv(path), start=2):
        sha, field = (row.get("sha256") or "").strip().lower(), (row.get("field") or "").strip()
        value, note = (row.get("value") or "").strip(), (row.get("note") or "").strip()
        if not SHA256.match(sha) or field not in FIELDS or not valid_value(field, value):
            problems.append(f"{path.name} line {line}: needs a sha256, a field among {', '.join(FIELDS)} and a valid value")
        elif field in found.get(sha, {}):
            problems.append(f"{path.name} line {line}: {sha[:12]} {field} repeats line {found[sha][field].line}")
        else:
            found.setdefault(sha, {})[field] = FieldOverride(sha, field, value, note, line)
    for problem in problems:
        log.error("%s; skipped", problem)
    return found, problems


def overridden_fields(row: dict[str, Any]) -> set[str]:
    return {field for field in FIELDS if row.get(f"{field}_source") == "override"}


def apply_field_overrides(row: dict[str, Any], overrides: dict[str, FieldOverride]) -> None:
    """Set each overridden field (an override needs a readable PDF: failed rows are left alone)."""
    if row.get("status") != "ok":
        return
    for field, override in overrides.items():
        row[field], row[f"{field}_source"] = override.value, "override"
        if field in ("lea_signed", "ice_signed"):
            row[f"{field}_margin"] = ""  # the margin belonged to a handwriting reading
