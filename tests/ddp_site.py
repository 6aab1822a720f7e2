"""A loopback (127.0.0.1) impersonation of deportationdata.org, Box and GitHub's LFS media host.

The raw page is built like DDP's: a "Latest data release" callout holding the "most recent release
… through <date>" sentence, a latest-release table (Type / Start / End / Records / Raw / Processed)
whose cells hold `<a href='…'>xlsx</a> (39 MB)`, the all-in-one ZIP link, and per-table sections
whose past datasets sit in a reactable widget (rows as JSON in a `<script>`), as on the real site.
Box links come in both forms and answer with a redirect to a download endpoint that sends
Content-Disposition, ETag and honours Range / If-Range. Processed files are served at
`/media/deportationdata/ice/main/data/<name>` with their LFS pointer at the same path without
`/media`. Faults (tests/ice_site.Fault) are injected per path; `cut` sends part of the body, then
resets the connection.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote, urlsplit

from tests.ice_site import Fault
from tests.loopback import LoopbackSite, QuietHandler

RAW_PAGE = "/data/ice.html"
PROCESSED_PAGE = "/data/processed/ice.html"
MEDIA = "/media/deportationdata/ice/main/data/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Blob:
    body: bytes
    filename: str
    content_type: str = "application/octet-stream"


@dataclass
class Row:
    """One line of the latest-release table."""

    type: str
    raw: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    processed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DdpState:
    sentence: str = "The most recent release of data covers ICE enforcement actions through March 10, 2026."
    rows: list[Row] = field(default_factory=list)
    zip_href: str = ""
    past: list[tuple[str, str]] = field(default_factory=list)  # (section, href) in reactable widgets
    redirects: dict[str, str] = field(default_factory=dict)  # path?query → download path
    blobs: dict[str, Blob] = field(default_factory=dict)  # path → file
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    requests: list[tuple[str, int, str, int]] = field(default_factory=list)  # (path, status, range, bytes)
    page_html: dict[str, str] = field(default_factory=dict)  # path → page replacing the generated one
    ranges: bool = True  # False: ignore Range like a server that does not support it


class DdpSite(LoopbackSite):
    """`with DdpSite() as site:`; `site.raw_url` / `site.processed_url` are the two pages."""

    def __init__(self) -> None:
        self.state = DdpState()
        super().__init__(_make_handler(self.state))
        self.raw_url = self.base + RAW_PAGE
        self.processed_url = self.base + PROCESSED_PAGE
        self._n = 0

    # ----- content ------------------------------------------------------------------------
    def box_file(self, body: bytes, filename: str, *, form: str = "static") -> tuple[str, str]:
        """Host a file behind a Box link; returns (link URL, download endpoint path)."""
        self._n += 1
        token = hashlib.sha256(f"{self._n}{filename}".encode()).hexdigest()[:32]
        download = f"/d/1/{token}/download"
        ext = filename.rsplit(".", 1)[-1].lower()
        if form == "static":
            link = f"/shared/static/{token}.{ext}"
        else:
            link = f"/index.php?rm=box_download_shared_file&shared_name=9d8qnnduhus4bd5mwqt7l95kz34fic2v&file_id=f_{1922000000000 + self._n}"
        self.state.redirects[link] = download
        self.state.blobs[download] = Blob(body, filename, XLSX if ext == "xlsx" else "application/zip")
        return self.base + link, download

    def add_raw(self, table: str, body: bytes, filename: str, *, form: str = "static") -> str:
        """Add a table's raw file to the latest-release table; returns its download path."""
        url, download = self.box_file(body, filename, form=form)
        self.row(table).raw.append((url, filename.rsplit(".", 1)[-1].lower()))
        return download

    def add_processed(self, table: str, name: str, body: bytes) -> str:
        path = MEDIA + name
        self.state.blobs[path] = Blob(body, "")
        self.row(table).processed.append((self.base + path, name.rsplit(".", 1)[-1]))
        return path

    def row(self, table: str) -> Row:
        for row in self.state.rows:
            if row.type == table:
                return row
        self.state.rows.append(Row(table))
        return self.state.rows[-1]

    def remove_link(self, url: str) -> None:
        for row in self.state.rows:
            row.raw = [(h, t) for h, t in row.raw if h != url]
            row.processed = [(h, t) for h, t in row.processed if h != url]

    def inject(self, path: str, *faults: Fault) -> None:
        self.state.faults.setdefault(path, deque()).extend(faults)

    def requests_for(self, path: str) -> list[tuple[str, int, str, int]]:
        return [r for r in self.state.requests if r[0] == path]

    def downloads(self) -> list[tuple[str, int, str, int]]:
        """Requests that sent a file body."""
        return [r for r in self.state.requests if (r[0].startswith("/d/") or r[0].startswith(MEDIA)) and r[1] in (200, 206)]


