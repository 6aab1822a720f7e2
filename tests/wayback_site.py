"""A loopback (127.0.0.1) stand-in for the Wayback Machine: the CDX API and `id_` captures.

CDX answers JSON (`output=json`) with the fields asked for (`fl`), exact or prefix matches
(`matchType=prefix`), `from`/`to`, `collapse=digest` folding *adjacent* duplicates only (as the
real one does), and pages of at most `page_size` rows chained by `showResumeKey`/`resumeKey`.
Captures are served at `/web/<timestamp>id_/<original url>` with the original headers; a capture
can instead redirect to a neighbouring timestamp, or answer 429 with Retry-After first.
Never reaches the internet.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit

from tests.loopback import LoopbackSite, QuietHandler

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url_key(url: str) -> str:
    """What CDX compares: host (without www.) and path, case-insensitive, scheme and port ignored."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    return host + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass
class StoredCapture:
    timestamp: str
    original: str
    body: bytes
    mimetype: str
    filename: str = ""  # original Content-Disposition file name
    statuscode: str = "200"
    listed: bool = True  # in the CDX index (a redirect target may not be)

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.body).hexdigest().upper()


@dataclass
class WaybackState:
    captures: list[StoredCapture] = field(default_factory=list)
    redirects: dict[tuple[str, str], str] = field(default_factory=dict)  # (ts, url key) → ts served instead
    throttle: dict[str, deque[str]] = field(default_factory=dict)  # path → Retry-After values, one per 429
    page_size: int = 1000
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path+query, status)


class WaybackSite(LoopbackSite):
    def __init__(self) -> None:
        self.state = WaybackState()
        super().__init__(_make_handler(self.state))

    def add(self, timestamp: str, original: str, body: bytes, mimetype: str, *, filename: str = "",
            listed: bool = True, statuscode: str = "200") -> StoredCapture:
        capture = StoredCapture(timestamp, original, body, mimetype, filename, statuscode, listed)
        self.state.captures.append(capture)
        return capture

    def redirect(self, timestamp: str, original: str, to_timestamp: str) -> None:
        self.state.redirects[(timestamp, url_key(original))] = to_timestamp

    def throttle(self, timestamp: str, original: str, *retry_after: str) -> None:
        self.state.throttle.setdefault(f"/web/{timestamp}id_/{original}", deque()).extend(retry_after)

    def capture_requests(self) -> list[str]:
        return [path for path, status in self.state.requests if path.startswith("/web/") and status == 200]

    def cdx_requests(self) -> list[str]:
        return [path for path, _ in self.state.requests if path.startswith("/cdx/")]


def _cdx(state: WaybackState, query: dict[str, list[str]]) -> bytes:
    wanted = url_key(query["url"][0])
    prefix = query.get("matchType", [""])[0] == "prefix"
    since, until = query.get("from", [""])[0], query.get("to", [""])[0]
    rows = []
    for c in sorted(state.captures, key=lambda c: (url_key(c.original), c.timestamp)):
        key = url_key(c.original)
        if not c.listed or not (key.startswith(wanted) if prefix else key == wanted):
            continue
        if (since and c.timestamp < since.ljust(14, "0")) or (until and c.timestamp > until.ljust(14, "9")):
            continue
        rows.append(c)
    if query.get("collapse", [""])[0] == "digest":
        rows = [c for i, c in enumerate(rows) if i == 0 or rows[i - 1].digest != c.digest]
    fields = query.get("fl", ["urlkey,timestamp,original,mimetype,statuscode,digest,length"])[0].split(",")
    start = int(query.get("resumeKey", ["0"])[0] or 0)
    size = min(state.page_size, int(query.get("limit", ["100000"])[0]))
    page = rows[start:start + size]
    values = {"urlkey": lambda c: url_key(c.original), "timestamp": lambda c: c.timestamp,
              "original": lambda c: c.original, "mimetype": lambda c: c.mimetype,
              "statuscode": lambda c: c.statuscode, "digest": lambda c: c.digest, "length": lambda c: str(len(c.body))}
    out: list[list[str]] = [fields] + [[values[f](c) for f in fields] for c in page]
    if query.get("showResumeKey", [""])[0] == "true" and start + size < len(rows):
        out += [[], [str(start + size)]]
    return json.dumps(out).encode()


def _make_handler(state: WaybackState) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            parts = urlsplit(self.path)
            if parts.path == "/cdx/search/cdx":
                return self._send(200, _cdx(state, parse_qs(parts.query)), "text/plain")
            if not parts.path.startswith("/web/"):
                return self._send(404, b"not found", "text/plain")
            waiting = state.throttle.get(parts.path)
            if waiting:
                return self._send(429, b"Too Many Requests", "text/plain", {"Retry-After": waiting.popleft()})
            stamp, _, original = self.path[len("/web/"):].partition("/")
            timestamp = stamp.removesuffix("id_")
            moved = state.redirects.get((timestamp, url_key(original)))
            if moved:
                return self._send(302, b"", "text/plain", {"Location": f"/web/{moved}id_/{original}"})
            for capture in state.captures:
                if capture.timestamp == timestamp and url_key(capture.original) == url_key(original):
                    extra = ({"Content-Disposition": f"attachment; filename*=UTF-8''{quote(capture.filename)}"}
                             if capture.filename else {})
                    return self._send(200, capture.body, capture.mimetype, extra)
            return self._send(404, b"<html><body>Wayback Machine has not archived that URL.</body></html>", "text/html")

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            state.requests.append((self.path, status))

    return Handler
