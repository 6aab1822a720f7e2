"""Hostile and broken input over the loopback sites: each attack costs only its own file.

Every bomb is generated here (never committed). Each scenario asserts that the run completes, the
good files are archived, the bad one is recorded (failures.csv, data/quarantine.csv) and not
archived as good, and, for the whole daily job as a subprocess, that its peak memory stays under 2 GB.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from ice_tracker.archive import MANIFEST_COLUMNS
from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv, sha256_bytes
from ice_tracker.roster.history import build_history
from ice_tracker.roster.history_files import iter_history_rows
from tests.archive_checks import assert_archive_valid, manifest_rows
from tests.conftest import REPO_ROOT, use_fast_network
from tests.ddp_files import big_zip, detentions_workbook, stints_parquet, table_workbook
from tests.ddp_site import DdpSite
from tests.ice_site import MOA_PREFIX, Fault, IceSite, Served, synthetic_pdf
from tests.roster_factory import ICE_MOA, pending_workbook, roster_workbook, simple_rows

MEMORY_BOUND = 2 * 1024**3
PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch, read_timeout=2.0)


@pytest.fixture
def site():
    with IceSite(None) as running:
        yield running


def far_cell(workbook: bytes, ref: str) -> bytes:
    """The workbook with one more cell at `ref` (e.g. XFD1048576): 2 KB that asks the reader for
    a grid of every cell up to there."""
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t>'
                                                     f"</is></c></row></sheetData>".encode(), 1)
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:K40"', data)  # it lies
            target.writestr(info, data)
    return out.getvalue()


def scrape_subprocess(site: IceSite, data_dir: Path, env: dict[str, str] | None = None) -> tuple[int, int]:
    """`python scraper.py --only 287g` in a fresh process: (exit code, peak RSS of it and its workers)."""
    command = [sys.executable, str(REPO_ROOT / "scraper.py"), "--data-dir", str(data_dir), "--page-url", site.url,
               "--only", "287g"]
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ICE_TRACKER_READ_TIMEOUT": "5",
                "ICE_TRACKER_RETRIES": "0", **(env or {})}
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, *command], env=full_env, capture_output=True, text=True,
                          timeout=300)
    code, peak = done.stdout.split()
    return int(code), int(peak)


def replace_text(workbook: bytes, old: str, new: str) -> bytes:
    """The workbook with a cell text replaced in the XML (openpyxl itself cuts texts at 32,767)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename).replace(old.replace("'", "&apos;").encode(), new.encode())
                            .replace(old.encode(), new.encode()))
    return out.getvalue()


def write_archived_workbook(data_dir: Path, snapshot: str, name: str, data: bytes) -> None:
    """A workbook as the archive holds it (the history finds it under sheets/ by its name)."""
    path = data_dir / "sheets" / snapshot / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def failures(data_dir: Path) -> list[dict[str, str]]:
    return read_dict_csv(data_dir / "failures.csv")


def quarantine(data_dir: Path) -> list[dict[str, str]]:
    return read_dict_csv(data_dir / "data" / "quarantine.csv")


# ----- workbooks that would allocate hundreds of GB ---------------------------------------------------
@pytest.mark.parametrize("ref", ["XFD1048576", "CV1048576"])
def test_workbook_bomb_beside_a_good_roster_costs_only_itself(site: IceSite, tmp_path: Path, ref: str) -> None:
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    bomb = far_cell(pending_workbook(), ref)
    assert len(bomb) < 10_000
    site.publish_workbook(bomb, "pendingAgencies07182025pm.xlsx", form="download", rewrite=False)
    code, peak = scrape_subprocess(site, tmp_path)
    assert code == 0
    assert peak < MEMORY_BOUND, f"peak RSS {peak / 1024**2:.0f} MB"
    assert_archive_valid(tmp_path)
    kinds = sorted(r["kind"] for r in manifest_rows(tmp_path))
    assert kinds.count("participating") == 1 and "pending" not in kinds and kinds.count("moa") == 4
    [failure] = [f for f in failures(tmp_path) if f["kind"] in ("pending", "workbook")]
    assert ref in failure["error"] and "limit" in failure["error"]
    [listed] = quarantine(tmp_path)
    assert listed["sha256"] == sha256_bytes(bomb) and ref in listed["reason"]
    assert json.loads((tmp_path / "data" / "last_run.json").read_text())["steps"]["287g"]["new_workbooks"]


