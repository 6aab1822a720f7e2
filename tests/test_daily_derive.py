"""`python scraper.py --only derive`: every derivation over an archive, offline and deterministic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv
from ice_tracker.roster.history_files import iter_history_rows
from tests.conftest import shared_fixture_path


def archive_of_fixture_sheets(data_dir: Path) -> None:
    """A data dir holding the 64 fixture workbooks in the archive layout, and the CSLLEA file."""
    shutil.copytree(shared_fixture_path("ice287g", "sheets"), data_dir / "sheets")
    reference = data_dir / "reference" / "csllea"
    reference.mkdir(parents=True)
    shutil.copy(shared_fixture_path("csllea", "ICPSR_38771", "DS0001", "38771-0001-Data.rda"), reference)


def test_derive_builds_history_and_agreements_deterministically(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ICE_TRACKER_CACHE", str(tmp_path / "cache"))
    data_dir = tmp_path / "data_root"
    archive_of_fixture_sheets(data_dir)
    assert run_daily(["--data-dir", str(data_dir), "--only", "derive"]) == 0
    summary = json.loads((data_dir / "data" / "last_run.json").read_text())["steps"]["derive"]
    assert "errors" not in summary
    assert summary["history"]["workbooks"] == 64 and summary["history"]["rows"] > 20000
    assert summary["matching"]["agencies"] > 700
    assert summary["publish"]["errors"] == [] and summary["publish"]["problems"] == []  # every column described
    assert (data_dir / "site" / "index.html").is_file() and len(list((data_dir / "plots").glob("*.png"))) >= 5
    history = list(iter_history_rows(data_dir / "data"))
    agreements = read_dict_csv(data_dir / "agreements.csv")
    assert len(agreements) == len(history)
    outputs = sorted(p for p in data_dir.rglob("*") if p.is_file() and "sheets" not in p.parts and p.name != "last_run.json")
    first = {p: p.read_bytes() for p in outputs}
    shutil.rmtree(tmp_path / "cache")  # a cold cache must give the same bytes
    assert run_daily(["--data-dir", str(data_dir), "--only", "derive"]) == 0
    assert {p: p.read_bytes() for p in outputs} == first
