"""The daily 287(g) job over real HTTP against a loopback ICE impersonation (tests/ice_site.py).

Real workbooks and PDFs from ../shared/fixtures where available; small generated workbooks for the
fault matrix. After every scenario: nothing invalid archived, nothing archived earlier changed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv
from ice_tracker.sources.ice287g.scrape import pdf_links, recheck_due
from ice_tracker.sources.ice287g.workbook import read_roster
from tests.archive_checks import assert_archive_valid, manifest_rows, snapshot
from tests.conftest import REPO_ROOT, SHARED_FIXTURES, shared_fixture_path, use_fast_network
from tests.ice_site import MOA_PREFIX, Fault, IceSite, rewrite_workbook, synthetic_pdf
from tests.roster_factory import ICE_MOA, pending_workbook, roster_workbook, simple_rows

LATEST_PARTICIPATING = "sheets_20250719_151637/participatingAgencies07182025pm.xlsx"
LATEST_PENDING = "sheets_20250719_151637/pendingAgencies07182025pm.xlsx"


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)


@pytest.fixture
def site():
    fixtures = SHARED_FIXTURES if SHARED_FIXTURES.exists() else None
    with IceSite(fixtures) as running:
        yield running


@pytest.fixture
def small_site(site: IceSite) -> IceSite:
    """The page links one small generated participating workbook and one pending workbook."""
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    site.publish_workbook(pending_workbook(), "pendingAgencies07182025pm.xlsx", form="download")
    return site


def scrape(site: IceSite, data_dir: Path, *extra: str) -> int:
    return run_daily(["--data-dir", str(data_dir), "--page-url", site.url, "--only", "287g", *extra])


def last_run(data_dir: Path) -> dict:
    return json.loads((data_dir / "data" / "last_run.json").read_text())["steps"]["287g"]


def failures(data_dir: Path) -> list[dict[str, str]]:
    return read_dict_csv(data_dir / "failures.csv")


def pdf_gets(site: IceSite) -> list[tuple]:
    """PDF requests answered with a body (200)."""
    return [r for r in site.requests_for(MOA_PREFIX) if r[2] == 200]


# ----- real files: first run, no-change run, newer roster, republished name ---------------------


def expected_links(*relative: str) -> set[tuple[str, str, str, str]]:
    keys = set()
    for rel in relative:
        table = read_roster(shared_fixture_path("ice287g", "sheets", rel))
        keys |= {link.key for link in pdf_links(table)}
    return keys


def test_first_run_archives_both_workbooks_and_every_linked_pdf(site: IceSite, tmp_path: Path) -> None:
    shared_fixture_path("ice287g", "sheets")
    site.publish_fixture(LATEST_PARTICIPATING)  # absolute doclib href
    site.publish_fixture(LATEST_PENDING, form="download")  # file-download/<id>, name in Content-Disposition
    assert scrape(site, tmp_path) == 0
    assert_archive_valid(tmp_path)
    rows = manifest_rows(tmp_path)
    sheets = sorted((r["kind"], Path(r["path"]).name) for r in rows if r["path"].startswith("sheets/"))
    assert sheets == [("participating", "participatingAgencies07182025pm.xlsx"), ("pending", "pendingAgencies07182025pm.xlsx")]
    pdf_rows = [r for r in rows if r["kind"] in ("moa", "addendum")]
    # One archived file per (url, kind, state, agency) link, URLs pointing at the loopback site.
    served = {(r["source_url"].replace(site.base, "https://www.ice.gov"), r["kind"], r["state"], r["agency"]) for r in pdf_rows}
    wanted = {(url.replace("http://www.ice.gov", "https://www.ice.gov"), kind, state, agency)
              for url, kind, state, agency in expected_links(LATEST_PARTICIPATING)}
    assert len(pdf_rows) == len(served) == len(wanted) > 600
    assert served == wanted
    assert not any("safelinks" in r["source_url"] for r in rows)
    # The 17 real agreements arrive byte-identical, under their real file names.
    real = {p.name: p.read_bytes() for p in (SHARED_FIXTURES / "ice287g" / "agreements").rglob("*.pdf")}
    archived = {Path(r["path"]).name: (tmp_path / r["path"]).read_bytes() for r in pdf_rows if Path(r["path"]).name in real}
    assert len(archived) >= 16 and all(archived[n] == real[n] for n in archived)
    # Layout: agreements/agreements_<stamp>/<STATE>/<Agency>/<file>.pdf
    assert all(len(Path(r["path"]).parts) == 5 for r in pdf_rows)
    summary = last_run(tmp_path)
    assert len(summary["new_workbooks"]) == 2 and len(summary["new_pdfs"]) == len(pdf_rows)


def test_second_run_with_nothing_changed_downloads_no_body(site: IceSite, tmp_path: Path) -> None:
    shared_fixture_path("ice287g", "sheets")
    site.publish_fixture(LATEST_PARTICIPATING)
    site.publish_fixture(LATEST_PENDING, form="download")
    assert scrape(site, tmp_path) == 0
    before = snapshot(tmp_path)
    manifest_before = (tmp_path / "manifest.csv").read_bytes()
    site.state.requests.clear()
    assert scrape(site, tmp_path) == 0
    assert_archive_valid(tmp_path, before)
    assert snapshot(tmp_path) == before
    assert (tmp_path / "manifest.csv").read_bytes() == manifest_before
    assert pdf_gets(site) == []  # no agreement body fetched again
    workbook_requests = [r for r in site.state.requests if r[0] != "/identify-and-arrest/287g" and "faq" not in r[0]]
    assert workbook_requests and all(r[2] == 304 for r in workbook_requests)
    summary = last_run(tmp_path)
    assert summary["new_workbooks"] == [] and summary["new_pdfs"] == []
    assert summary["http"]["bytes_downloaded"] < 5000


def test_newer_workbook_adds_only_what_is_new(site: IceSite, tmp_path: Path) -> None:
    older = "sheets_20250714_151904/participatingAgencies07142025am.xlsx"
    shared_fixture_path("ice287g", "sheets", older)
    site.publish_fixture(older)
    assert scrape(site, tmp_path) == 0
    before = snapshot(tmp_path)
    held = {(r["source_url"], r["state"], r["agency"]) for r in manifest_rows(tmp_path)}
    site.state.requests.clear()
    site.publish_fixture(LATEST_PARTICIPATING)
    assert scrape(site, tmp_path) == 0
    after = assert_archive_valid(tmp_path, before)
    new_rows = [r for r in manifest_rows(tmp_path) if r["path"] not in before]
    assert [r["kind"] for r in new_rows].count("participating") == 1
    new_pdf_keys = {(r["source_url"], r["state"], r["agency"]) for r in new_rows if r["kind"] in ("moa", "addendum")}
    assert new_pdf_keys and not (new_pdf_keys & held)  # only links the older roster did not have
    # Known URLs were revalidated with conditional requests, not downloaded again.
    bodies = {r[0] for r in pdf_gets(site)}
    known_paths = {url.replace(site.base, "") for url, _, _ in held}
    assert not (bodies & known_paths)
    folders = {Path(p).parts[1] for p in after if p.startswith("sheets/")}
    assert len(folders) == 2  # a new timestamped folder, created because it received a file


def test_a_republished_roster_asks_only_about_new_links_and_todays_recheck_share(site: IceSite, tmp_path: Path) -> None:
    """Twice-daily rosters of ~2,400 links: a held link the new roster still lists is revalidated on
    its day of the recheck cycle only, so a day's requests follow its changes, not the roster's size."""
    older = "sheets_20250714_151904/participatingAgencies07142025am.xlsx"
    shared_fixture_path("ice287g", "sheets", older)
    site.publish_fixture(older)
    assert scrape(site, tmp_path) == 0
    held = {r["source_url"].replace(site.base, "") for r in manifest_rows(tmp_path) if r["kind"] in ("moa", "addendum")}
    site.state.requests.clear()
    site.publish_fixture(LATEST_PARTICIPATING)
    assert scrape(site, tmp_path) == 0
    today = datetime.now(timezone.utc).date().isoformat()
    asked_again = {r[0] for r in site.requests_for(MOA_PREFIX) if r[0] in held}
    assert asked_again, "no held link was due today: the recheck cycle never runs"
    links = {name: {link.key for link in pdf_links(read_roster(shared_fixture_path("ice287g", "sheets", name)))}
             for name in (older, LATEST_PARTICIPATING)}
    changed = {urlsplit(key[0]).path for key in links[LATEST_PARTICIPATING] - links[older]}
    assert changed  # renamed agencies: their links are asked about whatever the day
    kept = {urlsplit(key[0]).path for key in links[LATEST_PARTICIPATING] & links[older]} & held
    due = {path for path in kept - changed if recheck_due(site.base + path, today)}
    assert asked_again - changed == due  # the held, unchanged links asked about are exactly today's share
    assert last_run(tmp_path)["pdf_links_due_recheck"] >= len(due)
    assert len(asked_again) < len(held) / 4  # not the whole roster again (one day in RECHECK_EVERY_DAYS)
    assert changed <= {r[0] for r in site.requests_for(MOA_PREFIX)}  # changed links: asked whatever the day


def test_republished_name_with_new_bytes_is_kept(site: IceSite, tmp_path: Path) -> None:
    first = "sheets_20250703_151805/participatingAgencies07032025pm.xlsx"
    second = "sheets_20250704_151659/participatingAgencies07032025pm.xlsx"
    shared_fixture_path("ice287g", "sheets", second)
    site.publish_fixture(first)
    assert scrape(site, tmp_path, "--no-pdfs") == 0
    before = snapshot(tmp_path)
    site.publish_fixture(second)  # same name, same URL, new bytes
    assert scrape(site, tmp_path, "--no-pdfs") == 0
    after = assert_archive_valid(tmp_path, before)
    sheets = sorted(p for p in after if p.startswith("sheets/"))
    assert len(sheets) == 2 and {Path(p).name for p in sheets} == {"participatingAgencies07032025pm.xlsx"}
    assert sorted(len(read_roster(tmp_path / p).rows) for p in sheets) == [753, 777]


@pytest.mark.parametrize("form", ["relative", "root", "protocol", "download"])
def test_link_forms_are_all_discovered(site: IceSite, tmp_path: Path, form: str) -> None:
    site.publish_workbook(roster_workbook(simple_rows()), "ParticipatingAgency091826am.xlsx", form=form)
    assert scrape(site, tmp_path, "--no-pdfs") == 0
    rows = manifest_rows(tmp_path)
    assert [(r["kind"], Path(r["path"]).name) for r in rows] == [("participating", "ParticipatingAgency091826am.xlsx")]


# ----- agreement details: safelinks, shared PDFs, pending links, hostile names ----------------


def test_agreements_unwrapped_shared_and_pending_skipped(small_site: IceSite, tmp_path: Path) -> None:
    assert scrape(small_site, tmp_path) == 0
    assert_archive_valid(tmp_path)
    pdfs = {(r["state"], r["agency"], r["kind"]): r for r in manifest_rows(tmp_path) if r["kind"] in ("moa", "addendum")}
    assert set(pdfs) == {
        ("TEXAS", "Alpha County Sheriff's Office", "moa"),
        ("FLORIDA", "Beta Police Department", "moa"),
        ("FLORIDA", "Beta Police Department", "addendum"),
        ("OHIO", "Gamma Township Police", "moa"),
        ("OHIO", "Delta Township Police", "moa"),
    }
    beta = pdfs[("FLORIDA", "Beta Police Department", "moa")]
    assert beta["source_url"] == small_site.base + MOA_PREFIX + "BetaPDFL_TFM_MOA_05132025.pdf"
    assert beta["path"].endswith("FLORIDA/Beta_Police_Department/BetaPDFL_TFM_MOA_05132025.pdf")
    # One PDF linked by two agencies: present under both, downloaded once.
    shared = [r for k, r in pdfs.items() if k[0] == "OHIO"]
    assert len({r["sha256"] for r in shared}) == 1 and len({r["path"] for r in shared}) == 2
    assert len([r for r in pdf_gets(small_site) if "SharedOhio" in r[0]]) == 1
    assert not any("Epsilon" in r["agency"] for r in pdfs.values())  # "link pending" skipped


def test_agreement_folders_follow_the_data_dirs_state_corrections(site: IceSite, tmp_path: Path) -> None:
    """A state spelling only `<data-dir>/overrides/states.csv` knows names the agreement's folder."""
    rows = simple_rows()[:1]
    rows[0]["STATE"] = "Lone Star"
    site.publish_workbook(roster_workbook(rows), "participatingAgencies07182025pm.xlsx")
    (tmp_path / "overrides").mkdir(parents=True)
    (tmp_path / "overrides" / "states.csv").write_text("raw,state,note\nLONE STAR,TEXAS,test spelling\n")
    assert scrape(site, tmp_path) == 0
    pdfs = [r for r in manifest_rows(tmp_path) if r["kind"] == "moa"]
    assert [r["state"] for r in pdfs] == ["TEXAS"]
    assert "/TEXAS/Alpha_County_Sheriff" in pdfs[0]["path"]


