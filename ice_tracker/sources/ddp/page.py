"""Read a DDP data page: the "through <date>" sentence and every release link, labelled by table.

DDP's pages are hand-edited Quarto pages. Release tables appear either as plain HTML tables or as
reactable widgets whose rows sit as JSON inside `<script type="application/json">`; the cells hold
`<a href='…'>xlsx</a> (39 MB)` snippets. Links we track: Box downloads in both forms
(`/shared/static/<token>.<ext>` and `index.php?rm=box_download_shared_file&…`) and processed files
(git-LFS media URLs `/media/<owner>/<repo>/<branch>/…`). A link is part of the *latest release* when
it sits in the block holding the "most recent release" sentence, in a table with a Type column (the
latest-release table), or is a processed `-latest.` file.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

SENTENCE = re.compile(r"The most recent release of data.*?\.(?=\s+[A-Z]|\s*$)", re.S)
THROUGH = re.compile(r"\bthrough\s+(.+?)\.?$", re.S)
FULL_DATE = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for m in names}
STATIC_PATH = re.compile(r"/shared/static/[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)?$")
MEDIA_PATH = re.compile(r"^/media/[^/]+/[^/]+/[^/]+/.+\.[A-Za-z0-9]+$")
FORMATS = ("xlsx", "zip", "parquet", "csv", "dta", "sav", "feather", "txt", "xls")


@dataclass
class DdpLink:
    url: str
    kind: str  # raw (Box) / processed (LFS media)
    table: str  # arrests, detainers, detentions, encounters, removals, stints, stays, all, … or ''
    fmt: str  # file format from the URL or the link text ('' when unknown)
    latest: bool
    label: str  # the text the table was inferred from
    page: str = ""


@dataclass
class PageScan:
    url: str
    sentence: str = ""
    through: date | None = None
    links: list[DdpLink] = field(default_factory=list)


def _table_keywords() -> list[tuple[re.Pattern[str], str]]:
    text = resources.files("ice_tracker.sources.ddp").joinpath("data/tables.csv").read_text(encoding="utf-8")
    return [(re.compile(rf"\b{re.escape(row['keyword'])}(?:s|es)?\b", re.I), row["table"])
            for row in csv.DictReader(text.splitlines())]


TABLE_KEYWORDS = _table_keywords()


def table_from_text(*texts: str) -> tuple[str, str]:
    """(table, the text it came from): the first text naming a known table (see data/tables.csv)."""
    for text in texts:
        plain = re.sub(r"[_\-]+", " ", text or "")
        for pattern, table in TABLE_KEYWORDS:
            if pattern.search(plain):
                return table, " ".join((text or "").split())
    return "", ""


def parse_through(sentence: str) -> date | None:
    """The day in '… through March 10, 2026.' (also 2026-03-10, 3/10/2026); None for 'early March 2026'."""
    match = THROUGH.search(sentence or "")
    if not match:
        return None
    text = match.group(1)
    try:
        if m := ISO_DATE.search(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := US_DATE.search(text):
            return date(int(m[3]), int(m[1]), int(m[2]))
        if (m := FULL_DATE.search(text)) and m[1].lower() in MONTHS:
            return date(int(m[3]), MONTHS[m[1].lower()], int(m[2]))
    except ValueError:
        return None
    return None


def classify_url(url: str) -> str:
    """'raw' for a Box download, 'processed' for an LFS media file, '' for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return ""
    if STATIC_PATH.search(parts.path):
        return "raw"
    if parts.path.endswith("/index.php") and parse_qs(parts.query).get("rm") == ["box_download_shared_file"]:
        return "raw"
    if MEDIA_PATH.match(parts.path) or (parts.hostname or "").endswith("raw.githubusercontent.com"):
        return "processed"
    return ""


def _format(url: str, text: str) -> str:
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    word = text.strip().lower().split(" ")[0] if text.strip() else ""
    return word if word in FORMATS else ""


def _heading(element: Tag) -> str:
    heading = element.find_previous(["h2", "h3"])
    return heading.get_text(" ", strip=True) if heading else ""


def _sentence(soup: BeautifulSoup) -> tuple[str, Tag | None]:
    for node in soup.find_all(string=re.compile("most recent release of data")):
        if node.find_parent(["script", "style"]):
            continue
        holder = node.find_parent(["p", "div", "li"]) or node.parent
        text = " ".join(holder.get_text(" ", strip=True).split())
        match = SENTENCE.search(text)
        if match:
            return match.group(0), holder
    return "", None


