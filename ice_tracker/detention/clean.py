"""Turn raw cell values into typed columns: naive date-times, numbers, text with redactions removed.

ICE's workbooks mix real date cells, text dates, Excel serial numbers, absurd years (3025) and
FOIA redaction marks (`b(6), b(7)c`, `(b)(6), (b)(7)(c)`). Everything unusable becomes missing;
nothing is converted between time zones (the clock times are local and stay naive).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ice_tracker.detention.columns import specs_by_canonical

REDACTION = r"^\s*\(?[bB]\)?\s*\(\s*\d+\s*\)"
MIN_YEAR, MAX_YEAR = 1900, 2100
TEXT = pd.StringDtype("pyarrow")  # string kernels run in Arrow, not per Python object
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
CATEGORICAL_MIN_ROWS = 20_000  # shorter text columns stay plain text
SPLIT_ROWS = 200_000  # text columns longer than this are cleaned in two halves at once


def _arrow_strings(values: pd.Series) -> pa.Array:
    """Object column → Arrow strings; straight from the array when every cell is text or empty."""
    if values.dtype == object:
        try:
            return pa.array(values.to_numpy(), type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or dates in a text column
            pass
    return pa.array(values.astype(TEXT))


def clean_text(values: pd.Series) -> pd.Series:
    """Strip, blank → missing, redaction → missing; Arrow-backed strings (kernels run in C++)."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # read as a dictionary: clean the categories only
        categories = pa.array(values.cat.categories.astype(TEXT).array)
        codes = values.cat.codes.to_numpy()
        return _categorical(_clean_strings(categories), pa.array(codes, mask=codes < 0), values.index)
    arr = _arrow_strings(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    sample = arr.slice(0, 10_000)
    if len(arr) > CATEGORICAL_MIN_ROWS and pc.count_distinct(sample).as_py() * 20 < len(sample):
        # few distinct values (gender, country, status): clean the distinct values only
        # and keep them as a categorical: reordering, grouping and writing then move small codes
        encoded = pc.dictionary_encode(arr)
        return _categorical(_clean_strings(encoded.dictionary), encoded.indices, values.index)
    return pd.Series(pd.array(_clean_strings_split(arr), dtype=TEXT), index=values.index)


def _clean_strings_split(arr: pa.Array) -> pa.Array:
    """`_clean_strings` of a long column in two halves on two threads (Arrow kernels release the GIL):
    the identifier column, millions of distinct strings, is most of the cleaning time."""
    if len(arr) < SPLIT_ROWS:
        return _clean_strings(arr)
    half = len(arr) // 2
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="detention-clean") as pool:
        parts = list(pool.map(_clean_strings, (arr.slice(0, half), arr.slice(half))))
    return pa.concat_arrays(parts)


def _categorical(dictionary: pa.Array, indices: pa.Array, index: pd.Index) -> pd.Series:
    """Cleaned distinct values + row indices → a categorical with sorted categories (so its codes sort
    like the text); values that became equal or missing in cleaning are merged."""
    value_codes, categories = pd.factorize(pd.Series(pd.array(dictionary, dtype=TEXT)), sort=True)
    lookup = np.append(value_codes, -1)  # a missing cell (null index) picks the trailing -1
    codes = lookup[indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)]
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=TEXT)), index=index)


def _clean_strings(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_trim_whitespace(arr)
    unusable = pc.or_kleene(pc.equal(arr, ""), pc.match_substring_regex(arr, REDACTION))
    return pc.if_else(unusable, pa.scalar(None, pa.string()), arr)


def clean_number(values: pd.Series) -> pd.Series:
    """Numbers, or numbers written as text ('1,500'); anything else → NaN."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("floating", "integer", "mixed-integer-float", "empty"):
        return pd.to_numeric(values, errors="coerce").astype("float64")  # number cells: no text detour
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values.astype(TEXT).str.replace(",", "", regex=False).str.strip()
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _parse_text_dates(text: pd.Series) -> pd.Series:
    """ISO-like text in one vectorised pass; only what that leaves unparsed goes through the slow
    per-value parser (US dates `03/10/2026 14:05`, odd spacing)."""
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601").astype("datetime64[s]")
    rest = parsed.isna() & text.notna()
    if rest.any():
        parsed[rest] = pd.to_datetime(text[rest], errors="coerce", format="mixed").astype("datetime64[s]")
    return parsed


def clean_datetime(values: pd.Series) -> pd.Series:
    """Any mix of datetime cells, text and Excel serials → datetime64[s], out-of-range → NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        # R writes naive clock times labelled UTC: drop the label, never shift the clock
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.astype("datetime64[s]")
    else:
        obj = values.astype(object)
        obj = obj.where(obj != "")  # calamine reads empty cells as ""
        kind = pd.api.types.infer_dtype(obj, skipna=True)
        if kind in ("datetime", "datetime64", "date", "empty"):  # calamine date cells: the fast path
            parsed = pd.to_datetime(obj, errors="coerce")
            out = parsed.astype("datetime64[s]")
            return _in_year_range(out)
        is_number = obj.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
        if kind == "string":  # text files: ISO text parses in C; serials written as text become numbers
            as_number = pd.to_numeric(obj, errors="coerce")
            is_number = as_number.notna() & obj.str.fullmatch(r"\s*\d+(\.\d+)?\s*").fillna(False).astype(bool)
            obj = obj.where(~is_number, as_number)
        parsed = _parse_text_dates(obj.where(~is_number))
        out = parsed.astype("datetime64[s]")
        if is_number.any():
            serial = pd.to_numeric(obj.where(is_number), errors="coerce").to_numpy(dtype="float64")
            ok = np.isfinite(serial) & (serial > 0) & (serial < 80000)
            seconds = np.where(ok, np.round(serial * 86400.0), 0).astype("int64")
            stamps = EXCEL_EPOCH + seconds.astype("timedelta64[s]")
            out = out.mask(ok & is_number.to_numpy(), pd.Series(stamps, index=out.index))
    return _in_year_range(out)


def _in_year_range(out: pd.Series) -> pd.Series:
    """Date-times outside MIN_YEAR..MAX_YEAR → NaT (two integer comparisons, no calendar fields)."""
    values = out.to_numpy(dtype="datetime64[s]")
    bad = (values < np.datetime64(f"{MIN_YEAR}-01-01", "s")) | (values >= np.datetime64(f"{MAX_YEAR + 1}-01-01", "s"))
    return out.mask(bad) if bad.any() else out


def column_kind(name: str) -> str:
    """The alias table's kind of a canonical column name ('amount_2', a repeat, has the kind of 'amount')."""
    specs = specs_by_canonical()
    base = name.rsplit("_", 1)[0] if name not in specs and name.rsplit("_", 1)[-1].isdigit() else name
    return specs[base].kind if base in specs else "text"


DATETIME_KINDS = ("datetime", "date", "bond_date")
NUMBER_KINDS = ("number", "bond_number")


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Type every column by its kind in the alias table; unknown columns are kept as text."""
    cleaned = {}
    for name in frame.columns:
        kind = column_kind(name)
        column = frame[name]
        if kind in DATETIME_KINDS:
            cleaned[name] = clean_datetime(column)
        elif kind in NUMBER_KINDS:
            cleaned[name] = clean_number(column)
        elif kind == "provenance" and column.dtype != object:
            cleaned[name] = column
        else:
            cleaned[name] = clean_text(column)
    return pd.DataFrame(cleaned, index=frame.index, copy=False)  # no consolidation copy