def test_hostile_agency_names_stay_inside_the_archive(site: IceSite, tmp_path: Path) -> None:
    names = ["../../../../etc/cron.d/evil", "Police/Fire Department", "Nul\x00Byte Sheriff", "L" * 300]
    rows = [{"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": name, "moa_link": ICE_MOA + f"hostile{i}.pdf"}
            for i, name in enumerate(names)]
    site.publish_workbook(roster_workbook(rows), "participatingAgencies07182025pm.xlsx")
    assert scrape(site, tmp_path) == 0
    assert_archive_valid(tmp_path)
    paths = [Path(r["path"]) for r in manifest_rows(tmp_path) if r["kind"] == "moa"]
    assert len(paths) == 4
    for path in paths:
        assert path.parts[:3] == ("agreements", path.parts[1], "TEXAS") and len(path.parts) == 5
        assert ".." not in path.parts and "\x00" not in str(path) and len(path.parts[3].encode()) <= 120
    assert {p.parts[3] for p in paths} >= {"Police_Fire_Department", "Nul_Byte_Sheriff"}
    assert not (tmp_path.parent / "etc").exists()


# ----- the fault matrix ----------------------------------------------------------------------


def workbook_path(site: IceSite) -> str:
    """Server path of the participating workbook the page links now."""
    return site.paths["participating"]


