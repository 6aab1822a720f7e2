"""`publish`: deterministic plots, a complete data dictionary, a valid Atom feed, an offline site."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from ice_tracker.publish.datapackage import build_datapackage
from ice_tracker.publish.run import run_publish
from tests.publish_factory import write_roster_inputs, write_small_detention

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLISHED = ("plots", "site", "data/changes.atom", "data/feeds", "datapackage.json", "data/state_summary.csv")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    write_roster_inputs(tmp_path)
    write_small_detention(tmp_path)
    return tmp_path


def published_bytes(data_dir: Path) -> dict[str, bytes]:
    files = {}
    for rel in PUBLISHED:
        target = data_dir / rel
        for path in ([target] if target.is_file() else sorted(target.rglob("*"))):
            if path.is_file():
                files[path.relative_to(data_dir).as_posix()] = path.read_bytes()
    return files


def test_publishing_twice_gives_identical_bytes(data_dir: Path) -> None:
    summary = run_publish(data_dir)
    assert summary["errors"] == [] and summary["problems"] == []
    first = published_bytes(data_dir)
    assert {"site/index.html", "datapackage.json", "data/changes.atom"} <= set(first)
    pngs = [rel for rel in first if rel.endswith(".png")]
    assert len(pngs) >= 5 and all(first[rel].startswith(b"\x89PNG\r\n\x1a\n") for rel in pngs)
    again = run_publish(data_dir)
    assert again["files_changed"] == []
    assert published_bytes(data_dir) == first


def test_every_published_csv_column_is_described(data_dir: Path) -> None:
    run_publish(data_dir)
    package, problems = build_datapackage(data_dir)
    assert problems == []
    for resource in package["resources"]:
        with open(data_dir / resource["path"], newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == header
        assert all(f.get("description") and f.get("type") for f in fields), resource["path"]
    # A new column nobody described is a reported problem, not a silent publication.
    path = data_dir / "data" / "state_summary.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",mystery"] + [line + ",1" for line in lines[1:]]) + "\n")
    _, problems = build_datapackage(data_dir)
    assert any("mystery" in problem for problem in problems)


def test_change_feed_is_valid_atom_with_one_entry_per_change_day(data_dir: Path) -> None:
    run_publish(data_dir)
    root = ElementTree.parse(data_dir / "data" / "changes.atom").getroot()
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None and root.find(f"{ATOM}{tag}").text
    entries = root.findall(f"{ATOM}entry")
    assert entries
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert entry.find(f"{ATOM}title").text and entry.find(f"{ATOM}updated").text


def test_one_feed_per_state_each_entry_a_change_with_its_links(data_dir: Path) -> None:
    run_publish(data_dir)
    feeds = sorted(p.name for p in (data_dir / "data" / "feeds").glob("*.atom"))
    assert feeds == ["AL.atom", "FL.atom"]  # the states with a change in changes.csv
    root = ElementTree.parse(data_dir / "data" / "feeds" / "FL.atom").getroot()
    entries = root.findall(f"{ATOM}entry")
    titles = sorted(e.find(f"{ATOM}title").text for e in entries)
    assert titles == ["2025-05-20: Miami Police Department (Task Force Model): renamed",
                      "2025-05-20: Tampa Police Department (Task Force Model): added to the participating list"]
    tampa = next(e for e in entries if "Tampa" in e.find(f"{ATOM}title").text)
    links = {link.get("rel"): link.get("href") for link in tampa.findall(f"{ATOM}link")}
    assert links["alternate"] == "../../sheets/sheets_20250520_151800/participatingAgencies05202025am.xlsx"
    assert (data_dir / links["alternate"][len("../../"):]).is_file()  # the archived workbook, relative to the feed
    assert links["related"].startswith("https://www.ice.gov/doclib/287gMOA/Tampa_")
    content = tampa.find(f"{ATOM}content").text
    assert "archived copy" in content and "Program model: Task Force Model" in content


def test_dashboard_links_every_state_feed(data_dir: Path) -> None:
    run_publish(data_dir)
    html = (data_dir / "site" / "index.html").read_text()
    links = re.findall(r'href="(\.\./data/feeds/[^"]+)"', html)
    assert links == ["../data/feeds/AL.atom", "../data/feeds/FL.atom"]
    assert all((data_dir / "site" / link).resolve().is_file() for link in links)  # resolve from site/
    assert ">Florida (FL)</a>" in html and 'href="#feeds"' in html


def test_site_is_offline_plotly_included_once(data_dir: Path) -> None:
    run_publish(data_dir)
    html = (data_dir / "site" / "index.html").read_text()
    assert "cdn." not in html and "https://cdn" not in html
    assert html.count("plotly") >= 1 and (data_dir / "site" / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    assert '<label for="agreements-state">' in html or 'for="agreements-state"' in html


def test_a_new_ddp_release_appears_in_the_feed(data_dir: Path) -> None:
    from ice_tracker.fileio import write_csv

    write_csv(data_dir / "releases" / "ddp" / "2026-03-10" / "manifest.csv",
              ["table", "url", "file_name", "bytes", "sha256", "fetched_at", "stored", "path"],
              [["detentions", "https://ucla.box.com/shared/static/x.xlsx", "Detentions_FY26.xlsx", 10, "a" * 64,
                "2026-03-30T13:23:00Z", "cache", "sha256/aaa/Detentions_FY26.xlsx"]])
    run_publish(data_dir)
    feed = (data_dir / "data" / "changes.atom").read_text()
    assert "New Deportation Data Project release: 2026-03-10" in feed and "Detentions_FY26.xlsx" in feed
