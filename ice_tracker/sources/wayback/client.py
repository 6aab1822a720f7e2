"""Talk to the Wayback Machine: CDX look-ups (paged, duplicates collapsed) and captures' original bytes.

All requests go through the project's `HttpClient` (timeouts, retries on 429/5xx honouring
Retry-After, size caps) one at a time, at least `delay` seconds apart.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urlencode

from ice_tracker.http import FetchError, FetchResult, HttpClient
from ice_tracker.limits import limit

log = logging.getLogger(__name__)

CDX_FIELDS = ("timestamp", "original", "mimetype", "statuscode", "digest", "length")
CDX_PAGE_SIZE = 1000
CAPTURE_PATH = re.compile(r"/web/(\d{14})(?:[a-z]{2}_)?/(.+)$")


class CdxError(Exception):
    """The CDX API could not be read (after the client's retries)."""


@dataclass(frozen=True)
class Capture:
    """One CDX row: a capture of `original` at `timestamp` (YYYYMMDDhhmmss, UTC)."""

    timestamp: str
    original: str
    mimetype: str = ""
    statuscode: str = ""
    digest: str = ""
    length: str = ""

    @property
    def key(self) -> str:
        return f"{self.timestamp} {self.original}"

    @property
    def moment(self) -> datetime:
        return capture_time(self.timestamp)



def capture_time(timestamp: str) -> datetime:
    return datetime.strptime(timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def folder_stamp(timestamp: str) -> str:
    """The archive folder stamp of a capture (`20250517093000` → `20250517_093000`): it enters the
    archive, and so the roster history, at its capture time."""
    return f"{timestamp[:8]}_{timestamp[8:14].ljust(6, '0')}"


def cdx_rows(text: str) -> tuple[list[dict[str, str]], str]:
    """Rows of one CDX JSON answer (by its header names) and the resume key, if it sent one.

    With `showResumeKey=true` the answer ends with an empty row and then `[<key>]`."""
    text = text.strip()
    if not text:
        return [], ""
    data = json.loads(text)
    if not isinstance(data, list) or not data:
        return [], ""
    resume = ""
    if len(data) >= 2 and data[-2] == [] and isinstance(data[-1], list) and len(data[-1]) == 1:
        resume = str(data[-1][0])
        data = data[:-2]
    header, rows = data[0], [r for r in data[1:] if r]
    return [dict(zip(header, map(str, row))) for row in rows], resume


def distinct_captures(captures: list[Capture]) -> list[Capture]:
    """Successful captures, the earliest of each content digest, in time order (CDX's own
    `collapse=digest` only folds neighbours)."""
    first: dict[str, Capture] = {}
    for capture in sorted(captures, key=lambda c: (c.timestamp, c.original)):
        if capture.statuscode not in ("200", ""):
            continue
        first.setdefault(capture.digest or capture.key, capture)
    return sorted(first.values(), key=lambda c: (c.timestamp, c.original))


class WaybackClient:
    """CDX queries and `id_` downloads against one Wayback Machine (`base`), politely."""

    def __init__(self, http: HttpClient, base: str, delay: float):
        self.http = http
        self.base = base.rstrip("/")
        self.delay = max(0.0, delay)
        self._last = 0.0
        self.requests = 0

    def _wait(self) -> None:
        pause = self._last + self.delay - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._last = time.monotonic()
        self.requests += 1

    def capture_url(self, timestamp: str, original: str) -> str:
        """Where a capture's original bytes are served (`id_`: no Wayback banner or link rewriting)."""
        return f"{self.base}/web/{timestamp}id_/{original}"

    def cdx(self, url: str, *, prefix: bool = False, since: date | None = None,
            until: date | None = None) -> list[Capture]:
        """Every capture of `url` (or of every URL under it), all pages, duplicates by digest collapsed."""
        params = {"url": url, "output": "json", "fl": ",".join(CDX_FIELDS), "collapse": "digest",
                  "showResumeKey": "true", "limit": str(CDX_PAGE_SIZE)}
        if prefix:
            params["matchType"] = "prefix"
        if since:
            params["from"] = since.strftime("%Y%m%d")
        if until:
            params["to"] = until.strftime("%Y%m%d") + "235959"
        captures: list[Capture] = []
        resume = ""
        for _ in range(int(limit("wayback_cdx_pages"))):
            query = dict(params, **({"resumeKey": resume} if resume else {}))
            address = f"{self.base}/cdx/search/cdx?{urlencode(query)}"
            self._wait()
            try:
                _, text = self.http.get_text(address, max_bytes=int(limit("wayback_page_bytes")))
                rows, next_resume = cdx_rows(text)
            except (FetchError, ValueError) as exc:
                raise CdxError(f"CDX query for {url} failed: {exc}") from exc
            captures.extend(Capture(**{f: row.get(f, "") for f in CDX_FIELDS}) for row in rows
                            if row.get("timestamp") and row.get("original"))
            if not next_resume or next_resume == resume:
                break
            resume = next_resume
        log.info("CDX %s%s: %d capture(s)", url, " (prefix)" if prefix else "", len(captures))
        return distinct_captures(captures)

    def fetch(self, capture: Capture, max_bytes: int | None = None) -> tuple[FetchResult, str]:
        """The capture's original bytes (the caller verifies and keeps or discards them) and the
        timestamp of the capture actually served: the Wayback Machine redirects to the nearest
        capture when the asked one is not replayable."""
        self._wait()
        result = self.http.fetch(self.capture_url(capture.timestamp, capture.original), max_bytes=max_bytes)
        served = CAPTURE_PATH.search(result.final_url)
        return result, served.group(1) if served else capture.timestamp

    def fetch_text(self, capture: Capture) -> tuple[str, str]:
        """A captured page as text, and the timestamp served."""
        result, timestamp = self.fetch(capture, max_bytes=int(limit("wayback_page_bytes")))
        try:
            assert result.temp_path is not None
            raw = result.temp_path.read_bytes()
        finally:
            result.discard()
        return raw.decode("utf-8", errors="replace"), timestamp
