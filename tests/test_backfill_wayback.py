"""`backfill --wayback` against a loopback stand-in for the Wayback Machine (tests/wayback_site.py).

The stand-in serves real fixture workbooks as captures at several timestamps, with CDX paging,
duplicates (adjacent and not), a captured error page, a redirect to a neighbouring capture, a 429
with Retry-After, a pre-2025 page holding the roster as an HTML table, and agreement PDFs for dead links.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import deque
from pathlib import Path

import pytest

from ice_tracker.archive_verify import verify_archive
from ice_tracker.cli import main
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import read_dict_csv
from ice_tracker.roster.history import build_history
from ice_tracker.roster.history_files import partition, read_current, read_snapshots
from ice_tracker.sources.wayback.client import Capture, WaybackClient, cdx_rows, distinct_captures
from tests.archive_checks import manifest_rows
from tests.conftest import shared_fixture_path, use_fast_network
from tests.wayback_site import XLSX_TYPE, WaybackSite

PAGE = "https://www.ice.gov/identify-and-arrest/287g"
OLD_PAGE = "http://www.ice.gov:80/identify-and-arrest/287g"
DOC = "https://www.ice.gov/doclib/about/offices/ero/287g/"
MOA = "https://www.ice.gov/doclib/287gMOA/"
DOWNLOAD = "https://www.ice.gov/file-download/download/public/123456"
SHEETS = {  # fixture workbooks standing in for rosters ICE published before this archive began
    "W1": "sheets_20250519_024922/participatingAgencies05162025am.xlsx",
    "W2": "sheets_20250519_024922/pendingAgencies05152025am.xlsx",
    "W3": "sheets_20250601_151551/participatingAgencies05292025am.xlsx",
    "W4": "sheets_20250621_151520/participatingAgencies06202025am.xlsx",
    "W5": "sheets_20250623_151827/pendingAgencies06232025am.xlsx",
    "W6": "sheets_20250719_151637/participatingAgencies07182025pm.xlsx",
}
ERROR_PAGE = b"<!DOCTYPE html><html><body><h1>Page Not Found</h1><p>The page you requested was not found.</p></body></html>"
TABLE = f"""<h2>Participating agencies</h2><table>
<tr><th>State</th><th>Law Enforcement Agency</th><th>Support Type</th><th>Signed</th><th>MOA</th></tr>
<tr><td>AL</td><td>Etowah County Sheriff's Office</td><td>Jail Enforcement Model</td><td>6/9/2020</td>
<td><a href="/doclib/287gMOA/old_etowah_2020.pdf">MOA</a></td></tr>
<tr><td>FL</td><td>Florida Department of Corrections</td><td>Jail Enforcement Model</td><td>8/21/2020</td>
<td><a href="{MOA}old_fldoc_2020.pdf">MOA</a></td></tr>
</table>"""


def page(body: str, chrome: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>287(g) | ICE</title></head><body><nav>{chrome}</nav><main>{body}</main></body></html>".encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stand_in(site: WaybackSite, fixtures: Path) -> dict[str, bytes]:
    """Load the stand-in; returns the workbook bytes by label."""
    books = {k: (fixtures / "ice287g" / "sheets" / v).read_bytes() for k, v in SHEETS.items()}
    pdfs = sorted((fixtures / "ice287g" / "agreements").rglob("*.pdf"))
    site.state.page_size = 2  # every CDX answer is paged
    # The page: two HTML-era captures with the same table (different chrome), one with doclib links, two
    # identical file-download-era captures (adjacent duplicates, folded by CDX itself).
    site.add("20240601120000", OLD_PAGE, page(TABLE, "menu v1"), "text/html")  # as older CDX rows write it
    site.add("20240701120000", PAGE, page(TABLE, "menu v2"), "text/html")
    links = f'<a href="{DOC}participatingAgencies02282025am.xlsx">Participating agencies</a>'
    site.add("20250301120000", PAGE, page(links, "menu v3"), "text/html")
    download = '<a href="/file-download/download/public/123456">View participating agencies</a>'
    site.add("20260415120000", PAGE, page(download, "menu v4"), "text/html")
    site.add("20260416120000", PAGE, page(download, "menu v4"), "text/html")
    # Workbooks under the doclib folder.
    site.add("20250517093000", DOC + "participatingAgencies05162025am.xlsx", books["W1"], XLSX_TYPE)
    site.add("20250520093000", DOC + "participatingAgencies05162025am.xlsx", books["W1"], XLSX_TYPE)
    site.add("20250516100000", DOC + "pendingAgencies05152025am.xlsx", books["W2"], XLSX_TYPE)
    site.throttle("20250516100000", DOC + "pendingAgencies05152025am.xlsx", "1")
    reused = DOC + "participatingAgencies02282025am.xlsx"  # one URL, overwritten with new bytes
    site.add("20250301120500", reused, books["W3"], XLSX_TYPE)
    site.add("20250315120000", reused, books["W4"], XLSX_TYPE)
    site.add("20250320120000", reused, books["W3"], XLSX_TYPE)  # not adjacent: CDX does not fold it
    site.add("20250116000000", DOC + "participatingAgencies01152025am.xlsx", ERROR_PAGE, "text/html")
    moved = DOC + "pendingAgencies06012025am.xlsx"
    site.add("20250602000000", moved, books["W5"], XLSX_TYPE)
    site.add("20250602013000", moved, books["W5"], XLSX_TYPE, listed=False)
    site.redirect("20250602000000", moved, "20250602013000")
    site.add("20250110000000", DOC + "287gFactSheet.pdf", pdfs[0].read_bytes(), "application/pdf")
    site.add("20260415120100", DOWNLOAD, books["W6"], XLSX_TYPE, filename="participatingAgencies04152026am.xlsx")
    # Agreements: an HTML-era link that vanished, a 404 link, a link captured only as an error page.
    site.add("20240610000000", MOA + "old_etowah_2020.pdf", pdfs[1].read_bytes(), "application/pdf")
    site.add("20250101000000", MOA + "gone.pdf", pdfs[2].read_bytes(), "application/pdf")
    site.add("20250102000000", MOA + "errpage.pdf", ERROR_PAGE, "text/html")
    return books


def seed_failures(data: Path) -> None:
    failures = FailureLog(data / "failures.csv")
    for name, error in (("gone.pdf", "HTTP 404"), ("nowhere.pdf", "HTTP 410"), ("errpage.pdf", "HTTP 404")):
        failures.record(MOA + name, "moa", error, "2026-05-01T13:23:00Z", "FLORIDA", "Gone County Sheriff's Office")
    failures.save()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha(p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()}


def backfill(site: WaybackSite, data: Path, state: Path, *extra: str) -> int:
    return main(["backfill", "--wayback", "--data-dir", str(data), "--state", str(state), "--wayback-url", site.base,
                 "--delay", "0", *extra])


@pytest.fixture
def fixtures() -> Path:
    return shared_fixture_path("ice287g").parent


def test_backfill_archives_each_distinct_roster_once_at_its_capture_time(tmp_path: Path, fixtures: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)
    data, state = tmp_path / "data", tmp_path / "cache" / "state.json"
    data.mkdir()
    seed_failures(data)
    with WaybackSite() as site:
        books = stand_in(site, fixtures)
        started = time.monotonic()
        assert backfill(site, data, state) == 0
        rows = manifest_rows(data)
        sheets = {r["sha256"]: r for r in rows if r["path"].startswith("sheets/")}
        # every distinct roster exactly once, in the folder of its capture, with its provenance
        assert len(sheets) == len([r for r in rows if r["path"].startswith("sheets/")]) == 7
        expected = {"W1": "20250517093000", "W2": "20250516100000", "W3": "20250301120500", "W4": "20250315120000",
                    "W5": "20250602013000", "W6": "20260415120100"}  # W5: the neighbour the redirect served
        for label, stamp in expected.items():
            row = sheets[sha(books[label])]
            assert row["path"].startswith(f"sheets/sheets_{stamp[:8]}_{stamp[8:]}/"), row["path"]
            assert row["source"] == "wayback" and row["capture_timestamp"] == stamp
            assert row["capture_url"] == f"{site.base}/web/{stamp}id_/{row['source_url']}"
            assert row["fetched_at"] == f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:]}Z"
            assert (data / row["path"]).read_bytes() == books[label]
        assert sheets[sha(books["W6"])]["path"].endswith("/participatingAgencies04152026am.xlsx")  # Content-Disposition
        assert sheets[sha(books["W6"])]["source_url"] == DOWNLOAD  # the file-download id the page linked
        assert sheets[sha(books["W2"])]["kind"] == "pending"
        # the captured error page is never archived
        assert sha(ERROR_PAGE) not in {r["sha256"] for r in rows}
        assert not any(p.name.startswith("participatingAgencies01152025") for p in data.rglob("*"))
        # the HTML-era table: kept once although two captures show it
        [table] = [r for r in rows if r["path"].endswith(".html")]
        assert table["path"] == "sheets/sheets_20240601_120000/participatingAgencies_page_table.html"
        # 429 + Retry-After honoured, then the capture read; the CDX answers were paged
        throttled = [s for p, s in site.state.requests if p.startswith("/web/20250516100000id_/")]
        assert throttled == [429, 200] and time.monotonic() - started >= 1.0
        assert any("resumeKey=" in p for p in site.cdx_requests())
        assert not any("287gFactSheet" in p for p in site.capture_requests())  # not a workbook URL
        # dead agreement links: the 404 and the vanished HTML-era link recovered from captures
        pdfs = {r["source_url"]: r for r in rows if r["path"].startswith("agreements/")}
        gone = pdfs[MOA + "gone.pdf"]
        assert gone["source"] == "wayback" and gone["capture_timestamp"] == "20250101000000"
        assert gone["path"].startswith("agreements/agreements_20250101_000000/FLORIDA/Gone_County_Sheriff's_Office/")
        assert pdfs[MOA + "old_etowah_2020.pdf"]["agency"] == "Etowah County Sheriff's Office"
        failures = {r["url"] for r in csv.DictReader(open(data / "failures.csv", encoding="utf-8"))}
        assert MOA + "gone.pdf" not in failures and MOA + "nowhere.pdf" in failures
        backlog = {r["url"]: r for r in csv.DictReader(open(data / "failures.csv", encoding="utf-8"))}
        assert backlog[MOA + "old_fldoc_2020.pdf"]["attempts"] == "0"  # never tried live: the daily job will
        # what exists nowhere is listed with what was tried
        lost = {r["url"]: r for r in csv.DictReader(open(data / "data" / "unrecoverable.csv", encoding="utf-8"))}
        assert lost[MOA + "nowhere.pdf"]["wayback"] == "no capture in the Wayback Machine"
        assert "HTTP 410" in lost[MOA + "nowhere.pdf"]["live"]
        assert "none a PDF" in lost[MOA + "errpage.pdf"]["wayback"]
        assert MOA + "gone.pdf" not in lost and MOA + "old_etowah_2020.pdf" not in lost
        assert not (data / ".tmp").exists()
        assert {f.status for f in verify_archive(data)} == {"ok"}  # `verify` reads the page table too

        # a second backfill changes nothing, with its resume state and without it
        before = tree(data)
        fetched = len(site.capture_requests())
        assert backfill(site, data, state) == 0
        assert tree(data) == before
        assert len(site.capture_requests()) == fetched  # the state file: nothing downloaded again
        state.unlink()
        assert backfill(site, data, state) == 0
        assert tree(data) == before

    # the HTML-era table lands in the history at its capture date, marked as such
    build_history(data, cache_dir=tmp_path / "roster-cache")
    history = [r for r in read_snapshots(data / "data", tmp_path / "roster-cache").to_dict("records")
               if partition(r["snapshot"]) == "2024-06"]
    assert {r["agency"] for r in history} == {"Etowah County Sheriff's Office", "Florida Department of Corrections"}
    assert {(r["source_format"], r["roster_date"], r["list"], r["state"]) for r in history} >= {
        ("html_table", "2024-06-01", "participating", "ALABAMA")}
    assert history[0]["moa_url"] == MOA + "old_etowah_2020.pdf"  # a relative href, resolved against the page
    newest = read_current(data / "data", tmp_path / "roster-cache").to_dict("records")
    assert {r["source_format"] for r in newest} == {"xlsx"}
    formats = {s["source_format"] for s in read_dict_csv(data / "data" / "roster_history" / "snapshots.csv")}
    assert formats == {"html_table", "xlsx"}  # per roster, in the committed history


def test_since_and_until_limit_the_captures(tmp_path: Path, fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)
    data = tmp_path / "data"
    with WaybackSite() as site:
        books = stand_in(site, fixtures)
        assert backfill(site, data, tmp_path / "state.json", "--since", "2025-05-01", "--until", "2025-05-31",
                        "--no-agreements") == 0
    archived = {r["sha256"] for r in manifest_rows(data)}
    assert archived == {sha(books["W1"]), sha(books["W2"])}


def test_an_interrupted_backfill_resumes_where_it_stopped(tmp_path: Path, fixtures: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)
    data, state = tmp_path / "data", tmp_path / "state.json"
    with WaybackSite() as site:
        stand_in(site, fixtures)
        reused = "/web/20250315120000id_/" + DOC + "participatingAgencies02282025am.xlsx"
        site.state.throttle[reused] = deque(["0"] * 5)  # more 429s than the client retries
        assert backfill(site, data, state, "--no-agreements") == 1  # one capture failed: retried next time
        first = len(manifest_rows(data))
        done = len(site.capture_requests())
        assert backfill(site, data, state, "--no-agreements") == 0
        assert len(manifest_rows(data)) == first + 1
        assert len(site.capture_requests()) == done + 1  # only the failed capture was asked again


def test_nothing_written_when_the_wayback_machine_cannot_be_reached(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)
    with WaybackSite() as site:
        base = site.base
    data = tmp_path / "data"
    code = main(["backfill", "--wayback", "--data-dir", str(data), "--state", str(tmp_path / "s.json"),
                 "--wayback-url", base, "--delay", "0"])
    assert code == 2
    assert not data.exists() or not any(data.rglob("*"))


def test_cdx_answers_are_paged_and_duplicates_collapsed() -> None:
    text = '[["timestamp","original","statuscode","digest"],["20250101000000","a","200","X"],' \
           '["20250102000000","a","200","Y"],["20250103000000","a","200","X"],["20250104000000","a","302","Z"],[],["k2"]]'
    rows, resume = cdx_rows(text)
    assert resume == "k2" and len(rows) == 4
    captures = distinct_captures([Capture(r["timestamp"], r["original"], "", r["statuscode"], r["digest"]) for r in rows])
    assert [c.timestamp for c in captures] == ["20250101000000", "20250102000000"]


def test_requests_are_spaced_by_the_delay() -> None:
    client = WaybackClient(http=None, base="http://127.0.0.1:9", delay=0.2)  # type: ignore[arg-type]
    started = time.monotonic()
    client._wait()
    client._wait()
    client._wait()
    assert time.monotonic() - started >= 0.4


def test_the_deadline_ends_the_backfill_cleanly_and_the_next_run_completes_it(tmp_path: Path, fixtures: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)
    data, state = tmp_path / "data", tmp_path / "state.json"
    with WaybackSite() as site:
        stand_in(site, fixtures)
        code = main(["backfill", "--wayback", "--data-dir", str(data), "--state", str(state), "--wayback-url",
                     site.base, "--delay", "0.25", "--deadline", "0.03", "--no-agreements"])  # 1.8 s
        assert code == 1
        partial = manifest_rows(data)
        assert len(partial) < 7
        assert all((data / r["path"]).is_file() for r in partial)
        assert backfill(site, data, state, "--no-agreements") == 0
    assert len(manifest_rows(data)) == 7


def test_a_state_that_says_more_than_the_archive_holds_is_not_trusted(tmp_path: Path, fixtures: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI run killed before its commit keeps its state in the cache but loses its files."""
    use_fast_network(monkeypatch)
    state = tmp_path / "state.json"
    with WaybackSite() as site:
        stand_in(site, fixtures)
        assert backfill(site, tmp_path / "lost", state, "--no-agreements") == 0
        assert backfill(site, tmp_path / "fresh", state, "--no-agreements") == 0
    assert {r["sha256"] for r in manifest_rows(tmp_path / "fresh")} == {r["sha256"] for r in manifest_rows(tmp_path / "lost")}
    assert len(manifest_rows(tmp_path / "fresh")) == 7
