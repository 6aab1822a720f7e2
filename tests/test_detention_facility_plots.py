"""Per-facility population charts (plots/detention_facility/<code>.png) and the dashboard's links to them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ice_tracker.detention.outputs import write_parquet
from ice_tracker.publish.run import run_publish
from tests.publish_factory import write_roster_inputs, write_small_detention


def _facility_days(data_dir: Path, extra: int = 0) -> None:
    days = pd.date_range("2023-10-01", "2025-03-10", freq="D")
    rows = [{"detention_facility_code": code, "date": day, "n_detained_at_midnight": base + i % 9 + extra * (i % 2), "n_detained": base + 9}
            for code, base in (("AAAFAC", 900), ("BBBFAC", 300)) for i, day in enumerate(days)]
    write_parquet(data_dir / "data" / "detention" / "facility_daily_population.parquet", pd.DataFrame(rows),
                  date_columns=("date",))


def test_one_deterministic_chart_per_facility_linked_from_the_dashboard(tmp_path: Path) -> None:
    write_roster_inputs(tmp_path)
    write_small_detention(tmp_path)
    _facility_days(tmp_path)
    summary = run_publish(tmp_path)
    assert summary["errors"] == []
    plots = tmp_path / "plots" / "detention_facility"
    assert sorted(p.name for p in plots.glob("*.png")) == ["AAAFAC.png", "BBBFAC.png"]
    first = {p.name: p.read_bytes() for p in plots.glob("*.png")}
    assert all(data.startswith(b"\x89PNG") and b"Software" not in data for data in first.values())
    assert first["AAAFAC.png"] != first["BBBFAC.png"]
    assert 'id="detention-facility-plot"' in (tmp_path / "site" / "index.html").read_text()
    script = (tmp_path / "site" / "data" / "dashboard.js").read_text()
    facilities = {f["code"]: f["plot"] for f in json.loads(script.split("=", 1)[1].rstrip().rstrip(";"))["detention"]["facilities"]}
    assert facilities == {"AAAFAC": "../plots/detention_facility/AAAFAC.png",  # the facility view's link target
                          "BBBFAC": "../plots/detention_facility/BBBFAC.png", "CCCFAC": ""}  # no facility-day rows
    again = run_publish(tmp_path)
    assert not [name for name in again["files_changed"] if "detention_facility" in name]
    assert {p.name: p.read_bytes() for p in plots.glob("*.png")} == first
    (plots / "AAAFAC.png").unlink()  # unchanged inputs: not redrawn (the stamp says what they were drawn from)
    run_publish(tmp_path)
    assert not (plots / "AAAFAC.png").exists()
    _facility_days(tmp_path, extra=1)  # new counts: every chart redrawn
    changed = run_publish(tmp_path)["files_changed"]
    assert "plots/detention_facility/AAAFAC.png" in changed and (plots / "AAAFAC.png").read_bytes() != first["AAAFAC.png"]
