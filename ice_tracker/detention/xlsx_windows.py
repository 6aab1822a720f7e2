"""Cut an .xlsx sheet into windows of rows, so memory stays bounded whatever the workbook size.

Cell readers built on calamine (python-calamine, fastexcel) hold a whole sheet as one dense grid,
~30x the file size: a 280 MB release workbook would need ~8 GB. Here the sheet XML is inflated as a
stream and cut after a `</row>` every `rows` rows. A window keeps its rows' XML for the compiled scan
(xlsx_scan.py); only when a calamine reader must read it (the header window, a window the scan
declines) is it wrapped, with the original styles (which make a number a date) and shared strings,
into an uncompressed workbook file. A file, not bytes in memory: calamine readers open a path at no
cost while bytes handed to fastexcel are copied one by one. Each window's file is deleted once read
(`Window.discard`), the folder when the workbook is closed. Only one window's grid exists at a time.

Windows keep their true Excel row numbers: a window's file starts with a one-cell marker row just
above its first row, so the grid of a window starts at a known row whatever its first cells hold.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import struct
import tempfile
import threading
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

INFLATE_CHUNK = 8 << 20
MARKER = "__window__"
FOLDER_PREFIX = "ice-xlsx-windows-"  # + the pid of the run that owns the folder
SHEET_MEMBER = b"xl/worksheets/sheet1.xml"
ZIP32_LIMIT = 0xFFFFFFFF
DOS_DATE_1980 = 0x21  # 1980-01-01, the zip epoch: windows are the same bytes on every run
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_DATA = re.compile(rb"<((?:[\w.-]+:)?)sheetData(?:\s[^>]*)?(/?)>")
DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*/>")
ROW_NUMBER = re.compile(rb'<(?:[\w.-]+:)?row\s[^>]*?\br="(\d+)"')

_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  b'<Default Extension="xml" ContentType="application/xml"/>'
                  b'<Override PartName="/xl/workbook.xml" '
                  b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  b'<Override PartName="/xl/worksheets/sheet1.xml" '
                  b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              b'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             b'<sheets><sheet name="w" sheetId="1" r:id="rId1"/></sheets></workbook>')


class NotWindowable(ValueError):
    """A sheet this module cannot cut safely (rows without `r` numbers, no sheetData): read it whole."""


class Window:
    """Rows `first_row`..`last_row` (Excel numbers) of a sheet: their XML (`rows_xml`, complete <row>
    elements), and on demand a workbook file of one sheet named 'w' that any calamine reader opens."""

    def __init__(self, first_row: int, last_row: int, rows_xml: bytes | bytearray, package: Callable[[], str]) -> None:
        self.first_row, self.last_row, self.rows_xml = first_row, last_row, rows_xml
        self._package = package
        self._workbook: str | None = None

    def __repr__(self) -> str:
        return f"Window(first_row={self.first_row}, last_row={self.last_row}, {len(self.rows_xml):,} bytes)"

    @property
    def workbook(self) -> str:
        """Path of the window's workbook file, written the first time it is asked for."""
        if self._workbook is None:
            self._workbook = self._package()
        return self._workbook

    def discard(self) -> None:
        """Delete the window's file, if it was written (a window is read once), and drop its XML."""
        self.rows_xml = b""
        if self._workbook is not None:
            try:
                os.unlink(self._workbook)
            except FileNotFoundError:
                pass


@dataclass(frozen=True)
class SheetPart:
    name: str
    member: str