def test_a_reader_abort_past_the_guard_is_caught_by_the_sandbox(site: IceSite, tmp_path: Path) -> None:
    """With the size limits raised out of the way, the reader really aborts (exit 134): the worker
    dies, the parent records why and goes on."""
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    bomb = far_cell(pending_workbook(), "XFD1048576")
    site.publish_workbook(bomb, "pendingAgencies07182025pm.xlsx", form="download", rewrite=False)
    raised = {"ICE_TRACKER_LIMIT_ROSTER_WORKBOOK_ROWS": "2000000", "ICE_TRACKER_LIMIT_ROSTER_WORKBOOK_COLUMNS": "20000",
              "ICE_TRACKER_LIMIT_ROSTER_WORKBOOK_CELLS": "1e15"}
    code, peak = scrape_subprocess(site, tmp_path, raised)
    assert code == 0 and peak < MEMORY_BOUND
    assert [r["kind"] for r in manifest_rows(tmp_path) if r["path"].startswith("sheets/")] == ["participating"]
    [failure] = [f for f in failures(tmp_path) if f["kind"] in ("pending", "workbook")]
    assert "exit 134" in failure["error"]
    assert quarantine(tmp_path)[0]["sha256"] == sha256_bytes(bomb)


def test_quarantined_workbook_in_the_archive_is_skipped_by_the_history(tmp_path: Path) -> None:
    good = roster_workbook(simple_rows())
    bomb = far_cell(pending_workbook(), "XFD1048576")
    write_archived_workbook(tmp_path, "sheets_20250718_120000", "participatingAgencies07182025pm.xlsx", good)
    write_archived_workbook(tmp_path, "sheets_20250718_120000", "pendingAgencies07182025pm.xlsx", bomb)
    summary = build_history(tmp_path, cache_dir=tmp_path / "cache")
    assert summary["workbooks"] == 1 and summary["rows"] == 5
    [listed] = quarantine(tmp_path)
    assert listed["sha256"] == sha256_bytes(bomb) and listed["path"].endswith("pendingAgencies07182025pm.xlsx")
    assert any(f["kind"] == "quarantined" for f in failures(tmp_path))
    quality = (tmp_path / "data" / "quality.csv").read_text()
    assert "workbook_unreadable" in quality and "XFD1048576" in quality
    # A second run (cold parse cache) does not parse it again: the quarantine answers.
    again = build_history(tmp_path, cache_dir=tmp_path / "cache2")
    assert again["workbooks"] == 1 and again["parsed"] == 1


def test_the_daily_derive_quarantines_an_archived_bomb_and_runs_on(tmp_path: Path) -> None:
    """Through `--only derive` (which works in a staging view): the good roster is derived, the bomb
    is listed in data/quarantine.csv and failures.csv, and matching and the rest still run."""
    from tests.matching_helpers import write_tiny_csllea

    bomb = far_cell(pending_workbook(), "XFD1048576")
    write_archived_workbook(tmp_path, "sheets_20250718_120000", "participatingAgencies07182025pm.xlsx",
                            roster_workbook(simple_rows()))
    write_archived_workbook(tmp_path, "sheets_20250718_120000", "pendingAgencies07182025pm.xlsx", bomb)
    code = run_daily(["--data-dir", str(tmp_path), "--only", "derive", "--cache-dir", str(tmp_path / "cache"),
                      "--csllea", str(write_tiny_csllea(tmp_path / "csllea.tsv"))])
    assert code == 0
    derive = json.loads((tmp_path / "data" / "last_run.json").read_text())["steps"]["derive"]
    assert derive["history"]["workbooks"] == 1 and "error" not in derive["matching"]
    assert [q["sha256"] for q in quarantine(tmp_path)] == [sha256_bytes(bomb)]
    assert [f["kind"] for f in failures(tmp_path)] == ["quarantined"]
    assert not (tmp_path / "failures.csv").is_symlink()


