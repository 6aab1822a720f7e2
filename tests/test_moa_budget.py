"""A long MOA run that finishes over several days: per-PDF saving, the time budget, and limits.

Run through the real CLIs (`python -m ice_tracker moa`, `python scraper.py`) in subprocesses, so a
kill and a budget stop are the real thing, worker processes included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ice_tracker.moa import run_moa
from ice_tracker.moa.journal import read_journal
from tests.conftest import shared_fixture_path
from tests.moa_pdfs import MOA_2025_TFM, metadata_by_name, paragraph, text_pdf

REPO = Path(__file__).resolve().parents[1]
RUN = "agreements/agreements_20250519_024922"
MISSING = "/nonexistent/tesseract"


def many_pdfs(data_dir: Path, count: int) -> list[str]:
    """`count` distinct text MOAs (one line differs), in the archive layout."""
    names = []
    for index in range(count):
        pages = [paragraph([f"Replica agreement number {index}"] * 3), *MOA_2025_TFM]
        name = f"Agency{index:03d}TX_TFM_MOA.pdf"
        path = data_dir / RUN / "TEXAS" / f"Agency_{index:03d}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text_pdf(pages))
        names.append(name)
    return names


def moa_command(data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ice_tracker", "moa", "--data-dir", str(data_dir), "--tesseract", MISSING,
            "--no-handwriting", *extra]


def test_killed_run_loses_at_most_the_pdf_in_progress(tmp_path: Path) -> None:
    data_dir = tmp_path / "archive"
    many_pdfs(data_dir, 40)
    journal = data_dir / "data" / "moa_metadata.journal.jsonl"
    run = subprocess.Popen(moa_command(data_dir, "--moa-workers", "1"), cwd=REPO, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            if journal.is_file() and len(journal.read_text(encoding="utf-8").splitlines()) >= 3:
                break
            time.sleep(0.01)
        os.killpg(run.pid, signal.SIGKILL)  # the CLI, its worker server and its worker
    finally:
        run.wait()
    assert run.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (data_dir / "data" / "moa_metadata.csv").exists()
    saved = read_journal(journal)
    texts = list((data_dir / "data" / "moa_text").glob("*.txt"))
    assert len(saved) >= 3 and not (data_dir / "data" / "moa_metadata.csv").exists()
    assert len(texts) <= len(saved) + 1  # at most the one PDF in progress was lost
    summary = run_moa(data_dir, tesseract=MISSING, handwriting=False, workers=1)
    assert summary["processed"] == 40 - len(saved)  # nothing journalled is read again
    assert summary["read"] == 40 and summary["backlog"] == {"metadata": 0, "full_text": 0}
    assert not journal.exists()  # folded into the CSV
    assert len(metadata_by_name(data_dir)) == 40


def test_budgeted_daily_run_stops_exits_0_and_records_the_backlog(tmp_path: Path) -> None:
    data_dir = tmp_path / "archive"
    many_pdfs(data_dir, 30)
    newest = sorted(shared_fixture_path("ice287g", "sheets").iterdir())[-1]  # a roster and CSLLEA: every derivation runs
    shutil.copytree(newest, data_dir / "sheets" / newest.name)
    (data_dir / "reference" / "csllea").mkdir(parents=True)
    shutil.copy(shared_fixture_path("csllea", "ICPSR_38771", "DS0001", "38771-0001-Data.rda"), data_dir / "reference" / "csllea")
    env = {**os.environ, "ICE_TRACKER_TESSERACT": MISSING, "ICE_TRACKER_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "scraper.py", "--data-dir", str(data_dir), "--only", "derive", "--moa-workers", "1"]
    first = subprocess.run([*command, "--moa-budget", "0.002"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    last_run = json.loads((data_dir / "data" / "last_run.json").read_text(encoding="utf-8"))
    moa = last_run["steps"]["derive"]["moa"]
    assert moa["stopped_by_budget"] and moa["read"] < 30
    assert moa["backlog"]["metadata"] == 30 - moa["read"]
    assert f"moa: {moa['read']:,} of 30 read, continuing" in last_run["commit_message"]
    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    moa = json.loads((data_dir / "data" / "last_run.json").read_text(encoding="utf-8"))["steps"]["derive"]["moa"]
    assert moa["read"] == 30 and moa["backlog"] == {"metadata": 0, "full_text": 0} and not moa["stopped_by_budget"]
    assert "moa:" not in json.loads((data_dir / "data" / "last_run.json").read_text(encoding="utf-8"))["commit_message"]


def test_pdfs_over_the_limits_are_recorded_and_not_read_again(tmp_path: Path, monkeypatch) -> None:
    data_dir = tmp_path / "archive"
    files = {
        "Huge_Page/huge.pdf": text_pdf([paragraph(["A page ten thousand points wide"])], page_size=(10000, 10000)),
        "Many_Pages/many.pdf": text_pdf([paragraph([f"page {i}"]) for i in range(600)]),
        "Good/AlphaCoTX_TFM_MOA.pdf": text_pdf(MOA_2025_TFM),
    }
    for rel, data in files.items():
        path = data_dir / RUN / "TEXAS" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    summary = run_moa(data_dir, tesseract=MISSING, handwriting=False, workers=2)
    rows = metadata_by_name(data_dir)
    assert summary["processed"] == 3 and summary["failed"] == 2
    assert rows["huge.pdf"]["status"] == "failed_limit" and "moa_page_points" in rows["huge.pdf"]["error"]
    assert rows["many.pdf"]["status"] == "failed_limit" and "600 pages" in rows["many.pdf"]["error"]
    assert rows["AlphaCoTX_TFM_MOA.pdf"]["status"] == "ok" and rows["AlphaCoTX_TFM_MOA.pdf"]["model"] == "TFM"
    review = (data_dir / "data" / "moa_review.csv").read_text(encoding="utf-8")
    assert "failed_limit" in review and "huge.pdf" in review
    assert run_moa(data_dir, tesseract=MISSING, handwriting=False)["processed"] == 0  # never read again


def test_a_pdf_past_its_deadline_costs_only_itself(tmp_path: Path, monkeypatch) -> None:
    data_dir = tmp_path / "archive"
    many_pdfs(data_dir, 2)
    slow = data_dir / RUN / "TEXAS" / "Slow" / "slow.pdf"  # 450 dense pages: under the page limit, not the deadline
    slow.parent.mkdir(parents=True)
    slow.write_bytes(text_pdf([paragraph([f"line {i} of a very long and slow agreement"] * 80) for i in range(450)]))
    monkeypatch.setenv("ICE_TRACKER_LIMIT_MOA_PDF_SECONDS", "2")  # the slow PDF takes ~12 s with the pdfium text layer
    summary = run_moa(data_dir, tesseract=MISSING, handwriting=False, workers=1)
    rows = metadata_by_name(data_dir)
    assert summary["processed"] == 3 and len(rows) == 3
    assert rows["slow.pdf"]["status"] == "failed_limit" and "moa_pdf_seconds" in rows["slow.pdf"]["error"]
    assert [rows[f"Agency{i:03d}TX_TFM_MOA.pdf"]["status"] for i in range(2)] == ["ok", "ok"]
