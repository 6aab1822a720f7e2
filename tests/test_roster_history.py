"""The roster history outputs on the 64 real fixture workbooks, and on small archives built here."""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest

from ice_tracker.cli import main
from ice_tracker.roster.archive import copy_workbooks
from ice_tracker.roster.history import OUTPUT_FILES, build_history, output_names
from ice_tracker.fileio import csv_text
from ice_tracker.roster.history_files import (iter_history_rows, read_counts, read_current, read_snapshots,
                                              read_versions)
from ice_tracker.roster.ids import name_key
from ice_tracker.roster.model import HISTORY_COLUMNS
from ice_tracker.roster.vocab import load_vocabulary
from tests.conftest import shared_fixture_path

ISSUE_COLUMNS = [
    "snapshot", "file", "roster_date", "roster_date_source", "list", "row_number", "state", "state_raw", "agency",
    "county", "county_raw", "type", "support_type", "support_type_raw", "signed", "signed_raw", "moa_url",
    "addendum_url", "agreement_id", "source_format",
]


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    archive = shared_fixture_path("ice287g")
    work = tmp_path_factory.mktemp("history")
    summary = build_history(archive, work / "data", work / "cache")
    return archive, work, summary


@pytest.fixture(scope="module")
def history(built):
    return list(iter_history_rows(built[1] / "data", built[1] / "cache"))


# sha256 of what the per-snapshot files held before the history was kept as intervals, on the 64
# fixture workbooks: data/roster_history/YYYY-MM.csv concatenated (one header), roster_current.csv
# and roster_counts.csv's lines sorted (written by the code of commit 9ca4e2a, the last to write them,
# with the publication check: current and counts hold good rosters only)
OLD_HISTORY = "703332dda3f9a932a339a7dcb2522dccb46f1e949ff82be2ed9ff4c9718bdcce"
OLD_CURRENT = "d738265eadd677a04c9bc77e54a028ebd5629a48f6c7f1084c2403ba61f4c051"
OLD_COUNTS = "0b18d3880073cc95180d5bb6da5afd5d22aa29b9404fc4d3ef7ac377d77a79e2"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_per_snapshot_table_is_what_the_old_files_held(built, tmp_path):
    """Rebuilt from the interval files alone (a fresh cache), byte for byte the old monthly files,
    current roster and counts; then read again from the parquet cache, the same."""
    out = built[1] / "data"
    for cache in (tmp_path / "fresh", tmp_path / "fresh"):  # rebuild, then the cached parquet
        frame = read_snapshots(out, cache)
        assert list(frame.columns) == ISSUE_COLUMNS and len(frame) == 23025
        assert _sha(csv_text(ISSUE_COLUMNS, frame.itertuples(index=False))) == OLD_HISTORY
        assert _sha(csv_text(ISSUE_COLUMNS, read_current(out, cache).itertuples(index=False))) == OLD_CURRENT
        counts = read_counts(out, cache)
        assert _sha("\n".join(sorted(csv_text(counts.columns, counts.itertuples(index=False)).splitlines()[1:]))) == OLD_COUNTS
        assert len(list(cache.glob("snapshots-*.parquet"))) == 1


def test_an_unchanged_agreement_keeps_one_line(built):
    """Each of the 64 rosters repeats ~800 rows; the versions file holds each distinct version once."""
    data = built[1] / "data"
    versions = read(data / "roster_history" / "versions.csv")
    assert len(versions) < 23025 / 10
    snapshots = read(data / "roster_history" / "snapshots.csv")
    # in publication order: by roster date (a roster archived days late, like 05202025pm fetched on the 22nd, sits
    # on its own date), not by fetch time
    assert [s["roster_date"] for s in snapshots] == sorted(s["roster_date"] for s in snapshots) and len(snapshots) == 64
    assert [s["snapshot"] for s in snapshots] != sorted(s["snapshot"] for s in snapshots)
    assert {s["verdict"] for s in snapshots} == {"good"}
    in_force = {(v["list"], v["agreement_id"], v["occurrence"]) for v in versions if not v["valid_to"]}
    assert set(zip(*(read_versions(data, in_force=True)[c] for c in ("list", "agreement_id", "occurrence")))) == in_force
    newest = read_current(data, built[1] / "cache")
    assert len(in_force) == 832 + 26 == len(newest)
    assert {(r["list"], r["agreement_id"]) for r in newest.to_dict("records")} == {k[:2] for k in in_force}