# ----- one over-long cell must not break a derivation ---------------------------------------------------
def test_agency_name_over_the_csv_field_limit_is_cut_and_reported(tmp_path: Path) -> None:
    long_name = "Alpha County Sheriff " * 7_000  # 147,000 characters (Excel itself stops at 32,767)
    write_archived_workbook(tmp_path, "sheets_20250718_120000", "participatingAgencies07182025pm.xlsx",
                            replace_text(roster_workbook(simple_rows()), "Alpha County Sheriff's Office", long_name))
    build_history(tmp_path, cache_dir=tmp_path / "cache")
    history = list(iter_history_rows(tmp_path / "data"))  # the csv module's field limit is 131,072
    assert max(len(r["agency"]) for r in history) <= 32_767
    quality = read_dict_csv(tmp_path / "data" / "quality.csv")
    assert [q["column"] for q in quality if q["rule"] == "cell_too_long"] == ["agency"]


# ----- "verified" means the file opens ----------------------------------------------------------------
def test_pdfs_that_do_not_open_are_failures_not_archived_files(site: IceSite, tmp_path: Path) -> None:
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    good = synthetic_pdf("SharedOhio")
    bad = {
        "AlphaCoTX_TFM_MOA_03.07.2025.pdf": good[: len(good) - 40],  # cut short, no framing error
        "BetaPDFL_TFM_MOA_05132025.pdf": b"%PDF-1.7\nPK\x03\x04" + b"\x00" * 200 + b"\n%%EOF\n",  # a ZIP behind %PDF
        "BetaPDFL_Addendum_07012025.pdf": b"%PDF-1.4\n<html><body>Access denied</body></html>\n%%EOF\n",
    }
    for name, body in bad.items():
        site.state.files[MOA_PREFIX + name] = Served(body, "application/pdf")
    site.state.files[MOA_PREFIX + "SharedOhio_WSO_MOA.pdf"] = Served(good, "application/pdf")
    assert run_daily(["--data-dir", str(tmp_path), "--page-url", site.url, "--only", "287g"]) == 0
    assert_archive_valid(tmp_path)
    pdfs = [r for r in manifest_rows(tmp_path) if r["kind"] in ("moa", "addendum")]
    assert sorted(r["agency"] for r in pdfs) == ["Delta Township Police", "Gamma Township Police"]
    errors = {f["url"].rsplit("/", 1)[-1]: f["error"] for f in failures(tmp_path)}
    assert "%%EOF" in errors["AlphaCoTX_TFM_MOA_03.07.2025.pdf"]
    assert "ZIP" in errors["BetaPDFL_TFM_MOA_05132025.pdf"]
    assert "HTML" in errors["BetaPDFL_Addendum_07012025.pdf"]


@pytest.fixture
def ddp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ICE_TRACKER_DDP_REPO_LIMIT", "40000")
    with DdpSite() as running:
        yield running, tmp_path / "data", tmp_path / "cache"


def run_releases(site: DdpSite, data: Path, cache: Path) -> int:
    return run_daily(["--data-dir", str(data), "--cache-dir", str(cache), "--only", "releases",
                      "--ddp-page", site.raw_url, "--ddp-page", site.processed_url])


def test_garbage_ddp_files_behind_the_right_magic_are_not_archived(ddp) -> None:
    site, data, cache = ddp
    site.add_raw("Arrests", table_workbook("arrests"), "Arrests_FY26_20260311.xlsx")
    zip_body = table_workbook("detentions")
    corrupt = zip_body[:200] + bytes(b ^ 0xFF for b in zip_body[200:400]) + zip_body[400:]  # CRC no longer matches
    site.add_raw("Detentions", corrupt, "Detentions_FY26_20260311.xlsx", form="shared")
    site.add_processed("Detention stints", "detention-stints-latest.parquet", b"PAR1" + b"\x07" * 500 + b"PAR1")
    assert run_releases(site, data, cache) == 0
    held = {r["table"] for m in (data / "releases" / "ddp").glob("*/manifest.csv") for r in read_dict_csv(m)}
    assert held == {"arrests"}
    errors = {f["agency"]: f["error"] for f in failures(data)}
    assert "ZIP" in errors["detentions"] or "CRC" in errors["detentions"]
    assert "parquet" in errors["stints"]


