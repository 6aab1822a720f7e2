"""The one list of 287(g) program models (`data/program_models.csv`): roster, agreements, plots and
the MOA reader all name models through here."""

from __future__ import annotations

import csv
from pathlib import Path

MODELS_FILE = Path(__file__).resolve().parent / "data" / "program_models.csv"

with open(MODELS_FILE, newline="", encoding="utf-8") as _handle:
    _ROWS = list(csv.DictReader(_handle))

MODEL_CODES: dict[str, str] = {row["name"]: row["code"] for row in _ROWS}  # full name → code
MODEL_NAMES: dict[str, str] = {row["code"]: row["name"] for row in _ROWS}  # code → full name
MODELS: tuple[str, ...] = tuple(MODEL_CODES)  # full names, in the file's order
