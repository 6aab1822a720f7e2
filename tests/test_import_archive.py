"""`import-archive`: an archive in the original tracker's layout comes in verified, once, with its
origin; the agreements its rosters link to but it lacks become the next daily run's backlog."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from ice_tracker.cli import main
from ice_tracker.daily import main as daily_main
from tests.archive_checks import assert_archive_valid, manifest_rows
from tests.conftest import shared_fixture_path, use_fast_network
from tests.ice_site import IceSite, synthetic_pdf
from tests.roster_factory import roster_workbook

ORIGIN = "appelson/Tracking_287g@1946c799ae59af836cbc5b0b5c063237546f9a86"


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def failures(data: Path) -> list[dict[str, str]]:
    with open(data / "failures.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_importing_the_original_trackers_archive_is_verified_and_idempotent(tmp_path: Path) -> None:
    source = shared_fixture_path("ice287g")
    data = tmp_path / "data"
    assert main(["import-archive", str(source), "--origin", ORIGIN, "--data-dir", str(data)]) == 0
    rows = manifest_rows(data)
    assert len([r for r in rows if r["path"].startswith("sheets/")]) == 64
    assert len([r for r in rows if r["path"].startswith("agreements/")]) == 17
    assert {r["source"] for r in rows} == {"import"} and {r["origin"] for r in rows} == {ORIGIN}
    # the original stamps and layout are kept
    assert {p.relative_to(data).as_posix() for p in data.glob("sheets/*/*.xlsx")} == \
        {p.relative_to(source).as_posix() for p in source.glob("sheets/*/*.xlsx")}
    first = next(r for r in rows if r["path"].endswith("participatingAgencies05162025am.xlsx"))
    assert first["fetched_at"] == "2025-05-19T02:49:22Z"
    assert first["source_url"].startswith("https://raw.githubusercontent.com/appelson/Tracking_287g/1946c799")
    # each PDF is tied to the roster link that names it, so the daily job knows it holds that URL
    pdfs = [r for r in rows if r["path"].startswith("agreements/")]
    assert all(r["source_url"].startswith(("https://www.ice.gov/doclib/287gMOA/", "http://www.ice.gov/doclib/287gMOA/"))
               for r in pdfs)
    assert_archive_valid(data)
    # every other agreement the rosters link is listed for the next run, without a counted attempt
    backlog = failures(data)
    assert len(backlog) > 500 and {r["attempts"] for r in backlog} == {"0"}
    assert not {r["url"] for r in backlog} & {r["source_url"] for r in pdfs}
    before = tree(data)
    assert main(["import-archive", str(source), "--origin", ORIGIN, "--data-dir", str(data)]) == 0
    assert tree(data) == before


def test_a_bad_file_in_the_imported_archive_is_refused_and_reported(tmp_path: Path) -> None:
    source = tmp_path / "old"
    folder = source / "sheets" / "sheets_20250101_151500"
    folder.mkdir(parents=True)
    (folder / "participatingAgencies01012025am.xlsx").write_bytes(b"<html>blocked</html>")
    good = source / "sheets" / "sheets_20250102_151500" / "participatingAgencies01022025am.xlsx"
    good.parent.mkdir(parents=True)
    good.write_bytes(roster_workbook([{"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Alpha County Sheriff's Office"}]))
    pdf = source / "agreements" / "agreements_20250102_151500" / "TEXAS" / "Alpha_County_Sheriff's_Office" / "x.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"not a pdf")
    data = tmp_path / "data"
    assert main(["import-archive", str(source), "--origin", "test", "--data-dir", str(data)]) == 1
    assert [r["path"] for r in manifest_rows(data)] == ["sheets/sheets_20250102_151500/participatingAgencies01022025am.xlsx"]
    assert main(["import-archive", str(tmp_path / "empty"), "--origin", "test", "--data-dir", str(data)]) == 2


def test_the_daily_job_fetches_the_imported_backlog_and_not_what_was_imported(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)
    with IceSite() as site:
        moa = site.base + "/doclib/287gMOA/"
        book = roster_workbook([
            {"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Alpha County Sheriff's Office", "SUPPORT TYPE": "Task Force Model",
             "moa_link": moa + "Alpha_TFM_MOA.pdf"},
            {"STATE": "OHIO", "LAW ENFORCEMENT AGENCY": "Gamma Township Police", "SUPPORT TYPE": "Task Force Model",
             "moa_link": moa + "Gamma_TFM_MOA.pdf"},
        ])
        source = tmp_path / "old"
        sheet = source / "sheets" / "sheets_20250519_024922" / "participatingAgencies05162025am.xlsx"
        sheet.parent.mkdir(parents=True)
        sheet.write_bytes(book)
        held = source / "agreements" / "agreements_20250519_024922" / "TEXAS" / "Alpha_County_Sheriff's_Office"
        held.mkdir(parents=True)
        (held / "Alpha_TFM_MOA.pdf").write_bytes(synthetic_pdf("imported Alpha_TFM_MOA.pdf"))
        data = tmp_path / "data"
        assert main(["import-archive", str(source), "--origin", "test", "--data-dir", str(data)]) == 0
        assert [(r["url"], r["agency"]) for r in failures(data)] == [(moa + "Gamma_TFM_MOA.pdf", "Gamma Township Police")]
        site.publish_workbook(book, "participatingAgencies05162025am.xlsx", rewrite=False)
        assert daily_main(["--data-dir", str(data), "--page-url", site.url, "--only", "287g"]) == 0
        asked = [path for path, *_ in site.requests_for("/doclib/287gMOA/")]
    assert asked == ["/doclib/287gMOA/Gamma_TFM_MOA.pdf"]  # the imported PDF is not fetched again
    rows = {r["source_url"]: r for r in manifest_rows(data) if r["path"].startswith("agreements/")}
    assert rows[moa + "Gamma_TFM_MOA.pdf"]["source"] == "live" and rows[moa + "Alpha_TFM_MOA.pdf"]["source"] == "import"
    assert not failures(data)
    assert len([r for r in manifest_rows(data) if r["path"].startswith("sheets/")]) == 1  # same bytes: not again


def test_a_manifest_written_before_the_provenance_columns_still_loads(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from ice_tracker.archive import MANIFEST_COLUMNS, Archive

    old = ("path,kind,source_url,sha256,bytes,fetched_at,etag,last_modified,content_type,state,agency\n"
           "sheets/sheets_20250519_024922/p.xlsx,participating,https://www.ice.gov/p.xlsx," + "a" * 64 +
           ",10,2025-05-19T02:49:22Z,e1,,,,\n")
    (tmp_path / "manifest.csv").write_text(old, encoding="utf-8")
    archive = Archive(tmp_path, datetime.now(timezone.utc))
    [entry] = archive.entries
    assert (entry.source, entry.origin, entry.capture_url, entry.etag) == ("live", "", "", "e1")
    archive.save()
    header, row = (tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines()
    assert header.split(",") == MANIFEST_COLUMNS and row.startswith("sheets/sheets_20250519_024922/p.xlsx,")
    assert row.endswith(",live,,,")