class WindowedWorkbook:
    """An .xlsx opened for windowed reading: its sheets, styles and shared strings."""

    def __init__(self, path: str) -> None:
        self.zip = zipfile.ZipFile(path)
        self.sheets, styles, shared = self._parts()
        self.styles = self._member(styles)
        self.shared = self._member(shared)
        self._prefix: bytearray | None = None  # the fixed members, built for the first window
        self._directory = bytearray()
        self._count = 0
        self._folder: str | None = None  # made for the first window, removed by close()
        self._written = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.zip.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _member(self, name: str | None) -> bytes | None:
        return self.zip.read(name) if name and name in self.zip.NameToInfo else None

    def _parts(self) -> tuple[list[SheetPart], str | None, str | None]:
        """Sheet names → XML members in workbook order, and the styles and shared strings members."""
        book = "xl/workbook.xml"
        for rel in ET.fromstring(self.zip.read("_rels/.rels")).iter(f"{{{_PKG_REL_NS}}}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                book = rel.get("Target", book).lstrip("/")
        base = posixpath.dirname(book)
        rels_name = posixpath.join(base, "_rels", posixpath.basename(book) + ".rels")
        targets, styles, shared = {}, None, None
        for rel in ET.fromstring(self.zip.read(rels_name)).iter(f"{{{_PKG_REL_NS}}}Relationship"):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            kind = rel.get("Type", "")
            targets[rel.get("Id")] = target
            if kind.endswith("/styles"):
                styles = target
            elif kind.endswith("/sharedStrings"):
                shared = target
        sheets = [SheetPart(sheet.get("name", ""), targets.get(sheet.get(f"{{{_REL_NS}}}id"), ""))
                  for sheet in ET.fromstring(self.zip.read(book)).iter(f"{{{_MAIN_NS}}}sheet")]
        return sheets, styles, shared

    def _fixed_members(self) -> list[tuple[bytes, bytes]]:
        """Every member of a window but its sheet: (name, bytes), the same for every window."""
        members = [(b"[Content_Types].xml", _CONTENT_TYPES), (b"_rels/.rels", _ROOT_RELS), (b"xl/workbook.xml", _WORKBOOK)]
        rels = ['<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'worksheet" Target="worksheets/sheet1.xml"/>']
        if self.styles is not None:
            members.append((b"xl/styles.xml", self.styles))
            rels.append('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        'relationships/styles" Target="styles.xml"/>')
        if self.shared is not None:
            members.append((b"xl/sharedStrings.xml", self.shared))
            rels.append('<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        'relationships/sharedStrings" Target="sharedStrings.xml"/>')
        members.append((b"xl/_rels/workbook.xml.rels",
                        ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                         f'xmlns="{_PKG_REL_NS}">{"".join(rels)}</Relationships>').encode()))
        return members

    def _package(self, pieces: list[bytes | bytearray | memoryview]) -> str:
        """A stored (uncompressed) zip file of the fixed members and the sheet XML `pieces` joined (zipfile's
        writer would copy the sheet twice). Windows are packaged on reader threads: one at a time."""
        with self._lock:
            return self._package_locked(pieces)

    def _package_locked(self, pieces: list[bytes | bytearray | memoryview]) -> str:
        if self._prefix is None:
            fixed = self._fixed_members()
            self._prefix, self._directory, self._count = bytearray(), bytearray(), len(fixed) + 1
            for name, data in fixed:
                local, central = _stored_headers(name, len(data), zlib.crc32(data), len(self._prefix))
                self._prefix += local + data
                self._directory += central
        size = sum(len(piece) for piece in pieces)
        if len(self._prefix) + size + 1024 >= ZIP32_LIMIT:  # 4 GB of XML in one window: a wrong window size
            raise NotWindowable(f"a window of {size:,} bytes of sheet XML (more than a zip without zip64 holds)")
        crc = 0
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
        local, central = _stored_headers(SHEET_MEMBER, size, crc, len(self._prefix))
        directory = self._directory + central
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, self._count, self._count,
                          len(directory), len(self._prefix) + len(local) + size, 0)
        if self._folder is None:
            _remove_stale_folders()
            self._folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        self._written += 1
        path = os.path.join(self._folder, f"window-{self._written:06d}.xlsx")
        with open(path, "wb") as out:
            for piece in (self._prefix, local, *pieces, directory, end):
                out.write(piece)
        return path

    def windows(self, part: SheetPart, rows: int, first: int) -> Iterator[Window]:
        """The sheet's rows: `first` rows (title block and header), then `rows` at a time."""
        stream = self.zip.open(part.member)
        buffer = b""
        while (match := SHEET_DATA.search(buffer)) is None:
            chunk = stream.read(INFLATE_CHUNK)
            if not chunk:
                raise NotWindowable(f"sheet {part.name!r} has no sheetData")
            buffer += chunk
        prefix, self_closing = match.group(1), match.group(2)
        head = DIMENSION.sub(b"", buffer[: match.end()])  # a dimension would size every window's grid to the sheet
        if self_closing:
            return
        row_end, data_end = b"</" + prefix + b"row>", b"</" + prefix + b"sheetData>"
        tail = data_end + b"</" + prefix + b"worksheet>"
        buffer = bytearray(buffer[match.end():])  # appending to a bytearray is not quadratic
        ends, counted = buffer.count(row_end), len(buffer)
        done, want = data_end in buffer, first
        while True:
            # gather at least `want` row ends (or the end of sheetData); only new bytes are counted
            while not done and ends < want:
                chunk = stream.read(INFLATE_CHUNK)
                if not chunk:
                    raise NotWindowable(f"sheet {part.name!r} ends inside sheetData")
                buffer += chunk
                overlap = max(0, counted - len(row_end) + 1)
                ends += buffer.count(row_end, overlap) - buffer.count(row_end, overlap, counted)
                counted = len(buffer)
                done = buffer.find(data_end, max(0, overlap - len(data_end))) >= 0
            last = done and ends <= want
            cut = buffer.index(data_end) if last else _after_nth(buffer, row_end, want, ends)
            remainder = None if last else bytearray(memoryview(buffer)[cut:])  # a partial row, less than a chunk
            del buffer[cut:]  # the window's rows: handed over as they are, not copied
            window = self._window(head, buffer, tail, prefix)
            if last:
                if window is not None:
                    yield window
                return
            buffer = remainder
            ends, counted = ends - want, len(buffer)
            if window is not None:
                yield window
            want = rows

    def _window(self, head: bytes, body: bytearray, tail: bytes, prefix: bytes) -> Window | None:
        """The rows `body` holds as a window; None when there is no row (only the end of sheetData)."""
        opening = b"<" + prefix + b"row"  # inside sheetData only <row …> starts so
        rows = body.count(opening)
        if not rows:
            return None
        if body.count(opening + b' r="') != rows and len(ROW_NUMBER.findall(body)) != rows:
            raise NotWindowable("rows without `r` numbers")
        first_row = int(ROW_NUMBER.search(body).group(1))
        last_row = int(ROW_NUMBER.search(body, body.rindex(opening)).group(1))
        marker = b""
        if first_row > 1:
            p, n = prefix, first_row - 1
            marker = (b"<%srow r=\"%d\"><%sc r=\"A%d\" t=\"inlineStr\"><%sis><%st>%s</%st></%sis></%sc></%srow>"
                      % (p, n, p, n, p, p, MARKER.encode(), p, p, p, p))
        return Window(first_row, last_row, body, lambda: self._package([head, marker, body, tail]))

    def probe(self, rows_xml: bytes) -> list[list[object]]:
        """python-calamine's cells of `rows_xml` (complete <row> elements, no prefix) read through this
        workbook's styles and shared strings: how calamine reads a cell, asked of calamine itself."""
        from python_calamine import CalamineWorkbook

        head = f'<worksheet xmlns="{_MAIN_NS}"><sheetData>'.encode()
        path = self._package([head, rows_xml, b"</sheetData></worksheet>"])
        try:
            return CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
        finally:
            os.unlink(path)

    def sheet_xml_bytes(self) -> int:
        """The sheets' XML, uncompressed (from the zip directory, nothing inflated)."""
        return sum(self.zip.getinfo(part.member).file_size for part in self.sheets if part.member in self.zip.NameToInfo)

    def style_count(self) -> int:
        """How many cell styles (cellXfs entries) the workbook defines."""
        if self.styles is None:
            return 0
        xfs = ET.fromstring(self.styles).find(f"{{{_MAIN_NS}}}cellXfs")
        return 0 if xfs is None else len(xfs.findall(f"{{{_MAIN_NS}}}xf"))


def _remove_stale_folders() -> None:
    """Window folders of runs that were killed before close() (their pid is gone): up to a few windows
    of sheet XML each, which nothing else would ever delete."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name[len(FOLDER_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive, another user's
            continue


def _after_nth(buffer: bytearray, token: bytes, n: int, count: int) -> int:
    """The offset just after the n-th `token` of `buffer`, which holds `count` of them (1 <= n <= count):
    searched from whichever end is nearer, one `index` call per token passed."""
    if count - n < n:
        start = len(buffer)
        for _ in range(count - n + 1):
            start = buffer.rindex(token, 0, start)
        return start + len(token)
    cut = 0
    for _ in range(n):
        cut = buffer.index(token, cut) + len(token)
    return cut


def _stored_headers(name: bytes, size: int, crc: int, offset: int) -> tuple[bytes, bytes]:
    """A stored member's local header and central-directory record (zip spec 4.3.7 and 4.3.12)."""
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, DOS_DATE_1980, crc, size, size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, DOS_DATE_1980, crc, size, size, len(name),
                          0, 0, 0, 0, 0, offset) + name
    return local, central
