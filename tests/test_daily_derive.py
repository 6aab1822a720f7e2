"""`python scraper.py --only derive`: every derivation over an archive, offline and deterministic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv
from ice_tracker.roster.history_files import iter_history_rows, read_current
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
    # the agreements in force: one row each on the newest good participating and pending rosters
    current = read_current(data_dir / "data").to_dict("records")
    keys = [(r["list"], r["agreement_id"]) for r in agreements]
    assert len(keys) == len(set(keys)) and set(keys) == {(r["list"], r["agreement_id"]) for r in current}
    assert {r["file"] for r in agreements} == {"participatingAgencies07182025pm.xlsx", "pendingAgencies07182025pm.xlsx"}
    assert len(history) > 20 * len(agreements)  # every snapshot's rows stay in the history
    named = [r for r in agreements if r["county"]]
    resolved = sum(bool(r["county_fips"]) for r in named) / len(named)
    assert resolved >= 0.99, resolved
    unresolved = {(q["raw"]) for q in read_dict_csv(data_dir / "data" / "quality.csv") if q["rule"] == "county_fips_unresolved"}
    assert {r["county"] for r in named if not r["county_fips"]} <= unresolved  # each one listed for a hand fix
    assert all(r["state_fips"] for r in agreements)
    miami = next(r for r in agreements if r["agency"].startswith("Miami Dade Sheriff"))
    assert miami["match_method"] == "override" and "Created January 2025" in miami["match_note"]
    assert sum(bool(r["moa_url"]) for r in agreements) > 0.7 * sum(r["list"] == "participating" for r in agreements)
    assert (data_dir / "data" / "feeds" / "FL.atom").is_file()
    outputs = sorted(p for p in data_dir.rglob("*") if p.is_file() and "sheets" not in p.parts and p.name != "last_run.json")
    first = {p: p.read_bytes() for p in outputs}
    shutil.rmtree(tmp_path / "cache")  # a cold cache must give the same bytes
    assert run_daily(["--data-dir", str(data_dir), "--only", "derive"]) == 0
    assert {p: p.read_bytes() for p in outputs} == first
