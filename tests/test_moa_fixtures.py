"""The real MOAs from ../shared/fixtures against the hand labels (tests/data/moa_labels.csv).

Kept fast: four text-layer PDFs (one per template quirk) without OCR, and one scanned page OCRed
on its own. The full 17-PDF evaluation with OCR is `bench/bench_moa.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from ice_tracker.fileio import read_dict_csv
from ice_tracker.moa import run_moa
from ice_tracker.moa.evaluate import accuracy
from ice_tracker.moa.fields import lea_name, model_from_text
from ice_tracker.moa.ocr import find_tesseract
from ice_tracker.moa.pdftext import ocr_pages, read_pdf
from ice_tracker.moa.roster_dates import roster_signed_dates, signed_for
from ice_tracker.roster.history import build_history
from tests.conftest import shared_fixture_path

LABELS = Path(__file__).parent / "data" / "moa_labels.csv"
# cid-encoded 2025 WSO, name after the clause, TFM without a title, AcroForm values
QUICK = (
    "hardeeCoSheriffsOffice_WSO_MOA_02.26.2025.pdf",
    "GraysonCountyDCKY_JEM_MOA_030425.pdf",
    "KansasBureauOfInv_TFM_MOA_02182025.pdf",
    "ArcadiaPDFL_TFM_MOA_030425.pdf",
)


def labels() -> list[dict[str, str]]:
    with open(LABELS, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def fixture_pdfs() -> dict[str, Path]:
    root = shared_fixture_path("ice287g", "agreements")
    return {p.name: p for p in root.rglob("*.pdf")}


def test_labels_cover_every_fixture_pdf() -> None:
    rows = labels()
    assert sorted(r["file"] for r in rows) == sorted(fixture_pdfs())
    assert {r["kind"] for r in rows} == {"text_layer", "scanned"}
    assert all(r["model"] in {"JEM", "TFM", "WSO"} for r in rows)


def test_text_layer_fixtures_match_the_labels(tmp_path: Path) -> None:
    pdfs = fixture_pdfs()
    for name in QUICK:
        source = pdfs[name]
        link = tmp_path / "data" / source.relative_to(source.parents[4])
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source)
    summary = run_moa(tmp_path / "data", tmp_path / "out", tesseract="/nonexistent/tesseract")
    assert summary["pdfs"] == len(QUICK) and summary["failed"] == 0
    rows = read_dict_csv(tmp_path / "out" / "data" / "moa_metadata.csv")
    result = accuracy(rows, [lab for lab in labels() if lab["file"] in QUICK])
    assert result["all"]["wrong"] == []
    arcadia = next(r for r in rows if "Arcadia" in r["paths"])
    assert arcadia["lea_name_source"] == "form_field"


def test_one_scanned_page_is_read_by_ocr() -> None:
    ocr = find_tesseract()
    if ocr is None:
        pytest.skip("tesseract-ocr not installed (CI installs it)")
    path = fixture_pdfs()["WashingtonCoSheriffsOfficeUT_TFM_MOA_03.20.2025.pdf"]
    content = read_pdf(path, ocr=None)  # scans: no text layer, nothing OCRed yet
    assert content.text_layer is False and content.ocr_status == "unavailable"
    ocr_pages(path, content, [0], ocr)
    assert content.pages[0].source == "ocr"
    assert model_from_text(content.pages[0].text) == "TFM"
    assert lea_name(content, "").name.replace("'", "") == "Washington County Sheriffs Office"


def test_the_real_rosters_sign_date_is_ices_on_the_labelled_moas(tmp_path: Path) -> None:
    """Backs `ice_signed_source = roster`: ICE's SIGNED column vs the hand-read ICE dates."""
    fixtures = shared_fixture_path("ice287g")
    build_history(fixtures, tmp_path / "data", tmp_path / "cache")
    known = roster_signed_dates(tmp_path / "data")
    off = {}
    for label in labels():
        dates = signed_for([label["file"]], known)
        assert len(dates) == 1, label["file"]
        if dates[0] != label["ice_signed"]:
            off[label["file"]] = (dt.date.fromisoformat(dates[0]) - dt.date.fromisoformat(label["ice_signed"])).days
    assert off == {"LoudounCountySO_WSO_MOA_032625.pdf": 1}
