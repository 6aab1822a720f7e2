"""The `releases` step over real HTTP against a loopback DDP/Box/LFS impersonation (tests/ddp_site.py).

After every scenario: every archived file matches its manifest row, files sit in the repo only up to
the size limit, and nothing archived earlier changed or vanished.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv
from tests.conftest import use_fast_network
from tests.ddp_files import big_zip, detentions_workbook, stints_parquet, table_workbook
from tests.ddp_site import DdpSite
from tests.ice_site import Fault

REPO_LIMIT = 40_000
BOOKKEEPING = {"manifest.csv", "links.csv", "releases.csv"}


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch, read_timeout=2.0)
    monkeypatch.setenv("ICE_TRACKER_DDP_REPO_LIMIT", str(REPO_LIMIT))


@pytest.fixture
def site():
    with DdpSite() as running:
        yield running


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "data", tmp_path / "cache"


def release_site(site: DdpSite) -> dict[str, str]:
    """The March 2026 release: raw arrests (static link), detentions (shared-file link), processed
    stints parquet (+ dta, not downloaded), and the all-in-one ZIP (listed, not downloaded)."""
    paths = {
        "arrests": site.add_raw("Arrests", table_workbook("arrests"), "2026-ICLI-00005_Arrests_FY26_20260311_Redacted.xlsx"),
        "detentions": site.add_raw("Detentions", detentions_workbook(), "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx",
                                   form="shared"),
        "stints": site.add_processed("Detention stints", "detention-stints-latest.parquet", stints_parquet()),
    }
    site.add_processed("Detention stints", "detention-stints-latest.dta", b"not downloaded")
    site.state.zip_href, _ = site.box_file(big_zip(1000), "ice-release-2026-03.zip")
    return paths


def run(site: DdpSite, dirs: tuple[Path, Path], *extra: str) -> int:
    data, cache = dirs
    return run_daily(["--data-dir", str(data), "--cache-dir", str(cache), "--only", "releases",
                      "--ddp-page", site.raw_url, "--ddp-page", site.processed_url, *extra])


def summary(dirs: tuple[Path, Path]) -> dict:
    return json.loads((dirs[0] / "data" / "last_run.json").read_text())


def releases(dirs: tuple[Path, Path]) -> list[dict[str, str]]:
    return read_dict_csv(dirs[0] / "releases" / "ddp" / "releases.csv")


def manifest(dirs: tuple[Path, Path], release_id: str) -> list[dict[str, str]]:
    return read_dict_csv(dirs[0] / "releases" / "ddp" / release_id / "manifest.csv")


def snapshot(dirs: tuple[Path, Path]) -> dict[str, str]:
    """sha256 of every archived data file (repo release folders and the cache's sha256 store)."""
    data, cache = dirs
    found = {}
    for base, area in ((data, "releases/ddp"), (cache, "ddp/sha256")):
        for path in sorted((base / area).rglob("*")):
            if path.is_file() and path.name not in BOOKKEEPING:
                found[f"{base.name}:{path.relative_to(base).as_posix()}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_archive_valid(dirs: tuple[Path, Path], before: dict[str, str] | None = None) -> dict[str, str]:
    data, cache = dirs
    now = snapshot(dirs)
    listed = set()
    for path in sorted((data / "releases" / "ddp").glob("*/manifest.csv")):
        for row in read_dict_csv(path):
            base = data if row["stored"] == "repo" else cache
            file = base / row["path"]
            assert file.is_file(), f"{row['path']} listed but missing"
            assert hashlib.sha256(file.read_bytes()).hexdigest() == row["sha256"]
            assert file.stat().st_size == int(row["bytes"])
            assert (row["stored"] == "repo") == (int(row["bytes"]) <= REPO_LIMIT)
            assert row["file_name"] and row["table"] and row["fetched_at"]
            listed.add(f"{base.name}:{row['path']}")
    assert set(now) == listed, f"unlisted or missing archived files: {set(now) ^ listed}"
    assert not any(p.suffix == ".part" for p in data.rglob("*"))
    for key, sha in (before or {}).items():
        assert now.get(key) == sha, f"archived file changed or vanished: {key}"
    return now


# ----- a new release, then nothing new ---------------------------------------------------------


def test_new_release_is_detected_archived_and_handed_to_detention(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    assert run(site, dirs) == 0
    assert_archive_valid(dirs)
    [release] = releases(dirs)
    assert release["release_id"] == "2026-03-10" and "through March 10, 2026" in release["sentence"]
    assert int(release["n_links"]) == 5 and len(release["links_sha256"]) == 64
    rows = {r["table"]: r for r in manifest(dirs, "2026-03-10")}
    assert set(rows) == {"arrests", "detentions", "stints"}  # not the ZIP, not the .dta
    assert rows["detentions"]["file_name"] == "2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx"
    assert rows["detentions"]["path"] == "releases/ddp/2026-03-10/2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx"
    assert rows["stints"]["file_name"] == "detention-stints-latest.parquet"
    links = read_dict_csv(dirs[0] / "releases" / "ddp" / "2026-03-10" / "links.csv")
    assert {r["table"] for r in links} == {"arrests", "detentions", "stints", "all"}
    result = summary(dirs)
    assert result["commit_message"] == "DDP: new release through 2026-03-10, 3 files"
    # Hand-off: the detention command's small outputs committed, its parquet intermediates in the cache.
    detention = result["steps"]["releases"]["detention"]["2026-03-10"]
    assert detention["status"] == "ok", detention
    assert detention["inputs"] == ["2026-ICLI-00005_Detentions_FY26_20260311_Redacted.xlsx"]
    out = dirs[0] / "data" / "detention"
    assert (out / "national_daily_population.csv").is_file() and (out / "report.json").is_file()
    # only the small facility-day table (the per-facility charts' source) is committed; stints and stays stay cached
    assert [p.name for p in out.glob("*.parquet")] == ["facility_daily_population.parquet"]
    assert (dirs[1] / "ddp" / "detention" / "2026-03-10" / "stints.parquet").is_file()
    # the raw workbook's typed table is cached by its sha256: a re-derivation never parses it again
    [entry] = (dirs[1] / "ddp" / "detention" / "workbooks").iterdir()
    assert entry.name.startswith(rows["detentions"]["sha256"] + "-") and (entry / "reads.json").is_file()
    report = json.loads((out / "report.json").read_text())
    # the file name says 20260311 but this small synthetic release's data ends on 2025-08-18: the series
    # ends with the data (a day without data is never counted)
    assert report["rows_read"] == 60 and report["extract_date"] == "2025-08-18" and report["extract_date_source"] == "data"


def test_second_run_with_nothing_new_downloads_nothing(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    assert run(site, dirs) == 0
    before = assert_archive_valid(dirs)
    outputs = {p: p.read_bytes() for p in (dirs[0] / "data" / "detention").iterdir()}
    site.state.requests.clear()
    assert run(site, dirs) == 0
    assert_archive_valid(dirs, before)
    assert site.downloads() == []
    assert len(releases(dirs)) == 1
    step = summary(dirs)["steps"]["releases"]
    assert step["new_release"] is False and step["files_new"] == [] and step["headline"] == ""
    assert summary(dirs)["commit_message"] == "no changes"
    assert {p: p.read_bytes() for p in (dirs[0] / "data" / "detention").iterdir()} == outputs


# ----- changes on the page ---------------------------------------------------------------------


def test_only_the_sentence_changes_is_a_new_release_that_downloads_nothing(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    site.state.sentence = "The most recent release of data covers ICE enforcement actions through early March 2026."
    assert run(site, dirs) == 0
    before = assert_archive_valid(dirs)
    [first] = releases(dirs)
    assert first["release_id"] == first["first_seen"]  # no day in the sentence: the day it was first seen
    site.state.sentence = "The most recent release of data covers ICE enforcement actions through March 10, 2026."
    site.state.requests.clear()
    assert run(site, dirs) == 0
    assert_archive_valid(dirs, before)
    assert [r["release_id"] for r in releases(dirs)] == [first["release_id"], "2026-03-10"]
    assert site.downloads() == []  # the processed file's LFS pointer named bytes we hold
    old, new = manifest(dirs, first["release_id"]), manifest(dirs, "2026-03-10")
    assert [(r["sha256"], r["path"]) for r in old] == [(r["sha256"], r["path"]) for r in new]
    assert summary(dirs)["commit_message"] == "DDP: new release through 2026-03-10, 3 files"


def test_a_link_that_disappears_is_recorded_and_nothing_is_deleted(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    assert run(site, dirs) == 0
    before = assert_archive_valid(dirs)
    arrests_url = site.row("Arrests").raw[0][0]
    site.remove_link(arrests_url)
    assert run(site, dirs) == 0
    assert_archive_valid(dirs, before)
    ids = [r["release_id"] for r in releases(dirs)]
    assert ids == ["2026-03-10", "2026-03-10_2"]  # same sentence, another link set
    gone = {r["url"]: r for r in read_dict_csv(dirs[0] / "releases" / "ddp" / "links.csv")}[arrests_url]
    assert gone["disappeared_on"] == releases(dirs)[-1]["last_seen"] and gone["first_seen"]
    assert summary(dirs)["steps"]["releases"]["links_disappeared"] == [arrests_url]
    assert {r["table"] for r in manifest(dirs, "2026-03-10")} == {"arrests", "detentions", "stints"}
    assert {r["table"] for r in manifest(dirs, "2026-03-10_2")} == {"detentions", "stints"}


def test_a_file_over_the_repo_limit_goes_to_the_cache_only(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    site.add_raw("Removals", big_zip(REPO_LIMIT * 2), "2026-ICLI-00005_Removals_20260311_Redacted.zip")
    assert run(site, dirs) == 0
    assert_archive_valid(dirs)
    removals = next(r for r in manifest(dirs, "2026-03-10") if r["table"] == "removals")
    assert removals["stored"] == "cache" and int(removals["bytes"]) > REPO_LIMIT
    assert removals["path"] == f"ddp/sha256/{removals['sha256']}/2026-ICLI-00005_Removals_20260311_Redacted.zip"
    assert not list((dirs[0]).rglob("*Removals*"))
    assert all(p.stat().st_size <= REPO_LIMIT for p in (dirs[0] / "releases").rglob("*") if p.is_file())


# ----- download faults -------------------------------------------------------------------------


def test_a_download_cut_midway_resumes_with_range(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    path = site.add_raw("Removals", big_zip(2_000_000), "2026-ICLI-00005_Removals_20260311_Redacted.zip")
    site.inject(path, Fault("cut"))  # half the body, then the connection drops
    assert run(site, dirs) == 0
    assert_archive_valid(dirs)
    answered = [r for r in site.requests_for(path) if r[1] in (200, 206)]
    assert [r[1] for r in answered] == [206]  # the rest only, not the whole file again
    start = int(answered[0][2].removeprefix("bytes=").rstrip("-"))
    assert 0 < start < 2_000_000 and answered[0][3] == len(site.state.blobs[path].body) - start
    row = next(r for r in manifest(dirs, "2026-03-10") if r["table"] == "removals")
    assert row["sha256"] == hashlib.sha256(site.state.blobs[path].body).hexdigest()
    assert not list((dirs[1] / "ddp" / "partial").iterdir())


def test_a_500_is_recorded_and_retried_on_the_next_run(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    paths = release_site(site)
    site.inject(paths["arrests"], *[Fault("status", 500)] * 3)  # more than the retries
    assert run(site, dirs) == 0
    before = assert_archive_valid(dirs)
    [failure] = read_dict_csv(dirs[0] / "failures.csv")
    assert failure["kind"] == "ddp" and failure["agency"] == "arrests" and failure["error"] == "HTTP 500"
    assert "1 failed" in summary(dirs)["commit_message"]
    assert {r["table"] for r in manifest(dirs, "2026-03-10")} == {"detentions", "stints"}
    assert run(site, dirs) == 0  # no new release: the failed file alone is fetched
    assert_archive_valid(dirs, before)
    assert {r["table"] for r in manifest(dirs, "2026-03-10")} == {"arrests", "detentions", "stints"}
    assert read_dict_csv(dirs[0] / "failures.csv") == []
    assert summary(dirs)["commit_message"] == "DDP: 1 more file for release 2026-03-10"


def test_an_html_page_instead_of_a_workbook_is_rejected(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    paths = release_site(site)
    site.inject(paths["detentions"], Fault("html"))
    assert run(site, dirs) == 0
    assert_archive_valid(dirs)
    assert "detentions" not in {r["table"] for r in manifest(dirs, "2026-03-10")}
    [failure] = read_dict_csv(dirs[0] / "failures.csv")
    assert "not a xlsx file" in failure["error"] and "text/html" in failure["error"]
    assert not list((dirs[1] / "ddp" / "partial").glob("*"))  # the HTML body is not kept to resume
    # Without the raw workbook the hand-off falls back to the processed stints, never the HTML body.
    detention = summary(dirs)["steps"]["releases"]["detention"]["2026-03-10"]
    assert detention["inputs"] == ["detention-stints-latest.parquet"]


def test_unreadable_page_decides_nothing(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    assert run(site, dirs) == 0
    before = assert_archive_valid(dirs)
    history = (dirs[0] / "releases" / "ddp" / "releases.csv").read_bytes()
    site.state.page_html["/data/ice.html"] = "<html><body><h1>Access denied</h1></body></html>"
    assert run(site, dirs) == 0  # the processed page was read; detection skipped, not "links gone"
    assert_archive_valid(dirs, before)
    assert (dirs[0] / "releases" / "ddp" / "releases.csv").read_bytes() == history
    assert any(f["kind"] == "ddp-page" for f in read_dict_csv(dirs[0] / "failures.csv"))
    site.state.page_html["/data/processed/ice.html"] = "<html><body>Service unavailable</body></html>"
    failures_before = (dirs[0] / "failures.csv").read_bytes()
    assert run(site, dirs) == 2  # nothing could be read: the step failed, nothing written
    assert_archive_valid(dirs, before)
    assert (dirs[0] / "failures.csv").read_bytes() == failures_before


def test_redirect_off_the_allow_list_is_refused(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    url, _ = site.box_file(table_workbook("encounters"), "encounters.xlsx")
    path = url.replace(site.base, "")
    site.state.redirects[path] = site.base.replace("127.0.0.1", "localhost") + "/stolen.xlsx"
    site.row("Encounters").raw.append((url, "xlsx"))
    assert run(site, dirs) == 0
    assert_archive_valid(dirs)
    [failure] = read_dict_csv(dirs[0] / "failures.csv")
    assert "allow-list" in failure["error"] and failure["agency"] == "encounters"


def test_a_download_cut_on_every_attempt_resumes_on_the_next_run(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    release_site(site)
    path = site.add_raw("Removals", big_zip(2_000_000), "2026-ICLI-00005_Removals_20260311_Redacted.zip")
    site.inject(path, *[Fault("cut")] * 3)  # every attempt of this run
    assert run(site, dirs) == 0
    before = assert_archive_valid(dirs)
    [failure] = read_dict_csv(dirs[0] / "failures.csv")
    assert failure["agency"] == "removals" and "interrupted" in failure["error"]
    [partial] = (dirs[1] / "ddp" / "partial").glob("*.part")
    kept = partial.stat().st_size
    assert 0 < kept < 2_000_000
    site.state.requests.clear()
    assert run(site, dirs) == 0
    assert_archive_valid(dirs, before)
    [answer] = [r for r in site.requests_for(path) if r[1] > 0]
    assert answer[1] == 206 and answer[2] == f"bytes={kept}-"
    assert read_dict_csv(dirs[0] / "failures.csv") == []
    assert "removals" in {r["table"] for r in manifest(dirs, "2026-03-10")}


def test_a_processed_file_not_matching_its_lfs_pointer_is_rejected(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    paths = release_site(site)
    site.inject(paths["stints"], Fault("html"))  # e.g. GitHub's rate-limit page instead of the object
    assert run(site, dirs) == 0
    assert_archive_valid(dirs)
    [failure] = read_dict_csv(dirs[0] / "failures.csv")
    assert failure["agency"] == "stints" and "LFS pointer" in failure["error"]
    assert "stints" not in {r["table"] for r in manifest(dirs, "2026-03-10")}


def test_a_failed_link_that_disappears_is_no_longer_retried(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    paths = release_site(site)
    site.inject(paths["arrests"], *[Fault("status", 500)] * 3)
    assert run(site, dirs) == 0
    site.remove_link(site.row("Arrests").raw[0][0])
    site.state.requests.clear()
    assert run(site, dirs) == 0
    assert site.requests_for(paths["arrests"]) == []
    [failure] = read_dict_csv(dirs[0] / "failures.csv")  # still listed: the archive lacks that file
    assert failure["agency"] == "arrests" and failure["attempts"] == "1"


def test_the_plain_daily_run_includes_the_release_watch(site: DdpSite, dirs: tuple[Path, Path]) -> None:
    from tests.ice_site import IceSite
    from tests.roster_factory import roster_workbook, simple_rows

    from tests.matching_helpers import write_tiny_csllea

    release_site(site)
    data, cache = dirs
    csllea = write_tiny_csllea(cache.parent / "38771-0001-Data.tsv")  # no download: tests never reach the internet
    with IceSite() as ice:
        ice.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
        assert run_daily(["--data-dir", str(data), "--cache-dir", str(cache), "--page-url", ice.url, "--no-pdfs",
                          "--ddp-page", site.raw_url, "--ddp-page", site.processed_url, "--csllea", str(csllea)]) == 0
    message = summary(dirs)["commit_message"]
    assert message.startswith("287(g): 1 new workbook") and "DDP: new release through 2026-03-10, 3 files" in message
    assert_archive_valid(dirs)
