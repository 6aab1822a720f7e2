"""A parsed workbook → normalised `Row`s plus a quality record for every fix or failure.

The same row comes back in snapshot after snapshot, so a row's normalisation is memoised on its
cell texts and links (SIGNED, which depends on the roster date, separately): a rebuild normalises
each distinct row once.
"""

from __future__ import annotations

from functools import lru_cache

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
from ice_tracker.sources.ice287g.html_table import source_format
from ice_tracker.urls import unwrap_safelink

LINK_WORDS = {"LINK", "MOA", "ADDENDUM", "LINK | ADDENDUM"}
Note = tuple[str, str, str, str]  # column, raw, fixed, rule


@lru_cache(maxsize=1 << 16)
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


@lru_cache(maxsize=1 << 16)
def normalise_row(texts: tuple[str, ...], links: tuple[str, ...], has_type: bool,
                  vocab: Vocabulary) -> tuple[tuple[str, ...], str, tuple[str, ...], tuple[Note, ...]]:
    """One row's canonical values but SIGNED, in Row's field order around it: (state … support_type_raw),
    signed_raw, (signed_raw, moa_url, addendum_url); and its quality notes."""
    raw = dict(zip(COLUMNS, texts))
    notes: list[Note] = []

    def note(column: str, fixed: str, rules: list[str]) -> None:
        notes.extend((column, raw[column], fixed, rule) for rule in rules)

    state, rules = normalise_state(raw["state"], vocab)
    note("state", state, rules)
    agency = clean_text(raw["agency"])
    if not agency:
        note("agency", "", ["agency_missing"])
    county, rules = normalise_county(raw["county"], state, vocab)
    note("county", county, rules)
    kind, rules = normalise_type(raw["type"], state, agency, vocab)
    if has_type:
        note("type", kind, rules)
    support, rules = normalise_support_type(raw["support_type"])
    note("support_type", support, rules)
    urls = {}
    for name, link in zip(LINK_COLUMNS, links):
        urls[name], rule = _url(raw[name], link)
        if rule:
            note(name, urls[name], [rule])
    head = (state, raw["state"], agency, county, raw["county"], kind, support, raw["support_type"])
    return head, raw["signed"], (raw["signed"], urls["moa"], urls["addendum"]), tuple(notes)


def build_rows(roster: Roster, parsed: ParsedWorkbook, vocab: Vocabulary) -> list[dict[str, object]]:
    """Fill `roster.rows`; return the quality records."""
    issues: list[dict[str, object]] = []
    roster_date = roster.roster_date.isoformat() if roster.roster_date else ""
    has_type = "type" in parsed.columns
    fixed = (roster.snapshot, roster.file, roster_date, roster.roster_date_source, roster.list)
    append = roster.rows.append
    fmt = source_format(roster.file)
    for row_number, texts, links in parsed.rows:
        head, signed_raw, tail, notes = normalise_row(tuple(texts), tuple(links), has_type, vocab)
        signed, rules = parse_signed(signed_raw, roster.roster_date)
        for column, raw, fixed_value, rule in notes:
            issues.append(quality(roster, row_number, column, raw, fixed_value, rule))
        for rule in rules:
            issues.append(quality(roster, row_number, "signed", signed_raw, signed, rule))
        append(Row(*fixed, row_number, *head, signed, *tail, source_format=fmt))
    return issues
