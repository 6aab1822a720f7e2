"""Durable copies of big DDP files as GitHub release assets, and restoring what the cache lost.

The `releases` step runs over real HTTP against the loopback DDP site (tests/ddp_site.py) and a
loopback stand-in for GitHub's release-asset API (tests/release_api.py); nothing is mocked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ice_tracker.fileio import read_dict_csv
from tests.ddp_files import big_zip
from tests.ddp_site import DdpSite
from tests.release_api import REPOSITORY, TOKEN, ReleaseApi
from tests.test_ddp_releases import REPO_LIMIT, release_site, run


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import use_fast_network

    use_fast_network(monkeypatch, read_timeout=2.0)
    monkeypatch.setenv("ICE_TRACKER_DDP_REPO_LIMIT", str(REPO_LIMIT))
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "ICE_TRACKER_ASSET_API", "ICE_TRACKER_ASSET_UPLOADS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def site():
    with DdpSite() as running:
        release_site(running)
        running.add_raw("Removals", big_zip(REPO_LIMIT * 2), "2026-ICLI-00005_Removals_20260311_Redacted.zip")
        yield running


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch):
    with ReleaseApi() as running:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        monkeypatch.setenv("ICE_TRACKER_ASSET_API", running.base)
        monkeypatch.setenv("ICE_TRACKER_ASSET_UPLOADS", running.uploads)
        yield running


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "data", tmp_path / "cache"


def manifest(dirs: tuple[Path, Path]) -> list[dict[str, str]]:
    return [row for path in sorted((dirs[0] / "releases" / "ddp").glob("*/manifest.csv")) for row in read_dict_csv(path)]


def cached(dirs: tuple[Path, Path]) -> list[dict[str, str]]:
    rows = [r for r in manifest(dirs) if r["stored"] == "cache"]
    assert rows, "the release has files over the repository limit"
    return rows


def durability(dirs: tuple[Path, Path]) -> dict:
    return json.loads((dirs[0] / "data" / "last_run.json").read_text())["steps"]["releases"]["durability"]


def failures(dirs: tuple[Path, Path]) -> list[dict[str, str]]:
    path = dirs[0] / "failures.csv"
    return read_dict_csv(path) if path.exists() else []


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cached_files_are_uploaded_once_with_url_and_sha_in_the_manifest(site: DdpSite, api: ReleaseApi, dirs) -> None:
    assert run(site, dirs) == 0
    rows = cached(dirs)
    stored = api.asset_bytes()
    for row in rows:
        assert row["asset_url"].startswith(api.base + "/download/ddp-")
        name = row["asset_url"].rsplit("/", 1)[1]
        assert hashlib.sha256(stored[name]).hexdigest() == row["sha256"]
    assert all(r["asset_url"] == "" for r in manifest(dirs) if r["stored"] == "repo")
    assert len(api.calls("POST", "/releases$")) == 1  # one GitHub release per DDP release
    uploads = len(api.calls("POST", "/uploads/"))
    assert uploads == len({r["sha256"] for r in rows})
    report = durability(dirs)
    assert report["asset_store"].startswith("on:") and len(report["assets_uploaded"]) == uploads
    before = manifest(dirs)
    assert run(site, dirs) == 0  # nothing new: no upload, manifests unchanged
    assert len(api.calls("POST", "/uploads/")) == uploads
    assert manifest(dirs) == before


def test_deleted_cache_file_is_restored_from_the_asset_store(site: DdpSite, api: ReleaseApi, dirs) -> None:
    assert run(site, dirs) == 0
    row = cached(dirs)[0]
    path = dirs[1] / row["path"]
    path.unlink()
    source_gets = len(site.downloads())
    assert run(site, dirs) == 0
    assert path.is_file() and sha(path) == row["sha256"]
    assert len(site.downloads()) == source_gets  # not from DDP: from the asset store
    assert api.calls("GET", "/objects/")
    assert durability(dirs)["restored"] == [{"release": row_release(dirs, row), "path": row["path"], "from": "asset"}]
    assert failures(dirs) == []


def row_release(dirs: tuple[Path, Path], row: dict[str, str]) -> str:
    [release] = [p.parent.name for p in (dirs[0] / "releases" / "ddp").glob("*/manifest.csv")
                 if any(r["url"] == row["url"] for r in read_dict_csv(p))]
    return release


def test_without_a_token_the_summary_says_so_and_a_lost_file_comes_back_from_its_source(site: DdpSite, dirs) -> None:
    assert run(site, dirs) == 0
    report = durability(dirs)
    assert report["asset_store"].startswith("off:") and "GITHUB_TOKEN" in report["asset_store"]
    row = cached(dirs)[0]
    assert row["asset_url"] == ""
    path = dirs[1] / row["path"]
    path.unlink()
    assert run(site, dirs) == 0
    assert sha(path) == row["sha256"]
    assert durability(dirs)["restored"][0]["from"] == "source"


def test_a_file_that_exists_nowhere_is_reported(site: DdpSite, dirs) -> None:
    assert run(site, dirs) == 0
    row = cached(dirs)[0]
    (dirs[1] / row["path"]).unlink()
    for blob in site.state.blobs.values():
        if hashlib.sha256(blob.body).hexdigest() == row["sha256"]:
            blob.body = blob.body + b"changed at the source"  # the source no longer has these bytes
    assert run(site, dirs) == 0
    assert not (dirs[1] / row["path"]).exists()  # different bytes are never put in its place
    [missing] = durability(dirs)["missing"]
    assert missing["path"] == row["path"] and "sha256" in missing["error"]
    [failure] = [f for f in failures(dirs) if f["kind"] == "ddp-missing"]
    assert failure["url"] == row["url"]
    summary = json.loads((dirs[0] / "data" / "last_run.json").read_text())
    assert "missing" in summary["commit_message"]


@pytest.mark.parametrize("fault", ["fail_uploads", "break_uploads"], ids=["refused", "interrupted"])
def test_failed_upload_is_recorded_and_retried_next_run(site: DdpSite, api: ReleaseApi, dirs, fault: str) -> None:
    setattr(api.state, fault, True)
    assert run(site, dirs) == 0
    assert all(r["asset_url"] == "" for r in cached(dirs))
    assert {f["kind"] for f in failures(dirs)} == {"ddp-asset"}
    setattr(api.state, fault, False)
    assert run(site, dirs) == 0
    assert all(r["asset_url"] for r in cached(dirs))
    assert failures(dirs) == []
    stored = [a for assets in api.state.assets.values() for a in assets]
    assert all(a["state"] == "uploaded" for a in stored) and len(stored) == len({r["sha256"] for r in cached(dirs)})
    assert bool(api.calls("DELETE", "/assets/")) == (fault == "break_uploads")  # the broken asset removed first


def test_ddp_link_that_parsers_read_differently_is_refused(dirs) -> None:
    with DdpSite() as site, DdpSite() as other:
        release_site(site)
        allowed, elsewhere = site.base.split("://")[1], other.base.split("://")[1]
        url, _ = other.box_file(b"PK\x03\x04 not for us", "Stolen.xlsx")
        path = url.split(elsewhere, 1)[1]
        site.row("Removals").raw.append((f"http://{elsewhere}\\@{allowed}{path}", "xlsx"))
        assert run(site, dirs) == 0
        assert other.state.requests == []
    [failure] = failures(dirs)
    assert "backslash" in failure["error"]
