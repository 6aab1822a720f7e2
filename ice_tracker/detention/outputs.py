"""Deterministic writers for the detention outputs (all through `ice_tracker.fileio`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ice_tracker.detention.summaries import number
from ice_tracker.fileio import atomic_write_bytes, write_csv


ROW_GROUP = 1 << 20


def _arrow_chunk(frame: pd.DataFrame, schema: pa.Schema | None, date_columns: tuple[str, ...]) -> pa.Table:
    """Arrow table of a frame slice; categoricals stay dictionary arrays (no string per row)."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    for name in date_columns:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(index).cast(pa.timestamp("s")).cast(pa.date32()))
    return table.replace_schema_metadata(None)  # pandas metadata records library versions


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with dictionary columns as their value type (categoricals are stored as plain text)."""
    return pa.schema([pa.field(f.name, f.type.value_type, f.nullable) if pa.types.is_dictionary(f.type) else f
                      for f in schema])


def _stored_arrow_schema(schema: pa.Schema) -> bytes:
    """The ARROW:schema entry a Parquet file of `schema` carries (what readers restore the types from)."""
    sink = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), sink)
    return pq.ParquetFile(pa.BufferReader(sink.getvalue())).metadata.metadata[b"ARROW:schema"]


def write_parquet(path: Path, frame: pd.DataFrame, date_columns: tuple[str, ...] = (),
                  distinct_columns: tuple[str, ...] = ()) -> bool:
    """Parquet bytes depend only on the frame (no timestamps), written atomically.

    Converted to Arrow one row group at a time, so writing a 2.5 M-row table needs a row group's worth
    of extra memory, not a second copy of the table. Categorical columns go in as dictionary arrays
    (their codes become the Parquet dictionary indices: no string per row, no re-hashing) while the
    file declares them as plain text, so every reader sees text columns with the same values.
    `date_columns` are stored as calendar dates (date32), as in DDP's facility-day file.
    `distinct_columns` hold (nearly) one value per row (identifiers, row numbers): they skip the
    dictionary attempt, and integers among them are delta-encoded. zstd compression.
    """
    schema = pa.Schema.from_pandas(frame, preserve_index=False) if len(frame) > ROW_GROUP else None
    sink = pa.BufferOutputStream()
    writer = None
    for start in range(0, max(len(frame), 1), ROW_GROUP):
        table = _arrow_chunk(frame.iloc[start:start + ROW_GROUP], schema, date_columns)
        if writer is None:
            plain = [name for name in distinct_columns if name in table.column_names]
            delta = {name: "DELTA_BINARY_PACKED" for name in plain if pa.types.is_integer(table.schema.field(name).type)}
            dictionary = [name for name in table.column_names if name not in plain] if plain else True
            declared = _plain_schema(table.schema)
            writer = pq.ParquetWriter(sink, table.schema, compression="zstd", use_dictionary=dictionary,
                                      column_encoding=delta or None, store_schema=declared.equals(table.schema))
            if not declared.equals(table.schema):
                writer.add_key_value_metadata({b"ARROW:schema": _stored_arrow_schema(declared)})
        writer.write_table(table, row_group_size=ROW_GROUP)
    writer.close()
    return atomic_write_bytes(path, sink.getvalue().to_pybytes())


def _cell(value: object) -> object:
    if hasattr(value, "item") and not isinstance(value, (str, pd.Timestamp)):
        value = value.item()  # a numpy scalar left in an object column
    if isinstance(value, float):
        return number(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (bool,)):
        return "true" if value else "false"
    return value


def write_frame_csv(path: Path, frame: pd.DataFrame) -> bool:
    """CSV with fixed float formatting (2 places), ISO dates, true/false, empty for missing."""
    columns = [_column_cells(frame[name]) for name in frame.columns]  # column-wise: no per-row frame access
    return write_csv(path, list(frame.columns), zip(*columns))


def _column_cells(column: pd.Series) -> list[object]:
    """One column's CSV cells, as `_cell` renders them, with plain numpy columns done by type."""
    if isinstance(column.dtype, np.dtype):
        if column.dtype.kind == "f":
            return [number(v) for v in column.tolist()]
        if column.dtype.kind in "iu":
            return column.tolist()
        if column.dtype.kind == "b":
            return ["true" if v else "false" for v in column.tolist()]
    return [_cell(v) for v in column.tolist()]
