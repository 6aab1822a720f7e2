"""CSLLEA loader (.rda, .tsv, .dta) and the verified one-time download over loopback HTTP."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from ice_tracker.fileio import sha256_file
from ice_tracker.matching.csllea import (
    CSLLEA_SHA256,
    LOCAL_RELATIVE,
    CslleaError,
    download_reference,
    load_csllea,
    load_csllea_cached,
    resolve_reference,
)
from tests.conftest import shared_fixture_path

RDA_PARTS = ("csllea", "ICPSR_38771", "DS0001", "38771-0001-Data.rda")
RAW_COLUMNS = ["AGENCYNAME", "AGENCYID", "CITY", "STATE", "ZIP", "COUNTY", "ORI9", "AGENCYSAMPTYPE", "OPBUDGET",
               "POPULATION"]


def raw_table() -> pd.DataFrame:
    """Two agencies as ICPSR's delimited release writes them: padded text, numeric type codes, -1 for missing."""
    return pd.DataFrame([
        ["ORANGE COUNTY SHERIFF'S OFFICE      ", "636929", "ORLANDO   ", "FL", "32801     ", "ORANGE    ",
         "FL0480000   ", "1", "300000000", "1400000"],
        ["TINY TOWN POLICE DEPARTMENT         ", "700001", "TINY      ", "FL", "32000     ", "          ",
         "-1          ", "3", "-9", ""],
    ], columns=RAW_COLUMNS)


def test_loads_the_real_rda():
    frame = load_csllea(shared_fixture_path(*RDA_PARTS))
    assert len(frame) == 17721
    assert frame["agency_id"].is_unique
    assert (frame["name"] == frame["name"].str.strip()).all()
    assert frame["state"].str.fullmatch(r"[A-Z]{2}").all()
    assert not frame["ori"].isin(["-1"]).any()
    row = frame.set_index("agency_id").loc["632102"]
    assert row["name"] == "PUYALLUP POLICE DEPARTMENT"
    assert (row["state"], row["ori"], row["zip"], row["agency_type"]) == ("WA", "WA0270100", "98371", "Local Police")
    assert row["population"] == 41886
    assert (frame["agency_type"] == "Sheriff").sum() == 3052


def test_cached_table_equals_the_decoded_one_and_a_broken_cache_is_ignored(tmp_path):
    path = tmp_path / "38771-0001-Data.tsv"
    raw_table().to_csv(path, sep="\t", index=False)
    decoded = load_csllea(path)
    pd.testing.assert_frame_equal(load_csllea_cached(path, tmp_path / "cache"), decoded)
    [cached] = (tmp_path / "cache" / "csllea").glob("*.parquet")
    assert cached.name.startswith(sha256_file(path))
    pd.testing.assert_frame_equal(load_csllea_cached(path, tmp_path / "cache"), decoded)  # from the cache
    cached.write_bytes(b"not parquet")
    pd.testing.assert_frame_equal(load_csllea_cached(path, tmp_path / "cache"), decoded)
    assert cached.read_bytes().startswith(b"PAR1")  # rewritten


def test_loads_tsv_with_numeric_codes(tmp_path):
    path = tmp_path / "38771-0001-Data.tsv"
    raw_table().to_csv(path, sep="\t", index=False)
    frame = load_csllea(path).set_index("agency_id")
    assert frame.loc["636929", "name"] == "ORANGE COUNTY SHERIFF'S OFFICE"
    assert frame.loc["636929", "agency_type"] == "Sheriff"
    assert frame.loc["636929", "operating_budget"] == 300000000
    assert frame.loc["700001", "ori"] == "" and frame.loc["700001", "county"] == ""
    assert pd.isna(frame.loc["700001", "operating_budget"])  # -9 is a missing code
    assert frame.loc["700001", "agency_type"] == "Local Police"


def test_loads_stata(tmp_path):
    table = raw_table()
    table["AGENCYSAMPTYPE"] = ["(001) Sheriff", "(003) Local Police"]
    for column in ("AGENCYID", "OPBUDGET", "POPULATION"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    path = tmp_path / "38771-0001-Data.dta"
    table.to_stata(path, write_index=False, version=118)
    frame = load_csllea(path).set_index("agency_id")
    assert list(frame.index) == ["636929", "700001"]
    assert frame.loc["636929", "agency_type"] == "Sheriff" and frame.loc["636929", "ori"] == "FL0480000"


def test_rejects_unknown_format_and_wrong_table(tmp_path):
    odd = tmp_path / "agencies.xlsx"
    odd.write_bytes(b"PK")
    with pytest.raises(CslleaError, match="unsupported"):
        load_csllea(odd)
    wrong = tmp_path / "wrong.tsv"
    pd.DataFrame({"NAME": ["X"]}).to_csv(wrong, sep="\t", index=False)
    with pytest.raises(CslleaError, match="missing columns"):
        load_csllea(wrong)
    with pytest.raises(CslleaError, match="not found"):
        load_csllea(tmp_path / "absent.rda")


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server over a folder; yields (folder, base_url, request_log)."""
    root = tmp_path / "www"
    root.mkdir()
    requests_seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            requests_seen.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}", requests_seen
    finally:
        server.shutdown()
        server.server_close()


def test_download_verifies_hash_and_renames_atomically(served, tmp_path):
    root, base, seen = served
    (root / "ref.bin").write_bytes(b"reference bytes" * 1000)
    good = sha256_file(root / "ref.bin")
    dest = tmp_path / "cache" / "ref.bin"
    assert download_reference(f"{base}/ref.bin", dest, good) == dest
    assert dest.read_bytes() == (root / "ref.bin").read_bytes()
    before = len(seen)
    download_reference(f"{base}/ref.bin", dest, good)  # cached and verified: no request
    assert len(seen) == before

    other = tmp_path / "cache" / "other.bin"
    with pytest.raises(CslleaError, match="sha256"):
        download_reference(f"{base}/ref.bin", other, "0" * 64)
    assert not other.exists()
    assert [p.name for p in other.parent.iterdir()] == ["ref.bin"]  # no temp file left behind


def test_download_http_error_leaves_nothing(served, tmp_path):
    _, base, _ = served
    dest = tmp_path / "cache" / "missing.rda"
    with pytest.raises(CslleaError, match="download failed"):
        download_reference(f"{base}/missing.rda", dest, "0" * 64)
    assert not dest.exists()


def test_resolve_reference_url_local_and_default(served, tmp_path):
    rda = shared_fixture_path(*RDA_PARTS)
    root, base, _ = served
    shutil.copy(rda, root / "38771-0001-Data.rda")
    cached = resolve_reference(f"{base}/38771-0001-Data.rda", tmp_path / "data", tmp_path / "cache")
    assert cached.parent == tmp_path / "cache" / "csllea" and sha256_file(cached) == CSLLEA_SHA256
    assert resolve_reference(str(rda), tmp_path / "data", tmp_path / "cache") == Path(rda)
    local = tmp_path / "data" / LOCAL_RELATIVE
    local.parent.mkdir(parents=True)
    shutil.copy(rda, local)
    assert resolve_reference(None, tmp_path / "data", tmp_path / "cache") == local
    with pytest.raises(CslleaError):
        resolve_reference(str(tmp_path / "nope.rda"), tmp_path / "data", tmp_path / "cache")
