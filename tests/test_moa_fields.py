"""Metadata fields from MOA text, per template generation (rules from patterns.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ice_tracker.moa.fields import clean_name, dates_in, extract_fields, model_from_filename, model_from_text, revision_date
from ice_tracker.moa.pdftext import read_pdf
from tests.moa_pdfs import MOA_2020_WSO, MOA_2025_TFM, paragraph, text_pdf


def fields_of(tmp_path: Path, pages: list, name: str = "moa.pdf") -> dict[str, str]:
    path = tmp_path / name
    path.write_bytes(text_pdf(pages))
    return extract_fields(read_pdf(path, ocr=None), [name])


def test_2025_tfm_lea_on_the_left(tmp_path: Path) -> None:
    got = fields_of(tmp_path, MOA_2025_TFM)
    assert got["model"] == "TFM" and got["model_source"] == "text"
    assert got["lea_name"] == "Example County Sheriff's Office" and got["lea_name_source"] == "parties_clause"
    assert (got["lea_signed"], got["ice_signed"]) == ("2025-03-04", "2025-03-11")
    assert got["lea_signatory"] == "Jane Q. Doe, Sheriff"
    assert got["ice_signatory"] == "John Roe, Acting Director"
    assert got["revision_date"] == "2025-02-12"


def test_2020_wso_ice_on_the_left_without_headers(tmp_path: Path) -> None:
    got = fields_of(tmp_path, MOA_2020_WSO)
    assert got["model"] == "WSO"  # from the custodial-transfer purpose clause, no title
    assert (got["lea_name"], got["lea_city_state"]) == ("Sample Parish Sheriff's Office", "Springfield, LA")
    assert (got["lea_signed"], got["ice_signed"]) == ("2020-06-01", "2020-06-09")
    assert got["lea_signatory"] == "Pat Example, Sheriff"


def test_model_falls_back_to_the_file_name(tmp_path: Path) -> None:
    pages = [paragraph(["MEMORANDUM OF AGREEMENT", "Homeland Security (DHS), and Town Police Department, hereinafter"])]
    got = fields_of(tmp_path, pages, name="287gJEM_TownPD_2020-01-02.pdf")
    assert (got["model"], got["model_source"]) == ("JEM", "filename")
    assert got["lea_name"] == "Town Police Department"
    assert got["lea_signed"] == "" and got["ice_signed"] == ""


@pytest.mark.parametrize(
    ("name", "model"),
    [("jeffersonCountySherrifsOffice_TF_MOA_03122025.pdf", "TFM"), ("287gWSO_FinneyCoKs2020-03-17.pdf", "WSO"), ("x.pdf", "")],
)
def test_model_from_filename(name: str, model: str) -> None:
    assert model_from_filename(name) == model


def test_model_title_wins_over_body_cues() -> None:
    assert model_from_text("287(g) Jail Enforcement Model ... task force officers") == "JEM"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Date: February 17, 2025", "2025-02-17"),
        ("Date: ____F_e_b_r_u_a_r_y_ 2_6_, _2_0_2_5", "2025-02-26"),
        ("Date:  F e b r u a r y 2 6 , 2 0 2 5", "2025-02-26"),
        ("Date: 03/05/25", "2025-03-05"),
        ("Date: 6-22-2020", "2020-06-22"),
        ("Digitally signed Date: 2020.06.09 16:25:40 -04'00'", "2020-06-09"),
        ("Date___ OCT 15 2019", "2019-10-15"),
        ("Date: I b - L.1- d0d 6", None),  # handwriting read as noise: blank, never a guess
        ("Date: 13/45/2025", None),
    ],
)
def test_signature_dates(text: str, iso: str | None) -> None:
    found = dates_in(text)
    assert (found[0][1] if found else None) == iso


def test_revision_date_is_the_most_common_footer() -> None:
    text = "Revised 02/15/2025\n2 Revised 02/15/2025\nRevised 02/16/2026\nRev 2/14/25 7"
    assert revision_date(text) == "2025-02-15"
    assert revision_date("no footer") == ""


@pytest.mark.parametrize(
    ("raw", "name", "city_state"),
    [
        ("Hamilton County Sheriff's Office, IN '", "Hamilton County Sheriff's Office", "IN"),
        ("the Finney County Sheriff’s Office (FCSO)", "Finney County Sheriff's Office", ""),
        ("Washington County Sheriffs Office |", "Washington County Sheriffs Office", ""),
    ],
)
def test_clean_name(raw: str, name: str, city_state: str) -> None:
    assert clean_name(raw) == (name, city_state)


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("For the LEA:\nDate: ___\nName: ____V_e_n_t_ _C_r_a_w_f_o_r_d_ ____\nTitle: Sheriff__ ____", "Vent Crawford, Sheriff"),
        ("For ICE:\nName: Caleb Vitello\nTitle: ____A__c_ti_n_g_ D__ir_e_c_t_o_r ____", "Caleb Vitello, Acting Director"),
        ("Dennis J. Quakenbush II\nName:\nSheriff\nTitle:", "Dennis J. Quakenbush II, Sheriff"),  # typed above the label
        ("Date: 6-1-2020\nKevin Bascue\n7", "Kevin Bascue"),  # a page number is no title
        ("Signature: jh\nTitle: __\nName: fe Y", ""),  # pen strokes read by OCR: nothing
    ],
)
def test_signatory(column: str, expected: str) -> None:
    from ice_tracker.moa.fields import signatory

    assert signatory(column) == expected
