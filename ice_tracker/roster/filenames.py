"""Roster list and date from a workbook's published file name, with the fetch time as fallback.

ICE's names drift (DOMAIN.md §1): `participatingAgencies05162025am`, `…09292025mid`, `…10292025pmB`,
`…12042025pm2`, `…11122025`, `pendingAgencies07112025am_b`, `…04212026am 12.15.07 AM`,
`ParticipatingAgencies…`, `287gParticipatingAgencies091526pm` (MMDDYY), `ParticipatingAgency…`,
a 9-digit typo `…090022025am`, year typos (3025; a January-2026 list labelled 2025).
A date is believed only when it is plausible against the fetch time; otherwise the fetch date is
used and the reason recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

NAME = re.compile(
    r"(?P<list>participating|pending)\s*agenc(?:y|ies)?[\s_-]*(?P<digits>\d{6,9})(?P<rest>.*)$",
    re.IGNORECASE,
)
PART_OF_DAY = re.compile(r"^[\s_-]*(am|mid|pm|noon)", re.IGNORECASE)
PART_RANK = {"": 0, "am": 1, "mid": 2, "noon": 2, "pm": 3}
SNAPSHOT = re.compile(r"(\d{8})_(\d{6})$")
# A roster is fetched on, or within a few weeks after, the day its name says it was published.
MAX_DAYS_BEFORE_FETCH = 60
MAX_DAYS_AFTER_FETCH = 1


@dataclass
class NameInfo:
    list: str  # participating / pending / "" when the name says neither
    candidates: list[date] = field(default_factory=list)  # dates the digits can mean
    part_of_day: str = ""  # am / mid / pm / ""
    repaired: bool = False  # digits needed a repair (9-digit typo, 7 digits)
    digits: str = ""  # the date digits as written


@dataclass
class RosterDate:
    value: date | None
    source: str  # filename / fetched / ""
    rule: str  # "" when the name gave a plausible date; else why it was not used
    part_of_day: str = ""


def _mmddyyyy(digits: str) -> date | None:
    try:
        return date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    except ValueError:
        return None


def _candidates(digits: str) -> tuple[list[date], bool]:
    if len(digits) == 8:
        found = _mmddyyyy(digits)
        return ([found] if found else []), False
    if len(digits) == 6:
        found = _mmddyyyy(digits[:4] + "20" + digits[4:])
        return ([found] if found else []), False
    if len(digits) == 9:  # one extra digit typed: drop each in turn
        options = {_mmddyyyy(digits[:i] + digits[i + 1:]) for i in range(9)}
    else:  # 7: a month or day written with one digit
        options = {_mmddyyyy("0" + digits), _mmddyyyy(digits[:2] + "0" + digits[2:])}
    return sorted(d for d in options if d), True


def parse_name(name: str) -> NameInfo:
    """List, candidate dates and part of day from a file name (never raises)."""
    stem = re.sub(r"\.xlsx?$", "", name.strip(), flags=re.IGNORECASE)
    match = NAME.search(stem)
    if not match:
        lowered = stem.lower()
        kind = "participating" if "participat" in lowered else "pending" if "pending" in lowered else ""
        return NameInfo(kind)
    candidates, repaired = _candidates(match.group("digits"))
    part = PART_OF_DAY.match(match.group("rest"))
    return NameInfo(match.group("list").lower(), candidates, part.group(1).lower() if part else "", repaired,
                    match.group("digits"))


def snapshot_time(folder: str) -> datetime | None:
    """`sheets_20250519_024922` → 2025-05-19 02:49:22 UTC."""
    match = SNAPSHOT.search(folder)
    if not match:
        return None
    try:
        return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def roster_date(name: str, fetched: datetime | None) -> RosterDate:
    """The roster's date: from the name when plausible, else the fetch date (and the reason)."""
    info = parse_name(name)
    fetched_day = fetched.astimezone(timezone.utc).date() if fetched else None
    if fetched_day is None:
        plausible = [d for d in info.candidates if 2000 <= d.year <= 2100]
    else:
        low = fetched_day - timedelta(days=MAX_DAYS_BEFORE_FETCH)
        high = fetched_day + timedelta(days=MAX_DAYS_AFTER_FETCH)
        plausible = [d for d in info.candidates if low <= d <= high]
    if len(plausible) == 1:
        return RosterDate(plausible[0], "filename", "filename_date_repaired" if info.repaired else "", info.part_of_day)
    if not info.digits:
        rule = "filename_no_date"
    elif not info.candidates:
        rule = "filename_date_invalid"
    elif len(plausible) > 1:
        rule = "filename_date_ambiguous"
    else:
        rule = "filename_date_implausible"
    if fetched_day is None:
        return RosterDate(None, "", rule, info.part_of_day)
    return RosterDate(fetched_day, "fetched", rule, info.part_of_day)
