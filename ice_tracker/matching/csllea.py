"""The CSLLEA 2018 agency reference (ICPSR 38771, DS0001): find it, fetch it once, read it clean.

ICPSR distributes the same table as R data (.rda), tab-separated text (.tsv) and Stata (.dta). Text
fields are space-padded, missing identifiers are coded as negative numbers, and the delimited
version carries numeric codes where the R and Stata versions carry labels. Everything downstream
sees one tidy frame with the columns in `REFERENCE_COLUMNS`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from ice_tracker.fileio import sha256_file
from ice_tracker.http import FetchError, client_from_env
from ice_tracker.matching.normalise import type_codes

log = logging.getLogger(__name__)

CSLLEA_URL = (
    "https://raw.githubusercontent.com/appelson/Tracking_287g/main/ICPSR_38771/DS0001/38771-0001-Data.rda"
)
CSLLEA_SHA256 = "f81f307f44fdff45f2ab4817ac4063ad6b0783f2903b0a4bdf8f62dc36e3337d"
LOCAL_RELATIVE = Path("reference/csllea/38771-0001-Data.rda")
RDA_OBJECT = "da38771.0001"
MAX_BYTES = 200 * 1024 * 1024

REFERENCE_COLUMNS = [
    "agency_id", "name", "state", "county", "city", "zip", "ori",
    "agency_type", "agency_type_code", "population", "operating_budget",
]
SOURCE_COLUMNS = {
    "AGENCYID": "agency_id", "AGENCYNAME": "name", "STATE": "state", "COUNTY": "county", "CITY": "city",
    "ZIP": "zip", "ORI9": "ori", "AGENCYSAMPTYPE": "agency_type", "POPULATION": "population",
    "OPBUDGET": "operating_budget",
}
MISSING_TEXT = {"", "-1", "-2", "-8", "-9", "NAN", "NONE", "NA"}


class CslleaError(RuntimeError):
    """The reference file is absent, corrupt or not the CSLLEA agency table."""


def download_reference(url: str, dest: Path, sha256: str) -> Path:
    """Fetch `url` to `dest` once, through the shared HTTP client (ICE_TRACKER_* settings); verify sha256; rename atomically.

    An existing `dest` with the right hash is reused without touching the network. A body with the
    wrong hash is discarded and raises, so a block page or a changed upstream file never becomes
    the reference. Network failures raise `CslleaError` too.
    """
    dest = Path(dest)
    if dest.is_file() and sha256_file(dest) == sha256:
        return dest
    host = urlsplit(url).hostname or ""
    with client_from_env([host], dest.parent) as client:
        try:
            result = client.fetch(url, max_bytes=MAX_BYTES)
        except FetchError as error:
            raise CslleaError(f"{url}: download failed ({error})") from error
    try:
        if result.sha256 != sha256:
            raise CslleaError(f"{url}: sha256 {result.sha256} does not match the expected {sha256}")
        assert result.temp_path is not None
        os.replace(result.temp_path, dest)
        log.info("downloaded %s (%d bytes) to %s", url, result.size, dest)
        return dest
    finally:
        result.discard()


def resolve_reference(source: str | None, data_dir: Path, cache_dir: Path) -> Path:
    """A local path to the CSLLEA file: the given path, a downloaded URL, the repo copy, or the default URL."""
    if source and not source.startswith(("http://", "https://")):
        path = Path(source)
        if not path.is_file():
            raise CslleaError(f"CSLLEA file {path} not found")
        return path
    if not source:
        for base in (Path(data_dir), Path.cwd()):
            if (base / LOCAL_RELATIVE).is_file():
                return base / LOCAL_RELATIVE
        source = CSLLEA_URL
    name = source.rstrip("/").rsplit("/", 1)[-1] or "csllea.rda"
    return download_reference(source, Path(cache_dir) / "csllea" / name, CSLLEA_SHA256)


def agency_type_labels() -> dict[int, str]:
    """CSLLEA AGENCYSAMPTYPE code → label, for the delimited release which stores bare codes."""
    return {code: label for label, code in type_codes().items()}


def _read_raw(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".rda", ".rdata"):
        import pyreadr

        objects = pyreadr.read_r(str(path))
        if RDA_OBJECT in objects:
            return objects[RDA_OBJECT]
        if len(objects) == 1:
            return next(iter(objects.values()))
        raise CslleaError(f"{path}: no object {RDA_OBJECT} (found {sorted(objects)})")
    if suffix in (".tsv", ".txt", ".tab"):
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="latin-1")
    if suffix == ".dta":
        return pd.read_stata(path, convert_categoricals=True)
    raise CslleaError(f"{path}: unsupported CSLLEA format {suffix!r} (use .rda, .tsv or .dta)")


def _text(series: pd.Series) -> pd.Series:
    values = series.astype("string").fillna("").str.strip()
    return values.mask(values.str.upper().isin(MISSING_TEXT), "")


def _number(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce")
    return values.where(values >= 0)


def _type_label(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'(001) Sheriff' or '1' → ('Sheriff', 1)."""
    text = raw.astype("string").fillna("").str.strip()
    labelled = text.str.extract(r"^\((\d+)\)\s*(.*)$")
    codes = pd.to_numeric(labelled[0].fillna(text), errors="coerce")
    names = labelled[1].where(labelled[1].notna(), codes.map(agency_type_labels()))
    return names.fillna("").astype(str), codes


