"""The release-scale shortcuts give exactly what the plain versions give: packed sort keys, identifier
codes from neighbours, dictionary columns written as text, categoricals through reading and stacking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import ice_tracker.detention.stints as stints_module
from ice_tracker.detention.outputs import write_parquet
from ice_tracker.detention.readers import read_stints, stack
from ice_tracker.detention.stays import _first_of_longest
from ice_tracker.detention.stints import MISSING_LAST, lexicographic_order, person_codes

TEXT = pd.StringDtype("pyarrow")


@pytest.mark.parametrize("split_rows", [10**9, 1_000])  # one sort; two halves on two threads
def test_packed_sort_equals_lexsort_of_every_key(split_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stints_module, "SPLIT_SORT_ROWS", split_rows)
    rng = np.random.default_rng(5)
    n = 20_000
    ids = rng.integers(0, 3_000, n)
    stay = rng.integers(1_600_000_000, 1_780_000_000, n) // 60 * 60
    book_in = stay + rng.integers(0, 86_400 * 3, n)
    stay[rng.random(n) < 0.05] = MISSING_LAST  # missing date-times sort last
    wide = np.where(rng.random(n) < 0.5, -(2**62), 2**62)  # a key too wide to shift or pack
    facility = rng.integers(0, 700, n)
    constant = np.zeros(n, dtype=np.int64)
    row = np.arange(1, n + 1)
    for keys in ([ids, stay, book_in, facility, constant, constant, row],     # ordered suffix dropped
                 [ids, stay, book_in, facility, constant, constant, row[::-1].copy()],  # not ordered: kept
                 [facility, book_in], [wide, facility, book_in], [facility, wide, ids], [constant],
                 [constant + 1, ids], [ids[::-1].copy(), row]):  # one packed key
        assert np.array_equal(lexicographic_order(keys), np.lexsort(keys[::-1]))


def test_person_codes_from_neighbours_match_a_factorize() -> None:
    sorted_ids = pd.Series(["a", "a", "b", "c", "c", None, None], dtype=TEXT)
    assert person_codes(sorted_ids).tolist() == [0, 0, 1, 2, 2, 3, 4]  # no identifier: a person each
    shuffled = pd.Series(["b", "a", "b", None, "c"], dtype=TEXT)
    codes = person_codes(shuffled)
    assert codes[0] == codes[2] and len(set(codes.tolist())) == 4


def test_first_of_longest_is_idxmax_per_group() -> None:
    rng = np.random.default_rng(2)
    group_sizes = rng.integers(1, 6, 2_000)
    new = np.zeros(group_sizes.sum(), dtype=bool)
    first = np.r_[0, np.cumsum(group_sizes)[:-1]]
    new[first] = True
    duration = rng.integers(0, 5, new.size)  # many ties: the first longest must win
    expected = pd.Series(duration).groupby(np.cumsum(new)).idxmax().to_numpy()
    assert np.array_equal(_first_of_longest(duration, first, new), expected)


def test_categoricals_are_written_as_plain_text_byte_identically(tmp_path: Path) -> None:
    rows = 2_500
    text = pd.DataFrame({
        "unique_identifier": pd.array([f"id{i:05d}" for i in range(rows)], dtype=TEXT),
        "gender": pd.array(np.where(np.arange(rows) % 3 == 0, "Female", "Male"), dtype=TEXT),
        "detention_facility_code": pd.array([None if i % 7 == 0 else f"F{i % 11}" for i in range(rows)], dtype=TEXT),
        "source_row": np.arange(1, rows + 1),
    })
    coded = text.assign(gender=text["gender"].astype("category"),
                        detention_facility_code=text["detention_facility_code"].astype("category"))
    write_parquet(tmp_path / "text.parquet", text)
    for attempt in ("a", "b"):
        write_parquet(tmp_path / f"coded_{attempt}.parquet", coded, distinct_columns=("unique_identifier", "source_row"))
    plain, written = pq.read_table(tmp_path / "text.parquet"), pq.read_table(tmp_path / "coded_a.parquet")
    assert written.schema.equals(plain.schema)  # readers see text, not dictionaries
    assert written.equals(plain)
    assert (tmp_path / "coded_a.parquet").read_bytes() == (tmp_path / "coded_b.parquet").read_bytes()
    assert pd.read_parquet(tmp_path / "coded_a.parquet")["gender"].dtype == pd.read_parquet(tmp_path / "text.parquet")["gender"].dtype


def test_dictionary_columns_of_a_parquet_are_cleaned_per_category(tmp_path: Path) -> None:
    n = 3_000
    source = pd.DataFrame({
        "unique_identifier": [f"P{i:06d}" for i in range(n)],
        "book_in_date_time": pd.Timestamp("2025-01-01 08:00") + pd.to_timedelta(np.arange(n), unit="h"),
        "detention_facility_code": np.where(np.arange(n) % 2 == 0, " AAAFAC ", "BBBFAC"),
        "gender": np.where(np.arange(n) % 5 == 0, "b(6), b(7)c", np.where(np.arange(n) % 5 == 1, "", "Male")),
    })
    path = tmp_path / "detention-stints-latest.parquet"
    source.to_parquet(path)
    frame, _ = read_stints(path)
    assert isinstance(frame["gender"].dtype, pd.CategoricalDtype)
    assert list(frame["gender"].cat.categories) == ["Male"]  # redaction and blank → missing
    assert frame["gender"].isna().sum() == 2 * n // 5
    assert set(frame["detention_facility_code"].astype(str)) == {"AAAFAC", "BBBFAC"}  # stripped


def test_stack_keeps_categoricals_and_falls_back_to_text_when_chunks_differ() -> None:
    a = pd.DataFrame({"gender": pd.Categorical(["Male", "Female"]), "status": pd.Categorical(["x", "y"])})
    b = pd.DataFrame({"gender": pd.Categorical(["Female", None]), "status": pd.Series(["z", None], dtype=TEXT)})
    both = stack([a, b])
    assert isinstance(both["gender"].dtype, pd.CategoricalDtype)
    assert both["gender"].tolist()[:3] == ["Male", "Female", "Female"] and pd.isna(both["gender"].iloc[3])
    assert not isinstance(both["status"].dtype, pd.CategoricalDtype)
    assert both["status"].tolist()[:3] == ["x", "y", "z"] and pd.isna(both["status"].iloc[3])
