"""Decode a parquet input on a background thread while the `detention` command is still importing pandas.

Importing pandas costs about half a second of one core; Arrow decodes parquet with the GIL released,
so the two overlap. Only the first parquet file named on the command line is prefetched (one table
held at a time, never more memory than reading it in turn); `take` hands it to the reader, which
reads the file itself when nothing was prefetched or the prefetch failed (so errors read the same).
This module imports pyarrow only: it must be importable before pandas.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_pending: dict[Path, Future] = {}


def few_valued_columns(path: Path) -> list[str]:
    """Text columns the file stores dictionary-encoded at a few bytes a row (gender, status, facility):
    read as categoricals, they are never expanded to one string per row."""
    meta = pq.ParquetFile(path).metadata
    if meta.num_rows == 0:
        return []
    schema = meta.schema.to_arrow_schema()
    names = []
    for j, name in enumerate(schema.names):
        if not (pa.types.is_string(schema.field(name).type) or pa.types.is_large_string(schema.field(name).type)):
            continue
        chunks = [meta.row_group(i).column(j) for i in range(meta.num_row_groups)]
        size = sum(chunk.total_uncompressed_size for chunk in chunks)
        if all(any("DICTIONARY" in e for e in chunk.encodings) for chunk in chunks) and size <= 4 * meta.num_rows:
            names.append(name)
    return names


def read_table(path: Path) -> pa.Table:
    """The parquet file as Arrow, as `pandas.read_parquet` reads it (pandas metadata, few-valued text
    as dictionaries). Through `ParquetFile`, not `read_table`: pyarrow's dataset module imports pandas."""
    with pq.ParquetFile(path, read_dictionary=few_valued_columns(path)) as handle:
        return handle.read(use_pandas_metadata=True)


def start(inputs: list[Path]) -> None:
    """Begin decoding the first parquet file among `inputs` (files named directly; folders are read in turn)."""
    first = next((Path(p) for p in inputs if Path(p).suffix.lower() == ".parquet" and Path(p).is_file()), None)
    if first is None or first in _pending:
        return
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(read_table(first))
        except BaseException as exc:  # handed to `take`, which falls back to reading the file itself
            future.set_exception(exc)

    _pending[first] = future
    threading.Thread(target=work, name="detention-prefetch", daemon=True).start()


def take(path: Path) -> pa.Table | None:
    """The prefetched table of `path` (waiting for it), or None when there is none or it failed."""
    future = _pending.pop(Path(path), None)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # the reader reads the file again and reports the error its own way
        return None


def discard() -> None:
    """Drop prefetched tables nobody took (an input skipped before it was read)."""
    for future in list(_pending.values()):
        future.exception()  # waits: a decode still running must not outlive the run
    _pending.clear()
