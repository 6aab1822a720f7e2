"""Release history: `releases/ddp/releases.csv` (one row per release) and `links.csv` (every link).

A release is the latest-release link set plus the "through <date>" sentence(s). When either
changes, a new release row is added; otherwise the current row's `last_seen` moves on (the day
the release was last confirmed on the pages). Links that
leave the pages are kept in `links.csv` with the day they disappeared: nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path

from ice_tracker.fileio import read_dict_csv, write_dict_csv
from ice_tracker.sources.ddp.page import DdpLink, PageScan


@dataclass
class Release:
    release_id: str
    first_seen: str
    last_seen: str
    sentence: str
    n_links: int
    links_sha256: str


@dataclass
class LinkRecord:
    url: str
    kind: str
    table: str
    fmt: str
    latest: str  # "yes" / "no" when last seen
    page: str
    first_seen: str
    disappeared_on: str = ""  # no last_seen here: 150 links would rewrite the file every day


RELEASE_COLUMNS = [f.name for f in fields(Release)]
LINK_COLUMNS = [f.name for f in fields(LinkRecord)]


def release_links(scans: list[PageScan]) -> list[DdpLink]:
    """The latest-release links over all pages, one per URL, sorted by URL."""
    links: dict[str, DdpLink] = {}
    for scan in scans:
        for link in scan.links:
            if link.latest:
                links.setdefault(link.url, link)
    return [links[u] for u in sorted(links)]


def release_sentence(scans: list[PageScan]) -> str:
    sentences: list[str] = []
    for scan in scans:
        if scan.sentence and scan.sentence not in sentences:
            sentences.append(scan.sentence)
    return " | ".join(sentences)


def links_fingerprint(links: list[DdpLink]) -> str:
    """sha256 of the sorted URLs: a changed, added or removed link changes it (labels do not)."""
    return hashlib.sha256("\n".join(sorted(link.url for link in links)).encode()).hexdigest()


class ReleaseHistory:
    """The two history files of one data dir."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.releases = [Release(**{**r, "n_links": int(r["n_links"] or 0)})  # type: ignore[arg-type]
                         for r in read_dict_csv(self.root / "releases.csv")]
        self.links = {r["url"]: LinkRecord(**r) for r in read_dict_csv(self.root / "links.csv")}

    @property
    def current(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    def get(self, release_id: str) -> Release | None:
        return next((r for r in self.releases if r.release_id == release_id), None)

    def _unused_id(self, wanted: str) -> str:
        """`wanted`, or `wanted_2`… when a release (or a folder) of that name exists."""
        taken = {r.release_id for r in self.releases}
        if self.root.is_dir():
            taken |= {p.name for p in self.root.iterdir()}
        candidate, n = wanted, 2
        while candidate in taken:
            candidate, n = f"{wanted}_{n}", n + 1
        return candidate

    def observe(self, scans: list[PageScan], today: date) -> tuple[Release, bool, list[str]]:
        """Record what the pages show today → (current release, whether it is new, links gone today)."""
        day = today.isoformat()
        links = release_links(scans)
        sentence = release_sentence(scans)
        fingerprint = links_fingerprint(links)
        gone = self._observe_links(scans, day)
        current = self.current
        if current and current.links_sha256 == fingerprint and current.sentence == sentence:
            current.last_seen = day
            return current, False, gone
        through = next((s.through for s in scans if s.through), None)
        release = Release(self._unused_id(through.isoformat() if through else day), day, day, sentence,
                          len(links), fingerprint)
        self.releases.append(release)
        return release, True, gone

    def _observe_links(self, scans: list[PageScan], day: str) -> list[str]:
        present: dict[str, DdpLink] = {}
        for scan in scans:
            for link in scan.links:
                if link.url not in present or (link.latest and not present[link.url].latest):
                    present[link.url] = link
        for url, link in present.items():
            record = self.links.get(url)
            if record is None:
                record = self.links[url] = LinkRecord(url, link.kind, link.table, link.fmt, "", link.page, day)
            record.disappeared_on = ""
            record.latest = "yes" if link.latest else "no"
            record.table = link.table or record.table
        gone = []
        for url, record in self.links.items():
            if url not in present and not record.disappeared_on:
                record.disappeared_on = day
                gone.append(url)
        return gone

    def save(self) -> None:
        write_dict_csv(self.root / "releases.csv", RELEASE_COLUMNS, (asdict(r) for r in self.releases))
        write_dict_csv(self.root / "links.csv", LINK_COLUMNS,
                       (asdict(r) for r in sorted(self.links.values(), key=lambda r: r.url)))