@pytest.mark.parametrize(
    "faults",
    [
        [Fault("status", 500)],
        [Fault("status", 503), Fault("status", 502)],
        [Fault("reset")],
        [Fault("stall", seconds=2.5)],  # longer than the 1 s read timeout
    ],
    ids=["500-then-ok", "503-502-then-ok", "connection-reset", "read-timeout"],
)
def test_transient_faults_are_retried_within_the_run(small_site: IceSite, tmp_path: Path, faults: list[Fault]) -> None:
    path = workbook_path(small_site)
    small_site.inject(path, *faults)
    assert scrape(small_site, tmp_path) == 0
    assert_archive_valid(tmp_path)
    assert any(r["kind"] == "participating" for r in manifest_rows(tmp_path))
    assert len([r for r in small_site.state.requests if r[0] == path]) >= len(faults) + 1
    assert failures(tmp_path) == []


def test_429_retry_after_is_honoured(small_site: IceSite, tmp_path: Path) -> None:
    path = workbook_path(small_site)
    small_site.inject(path, Fault("status", 429, retry_after="1"))
    started = time.monotonic()
    assert scrape(small_site, tmp_path, "--no-pdfs") == 0
    assert time.monotonic() - started >= 0.9  # waited as told, not the 0.01 s backoff
    assert any(r["kind"] == "participating" for r in manifest_rows(tmp_path))


