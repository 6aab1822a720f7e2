"""A loopback (127.0.0.1) impersonation of ice.gov's 287(g) page, workbooks and agreement PDFs.

It serves the real fixture workbooks with their MOA/ADDENDUM hyperlinks rewritten, at serve time, to
point at this server (safelink-wrapped ones stay wrapped, around a server URL), the 17 real agreement
PDFs, and a small unique PDF for every other linked agreement. It speaks conditional GET (ETag /
Last-Modified → 304) and can inject faults per path: statuses, Retry-After, resets, stalls,
truncated or empty bodies, HTML instead of a file, and redirects.

Used by the tests and by bench/bench_scrape.py; never reaches the internet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import socket
import struct
import threading
import time
import zipfile
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from tests.loopback import LoopbackSite, QuietHandler

PAGE_PATH = "/identify-and-arrest/287g"
DOCLIB = "/doclib/about/offices/ero/287g/"
MOA_PREFIX = "/doclib/287gMOA/"
LAST_MODIFIED = "Mon, 19 May 2025 02:49:22 GMT"
ICE_MOA = ("https://www.ice.gov/doclib/287gMOA/", "http://www.ice.gov/doclib/287gMOA/")


def synthetic_pdf(name: str, size: int = 0) -> bytes:
    """A valid one-page PDF standing in for an agreement we have no real copy of, unique by `name`
    (tiny for tests; `size` pads it, inside a comment, to a realistic size for the benchmark)."""
    head = b"%PDF-1.4\n% synthetic agreement for tests: " + name.encode("utf-8", "replace").replace(b"\n", b" ") + b"\n"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    pad = max(0, size - len(head) - 300)
    out = head + (b"%" + b"0" * (pad - 2) + b"\n" if pad > 2 else b"")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def rewrite_workbook(data: bytes, base_url: str) -> bytes:
    """Point a workbook's ice.gov agreement hyperlinks at `base_url` (deterministic zip bytes)."""
    plain = (base_url + MOA_PREFIX).encode()
    encoded = quote(base_url + MOA_PREFIX, safe="").encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.endswith(".rels") and "worksheets" in info.filename:
                for prefix in ICE_MOA:
                    content = content.replace(prefix.encode(), plain)
                    content = content.replace(quote(prefix, safe="").encode(), encoded)
            clone = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            clone.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(clone, content)
    return out.getvalue()


@dataclass
class Fault:
    """One injected misbehaviour, consumed by the next request for its path."""

    kind: str  # status | reset | stall | truncate | html | empty | redirect | stall_body
    status: int = 500
    retry_after: str = ""
    seconds: float = 0.0
    location: str = ""


@dataclass
class Served:
    body: bytes
    content_type: str
    filename: str = ""  # sent as Content-Disposition when set


@dataclass
class SiteState:
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text) shown on the page
    files: dict[str, Served] = field(default_factory=dict)  # path → response
    real_pdfs: dict[str, bytes] = field(default_factory=dict)  # file name → bytes
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    requests: list[tuple[str, str, int, int]] = field(default_factory=list)  # (path, if-none-match, status, bytes)
    stalled: threading.Event = field(default_factory=threading.Event)
    page_html: str | None = None  # overrides the generated page
    synthetic_pdf_size: int = 0
    replica: Any = None  # tests.scale_replica.Replica: its agreement PDFs are served too
    ranges: bool = True  # answer `Range: bytes=N-` with 206 (If-Range honoured), as ice.gov's CDN does


class IceSite(LoopbackSite):
    """Start with `with IceSite(fixtures_dir) as site:`; `site.url` is the page URL."""

    def __init__(self, fixtures: Path | None = None):
        self.state = SiteState()
        self.fixtures = fixtures
        self.paths: dict[str, str] = {}  # list → server path of the workbook the page links now
        super().__init__(_make_handler(self.state))
        self.url = self.base + PAGE_PATH
        if fixtures is not None:
            for pdf in sorted((fixtures / "ice287g" / "agreements").rglob("*.pdf")):
                self.state.real_pdfs[pdf.name] = pdf.read_bytes()

    # ----- content ------------------------------------------------------------------------
    def publish_workbook(self, data: bytes, name: str, *, form: str = "doclib", text: str = "",
                         download_id: int | None = None, rewrite: bool = True) -> str:
        """Serve a workbook and link it from the page. `form`: doclib (absolute href), relative,
        root, protocol (protocol-relative), download (file-download/<id> + Content-Disposition)."""
        body = rewrite_workbook(data, self.base) if rewrite else data
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if form == "download":
            ident = download_id if download_id is not None else 100000 + len(self.state.files)
            path = f"/file-download/download/public/{ident}"
            self.state.files[path] = Served(body, ctype, filename=name)
            href = path
            text = text or ("View pending agencies" if "pending" in name.lower() else "View participating agencies")
        else:
            path = DOCLIB + quote(name)
            self.state.files[path] = Served(body, ctype)
            href = {
                "doclib": self.base + path,  # absolute
                "relative": "../" + path.lstrip("/"),  # relative to /identify-and-arrest/287g
                "root": path,
                "protocol": "//" + self.base.split("://", 1)[1] + path,
            }[form]
            text = text or name
        self.state.links = [(h, t) for h, t in self.state.links if not _same_list(t, h, name)]
        self.state.links.append((href, text))
        self.paths["pending" if "pending" in name.lower() else "participating"] = path
        return path

    def publish_fixture(self, relative: str, **kwargs: object) -> str:
        """Publish a fixture workbook by its path under fixtures/ice287g/sheets."""
        assert self.fixtures is not None
        source = self.fixtures / "ice287g" / "sheets" / relative
        return self.publish_workbook(source.read_bytes(), source.name, **kwargs)  # type: ignore[arg-type]

    def serve_replica(self, replica: Any, day: dt.date) -> None:
        """Publish a scale replica's two rosters for `day` and serve its agreement PDFs
        (tests/scale_replica.py)."""
        from tests.scale_replica import roster_names

        self.state.replica = replica
        participating, pending = roster_names(day)
        self.publish_workbook(replica.participating_workbook(), participating)
        self.publish_workbook(replica.pending_workbook(), pending)

    def inject(self, path: str, *faults: Fault) -> None:
        self.state.faults.setdefault(path, deque()).extend(faults)

    def requests_for(self, prefix: str) -> list[tuple[str, str, int, int]]:
        return [r for r in self.state.requests if r[0].startswith(prefix)]


