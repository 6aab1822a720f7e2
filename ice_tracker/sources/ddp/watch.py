"""The `releases` step: read DDP's pages, record the release history, archive a new release's files,
retry what failed before, and hand new detentions files to the detention derivations.

A page that cannot be read (network, block page, no release links or sentence) stops release
detection for the run, so a half-read site is never mistaken for links that disappeared.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ice_tracker.archive import utc_iso
from ice_tracker.failures import FailureLog
from ice_tracker.fileio import write_dict_csv
from ice_tracker.http import FetchError, HttpClient
from ice_tracker.sources.ddp.assets import NO_TOKEN, AssetStore, asset_endpoints
from ice_tracker.sources.ddp.durable import Durability, restore_missing, upload_pending
from ice_tracker.sources.ddp.fetch import NotAReleaseFile, download, read_pointer
from ice_tracker.sources.ddp.handoff import hand_off
from ice_tracker.sources.ddp.history import Release, ReleaseHistory, release_links
from ice_tracker.sources.ddp.page import DdpLink, PageScan, parse_page
from ice_tracker.sources.ddp.store import DEFAULT_REPO_LIMIT, ReleaseFile, ReleaseStore

log = logging.getLogger(__name__)

PAGE_KIND = "ddp-page"
FILE_KIND = "ddp"
# The all-in-one ZIP repeats the per-table files; processed tables come in four formats of the
# same data, of which parquet is the one the derivations read. Both stay listed in links.csv.
SKIP_TABLES = ("all",)
PROCESSED_FORMATS = ("parquet",)
DEFAULT_MAX_BYTES = 4 * 1024**3
RELEASE_LINK_COLUMNS = ["table", "kind", "fmt", "url", "label", "page"]
ASSET_DOWNLOAD_HOST = "https://github.com/"  # release assets' download URLs (redirecting to githubusercontent.com)


class WatchFailed(Exception):
    """No DDP page could be read: nothing was decided or written."""


@dataclass
class Target:
    url: str
    table: str
    fmt: str
    kind: str


@dataclass
class WatchSummary:
    pages: list[str]
    release_id: str = ""
    new_release: bool = False
    through: str = ""
    sentence: str = ""
    files_new: list[str] = field(default_factory=list)
    files_held: int = 0
    links_disappeared: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    detention: dict[str, Any] = field(default_factory=dict)
    durability: Durability = field(default_factory=Durability)
    headline: str = ""


def wanted(link: DdpLink) -> bool:
    if link.kind == "raw":
        return link.table not in SKIP_TABLES
    return link.fmt in PROCESSED_FORMATS


def _read_pages(pages: list[str], client: HttpClient, failures: FailureLog, when: str) -> tuple[list[PageScan], int]:
    scans, failed = [], 0
    for url in pages:
        try:
            final_url, html = client.get_text(url)
            scan = parse_page(html, final_url)
            if not scan.links and not scan.sentence:
                raise FetchError(url, "no DDP release links and no 'most recent release' sentence on the page")
        except FetchError as exc:
            log.error("DDP page %s: %s", url, exc)
            failures.record(url, PAGE_KIND, str(exc), when)
            failed += 1
            continue
        failures.resolve(url, PAGE_KIND)
        scans.append(scan)
    return scans, failed


class _Archiver:
    """Gets each target file once per run into the store, recording failures."""

    def __init__(self, client: HttpClient, store: ReleaseStore, failures: FailureLog, cache_dir: Path,
                 max_bytes: int, summary: WatchSummary, when: str):
        self.client, self.store, self.failures = client, store, failures
        self.cache_dir, self.max_bytes, self.summary, self.when = cache_dir, max_bytes, summary, when
        self.touched: set[str] = set()  # releases that received a new detentions/stints file

    def get(self, release_id: str, target: Target) -> ReleaseFile | None:
        try:
            row, new = self._get(release_id, target)
        except (FetchError, NotAReleaseFile) as exc:
            log.error("DDP %s %s: %s", target.table, target.url, exc)
            failure = self.failures.record(target.url, FILE_KIND, str(exc), self.when, release_id, target.table)
            self.summary.failures.append({"url": target.url, "table": target.table, "error": failure.error})
            return None
        self.failures.resolve(target.url, FILE_KIND, release_id, target.table)
        if new:
            self.summary.files_new.append(row.path)
            if row.table in ("detentions", "stints"):
                self.touched.add(release_id)
        else:
            self.summary.files_held += 1
        return row

    def _get(self, release_id: str, target: Target) -> tuple[ReleaseFile, bool]:
        already = next((r for r in self.store.rows(release_id) if r.url == target.url), None)
        if already is not None:
            return already, False
        pointer = read_pointer(self.client, target.url) if target.kind == "processed" else None
        held = self.store.held_sha(pointer.sha256) if pointer else None
        if held is None and target.kind == "raw":
            held = self.store.held_url(target.url)  # a Box link names one immutable file
        if held is not None:
            return self.store.reuse(release_id, target.table, target.url, held), False
        result = download(self.client, target.url, target.fmt, self.cache_dir, self.max_bytes, pointer, target.table)
        assert result.temp_path is not None
        was_held = self.store.held_sha(result.sha256) is not None
        row = self.store.place(release_id, target.table, target.url, result.temp_path, result.filename,
                               result.size, result.sha256, utc_iso(datetime.now(timezone.utc)))
        return row, not was_held


def _write_release_links(root: Path, release: Release, links: list[DdpLink]) -> None:
    write_dict_csv(root / release.release_id / "links.csv", RELEASE_LINK_COLUMNS,
                   (asdict(link) for link in sorted(links, key=lambda l: (l.table, l.url))))


def _through_phrase(sentence: str) -> str:
    match = re.search(r"\bthrough\s+(.+?)\.?(?:\s*\||$)", sentence)
    return match.group(1) if match else ""


def headline(summary: WatchSummary, n_files: int) -> str:
    bits = []
    if summary.new_release:
        when = summary.through or _through_phrase(summary.sentence) or f"first seen {summary.release_id}"
        bits.append(f"DDP: new release through {when}, {n_files} file{'' if n_files == 1 else 's'}")
    elif summary.files_new:
        n = len(summary.files_new)
        bits.append(f"DDP: {n} more file{'' if n == 1 else 's'} for release {summary.release_id}")
    if bits and summary.failures:
        bits.append(f"{len(summary.failures)} failed")
    return ", ".join(bits)


def watch_releases(*, pages: list[str], client: HttpClient, data_dir: Path, cache_dir: Path,
                   failures: FailureLog, run_time: datetime, repo_limit: int = DEFAULT_REPO_LIMIT,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> WatchSummary:
    """Run the step; see the module docstring. Raises WatchFailed when no page could be read."""
    when = utc_iso(run_time)
    root = Path(data_dir) / "releases" / "ddp"
    summary = WatchSummary(pages=list(pages))
    scans, failed_pages = _read_pages(pages, client, failures, when)
    if not scans:
        raise WatchFailed(f"no DDP page could be read ({len(pages)} tried)")
    history = ReleaseHistory(root)
    store = ReleaseStore(root, data_dir, cache_dir, repo_limit)
    client.allow([*asset_endpoints(), ASSET_DOWNLOAD_HOST])
    assets = AssetStore.from_env(client)
    summary.durability.asset_store = assets.describe() if assets else NO_TOKEN
    if assets is None:
        log.warning("durable copies %s", NO_TOKEN)
    restore_missing(store, client, Path(cache_dir), failures, when, max_bytes, summary.durability)
    archiver = _Archiver(client, store, failures, Path(cache_dir), max_bytes, summary, when)
    if failed_pages:
        log.warning("release detection skipped: %d of %d DDP pages unreadable", failed_pages, len(pages))
    else:
        release, is_new, gone = history.observe(scans, run_time.date())
        summary.release_id, summary.new_release, summary.sentence = release.release_id, is_new, release.sentence
        summary.through = next((s.through.isoformat() for s in scans if s.through), "")
        summary.links_disappeared = gone
        if is_new:
            links = release_links(scans)
            log.info("DDP: new release %s (%d links): %s", release.release_id, len(links), release.sentence)
            _write_release_links(root, release, links)
            for link in links:
                if wanted(link):
                    archiver.get(release.release_id, Target(link.url, link.table, link.fmt, link.kind))
            store.save(release.release_id)
    for pending in failures.pending((FILE_KIND,)):
        record = history.links.get(pending.url)
        if record is not None and record.disappeared_on:
            continue  # DDP took the link down: the failure stays listed, the retries stop
        if pending.url not in {f["url"] for f in summary.failures}:
            archiver.get(pending.state, Target(pending.url, pending.agency, record.fmt if record else "",
                                               record.kind if record else "raw"))
    history.save()
    if assets is not None:
        upload_pending(store, assets, failures, when, summary.durability)
    for release_id in sorted(archiver.touched):
        summary.detention[release_id] = hand_off(release_id, store, Path(data_dir), Path(cache_dir), failures)
    summary.headline = headline(summary, len(store.rows(summary.release_id)))
    return summary
