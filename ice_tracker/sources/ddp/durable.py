"""Nothing archived is lost: every file a manifest lists is checked, restored when missing, kept durable.

Each run, before anything new is fetched, every recorded file must be where its manifest row says.
A missing one (the Actions cache evicted it, a disk was wiped) is fetched back from its release
asset, else from its source URL, and kept only when its sha256 is the recorded one; a file found
nowhere is recorded in failures.csv (kind `ddp-missing`) and listed in the run summary. After the
run's downloads, every cached file without a durable copy is uploaded to the asset store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ice_tracker.failures import FailureLog
from ice_tracker.http import FetchError, HttpClient
from ice_tracker.sources.ddp.assets import AssetError, AssetStore
from ice_tracker.sources.ddp.fetch import partial_path
from ice_tracker.sources.ddp.store import ReleaseFile, ReleaseStore, move_into_place

log = logging.getLogger(__name__)

MISSING_KIND = "ddp-missing"
ASSET_KIND = "ddp-asset"


@dataclass
class Durability:
    """What the checks did this run (part of the `releases` step's summary)."""

    asset_store: str = ""
    restored: list[dict[str, str]] = field(default_factory=list)  # path, release, from (asset / source)
    missing: list[dict[str, str]] = field(default_factory=list)  # path, release, url, error
    assets_uploaded: list[str] = field(default_factory=list)
    asset_failures: list[dict[str, str]] = field(default_factory=list)


def _fetch_back(row: ReleaseFile, dest: Path, client: HttpClient, cache_dir: Path, max_bytes: int) -> tuple[str, str]:
    """Restore `row`'s bytes to `dest` from its asset, else its source: ('asset'|'source', '') or ('', why not)."""
    reasons = []
    for origin, url in (("asset", row.asset_url), ("source", row.url)):
        if not url:
            reasons.append(f"no {origin} URL")
            continue
        try:
            result = client.fetch_resumable(url, partial_path(cache_dir, url), max_bytes=max_bytes)
        except FetchError as exc:
            reasons.append(f"{origin}: {exc}")
            continue
        assert result.temp_path is not None
        if result.sha256 != row.sha256:
            result.discard()
            reasons.append(f"{origin}: sha256 {result.sha256[:12]}… is not the recorded {row.sha256[:12]}…")
            continue
        move_into_place(result.temp_path, dest)
        return origin, ""
    return "", "; ".join(reasons)


def restore_missing(store: ReleaseStore, client: HttpClient, cache_dir: Path, failures: FailureLog, when: str,
                    max_bytes: int, report: Durability) -> None:
    """Check every recorded file; fetch back what is missing; record what exists nowhere."""
    seen: set[Path] = set()
    for release_id, row in store.all_rows():
        dest = store.location(row)
        if dest in seen:
            continue
        seen.add(dest)
        if dest.is_file():
            failures.resolve(row.url, MISSING_KIND, release_id, row.table)
            continue
        log.warning("DDP %s: %s is missing; restoring it", release_id, row.path)
        origin, why = _fetch_back(row, dest, client, cache_dir, max_bytes)
        if origin:
            log.info("restored %s from its %s (sha256 checked)", row.path, origin)
            report.restored.append({"release": release_id, "path": row.path, "from": origin})
            failures.resolve(row.url, MISSING_KIND, release_id, row.table)
            continue
        error = f"{row.stored} file {row.path} is missing and could not be restored: {why}"
        log.error("DDP %s: %s", release_id, error)
        failures.record(row.url, MISSING_KIND, error, when, release_id, row.table)
        report.missing.append({"release": release_id, "path": row.path, "url": row.url, "error": error})


def upload_pending(store: ReleaseStore, assets: AssetStore, failures: FailureLog, when: str, report: Durability) -> None:
    """Give every cached file without one a durable copy in the asset store (once per sha256)."""
    done: set[str] = set()
    for release_id, row in store.all_rows():
        if row.stored != "cache" or row.asset_url or row.sha256 in done or not store.location(row).is_file():
            continue
        done.add(row.sha256)
        try:
            url = assets.upload(release_id, store.location(row), row.sha256, row.file_name)
        except AssetError as exc:
            log.error("DDP %s: no durable copy of %s: %s", release_id, row.path, exc)
            failures.record(row.url, ASSET_KIND, str(exc), when, release_id, row.table)
            report.asset_failures.append({"release": release_id, "path": row.path, "error": str(exc)})
            continue
        failures.resolve(row.url, ASSET_KIND, release_id, row.table)
        store.set_asset_url(row.sha256, url)
        report.assets_uploaded.append(row.path)
