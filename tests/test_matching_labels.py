"""The hand-labelled set: its integrity, and the matcher's quality on it (issue targets)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.bench_matching import LABELS, baseline, load_labels, score, workbook_rows
from ice_tracker.config import DEFAULT_OVERRIDES_DIR
from ice_tracker.matching.aliases import load_aliases, load_overrides
from ice_tracker.matching.csllea import load_csllea
from ice_tracker.matching.matcher import Reference, match_agencies
from ice_tracker.matching.normalise import state_postal
from ice_tracker.matching.outputs import distinct_queries
from tests.conftest import shared_fixture_path

HARD_CATEGORIES_NEEDED = {"state_agency", "corrections", "jail", "university", "constable", "post_2018", "same_name",
                          "typo", "sheriff_variant", "parish", "va_city", "dps", "commission"}


@pytest.fixture(scope="module")
def frame():
    return load_csllea(shared_fixture_path("csllea", "ICPSR_38771", "DS0001", "38771-0001-Data.rda"))


@pytest.fixture(scope="module")
def queries():
    return distinct_queries(workbook_rows(shared_fixture_path()))


def test_label_file_shape():
    with open(LABELS, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({(r["state"], r["agency"]) for r in rows}) == len(rows) >= 200
    hard = [r for r in rows if r["hard"] == "1"]
    assert len(hard) >= 60
    assert HARD_CATEGORIES_NEEDED <= {r["category"] for r in hard}
    assert all(r["how"].strip() for r in rows)
    assert (Path(LABELS).with_suffix(".md")).is_file()


def test_labels_point_at_real_agencies_in_the_right_state(frame):
    indexed = frame.set_index("agency_id")
    for key, label in load_labels().items():
        if label["agency_id"] == "NONE":
            continue
        row = indexed.loc[label["agency_id"]]
        assert row["state"] == state_postal(key[0]), key
        assert row["name"] == label["csllea_name"], key
        if label["category"] in ("corrections", "jail", "commission"):
            assert row["agency_type"] != "Sheriff", key


def test_every_label_is_a_roster_name(queries):
    names = {(q.state, q.agency) for q in queries}
    assert set(load_labels()) <= names


def test_quality_targets(frame, queries):
    labels = load_labels()
    ref = Reference(frame)
    bare = {(m.query.state, m.query.agency): m.agency_id for m in match_agencies(queries, ref)}
    shipped = {(m.query.state, m.query.agency): m.agency_id
               for m in match_agencies(queries, ref, load_overrides(DEFAULT_OVERRIDES_DIR / "agency_matches.csv"),
                                       load_aliases(DEFAULT_OVERRIDES_DIR / "agency_aliases.csv"))}
    naive = score(baseline(queries, frame), labels, frame)
    for predicted in (bare, shipped):
        result = score(predicted, labels, frame)
        assert result["precision"] >= 0.995, result
        assert result["recall"] >= 0.97, result
        assert result["jail_to_sheriff"] == 0
        assert result["recall"] > naive["recall"]
