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
from ice_tracker.detention import workbook_cache
from ice_tracker.detention.readers import read_workbook_stints
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


def test_rederivation_reads_the_cache_not_the_workbook(tmp_path: Path, workbook: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    uncached = _derive(workbook, tmp_path / "plain", None)
    first = _derive(workbook, tmp_path / "first", cache)
    entries = list(cache.iterdir())
    assert [e.name for e in entries] == [f"{sha256_file(workbook)}-{workbook_cache.reader_version()}"]
    assert sorted(p.name for p in entries[0].iterdir())[-1] == "reads.json"
    assert len(list(entries[0].glob("part-*.parquet"))) >= 2  # one part per sheet at least

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