def load_csllea(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The CSLLEA agency table with tidy columns (see `REFERENCE_COLUMNS`), sorted by agency_id."""
    path = Path(path)
    if not path.is_file():
        raise CslleaError(f"CSLLEA file {path} not found")
    raw = _read_raw(path)
    raw.columns = [str(c).upper() for c in raw.columns]
    missing = [c for c in SOURCE_COLUMNS if c not in raw.columns]
    if missing:
        raise CslleaError(f"{path}: not the CSLLEA agency table (missing columns {missing})")
    frame = pd.DataFrame(index=raw.index)
    ids = pd.to_numeric(raw["AGENCYID"], errors="coerce")
    if ids.isna().any():
        raise CslleaError(f"{path}: {int(ids.isna().sum())} rows without a numeric AGENCYID")
    frame["agency_id"] = ids.astype("int64").astype(str)
    for source, target in (("AGENCYNAME", "name"), ("STATE", "state"), ("COUNTY", "county"),
                           ("CITY", "city"), ("ZIP", "zip"), ("ORI9", "ori")):
        frame[target] = _text(raw[source]).astype(str)
    frame["state"] = frame["state"].str.upper()
    frame["agency_type"], frame["agency_type_code"] = _type_label(raw["AGENCYSAMPTYPE"])
    frame["population"] = _number(raw["POPULATION"])
    frame["operating_budget"] = _number(raw["OPBUDGET"])
    frame = frame.sort_values("agency_id", key=lambda s: s.astype("int64"), kind="stable").reset_index(drop=True)
    log.info("CSLLEA: %d agencies from %s", len(frame), path)
    return frame[REFERENCE_COLUMNS]


def load_csllea_cached(path: str | os.PathLike[str], cache_dir: Path | None) -> pd.DataFrame:
    """`load_csllea`, kept as parquet under `<cache_dir>/csllea/` keyed by the file's sha256 and this
    module's code: decoding the .rda costs seconds every day and the file never changes. A cache
    that cannot be read or written only costs that time again."""
    from ice_tracker.fileio import temp_path_beside
    from ice_tracker.roster.cache import code_fingerprint

    path = Path(path)
    if cache_dir is None or not path.is_file():
        return load_csllea(path)
    cached = Path(cache_dir) / "csllea" / f"{sha256_file(path)}-{code_fingerprint(__name__)[:12]}.parquet"
    if cached.is_file():
        try:
            return pd.read_parquet(cached)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable CSLLEA cache %s: %s", cached, exc)
    frame = load_csllea(path)
    tmp = None
    try:
        tmp = temp_path_beside(cached)
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, cached)
    except (OSError, ValueError) as exc:
        log.warning("cannot write CSLLEA cache %s: %s", cached, exc)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return frame
