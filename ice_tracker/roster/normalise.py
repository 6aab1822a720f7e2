"""Cell values → canonical values, each with the rule that fixed it (None when it was clean).

Every function returns `(value, rules)`; `rules` names every non-trivial fix or failure, so the
caller can list it in quality.csv. Surrounding whitespace is always trimmed and not reported
(thousands of cells carry a trailing space; listing them would bury the real problems).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache


from ice_tracker.models import MODEL_NAMES
from ice_tracker.roster.vocab import Vocabulary

SUPPORT_TYPES = MODEL_NAMES  # code → full name (ice_tracker/data/program_models.csv)
SUPPORT_ALIASES = {"JEM": "JEM", "TFM": "TFM", "TF": "TFM", "WSO": "WSO", "JAIL": "JEM", "TASK": "TFM", "WARRANT": "WSO"}
MISSING_MARKERS = {"N/A", "NA", "#N/A", "#NA", "NONE", "NULL", "-", "--", "TBD", "UNKNOWN"}
FIRST_MOA_YEAR = 1996  # 287(g) was created by IIRIRA in 1996; no agreement can be older
EXCEL_EPOCH = date(1899, 12, 30)

Result = tuple[str, list[str]]


def clean_text(raw: object) -> str:
    """Trimmed text; non-breaking spaces count as spaces."""
    return str(raw if raw is not None else "").replace("\xa0", " ").strip()


def normalise_state(raw: str, vocab: Vocabulary) -> Result:
    """The package's one state normaliser (ice_tracker/states.py), with the rule for quality.csv."""
    return vocab.state_table.normalise(raw)


def normalise_support_type(raw: str) -> Result:
    return _support(raw)


@lru_cache(maxsize=1024)
def _support(raw: str) -> Result:
    text = clean_text(raw)
    if not text:
        return "", ["support_type_missing"]
    if text in SUPPORT_TYPES.values():
        return text, []
    words = re.sub(r"[^A-Z ]", " ", text.upper()).split()
    for canonical in SUPPORT_TYPES.values():
        if " ".join(words) == canonical.upper():
            return canonical, ["support_type_case"]
    found = {SUPPORT_ALIASES[w] for w in words if w in SUPPORT_ALIASES}
    if len(found) == 1:
        return SUPPORT_TYPES[found.pop()], ["support_type_alias"]
    return "", ["support_type_unknown"]


def normalise_county(raw: str, state: str, vocab: Vocabulary) -> Result:
    text = re.sub(r"\s+", " ", clean_text(raw))
    fixed = vocab.fix("county", text, state)
    if fixed is not None:
        return fixed, ["county_override"]
    if text.upper() in MISSING_MARKERS or text.startswith("#"):
        return "", ["county_missing_marker"]
    return text, []


def normalise_type(raw: str, state: str, agency: str, vocab: Vocabulary) -> Result:
    text = re.sub(r"\s+", " ", clean_text(raw))
    fixed = vocab.fix("type", text, state, agency)
    if fixed is not None:
        return fixed, ["type_override"]
    if not text:
        return "", ["type_missing"]
    return text, []


# ---- SIGNED -------------------------------------------------------------------------------------
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?$")
US_DATE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]?\s*(\d{4}|\d{2})$")
COMPACT_DATE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year_candidates(year: int, month: int, day: int, latest: date) -> list[date]:
    """Dates whose year differs from `year` by one digit and that fall in the plausible range."""
    digits = f"{year:04d}"
    found = set()
    for i in range(len(digits)):
        for d in "0123456789":
            candidate_year = int(digits[:i] + d + digits[i + 1:])
            if FIRST_MOA_YEAR <= candidate_year <= latest.year:
                candidate = _date_or_none(candidate_year, month, day)
                if candidate and candidate <= latest:
                    found.add(candidate)
    return sorted(found)


def parse_signed(raw: str, roster_date: date | None) -> Result:
    """SIGNED cell → ISO date. Text dates are parsed, impossible years fixed only when one digit
    change gives the single plausible date; anything else is left empty and flagged."""
    return _signed(clean_text(raw), roster_date)


@lru_cache(maxsize=16384)
def _signed(text: str, roster_date: date | None) -> Result:
    if not text:
        return "", []
    rules: list[str] = []
    parsed: date | None = None
    year = month = day = 0
    if m := ISO_DATE.match(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := US_DATE.match(text):
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year < 100:
            year += 2000
        rules.append("signed_text_date")
    elif m := COMPACT_DATE.match(text):
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        rules.append("signed_text_date")
    elif m := EXCEL_SERIAL.match(text):
        parsed = EXCEL_EPOCH + timedelta(days=int(m.group(1)))
        year, month, day = parsed.year, parsed.month, parsed.day
        rules.append("signed_excel_serial")
    else:
        return "", ["signed_unparsed"]
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "", ["signed_unparsed"]
    latest = roster_date or date(9999, 12, 31)
    if year < FIRST_MOA_YEAR or year > latest.year:
        candidates = _year_candidates(year, month, day, latest)
        if len(candidates) == 1:
            return candidates[0].isoformat(), rules + ["signed_year_fixed"]
        return "", rules + ["signed_year_implausible"]
    parsed = _date_or_none(year, month, day)
    if parsed is None:
        return "", ["signed_unparsed"]
    if roster_date and parsed > roster_date:
        rules.append("signed_after_roster_date")
    return parsed.isoformat(), rules