@pytest.mark.parametrize("fault", [Fault("truncate"), Fault("html"), Fault("empty"), Fault("status", 404)],
                         ids=["truncated", "html-200", "empty-200", "404"])
def test_bad_pdf_is_recorded_not_archived_and_retried_next_run(small_site: IceSite, tmp_path: Path, fault: Fault) -> None:
    assert scrape(small_site, tmp_path, "--no-pdfs") == 0
    before = snapshot(tmp_path)
    target = MOA_PREFIX + "AlphaCoTX_TFM_MOA_03.07.2025.pdf"
    small_site.inject(target, fault, fault, fault)  # enough for every retry
    assert scrape(small_site, tmp_path) == 0  # some PDFs failed: recorded, still a completed run
    before = assert_archive_valid(tmp_path, before)
    assert not any("Alpha" in r["agency"] for r in manifest_rows(tmp_path))
    [failure] = failures(tmp_path)
    assert failure["agency"] == "Alpha County Sheriff's Office" and failure["kind"] == "moa"
    assert failure["attempts"] == "1" and failure["error"]
    assert last_run(tmp_path)["failures"][0]["url"].endswith("AlphaCoTX_TFM_MOA_03.07.2025.pdf")
    small_site.state.faults.clear()
    assert scrape(small_site, tmp_path) == 0  # retried even though no workbook is new
    assert_archive_valid(tmp_path, before)
    assert any("Alpha" in r["agency"] for r in manifest_rows(tmp_path))
    assert failures(tmp_path) == []


