"""ICE's roster SIGNED dates beside the MOA's own: published, and used for ICE's date only when the
PDF gives none. Built end to end: workbook → roster history → moa table (no shared fixtures)."""

from __future__ import annotations

from pathlib import Path

from ice_tracker.moa import run_moa
from ice_tracker.moa.roster_dates import pdf_key, roster_signed_dates
from ice_tracker.roster.history import build_history
from tests.moa_pdfs import metadata_by_name, write_small_archive
from tests.roster_factory import ICE_MOA, roster_workbook, safelink

MISSING = "/nonexistent/tesseract"


def roster_rows(beta_signed: str) -> list[dict[str, str]]:
    def row(state: str, agency: str, signed: str, link: str) -> dict[str, str]:
        return {"STATE": state, "LAW ENFORCEMENT AGENCY": agency, "SUPPORT TYPE": "Task Force Model",
                "SIGNED": signed, "moa_link": link}  # fmt: skip

    return [
        row("TEXAS", "Alpha County Sheriff's Office", "2025-03-12", ICE_MOA + "AlphaCoTX_TFM_MOA_03.11.2025.pdf"),
        row("FLORIDA", "Beta Police Department", beta_signed, safelink(ICE_MOA + "Beta%20PD%20FL_TFM_MOA_03132025.pdf")),
        row("OHIO", "Gamma Township Police", "2025-03-14", ICE_MOA + "SharedOhio_TFM_MOA.pdf"),
        row("OHIO", "Delta Township Police", "2025-03-20", ICE_MOA + "SharedOhio_TFM_MOA.pdf"),
    ]


def add_snapshot(data_dir: Path, folder: str, workbook: str, rows: list[dict[str, str]]) -> None:
    path = data_dir / "sheets" / folder / workbook
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(roster_workbook(rows))


def test_pdf_key_meets_links_and_archived_names() -> None:
    assert pdf_key(ICE_MOA + "Beta%20PD%20FL_TFM_MOA_03132025.pdf") == "beta pd fl_tfm_moa_03132025.pdf"
    assert pdf_key("agreements/agreements_20250519_024922/FLORIDA/Beta/Beta PD FL_TFM_MOA_03132025.pdf") == "beta pd fl_tfm_moa_03132025.pdf"


def test_roster_date_fills_only_a_missing_ice_date_and_follows_corrections(tmp_path: Path) -> None:
    data_dir = tmp_path / "archive"
    write_small_archive(data_dir)
    add_snapshot(data_dir, "sheets_20250519_024922", "participatingAgencies05162025am.xlsx", roster_rows("3/13/2025"))
    build_history(data_dir, cache_dir=tmp_path / "cache")
    summary = run_moa(data_dir, tesseract=MISSING, handwriting=False)
    rows = metadata_by_name(data_dir)

    alpha = rows["AlphaCoTX_TFM_MOA_03.11.2025.pdf"]  # the PDF's own date wins; the roster's is shown beside it
    assert (alpha["ice_signed"], alpha["ice_signed_source"], alpha["roster_signed"]) == ("2025-03-11", "text", "2025-03-12")
    beta = rows["Beta PD FL_TFM_MOA_03132025.pdf"]  # blank on the PDF, linked through a safelink
    assert (beta["lea_signed"], beta["ice_signed"], beta["ice_signed_source"]) == ("2025-03-04", "2025-03-13", "roster")
    shared = rows["SharedOhio_TFM_MOA.pdf"]  # two agreements, two dates: which one is ICE's is unknown
    assert (shared["ice_signed"], shared["ice_signed_source"], shared["roster_signed"]) == ("", "", "2025-03-14;2025-03-20")
    assert summary["dates_from_roster"] == 1

    # ICE corrects the roster: the next run follows without re-reading any PDF
    add_snapshot(data_dir, "sheets_20250520_151813", "participatingAgencies05192025pm.xlsx", roster_rows("3/14/2025"))
    build_history(data_dir, cache_dir=tmp_path / "cache")
    again = run_moa(data_dir, tesseract=MISSING, handwriting=False)
    assert again["processed"] == 0
    assert metadata_by_name(data_dir)["Beta PD FL_TFM_MOA_03132025.pdf"]["ice_signed"] == "2025-03-14"


def test_without_a_roster_history_nothing_is_filled(tmp_path: Path) -> None:
    data_dir = tmp_path / "archive"
    write_small_archive(data_dir)
    assert roster_signed_dates(data_dir / "data") == {}
    run_moa(data_dir, tesseract=MISSING, handwriting=False)
    rows = metadata_by_name(data_dir)
    assert all(row["roster_signed"] == "" for row in rows.values())
    assert rows["Beta PD FL_TFM_MOA_03132025.pdf"]["ice_signed"] == ""
