"""Names, states and counties reduced to comparable forms, and each agency's kind.

ICE's roster and CSLLEA spell the same agency differently ("Sheriff's Office" / "SHERIFF'S
DEPARTMENT", "Parish" / "County", "Ft." / "FORT", curly apostrophes, typos). Matching compares
*core* names (the place or body, generic words removed) and only between compatible *kinds*, so a
county jail can never borrow the sheriff's identity. The token rewrites and the kind phrases are
the package's agency-word table (`ice_tracker/data/agency_words.csv`, the `matching`/`both` rows)
and `data/agency_kinds.csv` beside this module.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ice_tracker.states import active_overrides_dir, load_state_table

# Words that say what sort of body an agency is, not which one: dropped from core names.
GENERIC_WORDS = frozenset({
    "POLICE", "DEPARTMENT", "OFFICE", "SHERIFF", "CONSTABLE", "OF", "THE", "AND", "BOARD", "TRUSTEES", "SERVICES",
    "BOROUGH", "CORONER",
})
PLACE_WORDS = frozenset({"COUNTY", "CITY"})  # Virginia's "Hopewell County" sheriff is the HOPEWELL CITY one
GENERIC_PHRASES = (" PUBLIC SAFETY",)  # a town's "Department of Public Safety" is its police
LEADING_PHRASES = ("CITY OF ", "TOWN OF ", "VILLAGE OF ", "BOROUGH OF ", "TOWNSHIP OF ")
STATE_SUFFIX = re.compile(r",\s*[A-Z]{2}\s*$")  # "Arnaudville Police Department, LA"

# CSLLEA AGENCYSAMPTYPE code → kind (see data/agency_types.csv for labels).
TYPE_KINDS = {1: "sheriff", 3: "police", 4: "police", 5: "state_police", 7: "constable", 10: "police",
              91: "tribal", 92: "tribal", 93: "tribal", 611: "campus", 612: "campus", 615: "campus",
              631: "transport", 633: "transport", 635: "transport", 636: "transport", 639: "transport"}
# Kinds a roster agency may match. Empty: the kind is never in CSLLEA as itself (answer: no match).
COMPATIBLE = {
    "sheriff": {"sheriff"},
    "police": {"police"},
    "constable": {"constable"},
    "campus": {"campus"},
    "transport": {"transport", "police"},
    "state_police": {"state_police"},
    "corrections": {"corrections"},
    "jail": {"jail"},
    "prosecutor": {"prosecutor"},
    "commission": set(),
    "military": set(),
    "other": {"other"},
}
# Kinds CSLLEA is expected to hold: when none matched, a person should look.
EXPECTED_IN_CSLLEA = frozenset({"sheriff", "police", "state_police", "campus", "transport"})


def _data_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("ice_tracker.matching").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def token_rewrites() -> dict[str, str]:
    """Abbreviations and typos → one spelling: the `matching`/`both` rows of the package's one
    agency-word table (ice_tracker/data/agency_words.csv, shared with the roster's agreement ids)."""
    text = resources.files("ice_tracker").joinpath("data/agency_words.csv").read_text("utf-8")
    return {row["word"]: row["replacement"] for row in csv.DictReader(text.splitlines())
            if row["kind"] == "abbreviation" and row["used_for"] in ("matching", "both")}


@lru_cache(maxsize=1)
def kind_phrases() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(kind, whole-word pattern) in file order: the first phrase found decides."""
    rows = _data_rows("agency_kinds.csv")
    return tuple((row["kind"], re.compile(rf"\b{re.escape(row['phrase'])}\b")) for row in rows)


def state_table() -> dict[str, str]:
    """Full upper-case state name → postal code (the package's one table, ice_tracker/states.py)."""
    return load_state_table().codes


@lru_cache(maxsize=1)
def type_codes() -> dict[str, int]:
    """CSLLEA agency type label → AGENCYSAMPTYPE code (data/agency_types.csv)."""
    return {row["label"]: int(row["code"]) for row in _data_rows("agency_types.csv")}


def agency_type_code_for(label: str) -> int | None:
    """CSLLEA AGENCYSAMPTYPE code of a type label ('Sheriff' → 1)."""
    return type_codes().get(label)


def normalise_state(raw: str | None) -> str | None:
    """Canonical full state name from roster spellings ('UTAHJ', 'AlABAMA', 'fl', 'Washington, D.C.');
    None if unknown. The same normaliser as the roster's (ice_tracker/states.py)."""
    return _state_name(str(active_overrides_dir()), raw)


@lru_cache(maxsize=8192)
def _state_name(overrides_dir: str, raw: str | None) -> str | None:
    """Memoised per corrections and spelling: matching asks for the same few spellings tens of
    thousands of times."""
    return load_state_table(Path(overrides_dir)).name(raw)


def state_postal(state: str | None) -> str | None:
    canonical = normalise_state(state)
    return state_table().get(canonical) if canonical else None


@lru_cache(maxsize=65536)
def clean_name(name: str | None) -> str:
    """Upper-case, accents and punctuation gone, abbreviations and typos spelt one way."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode("ascii")
    text = STATE_SUFFIX.sub("", text.strip())
    text = text.upper().replace("'", "").replace("`", "").replace("&", " & ")
    text = re.sub(r"[^A-Z0-9&]+", " ", text)
    rewrites = token_rewrites()
    return " ".join(rewrites.get(token, token) for token in text.split())


@lru_cache(maxsize=65536)
def core_name(clean: str) -> str:
    """The distinctive part of a cleaned name: 'LAKE COUNTY SHERIFF OFFICE' → 'LAKE COUNTY'."""
    text = clean
    for phrase in LEADING_PHRASES:
        if text.startswith(phrase):
            text = text[len(phrase):]
    for phrase in GENERIC_PHRASES:
        text = f" {text} ".replace(f"{phrase} ", " ").strip()
    words = [w for w in text.split() if w not in GENERIC_WORDS]
    return " ".join(words) or clean


def place_core(core: str) -> str:
    """A sheriff's core without COUNTY/CITY: compares a county sheriff with an independent-city one."""
    return " ".join(w for w in core.split() if w not in PLACE_WORDS) or core


def parent_name(raw: str) -> str:
    """CSLLEA names divisions 'PARENT - DIVISION'; the parent is what a roster usually writes."""
    head, sep, _ = str(raw).partition(" - ")
    return head.strip() if sep else ""


@lru_cache(maxsize=65536)
def name_kind(clean: str) -> str | None:
    """The kind a name announces (first phrase of data/agency_kinds.csv found), or None."""
    for kind, pattern in kind_phrases():
        if pattern.search(clean):
            return kind
    return None


def roster_kind(clean: str, roster_type: str | None = None) -> str:
    """Kind of a roster agency from its name, refined by ICE's TYPE column."""
    kind = name_kind(clean) or "other"
    state_agency = str(roster_type or "").strip().upper() == "STATE AGENCY"
    if kind == "police" and state_agency and not clean.startswith(("CITY ", "TOWN ")):
        return "state_police"
    return kind


def reference_kind(clean: str, type_code: float | int | None) -> str:
    """Kind of a CSLLEA agency from its survey type, overridden by jail/corrections words in its name."""
    named = name_kind(clean)
    if named in ("corrections", "jail", "commission", "military", "prosecutor", "sheriff"):
        return named  # JACKSONVILLE SHERIFF'S OFFICE is typed local police; its name says sheriff
    try:
        code = int(type_code) if type_code is not None else None
    except (TypeError, ValueError):
        code = None
    return TYPE_KINDS.get(code, "other") if code is not None else (named or "other")


@lru_cache(maxsize=65536)
def clean_county(raw: str | None) -> str:
    """'St. Landry Parish', 'Saint Landry County', 'ST. LANDRY' → 'ST LANDRY'; junk ('#N/A') → ''."""
    text = clean_name(raw)
    words = [w for w in text.split() if w not in ("COUNTY", "CITY", "NA", "N", "A")]
    return " ".join(words)


def roster_key(state: str | None, agency: str | None) -> tuple[str, str]:
    """How overrides and aliases find a roster name: canonical state, squeezed upper-case name with
    straight apostrophes (the roster writes both ’ and ')."""
    name = str(agency or "").replace("\u2019", "'").replace("\u2018", "'")
    return normalise_state(state) or "", re.sub(r"\s+", " ", name).strip().upper()


def clear_caches() -> None:
    """Forget memoised names (benchmarks time cold runs; long-lived processes may free memory)."""
    for cached in (clean_name, core_name, name_kind, clean_county):
        cached.cache_clear()