@pytest.mark.parametrize("fault", [Fault("html"), Fault("empty"), Fault("truncate")], ids=["html-200", "empty-200", "truncated"])
def test_bad_workbook_is_never_archived(small_site: IceSite, tmp_path: Path, fault: Fault) -> None:
    assert scrape(small_site, tmp_path, "--no-pdfs") == 0
    before = snapshot(tmp_path)
    small_site.publish_workbook(roster_workbook(simple_rows()[:2]), "participatingAgencies07192025am.xlsx")
    path = workbook_path(small_site)
    small_site.inject(path, fault, fault, fault)
    assert scrape(small_site, tmp_path, "--no-pdfs") == 0  # the pending workbook still verified (304)
    assert_archive_valid(tmp_path, before)
    assert snapshot(tmp_path) == before
    [failure] = failures(tmp_path)
    assert failure["kind"] == "participating" and failure["url"].endswith("participatingAgencies07192025am.xlsx")


def test_redirect_off_the_allow_list_is_refused(small_site: IceSite, tmp_path: Path) -> None:
    target = MOA_PREFIX + "AlphaCoTX_TFM_MOA_03.07.2025.pdf"
    elsewhere = small_site.base.replace("127.0.0.1", "localhost") + "/stolen.pdf"
    small_site.inject(target, Fault("redirect", location=elsewhere))
    assert scrape(small_site, tmp_path) == 0
    assert_archive_valid(tmp_path)
    [failure] = failures(tmp_path)
    assert "allow-list" in failure["error"] and "localhost" in failure["error"]
    assert not small_site.requests_for("/stolen.pdf")  # never connected to the other host