def _latest_block(holder: Tag | None) -> Tag | None:
    if holder is None:
        return None
    for parent in holder.parents:
        if parent.name == "div" and any("callout" in c for c in parent.get("class", [])):
            return parent
    return holder.find_parent("section") or holder.parent


def _anchors(html: str) -> list[tuple[str, str]]:
    snippet = BeautifulSoup(html, "lxml")
    return [(a["href"], a.get_text(" ", strip=True)) for a in snippet.find_all("a", href=True)]


def _widget_rows(data: Any) -> list[dict[str, str]]:
    """Rows of a reactable widget: its `data` is a dict of column → list of cell values."""
    found: list[dict[str, str]] = []
    if isinstance(data, dict):
        cols = data.get("data")
        if isinstance(cols, dict) and cols and all(isinstance(v, list) for v in cols.values()):
            n = max(len(v) for v in cols.values())
            for i in range(n):
                found.append({k: "" if i >= len(v) or v[i] is None else _cell_text(v[i]) for k, v in cols.items()})
            return found
        for value in data.values():
            found.extend(_widget_rows(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(_widget_rows(value))
    return found


def _cell_text(value: Any) -> str:
    """A cell as HTML text; nested lists (the 'Cleaned' column's [url, size, format]) become anchors."""
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, list) and item and isinstance(item[0], str):
                parts.append(f"<a href='{item[0]}'>{item[-1] if len(item) > 1 else ''}</a>")
            else:
                parts.append(_cell_text(item))
        return " ".join(parts)
    return str(value)


def _dom_rows(table: Tag) -> list[tuple[dict[str, str], dict[str, Tag]]]:
    header_row = table.find("tr")
    if header_row is None:
        return []
    headers = [c.get_text(" ", strip=True) for c in header_row.find_all(["th", "td"])]
    rows = []
    for tr in table.find_all("tr")[1:]:
        cells = tr.find_all(["td", "th"])
        rows.append(({h: c.get_text(" ", strip=True) for h, c in zip(headers, cells)},
                     {h: c for h, c in zip(headers, cells)}))
    return rows


def parse_page(html: str, page_url: str) -> PageScan:
    """Everything this module tracks on one page (links de-duplicated by URL, latest wins)."""
    soup = BeautifulSoup(html, "lxml")
    scan = PageScan(url=page_url)
    scan.sentence, holder = _sentence(soup)
    scan.through = parse_through(scan.sentence)
    block = _latest_block(holder)
    found: dict[str, DdpLink] = {}

    def inside_block(element: Tag) -> bool:
        return block is not None and (element is block or block in element.parents)

    def add(href: str, text: str, element: Tag, type_cell: str | None, row_text: str) -> None:
        url = urljoin(page_url, href.strip())
        kind = classify_url(url)
        if not kind:
            return
        name = PurePosixPath(unquote(urlsplit(url).path)).name
        table, label = table_from_text(type_cell or "", name if kind == "processed" else "", _heading(element),
                                       text, row_text, name)
        latest = type_cell is not None or inside_block(element) or "-latest." in name
        link = DdpLink(url, kind, table, _format(url, text), latest, label, page_url)
        old = found.get(url)
        if old is None or (latest and not old.latest):
            found[url] = link

    seen_anchors: set[int] = set()
    for table in soup.find_all("table"):
        for values, cells in _dom_rows(table):
            type_cell = values.get("Type")
            for column, cell in cells.items():
                for a in cell.find_all("a", href=True):
                    seen_anchors.add(id(a))
                    add(a["href"], a.get_text(" ", strip=True), table, type_cell, " ".join(values.values()))
    for script in soup.find_all("script", attrs={"type": "application/json"}):
        try:
            widget = json.loads(script.string or "")
        except ValueError:
            continue
        for values in _widget_rows(widget):
            type_cell = values.get("Type")
            for cell in values.values():
                if "href" in cell:
                    for href, text in _anchors(cell):
                        add(href, text, script, type_cell, "")
    for a in soup.find_all("a", href=True):
        if id(a) not in seen_anchors:
            parent_text = a.parent.get_text(" ", strip=True) if a.parent else ""
            add(a["href"], a.get_text(" ", strip=True), a, None, parent_text)
    scan.links = sorted(found.values(), key=lambda link: link.url)
    return scan
