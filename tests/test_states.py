"""The one state table and normaliser: roster and matching agree on every spelling."""

from __future__ import annotations

import pytest

from ice_tracker.matching.normalise import normalise_state as matching_state
from ice_tracker.matching.normalise import state_postal
from ice_tracker.roster.normalise import normalise_state as roster_state
from ice_tracker.roster.vocab import load_vocabulary
from ice_tracker.states import load_state_table

DC_SPELLINGS = ["DC", "D.C.", "dc", "Washington DC", "WASHINGTON DC", "WASHINGTON D.C.", "Washington, D.C.",
                "Washington, DC", "Washington D. C.", "Wash. D.C.", "District of Columbia", "DISTRICT OF COLUMBIA ",
                "Dist. of Columbia", "District Columbia", "Distrct of Columbia"]


@pytest.mark.parametrize("raw", DC_SPELLINGS)
def test_dc_in_all_its_spellings_is_the_district_everywhere(raw):
    assert roster_state(raw, load_vocabulary())[0] == "DISTRICT OF COLUMBIA"
    assert matching_state(raw) == "DISTRICT OF COLUMBIA"
    assert state_postal(raw) == "DC"


@pytest.mark.parametrize("raw", ["Washington", "WA", "WASHINGTON ", "washingtn"])
def test_washington_the_state_stays_the_state(raw):
    assert matching_state(raw) == roster_state(raw, load_vocabulary())[0] == "WASHINGTON"


def test_roster_and_matching_share_one_table_with_fips_codes():
    table = load_state_table()
    vocab = load_vocabulary()
    assert vocab.state_table is table and vocab.states == table.codes
    assert len(table.codes) == 56 and table.fips["DISTRICT OF COLUMBIA"] == "11" and table.fips["FLORIDA"] == "12"
    for raw in ("UTAHJ", "AlABAMA", "fl", "MISSISIPPI", "Puerto Rico", "ATLANTIS", "VIRGINA", "DAKOTA"):
        assert (matching_state(raw) or "") == roster_state(raw, vocab)[0], raw


def test_a_data_dirs_state_corrections_reach_matching_and_publishing(tmp_path):
    """`<data-dir>/overrides/states.csv` applies to every lookup once a run names its data dir, not
    only to the roster: before, matching and the FIPS codes read the package's defaults."""
    from ice_tracker.roster.fips import state_fips
    from ice_tracker.states import active_overrides_dir, use_overrides_dir

    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "states.csv").write_text("raw,state,note\nLONE STAR,TEXAS,test spelling\n", encoding="utf-8")
    before = active_overrides_dir()
    assert matching_state("LONE STAR") is None
    use_overrides_dir(overrides)
    try:
        assert matching_state("Lone Star") == "TEXAS"
        assert state_postal("LONE STAR") == "TX"
        assert load_state_table().name("lone star") == "TEXAS"
        assert state_fips("TEXAS") == "48"
    finally:
        use_overrides_dir(before)
    assert matching_state("LONE STAR") is None
