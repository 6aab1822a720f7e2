"""run_moa over a small archive: one row per distinct PDF, failures recorded, incremental reruns."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ice_tracker.cli import main
from ice_tracker.moa import run_moa
from ice_tracker.moa.ocr import find_tesseract
from tests.moa_pdfs import MOA_2025_TFM, scanned_pdf, text_pdf

RUN = "agreements/agreements_20250519_024922"
MISSING = "/nonexistent/tesseract"


def archive(data_dir: Path) -> dict[str, bytes]:
    """A tiny archive in the step-1 layout: good, shared, scanned and broken PDFs."""
    good = text_pdf(MOA_2025_TFM)
    files = {
        f"{RUN}/TEXAS/Example_County_Sheriff's_Office/ExampleCoTX_TFM_MOA_03112025.pdf": good,
        f"{RUN}/TEXAS/Example_City_Police_Department/ExampleCoTX_TFM_MOA_03112025.pdf": good,  # shared PDF
        f"{RUN}/OHIO/Scan_County_Sheriff's_Office/ScanCoOH_JEM_MOA.pdf": scanned_pdf(
            ["MEMORANDUM OF AGREEMENT", "287(g) Jail Enforcement Model"]
        ),
        f"{RUN}/OHIO/Blocked_Agency/blocked.pdf": b"<html><body>Access Denied</body></html>",
        f"{RUN}/OHIO/Locked_Agency/locked.pdf": text_pdf(MOA_2025_TFM, encrypt=True),
        f"{RUN}/OHIO/Cut_Agency/cut.pdf": good[:300],
    }
    for rel, data in files.items():
        path = data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def read_rows(out_dir: Path) -> list[dict[str, str]]:
    with open(out_dir / "data" / "moa_metadata.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_run_records_every_pdf_and_failure(tmp_path: Path) -> None:
    data_dir, out_dir = tmp_path / "archive", tmp_path / "out"
    files = archive(data_dir)
    (data_dir / "manifest.csv").write_text(
        "path,kind,source_url,sha256,bytes,fetched_at,etag,last_modified,content_type,state,agency\n"
        f"{next(iter(files))},agreement,https://www.ice.gov/doclib/287gMOA/ExampleCoTX_TFM_MOA_03112025.pdf,,,,,,,TEXAS,Example County Sheriff's Office\n",
        encoding="utf-8",
    )
    summary = run_moa(data_dir, out_dir, tesseract=MISSING)
    assert summary["pdfs"] == 5 and summary["processed"] == 5 and summary["failed"] == 3
    assert summary["ocr"] == "unavailable" and summary["ocr_unavailable"] == 1
    rows = {r["paths"].split("/")[-1]: r for r in read_rows(out_dir)}
    good = rows["ExampleCoTX_TFM_MOA_03112025.pdf"]
    assert len(good["paths"].split(";")) == 2 and good["states"] == "TEXAS"
    assert good["agencies"] == "Example City Police Department;Example County Sheriff's Office"
    assert good["source_urls"].startswith("https://www.ice.gov/doclib/287gMOA/")
    assert (good["model"], good["lea_signed"], good["ice_signed"], good["text_layer"]) == ("TFM", "2025-03-04", "2025-03-11", "true")
    text = (out_dir / "data" / "moa_text" / f"{good['sha256']}.txt").read_text(encoding="utf-8")
    assert "287(g) Task Force Model" in text and int(good["chars"]) == len(text)
    assert rows["blocked.pdf"]["status"] == "failed_not_pdf"
    assert rows["locked.pdf"]["status"] == "failed_encrypted"
    assert rows["cut.pdf"]["status"] == "failed_corrupt" and rows["cut.pdf"]["error"]
    scan = rows["ScanCoOH_JEM_MOA.pdf"]
    assert (scan["status"], scan["ocr"], scan["text_layer"], scan["model"], scan["model_source"]) == (
        "ok", "unavailable", "false", "JEM", "filename"
    )
    # archived files untouched, outputs only in out_dir
    assert all((data_dir / rel).read_bytes() == data for rel, data in files.items())
    assert not (data_dir / "data").exists()


def test_rerun_reads_nothing_and_rewrites_nothing(tmp_path: Path) -> None:
    archive(tmp_path)
    run_moa(tmp_path, tesseract=MISSING)  # out_dir defaults to the data dir
    metadata = tmp_path / "data" / "moa_metadata.csv"
    before = metadata.read_bytes()
    mtime = metadata.stat().st_mtime_ns
    again = run_moa(tmp_path, tesseract=MISSING)
    assert again["processed"] == 0 and again["metadata_changed"] is False
    assert metadata.read_bytes() == before and metadata.stat().st_mtime_ns == mtime
    # a newly archived copy of known bytes only adds a path, no re-read
    extra = tmp_path / RUN / "UTAH" / "Another_Agency" / "copy.pdf"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(text_pdf(MOA_2025_TFM))
    third = run_moa(tmp_path, tesseract=MISSING)
    assert third["processed"] == 0
    assert any("UTAH/Another_Agency/copy.pdf" in r["paths"] for r in read_rows(tmp_path))


def test_scans_left_unread_are_retried_once_tesseract_is_there(tmp_path: Path) -> None:
    if find_tesseract() is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    scan = tmp_path / RUN / "OHIO" / "Scan_Agency" / "scan_JEM.pdf"
    scan.parent.mkdir(parents=True)
    scan.write_bytes(scanned_pdf(["MEMORANDUM OF AGREEMENT", "287(g) Warrant Service Officer Program"]))
    assert run_moa(tmp_path, tesseract=MISSING)["ocr_unavailable"] == 1
    summary = run_moa(tmp_path)
    assert summary["processed"] == 1 and summary["ocr_unavailable"] == 0
    (row,) = read_rows(tmp_path)
    assert (row["ocr"], row["ocr_pages"], row["model"], row["model_source"]) == ("used", "1", "WSO", "text")


def test_cli_writes_to_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive(tmp_path / "a")
    code = main(["moa", "--data-dir", str(tmp_path / "a"), "--out-dir", str(tmp_path / "o"), "--tesseract", MISSING])
    assert code == 0
    assert '"pdfs": 5' in capsys.readouterr().out
    assert len(read_rows(tmp_path / "o")) == 5


def test_empty_archive_gives_an_empty_table(tmp_path: Path) -> None:
    summary = run_moa(tmp_path, tesseract=MISSING)
    assert summary["pdfs"] == 0
    assert read_rows(tmp_path) == []


def test_manifest_hash_is_used_only_while_the_size_matches(tmp_path: Path) -> None:
    from ice_tracker.moa.table import scan_archive

    files = archive(tmp_path)
    rel = next(iter(files))
    fake = "f" * 64
    header = "path,kind,source_url,sha256,bytes,fetched_at,etag,last_modified,content_type,state,agency\n"
    (tmp_path / "manifest.csv").write_text(header + f"{rel},agreement,,{fake},{len(files[rel])},,,,,,\n", encoding="utf-8")
    assert rel in scan_archive(tmp_path)[fake].paths  # trusted: no re-hash of archived bytes
    (tmp_path / "manifest.csv").write_text(header + f"{rel},agreement,,{fake},1,,,,,,\n", encoding="utf-8")
    assert fake not in scan_archive(tmp_path)