def _same_list(text: str, href: str, name: str) -> bool:
    """Whether an existing page link is for the same roster list as `name` (it gets replaced)."""
    kind = "pending" if "pending" in name.lower() else "participat"
    return kind in (text + href).lower()


def _page(state: SiteState) -> bytes:
    if state.page_html is not None:
        return state.page_html.encode()
    items = "\n".join(f'<li><a href="{href}">{text}</a></li>' for href, text in state.links)
    return f"""<!DOCTYPE html><html><head><title>Delegation of Immigration Authority Section 287(g)
Immigration and Nationality Act | ICE</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About ICE</a> <a href="#main">Skip</a></nav>
<main id="main"><h1>Delegation of Immigration Authority Section 287(g)</h1>
<p>Participating entities are listed below. <a href="/identify-and-arrest/287g/faq">Learn about
the participating agencies program</a></p>
<ul>{items}</ul>
<p><a href="/doclib/about/offices/ero/287g/287gFactSheet.pdf">Fact sheet (PDF)</a></p>
</main></body></html>""".encode()


def _make_handler(state: SiteState) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = urlsplit(self.path).path
            fault = state.faults.get(path, deque()).popleft() if state.faults.get(path) else None
            served = self._resolve(path)
            if fault is not None and self._apply_fault(fault, path, served):
                return
            if served is None:
                self._send(path, 404, b"<html><body>Page not found</body></html>", "text/html")
                return
            etag = '"' + hashlib.sha256(served.body).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag or (
                not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == LAST_MODIFIED
                and path != PAGE_PATH
            ):
                self._send(path, 304, b"", served.content_type, etag=etag)
                return
            start = self._range_start(etag, len(served.body))
            if start is not None:
                self._send(path, 206, served.body[start:], served.content_type, etag=etag, filename=served.filename,
                           extra={"Content-Range": f"bytes {start}-{len(served.body) - 1}/{len(served.body)}"})
                return
            self._send(path, 200, served.body, served.content_type, etag=etag, filename=served.filename)

        def _range_start(self, etag: str, size: int) -> int | None:
            """N of a satisfiable `Range: bytes=N-` whose If-Range (if any) still matches, else None."""
            match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            if_range = self.headers.get("If-Range")
            if not state.ranges or not match or (if_range and if_range not in (etag, LAST_MODIFIED)):
                return None
            start = int(match.group(1))
            return start if start < size else None

        def _resolve(self, path: str) -> Served | None:
            if path == PAGE_PATH:
                return Served(_page(state), "text/html; charset=utf-8")
            if path in state.files:
                return state.files[path]
            if path.startswith(MOA_PREFIX):
                raw = path[len(MOA_PREFIX):]
                name = unquote(raw)
                for candidate in (raw, name):
                    if candidate in state.real_pdfs:
                        return Served(state.real_pdfs[candidate], "application/pdf")
                replica = state.replica.pdf(name) if state.replica is not None else None
                if replica is not None:
                    return Served(replica, "application/pdf")
                return Served(synthetic_pdf(name, state.synthetic_pdf_size), "application/pdf")
            return None

        def _send(self, path: str, status: int, body: bytes, ctype: str, *, etag: str = "",
                  filename: str = "", extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            if filename:
                self.send_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(filename)}")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
            state.requests.append((path, self.headers.get("If-None-Match", ""), status, len(body) if status != 304 else 0))

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _apply_fault(self, fault: Fault, path: str, served: Served | None) -> bool:
            """Misbehave; True when the response is complete (or deliberately broken)."""
            body = served.body if served else b""
            ctype = served.content_type if served else "application/octet-stream"
            state.requests.append((path, "fault:" + fault.kind, 0, 0))
            if fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else None
                self._send(path, fault.status, b"<html><body>Service unavailable</body></html>", "text/html", extra=extra)
                return True
            if fault.kind == "reset":
                self._reset()
                return True
            if fault.kind == "stall":
                time.sleep(fault.seconds)
                return False  # then answer normally (the client has usually given up by now)
            if fault.kind == "html":
                page = b"<!DOCTYPE html><html><body><h1>Access Denied</h1>Reference #18.abc</body></html>"
                self._send(path, 200, page, "text/html")
                return True
            if fault.kind == "empty":
                self._send(path, 200, b"", ctype)
                return True
            if fault.kind == "redirect":
                self._send(path, 302, b"", "text/html", extra={"Location": fault.location})
                return True
            if fault.kind in ("truncate", "stall_body"):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"' + hashlib.sha256(body).hexdigest()[:20] + '"')  # as the real answer
                self.end_headers()
                self.wfile.write(body[: max(1, len(body) // 2)])
                self.wfile.flush()
                if fault.kind == "stall_body":
                    state.stalled.set()
                    time.sleep(fault.seconds)
                self._reset()
                return True
            raise ValueError(f"unknown fault {fault.kind}")

    return Handler
