"""A parsed workbook → normalised `Row`s plus a quality record for every fix or failure."""

from __future__ import annotations

from ice_tracker.roster.cache import COLUMNS, LINK_COLUMNS, ParsedWorkbook
from ice_tracker.roster.model import Roster, Row, quality
from ice_tracker.roster.normalise import (
    clean_text,
    normalise_county,
    normalise_state,
    normalise_support_type,
    normalise_type,
    parse_signed,
)
from ice_tracker.roster.vocab import Vocabulary
from ice_tracker.urls import unwrap_safelink

LINK_WORDS = {"LINK", "MOA", "ADDENDUM", "LINK | ADDENDUM"}


def _url(text: str, link: str) -> tuple[str, str]:
    """The cell's hyperlink (unwrapped), else its text when that is a URL; and a rule when a cell
    says there is a link but has none."""
    if link.strip():
        return unwrap_safelink(link), ""
    text = " ".join(clean_text(text).split())
    if text.lower().startswith(("http://", "https://")):
        return unwrap_safelink(text), "url_from_cell_text"
    if text.upper() in LINK_WORDS:
        return "", "link_text_without_hyperlink"
    return "", ""


def build_rows(roster: Roster, parsed: ParsedWorkbook, vocab: Vocabulary) -> list[dict[str, object]]:
    """Fill `roster.rows`; return the quality records."""
    issues: list[dict[str, object]] = []
    position = {name: i for i, name in enumerate(COLUMNS)}
    link_position = {name: i for i, name in enumerate(LINK_COLUMNS)}
    roster_date = roster.roster_date.isoformat() if roster.roster_date else ""

    def note(row_number: int, column: str, raw: str, fixed: str, rules: list[str]) -> None:
        for rule in rules:
            issues.append(quality(roster, row_number, column, raw, fixed, rule))

    for row_number, texts, links in parsed.rows:
        raw = {name: texts[position[name]] for name in COLUMNS}
        state, rules = normalise_state(raw["state"], vocab)
        note(row_number, "state", raw["state"], state, rules)
        agency = clean_text(raw["agency"])
        if not agency:
            note(row_number, "agency", raw["agency"], "", ["agency_missing"])
        county, rules = normalise_county(raw["county"], state, vocab)
        note(row_number, "county", raw["county"], county, rules)
        kind, rules = normalise_type(raw["type"], state, agency, vocab)
        if "type" in parsed.columns:
            note(row_number, "type", raw["type"], kind, rules)
        support, rules = normalise_support_type(raw["support_type"])
        note(row_number, "support_type", raw["support_type"], support, rules)
        signed, rules = parse_signed(raw["signed"], roster.roster_date)
        note(row_number, "signed", raw["signed"], signed, rules)
        urls = {}
        for name in LINK_COLUMNS:
            urls[name], rule = _url(raw[name], links[link_position[name]])
            if rule:
                note(row_number, name, raw[name], urls[name], [rule])
        roster.rows.append(Row(
            snapshot=roster.snapshot, file=roster.file, roster_date=roster_date,
            roster_date_source=roster.roster_date_source, list=roster.list, row_number=row_number,
            state=state, state_raw=raw["state"], agency=agency,
            county=county, county_raw=raw["county"], type=kind,
            support_type=support, support_type_raw=raw["support_type"],
            signed=signed, signed_raw=raw["signed"],
            moa_url=urls["moa"], addendum_url=urls["addendum"],
        ))
    return issues