def test_file_over_the_size_cap_is_refused(small_site: IceSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = MOA_PREFIX + "AlphaCoTX_TFM_MOA_03.07.2025.pdf"
    small_site.state.files[target] = type(small_site.state.files[workbook_path(small_site)])(
        b"%PDF-1.7\n" + b"0" * 60_000 + b"\n%%EOF\n", "application/pdf")
    monkeypatch.setenv("ICE_TRACKER_MAX_BYTES", "50000")  # the workbooks are ~5 kB, this PDF 60 kB
    assert scrape(small_site, tmp_path) == 0
    assert_archive_valid(tmp_path)
    [failure] = failures(tmp_path)
    assert "exceeds the cap" in failure["error"] and failure["agency"] == "Alpha County Sheriff's Office"


def test_page_without_roster_link_fails_and_writes_nothing(site: IceSite, tmp_path: Path) -> None:
    site.state.page_html = '<html><body><a href="/about">About</a><a href="/news.pdf">News</a></body></html>'
    assert scrape(site, tmp_path) == 2
    assert list(tmp_path.iterdir()) == []


def test_only_html_instead_of_workbook_fails_and_writes_nothing(site: IceSite, tmp_path: Path) -> None:
    site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
    site.inject(workbook_path(site), Fault("html"))
    assert scrape(site, tmp_path) == 2
    assert list(tmp_path.iterdir()) == []


def test_network_down_fails_and_changes_nothing(small_site: IceSite, tmp_path: Path) -> None:
    assert scrape(small_site, tmp_path) == 0
    before = snapshot(tmp_path)
    files_before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    small_site.inject("/identify-and-arrest/287g", *[Fault("status", 503)] * 5)
    assert scrape(small_site, tmp_path) == 2
    assert_archive_valid(tmp_path, before)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == files_before


def test_killed_mid_download_leaves_no_partial_file_and_next_run_completes(small_site: IceSite, tmp_path: Path) -> None:
    target = MOA_PREFIX + "BetaPDFL_TFM_MOA_05132025.pdf"
    small_site.state.files[target] = type(small_site.state.files[workbook_path(small_site)])(
        synthetic_pdf("killed mid-download", 2_000_000), "application/pdf")
    small_site.inject(target, Fault("stall_body", seconds=30))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ICE_TRACKER_READ_TIMEOUT": "60"}
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "scraper.py"), "--data-dir", str(tmp_path),
                                "--page-url", small_site.url, "--only", "287g"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert small_site.state.stalled.wait(30), "the download never started"
        time.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    before = assert_archive_valid(tmp_path)
    assert ("Beta Police Department", "moa") not in {(r["agency"], r["kind"]) for r in manifest_rows(tmp_path)}
    assert list((tmp_path / ".tmp").iterdir())  # the killed run's partial body, outside the archive
    assert scrape(small_site, tmp_path) == 0
    assert_archive_valid(tmp_path, before)
    assert not (tmp_path / ".tmp").exists()
    kinds = {(r["agency"], r["kind"]) for r in manifest_rows(tmp_path)}
    assert ("Beta Police Department", "moa") in kinds and ("Beta Police Department", "addendum") in kinds


def test_no_pdfs_then_a_normal_run_fetches_the_agreements(small_site: IceSite, tmp_path: Path) -> None:
    assert scrape(small_site, tmp_path, "--no-pdfs") == 0
    assert not any(r["kind"] == "moa" for r in manifest_rows(tmp_path))
    assert scrape(small_site, tmp_path) == 0
    assert sum(r["kind"] == "moa" for r in manifest_rows(tmp_path)) == 4


def test_rewritten_fixture_links_point_at_the_loopback_site() -> None:
    source = shared_fixture_path("ice287g", "sheets", LATEST_PARTICIPATING).read_bytes()
    rewritten = rewrite_workbook(source, "http://127.0.0.1:1")
    links = [link.url for link in pdf_links(read_roster(rewritten))]
    assert links and all(url.startswith("http://127.0.0.1:1/doclib/287gMOA/") for url in links)
    assert rewrite_workbook(source, "http://127.0.0.1:1") == rewritten  # deterministic bytes



def test_manifest_lines_appended_after_the_first_file_equal_a_full_rewrite(tmp_path: Path) -> None:
    """After the run's first file rewrites the manifest, each next file appends its line; the file
    on disk is always exactly what a full save writes (also over a manifest in older columns)."""
    from datetime import datetime, timezone

    from ice_tracker.archive import Archive, ManifestEntry

    (tmp_path / "manifest.csv").write_text("path,kind,source_url,sha256,bytes,fetched_at\n")  # older columns
    archive = Archive(tmp_path, datetime(2026, 8, 1, tzinfo=timezone.utc))
    for n in range(3):
        temp = tmp_path / f"download{n}"
        temp.write_bytes(b"%PDF-1.4 " + bytes([n]))
        archive.add_file(temp, "agreements", Path(f"UTAH/Agency_{n}/a{n}.pdf"),
                         ManifestEntry("", "moa", f"https://www.ice.gov/a{n}.pdf", f"{n}" * 64, 10, "2026-08-01T00:00:00Z"))
    appended = (tmp_path / "manifest.csv").read_bytes()  # one rewrite, then two appends
    archive.save(durable=False)
    assert (tmp_path / "manifest.csv").read_bytes() == appended
    assert [r["path"] for r in manifest_rows(tmp_path)] == [e.path for e in archive.added]