def test_a_file_spliced_from_a_lying_range_response_is_not_archived(ddp) -> None:
    """The first download is cut; the resumed request gets a 206 whose bytes are not the file's.
    Magic bytes and ZIP directory still look right; the CRC check of every member does not."""
    site, data, cache = ddp
    site.add_raw("Arrests", table_workbook("arrests"), "Arrests_FY26_20260311.xlsx")
    path = site.add_raw("Removals", big_zip(2_000_000), "Removals_20260311_Redacted.zip")
    site.inject(path, Fault("cut"), Fault("lying_range"))
    assert run_releases(site, data, cache) == 0
    held = {r["table"] for m in (data / "releases" / "ddp").glob("*/manifest.csv") for r in read_dict_csv(m)}
    assert "arrests" in held and "removals" not in held
    assert any(r[2].startswith("bytes=") for r in site.requests_for(path))  # it really was a resumed range
    [failure] = [f for f in failures(data) if f["agency"] == "removals"]
    assert "does not match its CRC" in failure["error"]


def test_a_detentions_workbook_that_aborts_the_derivations_is_quarantined(ddp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the size guard (limits raised), the detention step's reader aborts: the release's
    other files are archived, the file is kept but quarantined, and the next run does not touch it."""
    site, data, cache = ddp
    monkeypatch.setenv("ICE_TRACKER_LIMIT_DDP_WORKBOOK_COLUMNS", "20000")
    monkeypatch.setenv("ICE_TRACKER_LIMIT_DDP_WORKBOOK_CELLS", "1e15")
    bomb = far_cell(detentions_workbook(), "XFD1048576")
    site.add_raw("Arrests", table_workbook("arrests"), "Arrests_FY26_20260311.xlsx")
    site.add_raw("Detentions", bomb, "Detentions_FY26_20260311.xlsx", form="shared")
    assert run_releases(site, data, cache) == 0
    summary = json.loads((data / "data" / "last_run.json").read_text())["steps"]["releases"]
    [detention] = summary["detention"].values()
    assert detention["status"] == "quarantined" and "exit 134" in detention["error"]
    [listed] = quarantine(data)
    assert listed["sha256"] == sha256_bytes(bomb)
    assert (data / listed["path"]).read_bytes() == bomb  # kept in the archive, untouched
    assert any(f["kind"] == "quarantined" for f in failures(data))


def test_ddp_workbook_over_the_size_limits_is_refused_before_reading(ddp) -> None:
    site, data, cache = ddp
    site.add_raw("Arrests", table_workbook("arrests"), "Arrests_FY26_20260311.xlsx")
    site.add_raw("Detentions", far_cell(detentions_workbook(), "XFD1048576"), "Detentions_FY26_20260311.xlsx")
    site.add_processed("Detention stints", "detention-stints-latest.parquet", stints_parquet())
    assert run_releases(site, data, cache) == 0
    errors = {f["agency"]: f["error"] for f in failures(data)}
    assert "XFD1048576" in errors["detentions"]


# ----- publishing ---------------------------------------------------------------------------------
def test_csv_cells_that_look_like_formulas_are_neutralised_but_numbers_are_not(tmp_path: Path) -> None:
    from ice_tracker.fileio import write_csv

    write_csv(tmp_path / "x.csv", ["a", "b"], [["=HYPERLINK(\"http://x\",\"y\")", -3.5], ["+cmd|' /C calc'!A0", "-3.5"],
                                               ["@SUM(1)", "\tx"], ["-", "plain"]])
    rows = list(csv.reader((tmp_path / "x.csv").open()))
    assert rows[1] == ["'=HYPERLINK(\"http://x\",\"y\")", "-3.5"]
    assert rows[2] == ["'+cmd|' /C calc'!A0", "-3.5"]
    assert rows[3] == ["'@SUM(1)", "'\tx"]
    assert rows[4] == ["-", "plain"]
    assert read_dict_csv(tmp_path / "x.csv")[0]["a"] == "=HYPERLINK(\"http://x\",\"y\")"  # restored on read


def test_formula_agency_is_neutralised_in_the_roster_history(tmp_path: Path) -> None:
    evil = replace_text(roster_workbook(simple_rows()), "Alpha County Sheriff's Office", '=HYPERLINK("http://evil","A")')
    write_archived_workbook(tmp_path, "sheets_20250718_120000", "participatingAgencies07182025pm.xlsx", evil)
    build_history(tmp_path, cache_dir=tmp_path / "cache")
    raw = (tmp_path / "data" / "roster_history" / "versions.csv").read_text()
    assert "'=HYPERLINK" in raw and ",=HYPERLINK" not in raw
    rows = iter_history_rows(tmp_path / "data", tmp_path / "cache")
    assert any(r["agency"].startswith("=HYPERLINK") for r in rows)  # read back as published


def test_javascript_links_are_not_clickable_and_the_feed_stays_xml() -> None:
    from ice_tracker.publish.atom import xml_text
    from ice_tracker.publish.site import web_link

    assert web_link("javascript:alert(document.cookie)") == ""
    assert web_link(" JaVaScRiPt:alert(1)") == "" and web_link("data:text/html,x") == ""
    assert web_link("https://www.ice.gov/doclib/287gMOA/x.pdf") == "https://www.ice.gov/doclib/287gMOA/x.pdf"
    entry = ET.Element("e")
    entry.text = xml_text("Agency\x01 with\x0b control\x1f characters\ufffe")
    ET.fromstring(ET.tostring(entry))  # parses: the forbidden characters are gone
    assert entry.text == "Agency with control characters"


# ----- state files that heal --------------------------------------------------------------------------
def test_damaged_manifest_and_failures_rows_move_aside_and_the_run_goes_on(site: IceSite, tmp_path: Path) -> None:
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    assert run_daily(["--data-dir", str(tmp_path), "--page-url", site.url, "--only", "287g", "--no-pdfs"]) == 0
    manifest = tmp_path / "manifest.csv"
    good = manifest.read_text()
    header, row = good.splitlines()[:2]
    manifest.write_text(f"{header}\n<<<<<<< HEAD\n{row}\n=======\n{row}\n>>>>>>> other\n{row[:30]}\n")
    (tmp_path / "failures.csv").write_text("url,kind,state,agency,error,first_failed_at,last_failed_at,attempts\n"
                                           "http://x/a.pdf,moa,TX,A,boom,2025,2025,not-a-number\n")
    assert run_daily(["--data-dir", str(tmp_path), "--page-url", site.url, "--only", "287g"]) == 0
    corrupt = read_dict_csv(tmp_path / "data" / "corrupt_rows.csv")
    assert sorted(r["reason"].split(" (")[0] for r in corrupt) == [
        f"1 columns, expected {len(MANIFEST_COLUMNS)}", "attempts is not a whole number", "merge-conflict marker", "merge-conflict marker",
        "merge-conflict marker"]
    rows = manifest_rows(tmp_path)
    assert [r["kind"] for r in rows].count("participating") == 1  # the conflict's two copies are one row again
    assert len([r for r in rows if r["kind"] == "moa"]) == 4  # and the run went on to the agreements
    assert_archive_valid(tmp_path)


# ----- verify ----------------------------------------------------------------------------------------
def test_verify_passes_a_clean_archive_and_names_each_tampered_or_broken_file(site: IceSite, tmp_path: Path) -> None:
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    assert run_daily(["--data-dir", str(tmp_path), "--page-url", site.url, "--only", "287g"]) == 0

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ice_tracker", "verify", "--data-dir", str(tmp_path),
                               "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, cwd=tmp_path, timeout=120)

    clean = verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.splitlines()[-1] == "6 archived files: 6 ok"  # the workbook and five PDFs
    rows = manifest_rows(tmp_path)
    tampered = next(r for r in rows if r["kind"] == "moa")
    with open(tmp_path / tampered["path"], "ab") as handle:
        handle.write(b"tampered")
    broken = next(r for r in rows if r["kind"] == "moa" and r["path"] != tampered["path"])
    body = b"%PDF-1.4\n%%EOF\n"  # not a whole PDF, and the manifest is made to agree with it
    (tmp_path / broken["path"]).write_bytes(body)
    manifest = (tmp_path / "manifest.csv").read_text().replace(broken["sha256"], sha256_bytes(body))
    (tmp_path / "manifest.csv").write_text(manifest)
    result = verify()
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("TAMPERED") and tampered["path"] in line for line in lines)
    assert any(line.startswith("BROKEN") and broken["path"] in line for line in lines)
    assert lines[-1] == "6 archived files: 1 broken, 4 ok, 1 tampered"
