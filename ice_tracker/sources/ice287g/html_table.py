"""The roster as an HTML table on the 287(g) page (how ICE published it before February 2025).

A captured page's roster table is kept as its own small file (`<list>Agencies_page_table.html`,
the `<table>` element as the page had it; the whole page stays at its capture URL) so identical
tables in many captures are one sha256 whatever else the page showed; relative links are resolved
against the 287(g) page's address when the table is read;
it is read back by header names, exactly as a workbook's first sheet (`workbook.parse_roster`).
"""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, Tag

from ice_tracker.sources.ice287g import PAGE_URL
from ice_tracker.sources.ice287g.page import list_from_name
from ice_tracker.sources.ice287g.workbook import RosterFormatError, RosterTable, parse_roster, read_roster_checked
from ice_tracker.urls import absolute_url
from ice_tracker.xlsx import RawSheet

TABLE_FILE_SUFFIX = "Agencies_page_table.html"
SOURCE_FORMAT = "html_table"


def _sheet(table: Tag, base_url: str, name: str) -> RawSheet:
    rows: list[list[object]] = []
    links: dict[tuple[int, int], str] = {}
    for tr in table.find_all("tr"):
        cells = tr.find_all(["th", "td"], recursive=False)
        row_index = len(rows)
        values: list[object] = []
        for cell in cells:
            values.append(" ".join(cell.get_text(" ").split()))
            anchor = cell.find("a", href=True)
            if anchor is not None:
                href = str(anchor["href"]).strip()
                links[(row_index, len(values) - 1)] = absolute_url(href, base_url) if base_url else href
        rows.append(values)
    return RawSheet(name, rows, links)


def _list_of(table: Tag) -> str:
    """participating / pending from the table's caption or the heading before it (participating if none)."""
    caption = table.find("caption")
    heading = table.find_previous(["h1", "h2", "h3", "h4", "strong"])
    label = " ".join(x.get_text(" ") for x in (caption, heading) if x is not None)
    return list_from_name(label) or "participating"


def roster_tables(html: str | bytes) -> list[tuple[str, bytes]]:
    """(list, the `<table>` element's HTML) for each roster table on a page, first of each list only."""
    soup = BeautifulSoup(html, "lxml")
    found: dict[str, bytes] = {}
    for index, table in enumerate(soup.find_all("table")):
        try:
            parse_roster([_sheet(table, "", f"table{index + 1}")])
        except RosterFormatError:
            continue
        found.setdefault(_list_of(table), str(table).encode("utf-8"))
    return sorted(found.items())


def read_html_roster(source: str | Path | bytes, base_url: str = "") -> RosterTable:
    """The first roster table of an HTML file; raises RosterFormatError when there is none."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    soup = BeautifulSoup(data, "lxml")
    sheets = [_sheet(table, base_url, f"table{i + 1}") for i, table in enumerate(soup.find_all("table"))]
    return parse_roster(sheets)


def is_html_roster(name: str) -> bool:
    return name.lower().endswith(".html")


def source_format(name: str) -> str:
    """How an archived roster file holds its rows: `xlsx` (a workbook) or `html_table`."""
    return SOURCE_FORMAT if is_html_roster(name) else "xlsx"


def read_archived_roster(path: Path) -> RosterTable:
    """An archived roster, workbook or HTML table (raises WorkbookError when it is neither)."""
    return read_html_roster(path, PAGE_URL) if is_html_roster(path.name) else read_roster_checked(path)
