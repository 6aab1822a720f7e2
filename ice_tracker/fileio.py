"""Atomic, deterministic file writes and hashing: the only way this project writes outputs.

Every write goes to a temporary file in the destination folder and is renamed into place, so a
crash never leaves a half-written file. Text outputs are written byte-for-byte reproducibly
(UTF-8, `\n` line endings, sorted JSON keys) and left untouched when their content is unchanged,
so the daily commit only shows real change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


PUBLIC_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp alone gives 0600


def temp_path_beside(path: Path) -> Path:
    """A fresh, uniquely named temp file in `path`'s folder (same filesystem, so rename is atomic),
    with the permissions an ordinary new file gets, since it becomes a published file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".part", dir=path.parent)
    os.fchmod(fd, PUBLIC_FILE_MODE)
    os.close(fd)
    return Path(name)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, durable: bool = True) -> bool:
    """Write `data` to `path` atomically. Returns False (and writes nothing) if unchanged.

    The rename alone protects against a killed process; `durable` also fsyncs, against power loss.
    """
    target = Path(path)
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return False
    tmp = temp_path_beside(target)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


def atomic_write_text(path: str | os.PathLike[str], text: str, durable: bool = True) -> bool:
    return atomic_write_bytes(path, text.encode("utf-8"), durable)


FORMULA_START = frozenset("=+-@\t\r")  # what a spreadsheet reads as the start of a formula (OWASP)
QUOTE_CANDIDATES = FORMULA_START | {"'"}


NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def _needs_quote(text: str) -> bool:
    """Text a spreadsheet would run as a formula, or text we quoted (so a read restores it exactly).
    Numbers such as -3.5 and single characters such as "-" stay as they are."""
    bare = text.lstrip("'")
    return len(bare) > 1 and bare[0] in FORMULA_START and not NUMBER.match(bare)


def neutralise_cell(value: Any) -> Any:
    """OWASP's CSV-injection defence: a text cell starting with = + - @ tab or CR gets a leading `'`,
    so Excel, LibreOffice and Google Sheets show it instead of running it. Numbers are untouched;
    `restore_cell` undoes it exactly."""
    if isinstance(value, str) and value[:1] in QUOTE_CANDIDATES and _needs_quote(value):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """The value `neutralise_cell` was given."""
    if value[:1] == "'" and _needs_quote(value[1:]):
        return value[1:]
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Render rows as CSV text the same way every time (None → empty, `\n` endings, formula-like
    text neutralised: see neutralise_cell). Every CSV this project publishes goes through here or
    `csv_lines`."""
    buffer = io.StringIO()
    buffer.write(csv_lines([header]))
    buffer.write(csv_lines(["" if value is None else value for value in row] for row in rows))
    return buffer.getvalue()


def csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    """CSV lines without a header, as csv_text renders them (values must not be None)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([neutralise_cell(value) for value in row])
    return buffer.getvalue()


def csv_row_text(row: Sequence[Any]) -> str:
    """One CSV line (with its `\n`), rendered exactly as `csv_text` renders rows."""
    return csv_text([], [row]).split("\n", 1)[1]


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]],
              durable: bool = True) -> bool:
    """Atomically write a deterministic CSV. Returns True when the file changed."""
    return atomic_write_text(path, csv_text(header, rows), durable)


def write_dict_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[dict[str, Any]],
                   durable: bool = True) -> bool:
    return write_csv(path, header, ([row.get(col) for col in header] for row in rows), durable)


def read_dict_csv(path: str | os.PathLike[str], strip: bool = False) -> list[dict[str, str]]:
    """Rows of a CSV as dicts of strings; an absent file reads as no rows. `strip`: values trimmed
    and missing cells "" (hand-edited rule files)."""
    target = Path(path)
    if not target.is_file():
        return []
    with open(target, newline="", encoding="utf-8") as handle:
        rows = [restore_row(row) for row in csv.DictReader(handle)]
    return [{k: (v or "").strip() for k, v in row.items()} for row in rows] if strip else rows


def restore_row(row: dict[str, str]) -> dict[str, str]:
    """A row read back from one of our CSVs, with neutralised cells restored."""
    return {key: restore_cell(value) if isinstance(value, str) else value for key, value in row.items()}


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def write_json(path: str | os.PathLike[str], obj: Any) -> bool:
    return atomic_write_text(path, json_text(obj))
