"""Download one release file: skip what we hold, resume what was cut, verify before keeping.

Processed files are git-LFS objects: the plain `raw.githubusercontent.com` URL returns a pointer
whose `oid sha256:` tells us, for a few hundred bytes, whether we already hold the file, and then
checks the download. Box files are verified by content: a ZIP/xlsx must start with the ZIP magic
and open as a ZIP, a parquet must start and end with `PAR1`; an HTML page is never kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit, urlunsplit

from ice_tracker.formats import FormatError, check_release_file
from ice_tracker.http import FetchError, FetchResult, HttpClient
from ice_tracker.sandbox import SandboxFailure, run_limited
from ice_tracker.sources.ddp.page import FORMATS

log = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
POINTER_OID = re.compile(r"^oid sha256:([0-9a-f]{64})$", re.M)
POINTER_SIZE = re.compile(r"^size (\d+)$", re.M)


class NotAReleaseFile(ValueError):
    """The body is not the file the link promised (an HTML page, a truncated or wrong file)."""


@dataclass
class Pointer:
    sha256: str
    size: int


def pointer_url(url: str) -> str:
    """media.githubusercontent.com/media/o/r/b/p → raw.githubusercontent.com/o/r/b/p (same host
    elsewhere, as on the loopback test site)."""
    parts = urlsplit(url)
    host = parts.netloc.replace("media.githubusercontent.com", "raw.githubusercontent.com")
    return urlunsplit((parts.scheme, host, parts.path.removeprefix("/media"), parts.query, ""))


def read_pointer(client: HttpClient, url: str) -> Pointer | None:
    """The LFS pointer of a processed file, or None (not an LFS URL, or no pointer answered)."""
    if not urlsplit(url).path.startswith("/media/"):
        return None
    try:
        _, text = client.get_text(pointer_url(url), max_bytes=4096)
    except FetchError as exc:
        log.info("no LFS pointer for %s: %s", url, exc)
        return None
    oid, size = POINTER_OID.search(text), POINTER_SIZE.search(text)
    return Pointer(oid.group(1), int(size.group(1))) if oid and size else None


def expected_format(file_name: str, fmt: str) -> str:
    """The format a body must have: the announced file name's extension, else the link's."""
    suffix = PurePosixPath(file_name).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else fmt


def verify(result: FetchResult, fmt: str, pointer: Pointer | None, table: str = "") -> None:
    """Raise NotAReleaseFile unless the body is a file of format `fmt` that opens, with `table`'s
    columns (the deep check runs in the sandboxed worker: see ice_tracker/formats.py)."""
    head = result.head
    start = head[:40].decode("latin-1", errors="replace").strip()
    described = f"{result.content_type or 'no content type'}, {result.size:,} bytes, starts {start!r}"
    if result.size == 0:
        raise NotAReleaseFile("empty body")
    if pointer is not None and (pointer.size != result.size or pointer.sha256 != result.sha256):
        raise NotAReleaseFile(f"does not match its LFS pointer ({pointer.size:,} bytes, {pointer.sha256[:12]}…): {described}")
    assert result.temp_path is not None
    if fmt in ("xlsx", "zip"):
        if head[:4] != ZIP_MAGIC or not zipfile.is_zipfile(result.temp_path):
            raise NotAReleaseFile(f"not a {fmt} file: {described}")
        if fmt == "xlsx":
            with zipfile.ZipFile(result.temp_path) as archive:
                if "[Content_Types].xml" not in archive.namelist():
                    raise NotAReleaseFile(f"a ZIP but not an xlsx workbook: {described}")
    elif fmt == "parquet":
        with open(result.temp_path, "rb") as handle:
            handle.seek(-4, 2)
            tail = handle.read(4)
        if head[:4] != PARQUET_MAGIC or tail != PARQUET_MAGIC:
            raise NotAReleaseFile(f"not a parquet file: {described}")
    elif head.lstrip()[:1] == b"<" and b"html" in head[:512].lower():
        raise NotAReleaseFile(f"an HTML page, not a data file: {described}")
    try:
        run_limited("ddp_parse", check_release_file, result.temp_path, fmt, table)
    except (FormatError, SandboxFailure) as exc:
        raise NotAReleaseFile(f"{exc}: {described}") from exc


def partial_path(cache_dir: Path, url: str) -> Path:
    """Where the body of `url` accumulates across interruptions (one file per URL)."""
    return cache_dir / "ddp" / "partial" / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".part")


def download(client: HttpClient, url: str, fmt: str, cache_dir: Path, max_bytes: int,
             pointer: Pointer | None, table: str = "") -> FetchResult:
    """Fetch (resuming) and verify; a body that fails verification is removed, not kept for resume."""
    result = client.fetch_resumable(url, partial_path(cache_dir, url), max_bytes=max_bytes)
    if not result.filename or result.filename in ("download", "index.php"):
        result.filename = unquote(PurePosixPath(urlsplit(url).path).name)
    try:
        verify(result, expected_format(result.filename, fmt), pointer, table)
    except NotAReleaseFile:
        result.discard()
        raise
    return result