def test_outputs_exist_with_the_issue_columns(built):
    _, work, summary = built
    assert list(HISTORY_COLUMNS) == ISSUE_COLUMNS
    for name in OUTPUT_FILES:
        assert (work / "data" / name).is_file(), name
    assert output_names(work / "data") == list(OUTPUT_FILES)
    assert summary["files_changed"] == list(OUTPUT_FILES)
    with open(work / "data" / "roster_history" / "versions.csv", encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    assert [c for c in ISSUE_COLUMNS if c in header] == ISSUE_COLUMNS[4:5] + ISSUE_COLUMNS[6:-1]  # format: per roster
    assert summary["workbooks"] == 64 and summary["snapshots"] == 38 and summary["parsed"] == 64


def test_rows_per_workbook_equal_its_data_rows(built, history):
    archive = built[0]
    per_file = Counter((r["snapshot"], r["file"]) for r in history)
    assert len(per_file) == 64
    for path in sorted(archive.glob("sheets/*/*.xlsx")):
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        data_rows = sum(1 for r in rows[1:] if any(v is not None and str(v).strip() for v in r))
        assert per_file[(path.parent.name, path.name)] == data_rows, path


def test_republished_name_is_two_snapshots(history):
    sizes = Counter(r["snapshot"] for r in history if r["file"] == "participatingAgencies07032025pm.xlsx")
    assert sizes == {"sheets_20250703_151805": 753, "sheets_20250704_151659": 777}


def test_messy_values_are_fixed_and_listed(built, history):
    quality = read(built[1] / "data" / "quality.csv")
    listed = {(q["column"], q["raw"], q["fixed"], q["rule"]) for q in quality}
    assert ("state", "UTAHJ", "UTAH", "state_fuzzy") in listed
    assert ("state", "AlABAMA", "ALABAMA", "state_case") in listed
    assert ("signed", "05/082025", "2025-05-08", "signed_text_date") in listed
    assert ("signed", "7/72025", "2025-07-07", "signed_text_date") in listed
    assert ("signed", "5025-07-07", "2025-07-07", "signed_year_fixed") in listed
    assert ("county", "#N/A", "", "county_missing_marker") in listed
    by_raw = {(r["state_raw"], r["state"]) for r in history} | {(r["signed_raw"], r["signed"]) for r in history}
    assert {("UTAHJ", "UTAH"), ("AlABAMA", "ALABAMA"), ("5025-07-07", "2025-07-07"), ("7/72025", "2025-07-07")} <= by_raw
    states = set(load_vocabulary().states)
    assert {r["state"] for r in history} <= states
    assert {r["support_type"] for r in history} == {"Jail Enforcement Model", "Task Force Model", "Warrant Service Officer"}
    assert all(r["signed"] or not r["signed_raw"] for r in history)
    assert not any("safelinks" in r["moa_url"] + r["addendum_url"] for r in history)
    keys = {(r["list"], r["agreement_id"]) for r in history if r["county_raw"] == "#N/A"}
    assert keys == {(q["list"], q["agreement_id"]) for q in quality if q["raw"] == "#N/A"}


def test_rename_only_day_has_no_adds_or_removes(built):
    changes = read(built[1] / "data" / "changes.csv")
    day = [c for c in changes if c["list"] == "participating" and c["snapshot"] == "sheets_20250715_151733"]
    kinds = Counter(c["change"] for c in day)
    # eight names rewritten = one editorial change; Florida Fish and Wildlife -> Florida Department of
    # Environmental Protection (one MOA link, similarity 47) is an addition naming a possible rename;
    # Ellis County's removal is real: missing from the 07-14 and 07-15 rosters (and every later one)
    assert kinds == {"editorial": 1, "added": 1, "removed": 1}
    editorial = next(c for c in day if c["change"] == "editorial")
    assert editorial["old"] == "8 agreements" and editorial["field"] == "agency"
    added = next(c for c in day if c["change"] == "added")
    assert added["old"] == "Florida Fish and Wildlife Conservation Commission" and added["possible_rename_of"]
    assert next(c for c in day if c["change"] == "removed")["agency"] == "Ellis County Sheriff's Office"
    detail = [c for c in read(built[1] / "data" / "editorial_changes.csv") if c["snapshot"] == "sheets_20250715_151733"]
    renamed = {(c["old"], c["new"]) for c in detail}
    assert ("Boca Raton Police Department", "Boca Raton Police Services Department") in renamed
    assert ("Idaho State Police", "Idaho State Police Department") in renamed
    assert len(detail) == 8


def test_ids_are_stable_across_all_64(history):
    vocab = load_vocabulary()
    ids_per_name: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    per_roster: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in history:
        ids_per_name[(r["state"], r["support_type"], name_key(r["agency"], vocab))].add(r["agreement_id"])
        per_roster[(r["snapshot"], r["file"])][(r["agreement_id"], name_key(r["agency"], vocab))] += 1
    assert all(len(ids) == 1 for ids in ids_per_name.values()), {k: v for k, v in ids_per_name.items() if len(v) > 1}
    # one id never stands for two different names in the same roster
    for counts in per_roster.values():
        names_per_id = Counter(ident for ident, _ in counts)
        assert max(names_per_id.values()) == 1
    first = {r["agreement_id"] for r in history if r["snapshot"] == "sheets_20250519_024922" and r["list"] == "participating"}
    last = {r["agreement_id"] for r in history if r["snapshot"] == "sheets_20250719_151637" and r["list"] == "participating"}
    assert len(first - last) <= 5  # the five real removals over the period


def test_current_counts_and_changes_agree(built, history):
    data = built[1] / "data"
    current = read_current(data, built[1] / "cache").to_dict("records")
    assert Counter((r["list"], r["file"]) for r in current) == {
        ("participating", "participatingAgencies07182025pm.xlsx"): 832,
        ("pending", "pendingAgencies07182025pm.xlsx"): 26,
    }
    counts = {(c["snapshot"], c["list"], c["support_type"], c["state"]): c for c in read_counts(data, built[1] / "cache").to_dict("records")}
    total = counts[("sheets_20250719_151637", "participating", "ALL", "ALL")]
    assert int(total["rows"]) == 832
    assert int(total["agreements"]) == len({r["agreement_id"] for r in current if r["list"] == "participating"})
    changes = read(data / "changes.csv")
    kinds = Counter((c["list"], c["change"]) for c in changes)
    assert kinds[("participating", "renamed")] >= 5 and kinds[("participating", "editorial")] == 2
    assert kinds[("participating", "moved_from_pending")] >= 200
    # the five real removals, plus four agencies replaced by another signer on the same MOA link
    # (too weak for a rename: each is an addition naming `possible_rename_of`)
    removed = [c for c in changes if c["change"] == "removed" and c["list"] == "participating"]
    assert len(removed) == 9
    assert all(c["evidence"].startswith("missing from two good rosters since ") for c in removed)
    possible = {c["possible_rename_of"] for c in changes if c["possible_rename_of"]}
    assert len(possible) == 4 and possible <= {c["agreement_id"] for c in removed}


def test_rerun_is_byte_identical_and_uses_the_cache(built, tmp_path):
    archive, work, _ = built
    summary = build_history(archive, tmp_path / "data", work / "cache")
    assert summary["parsed"] == 0 and summary["rosters_processed"] == 0
    assert output_names(tmp_path / "data") == output_names(work / "data")
    for name in output_names(work / "data"):
        assert (tmp_path / "data" / name).read_bytes() == (work / "data" / name).read_bytes(), name


def test_one_new_workbook_parses_one(built, tmp_path):
    archive, work, _ = built
    copy = tmp_path / "archive"
    newest = "sheets_20250719_151637"
    copy_workbooks(archive, copy, lambda p: p.parent.name != newest)
    cache = tmp_path / "cache"
    first = build_history(copy, copy / "data", cache)
    assert first["workbooks"] == 62 and first["parsed"] == 62
    copy_workbooks(archive, copy, lambda p: p.parent.name == newest)
    second = build_history(copy, copy / "data", cache)
    assert second["parsed"] == 2 and second["workbooks"] == 64 and second["rosters_processed"] == 2
    assert second["newest_changes"]["participating"]["moved_from_pending"] == 7
    assert output_names(copy / "data") == output_names(work / "data")
    for name in output_names(work / "data"):
        assert (copy / "data" / name).read_bytes() == (work / "data" / name).read_bytes(), name


def test_workbook_inserted_into_the_past_gives_the_full_rebuild(built, tmp_path):
    archive, work, _ = built
    copy, cache = tmp_path / "archive", tmp_path / "cache"
    middle = "sheets_20250626_151815"
    copy_workbooks(archive, copy, lambda p: p.parent.name != middle)
    build_history(copy, copy / "data", cache)
    copy_workbooks(archive, copy, lambda p: p.parent.name == middle)
    summary = build_history(copy, copy / "data", cache)
    assert summary["parsed"] == 2 and summary["rosters_processed"] == 64
    assert output_names(copy / "data") == output_names(work / "data")
    for name in output_names(work / "data"):
        assert (copy / "data" / name).read_bytes() == (work / "data" / name).read_bytes(), name


def test_a_rule_file_change_rebuilds_everything(built, tmp_path):
    archive, work, _ = built
    overrides = tmp_path / "overrides"
    shutil.copytree(Path(__file__).resolve().parents[1] / "overrides", overrides)
    with open(overrides / "roster_fixes.csv", "a", encoding="utf-8") as handle:
        handle.write("county,Tift County,Tift County (fixed),GEORGIA,,test rule\n")
    shutil.copytree(work / "cache", tmp_path / "cache")
    summary = build_history(archive, tmp_path / "data", tmp_path / "cache", overrides_dir=overrides)
    assert summary["parsed"] == 0 and summary["rosters_processed"] == 64
    history = list(iter_history_rows(tmp_path / "data"))
    assert {r["county"] for r in history if r["county_raw"].strip() == "Tift County"} == {"Tift County (fixed)"}


# ---- small archives built here ------------------------------------------------------------------
def write_roster(path: Path, header: list[str], rows: list[list], links: dict[tuple[int, int], str] | None = None) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    for (row, col), url in (links or {}).items():
        sheet.cell(row=row, column=col).hyperlink = url
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def test_bad_files_are_reported_not_fatal_and_manifest_kind_wins(tmp_path):
    data = tmp_path / "archive"
    safelink = ("https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov%2Fdoclib%2F287gMOA%2F"
                "x_TFM_MOA.pdf&data=05%7C02")
    write_roster(data / "sheets" / "sheets_20260105_120000" / "download.xlsx",
                 ["moa", "support type", "Law Enforcement Agency", "STATE", "signed", "Extra", "County"],
                 [["link", "TFM", " Sample Police Department ", "Ohio", "1/2/2026", "x", "#N/A"],
                  ["link pending", "Task Force Model", "Other Police Department", "NOWHERE", "5026-01-02", "", ""]],
                 links={(2, 1): safelink})
    (data / "sheets" / "sheets_20260105_120000" / "participatingAgencies01052026am.xlsx").write_bytes(
        b"<html>blocked</html>")
    (data / "manifest.csv").write_text(
        "path,kind,source_url,sha256,bytes,fetched_at,etag,last_modified,content_type,state,agency\n"
        "sheets/sheets_20260105_120000/download.xlsx,participating,https://www.ice.gov/x,,,"
        "2026-01-05T12:00:00Z,,,,,\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert main(["history", "--data-dir", str(data), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert {p: p.read_bytes() for p in (data / "sheets").rglob("*") if p.is_file()} == {
        p: b for p, b in before.items() if "sheets" in p.parts}
    rows = list(iter_history_rows(data / "data"))
    assert [(r["list"], r["agency"], r["state"], r["support_type"], r["signed"], r["moa_url"]) for r in rows] == [
        ("participating", "Sample Police Department", "OHIO", "Task Force Model", "2026-01-02",
         "https://www.ice.gov/doclib/287gMOA/x_TFM_MOA.pdf"),
        ("participating", "Other Police Department", "", "Task Force Model", "2026-01-02", ""),
    ]
    assert rows[0]["roster_date_source"] == "fetched" and rows[0]["roster_date"] == "2026-01-05"
    assert (rows[0]["county_raw"], rows[0]["county"]) == ("#N/A", "")  # an Excel error cell, kept as written
    rules = Counter(q["rule"].split(":")[0] for q in read(data / "data" / "quality.csv"))
    assert rules["workbook_unreadable"] == 1
    assert rules["state_unknown"] == 1 and rules["signed_year_fixed"] == 1 and rules["signed_text_date"] == 1
    assert rules["unknown_header"] == 1 and rules["filename_no_date"] == 1 and rules["county_missing_marker"] == 1


def test_empty_archive_writes_empty_outputs(tmp_path):
    summary = build_history(tmp_path, tmp_path / "out", tmp_path / "cache")
    assert summary["workbooks"] == 0
    assert list(iter_history_rows(tmp_path / "out")) == []
    assert output_names(tmp_path / "out") == list(OUTPUT_FILES)


def test_the_per_snapshot_files_of_older_versions_are_removed(tmp_path):
    """The monthly files, the single file before them and roster_counts.csv grew with every snapshot;
    the history is derived from the archive, so migrating removes them."""
    out = tmp_path / "out"
    (out / "roster_history").mkdir(parents=True)
    old = ["roster_history.csv", "roster_history/2024-01.csv", "roster_counts.csv"]
    for name in old:
        (out / name).write_text("snapshot\nold\n", encoding="utf-8")
    summary = build_history(tmp_path, out, tmp_path / "cache")
    assert not any((out / name).exists() for name in old)
    assert set(old) <= set(summary["files_changed"])
