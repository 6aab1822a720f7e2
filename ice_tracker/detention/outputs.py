"""Deterministic writers for the detention outputs (all through `ice_tracker.fileio`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ice_tracker.detention.summaries import number
from ice_tracker.fileio import atomic_write_bytes, write_csv


def write_parquet(path: Path, frame: pd.DataFrame, date_columns: tuple[str, ...] = ()) -> bool:
    """Parquet bytes depend only on the frame (no timestamps), written atomically.

    `date_columns` are stored as calendar dates (date32), as in DDP's facility-day file.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in date_columns:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(index).cast(pa.timestamp("s")).cast(pa.date32()))
    for index, field in enumerate(table.schema):  # categoricals are stored as plain strings
        if pa.types.is_dictionary(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(field.type.value_type))
    table = table.replace_schema_metadata(None)  # pandas metadata records library versions
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=1 << 20)
    return atomic_write_bytes(path, sink.getvalue().to_pybytes())


def _cell(value: object) -> object:
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
    rows = ([_cell(v.item() if hasattr(v, "item") and not isinstance(v, (str, pd.Timestamp)) else v) for v in row]
            for row in frame.itertuples(index=False, name=None))
    return write_csv(path, list(frame.columns), rows)