def _cell(links: list[tuple[str, str]]) -> str:
    return " ".join(f"<a href='{html.escape(h)}'>{t}</a> (1 MB)" for h, t in links) or "&ndash;"


def _raw_page(state: DdpState) -> str:
    rows = "\n".join(
        f"<tr><td>{r.type}</td><td>Sep. 2023</td><td>Mar. 10, 2026</td><td>1.2M</td>"
        f"<td>{_cell(r.raw)}</td><td>{_cell(r.processed)}</td></tr>" for r in state.rows)
    zip_link = f'<p><a href="{html.escape(state.zip_href)}">Download the complete latest release as a ZIP file</a> (737 MB)</p>' \
        if state.zip_href else ""
    sections = []
    for section in sorted({s for s, _ in state.past}):
        hrefs = [h for s, h in state.past if s == section]
        widget = {"x": {"tag": {"name": "Reactable", "attribs": {"data": {
            "Start": ["Mid Nov. 2023"] * len(hrefs), "End": ["Mid Feb. 2025"] * len(hrefs),
            "Download": [f"<a href='{h}'>xlsx</a> (59 MB)" for h in hrefs]}}}}}
        sections.append(f'<section id="{section.lower()}"><h2>{section}</h2><p>Past datasets.</p>'
                        f'<details><summary>Show past datasets</summary><div class="reactable html-widget"></div>'
                        f'<script type="application/json" data-for="w">{json.dumps(widget).replace("/", chr(92) + "/")}</script>'
                        f'</details></section>')
    return f"""<!DOCTYPE html><html><head><title>Immigration and Customs Enforcement – Deportation Data Project</title></head>
<body><nav><a href="/">Home</a> <a href="/data.html">Data</a></nav><main>
<h1>Immigration and Customs Enforcement</h1>
<p>ICE collects data on every person it encounters, arrests, detains, transports via flight, and deports.</p>
<div class="callout callout-style-simple callout-note"><div class="callout-body">
<h2>Latest data release</h2>
<p>{state.sentence} We are actively seeking ongoing updates.</p>
<table class="table"><thead><tr><th>Type</th><th>Start</th><th>End</th><th>Records</th><th>Raw</th><th>Processed</th></tr></thead>
<tbody>{rows}</tbody></table>
{zip_link}
</div></div>
{''.join(sections)}
<p>See the <a href="/docs/ice.html#codebook">codebook</a>.</p>
</main></body></html>"""


def _processed_page(state: DdpState) -> str:
    items = "\n".join(f"<li>{r.type}: {_cell(r.processed)}</li>" for r in state.rows if r.processed)
    return f"""<!DOCTYPE html><html><body><main><h1>Immigration and Customs Enforcement</h1>
<div class="callout callout-note"><h2>Latest data release</h2><p>{state.sentence} We are actively seeking ongoing updates.</p></div>
<h2>Processed files</h2><ul>{items}</ul></main></body></html>"""


