"""Hand-read values (overrides/moa_fields.csv) and the review queue (data/moa_review.csv)."""

from __future__ import annotations

import csv
from pathlib import Path

from ice_tracker.moa import run_moa
from tests.moa_pdfs import metadata_by_name, write_small_archive

MISSING = "/nonexistent/tesseract"
BETA = "Beta PD FL_TFM_MOA_03132025.pdf"
PDFS_BROKEN = "agreements/agreements_20250519_024922/OHIO/Broken_Agency/broken.pdf"


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_overrides(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "moa_fields.csv").write_text("sha256,file,field,value,note\n" + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return folder


def test_review_queue_lists_what_is_missing_and_why(tmp_path: Path) -> None:
    data_dir = tmp_path / "archive"
    write_small_archive(data_dir)
    (data_dir / PDFS_BROKEN).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / PDFS_BROKEN).write_bytes(b"<html>Access Denied</html>")
    summary = run_moa(data_dir, tesseract=MISSING, handwriting=False, overrides_dir=write_overrides(tmp_path / "none", []))
    review = read(data_dir / "data" / "moa_review.csv")
    assert summary["to_review"] == len(review) == 3
    by_file = {(Path(r["file"]).name, r["field"]): r["reason"] for r in review}
    assert by_file[(BETA, "ice_signed")] == "hand-written dates not read (reader not installed)"
    assert by_file[("SharedOhio_TFM_MOA.pdf", "ice_signed")] == "hand-written dates not read (reader not installed)"
    assert by_file[("broken.pdf", "")].startswith("failed_not_pdf")
    assert not any(name.startswith("Alpha") for name, _ in by_file)  # complete rows are not listed


def test_a_hand_read_value_wins_and_withdrawing_it_restores_the_extracted_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "archive"
    write_small_archive(data_dir)
    empty = write_overrides(tmp_path / "none", [])
    run_moa(data_dir, tesseract=MISSING, handwriting=False, overrides_dir=empty)
    sha = {name: row["sha256"] for name, row in metadata_by_name(data_dir).items()}
    alpha = "AlphaCoTX_TFM_MOA_03.11.2025.pdf"
    folder = write_overrides(tmp_path / "overrides", [
        f"{sha[BETA]},{BETA},ice_signed,2025-03-13,read by hand: 3/13/25 in blue ink",
        f"{sha[alpha]},{alpha},model,JEM,test: a wrong extraction corrected",
        f"{sha[BETA]},{BETA},lea_signed,2025-02-30,not a date: refused",
        f"{'0' * 64},gone.pdf,ice_signed,2025-01-01,no such PDF",
    ])
    summary = run_moa(data_dir, tesseract=MISSING, handwriting=False, overrides_dir=folder)
    rows = metadata_by_name(data_dir)
    assert (rows[BETA]["ice_signed"], rows[BETA]["ice_signed_source"]) == ("2025-03-13", "override")
    assert rows[BETA]["lea_signed"] == "2025-03-04"  # the refused line changed nothing
    assert (rows[alpha]["model"], rows[alpha]["model_source"]) == ("JEM", "override")
    assert summary["processed"] == 0 and summary["dates_from_overrides"] == 1
    assert len(summary["override_problems"]) == 1 and summary["unused_overrides"] == ["0" * 12]
    assert not any(Path(r["file"]).name == BETA and r["field"] == "ice_signed" for r in read(data_dir / "data" / "moa_review.csv"))

    again = run_moa(data_dir, tesseract=MISSING, handwriting=False, overrides_dir=empty)  # overrides withdrawn
    rows = metadata_by_name(data_dir)
    assert again["processed"] == 2
    assert (rows[alpha]["model"], rows[alpha]["model_source"]) == ("TFM", "text")
    assert (rows[BETA]["ice_signed"], rows[BETA]["ice_signed_source"]) == ("", "")
