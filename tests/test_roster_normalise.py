"""Canonical states, models, SIGNED dates, counties and types, each with the rule that fixed it."""

from __future__ import annotations

from datetime import date

import pytest

from ice_tracker.roster.normalise import (
    normalise_county,
    normalise_state,
    normalise_support_type,
    normalise_type,
    parse_signed,
)
from ice_tracker.roster.vocab import load_vocabulary

VOCAB = load_vocabulary()
ROSTER_DAY = date(2025, 7, 14)


@pytest.mark.parametrize(
    ("raw", "state", "rule"),
    [
        ("FLORIDA", "FLORIDA", None),
        ("UTAHJ", "UTAH", "state_fuzzy"),
        ("AlABAMA", "ALABAMA", "state_case"),
        ("  Texas ", "TEXAS", "state_case"),
        ("FL", "FLORIDA", "state_code"),
        ("Washington DC", "DISTRICT OF COLUMBIA", "state_override"),
        ("Puerto Rico", "PUERTO RICO", "state_case"),
        ("GUAM", "GUAM", None),
        ("MISSISIPPI", "MISSISSIPPI", "state_fuzzy"),
        ("ATLANTIS", "", "state_unknown"),
        ("", "", "state_missing"),
    ],
)
def test_states(raw, state, rule):
    value, rules = normalise_state(raw, VOCAB)
    assert value == state
    assert rules == ([rule] if rule else [])


def test_fuzzy_state_never_guesses_between_close_names():
    # "VIRGINIA" is 1 edit from WEST VIRGINIA's tail but the two are far apart as wholes
    assert normalise_state("VIRGINA", VOCAB)[0] == "VIRGINIA"
    assert normalise_state("DAKOTA", VOCAB) == ("", ["state_unknown"])


@pytest.mark.parametrize(
    ("raw", "model", "rules"),
    [
        ("Task Force Model ", "Task Force Model", []),
        ("Jail Enforcement Model", "Jail Enforcement Model", []),
        ("warrant service officer", "Warrant Service Officer", ["support_type_case"]),
        ("WSO", "Warrant Service Officer", ["support_type_alias"]),
        ("Task Force", "Task Force Model", ["support_type_alias"]),
        ("JEM / TFM", "", ["support_type_unknown"]),
        ("", "", ["support_type_missing"]),
    ],
)
def test_support_types(raw, model, rules):
    assert normalise_support_type(raw) == (model, rules)


@pytest.mark.parametrize(
    ("raw", "signed", "rules"),
    [
        ("2025-05-08", "2025-05-08", []),
        ("2019-03-04 00:00:00", "2019-03-04", []),
        ("05/082025", "2025-05-08", ["signed_text_date"]),
        ("7/72025", "2025-07-07", ["signed_text_date"]),
        ("7/7/25", "2025-07-07", ["signed_text_date"]),
        ("5025-07-07", "2025-07-07", ["signed_year_fixed"]),
        ("3025-01-02", "2025-01-02", ["signed_year_fixed"]),
        # 2026 on a July-2025 roster: 2016, 2020…2025 all one digit away — ambiguous, so flagged
        ("2026-07-01", "", ["signed_year_implausible"]),
        ("1925-07-01", "", ["signed_year_implausible"]),
        ("2025-07-20", "2025-07-20", ["signed_after_roster_date"]),
        ("45826", "2025-06-18", ["signed_excel_serial"]),
        ("link pending", "", ["signed_unparsed"]),
        ("13/45/2025", "", ["signed_unparsed"]),
        ("", "", []),
    ],
)
def test_signed(raw, signed, rules):
    assert parse_signed(raw, ROSTER_DAY) == (signed, rules)


def test_counties_and_types_use_the_override_file():
    assert normalise_county("#N/A", "TEXAS", VOCAB) == ("", ["county_missing_marker"])
    assert normalise_county("N/A", "IOWA", VOCAB) == ("", ["county_missing_marker"])
    assert normalise_county("Jackson County  ", "TEXAS", VOCAB) == ("Jackson County", [])
    assert normalise_county("Frankin County", "ALABAMA", VOCAB) == ("Franklin County", ["county_override"])
    assert normalise_county("Frankin County", "TEXAS", VOCAB) == ("Frankin County", [])  # the rule is for Alabama
    assert normalise_type("Municipal", "ARKANSAS", "Texarkana Police Department", VOCAB) == ("Municipality", ["type_override"])
    assert normalise_type("", "NEW HAMPSHIRE", "Grafton County Sheriff's Office", VOCAB) == ("County", ["type_override"])
    assert normalise_type("", "NEW HAMPSHIRE", "Other Office", VOCAB) == ("", ["type_missing"])


def test_override_files_are_well_formed():
    fixes = [fix for rules in VOCAB.fixes.values() for fix in rules]
    assert fixes, "overrides/roster_fixes.csv is empty"
    for fix in fixes:
        assert fix.column in {"county", "type"}, fix
        assert not fix.state or fix.state in VOCAB.states, fix
    assert set(VOCAB.state_table.aliases.values()) <= set(VOCAB.states)
    assert len(VOCAB.states) == 56  # 50 states, DC, 5 territories
