"""The workbook → parquet cache: a raw workbook is parsed once; a re-derivation never opens it again.

Real-layout workbooks (title block, header on row 7, two sheets) are written by the tests, derived
through the `detention` command with `--cache`, and derived again with every workbook reader made to
fail: the outputs must be byte-identical to the first run and to a run without the cache.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import fastexcel
import pandas as pd
import pytest
import python_calamine

from ice_tracker.cli import main
from ice_tracker.detention import clean, workbook_cache
from ice_tracker.detention.clean import TEXT
from ice_tracker.detention.readers import constant_column, read_workbook_stints
from ice_tracker.detention.synth import synthetic_stints
from ice_tracker.detention.workbook_synth import write_raw_workbook
from ice_tracker.fileio import sha256_file

EXTRACT = "2026-03-10"


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stints = synthetic_stints(600, n_facilities=7, start=pd.Timestamp("2025-10-01").date(),
                              extract_date=pd.Timestamp(EXTRACT).date(), seed=9, string_ids=True)
    path = tmp_path_factory.mktemp("book") / "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx"
    write_raw_workbook(path, stints, sheets=2)
    return path


def _derive(source: Path, out: Path, cache: Path | None) -> dict[str, bytes]:
    args = ["detention", "--input", str(source), "--extract-date", EXTRACT, "--out", str(out)]
    assert main(args + (["--cache", str(cache)] if cache else [])) == 0
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _no_workbook_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way of opening an .xlsx fails from now on (zip, python-calamine, fastexcel)."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was opened again")

    monkeypatch.setattr(zipfile.ZipFile, "__init__", refuse)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", refuse)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", refuse)
    monkeypatch.setattr(fastexcel, "read_excel", refuse)


def test_rederivation_reads_the_cache_not_the_workbook(tmp_path: Path, workbook: Path, xlsx_reader: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    uncached = _derive(workbook, tmp_path / "plain", None)
    first = _derive(workbook, tmp_path / "first", cache)
    entries = list(cache.iterdir())
    assert [e.name for e in entries] == [f"{sha256_file(workbook)}-{workbook_cache.reader_version()}"]
    assert sorted(p.name for p in entries[0].iterdir()) == ["reads.json", "table.parquet"]

    _no_workbook_reader(monkeypatch)
    second = _derive(workbook, tmp_path / "second", cache)
    assert second == first  # byte-identical outputs, the .xlsx never opened
    assert first == uncached  # and the same as reading the workbook without a cache


def test_cached_table_equals_the_direct_read_under_another_name(tmp_path: Path, workbook: Path) -> None:
    direct, direct_reads = read_workbook_stints(workbook)
    cache = tmp_path / "cache"
    workbook_cache.read_workbook_cached(workbook, cache)  # converts
    renamed = tmp_path / "renamed.xlsx"
    shutil.copy(workbook, renamed)
    cached, reads = workbook_cache.read_workbook_cached(renamed, cache)  # same bytes: the same entry
    assert len(list(cache.iterdir())) == 1
    assert set(cached["source_file"]) == {"renamed.xlsx"}
    assert [r.__dict__ | {"file": "x"} for r in reads] == [r.__dict__ | {"file": "x"} for r in direct_reads]
    direct["source_file"] = pd.Categorical(["renamed.xlsx"] * len(direct))
    cached["source_file"] = pd.Categorical(["renamed.xlsx"] * len(cached))
    pd.testing.assert_frame_equal(cached, direct)


@pytest.mark.parametrize("window_rows", ["37", "100000"])
def test_the_converting_run_gets_the_table_later_runs_read_back(tmp_path: Path, workbook: Path, window_rows: str,
                                                                 xlsx_reader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run that converts keeps the table it stacked instead of reading it back: it must be the very
    table (values and dtypes) a later run reads from the parquet."""
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_WINDOW_ROWS", window_rows)
    monkeypatch.setattr(clean, "CATEGORICAL_MIN_ROWS", 5)  # few-valued text becomes categorical in this small book
    cache = tmp_path / "cache"
    converted, converted_reads = workbook_cache.read_workbook_cached(workbook, cache)
    again, again_reads = workbook_cache.read_workbook_cached(workbook, cache)
    pd.testing.assert_frame_equal(converted, again)
    assert [r.__dict__ for r in converted_reads] == [r.__dict__ for r in again_reads]


def test_every_dtype_the_readers_give_survives_the_parquet_round_trip(tmp_path: Path) -> None:
    """What a parquet round trip changes (seconds → milliseconds, Arrow-string categories → Python-string
    ones, an empty categorical → missing objects) is undone by `_canonical`, for every dtype a reader
    gives: so the converting run and the later ones hold the same table."""
    n = 4
    frame = pd.DataFrame({
        "book_in_date_time": pd.array(pd.to_datetime(["2025-01-01 10:00", None, "2025-03-01 00:00", "2026-01-01 08:30"])).astype("datetime64[s]"),
        "initial_bond_set_amount": [1500.0, None, 0.0, 2.5],
        "gender": pd.Categorical.from_codes([0, 1, -1, 0], categories=pd.Index(["Female", "Male"], dtype=TEXT)),
        "religion": pd.Categorical.from_codes([-1] * n, categories=pd.Index([], dtype=TEXT)),
        "unique_identifier": pd.array(["a", "b", None, "d"], dtype=TEXT),
        "final_charge": pd.array([None] * n, dtype=TEXT),
        "source_sheet": constant_column("Detentions 1", n),
        "source_row": pd.array([8, 9, 10, 11], dtype="int64"),
    })
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert [str(t) for t in back.dtypes] != [str(t) for t in frame.dtypes]  # the round trip does change them
    pd.testing.assert_frame_equal(workbook_cache._canonical(back), frame)
    pd.testing.assert_frame_equal(workbook_cache._canonical(frame.copy()), frame)


def test_a_new_reader_version_reads_the_workbook_again(tmp_path: Path, workbook: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    workbook_cache.read_workbook_cached(workbook, cache)
    monkeypatch.setattr(workbook_cache, "CACHE_FORMAT", workbook_cache.CACHE_FORMAT + 1)
    workbook_cache.reader_version.cache_clear()
    try:
        workbook_cache.read_workbook_cached(workbook, cache)
        assert len(list(cache.iterdir())) == 2  # the old entry is left, never used
    finally:
        monkeypatch.undo()
        workbook_cache.reader_version.cache_clear()


def test_a_broken_workbook_leaves_no_entry(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    assert main(["detention", "--input", str(broken), "--out", str(out), "--cache", str(cache)]) == 2
    assert list(cache.iterdir()) == []  # no entry, no temporary folder
    assert not out.exists()