def _pointer(body: bytes) -> bytes:
    return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(body).hexdigest()}\n"
            f"size {len(body)}\n").encode()


def _make_handler(state: DdpState) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = urlsplit(self.path).path
            key = self.path if self.path in state.redirects else path
            queue = state.faults.get(key)
            fault = queue.popleft() if queue else None
            if fault is not None and self._fault(fault, key):
                return
            if key in state.redirects:
                self._send(key, 302, b"", "text/html", {"Location": state.redirects[key]})
            elif path in (RAW_PAGE, PROCESSED_PAGE):
                page = state.page_html.get(path) or (_raw_page(state) if path == RAW_PAGE else _processed_page(state))
                self._send(path, 200, page.encode(), "text/html; charset=utf-8")
            elif path in state.blobs:
                self._file(path, state.blobs[path])
            elif "/main/data/" in path and MEDIA.replace("/media", "", 1) + path.rsplit("/", 1)[-1] == path \
                    and MEDIA + path.rsplit("/", 1)[-1] in state.blobs:
                self._send(path, 200, _pointer(state.blobs[MEDIA + path.rsplit("/", 1)[-1]].body), "text/plain")
            else:
                self._send(path, 404, b"<html><body>Not found</body></html>", "text/html")

        def _file(self, path: str, blob: Blob) -> None:
            etag = '"' + hashlib.sha256(blob.body).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Accept-Ranges": "bytes"}
            if blob.filename:
                headers["Content-Disposition"] = f"attachment; filename=\"{blob.filename}\"; filename*=UTF-8''{quote(blob.filename)}"
            wanted = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if state.ranges and wanted and self.headers.get("If-Range", etag) == etag and int(wanted[1]) < len(blob.body):
                start = int(wanted[1])
                headers["Content-Range"] = f"bytes {start}-{len(blob.body) - 1}/{len(blob.body)}"
                self._send(path, 206, blob.body[start:], blob.content_type, headers)
            else:
                self._send(path, 200, blob.body, blob.content_type, headers)

        def _send(self, path: str, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None,
                  declared: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            state.requests.append((path, status, self.headers.get("Range", ""), len(body)))

        def _fault(self, fault: Fault, path: str) -> bool:
            state.requests.append((path, -1, "fault:" + fault.kind, 0))
            if fault.kind == "status":
                self._send(path, fault.status, b"<html><body>Internal Server Error</body></html>", "text/html")
                return True
            if fault.kind == "html":
                self._send(path, 200, b"<!DOCTYPE html><html><body><h1>This shared file or folder link has been "
                                      b"removed or is unavailable to you.</h1></body></html>", "text/html")
                return True
            if fault.kind == "cut":
                blob = state.blobs[path]
                etag = '"' + hashlib.sha256(blob.body).hexdigest()[:16] + '"'
                self.send_response(200)
                self.send_header("Content-Type", blob.content_type)
                self.send_header("Content-Length", str(len(blob.body)))
                self.send_header("ETag", etag)
                self.send_header("Content-Disposition", f"attachment; filename=\"{blob.filename}\"")
                self.end_headers()
                self.wfile.write(blob.body[: len(blob.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return True
            if fault.kind == "lying_range":  # a 206 that claims the asked range but sends other bytes
                blob = state.blobs[path]
                wanted = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if not wanted:
                    return False
                start = int(wanted[1])
                rest = blob.body[start:]
                spliced = bytes(len(rest) // 2) + rest[len(rest) // 2:]  # other bytes, then the true end
                headers = {"ETag": '"' + hashlib.sha256(blob.body).hexdigest()[:16] + '"',
                           "Content-Range": f"bytes {start}-{len(blob.body) - 1}/{len(blob.body)}"}
                self._send(path, 206, spliced, blob.content_type, headers)
                return True
            raise ValueError(f"unknown fault {fault.kind}")

    return Handler
