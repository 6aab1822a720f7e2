"""Find the roster workbook links on the 287(g) page, whatever form ICE gives them this month.

Seen so far: absolute `…/doclib/about/offices/ero/287g/participatingAgenciesMMDDYYYYam.xlsx` hrefs
(Feb 2025 – Mar 2026), then `/file-download/download/public/<id>` links with text such as "View
participating agencies" whose real file name only arrives in Content-Disposition; hrefs may be
relative, root-relative or protocol-relative. Anything that *might* be a roster is a candidate;
the download is what proves it (see `scrape.verify_workbook`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup

from ice_tracker.urls import absolute_url

FILE_DOWNLOAD = re.compile(r"/file-download/download/public/\d+", re.I)
ROSTER_WORDS = re.compile(r"participat|pending", re.I)
XLSX = re.compile(r"\.xlsx?(?:$|[?#])", re.I)


@dataclass(frozen=True)
class Candidate:
    url: str
    text: str
    strong: bool  # an .xlsx or file-download link: failing to verify it is a recorded failure

    @property
    def list_hint(self) -> str:
        return list_from_name(self.text) or list_from_name(self.url)


def list_from_name(text: str) -> str:
    """'participating' / 'pending' from a file name or link text, else ''."""
    lowered = text.lower()
    if "pending" in lowered:
        return "pending"
    if "participat" in lowered:
        return "participating"
    return ""


def find_candidates(html: str, page_url: str) -> list[Candidate]:
    """Candidate roster links in page order, de-duplicated by absolute URL."""
    soup = BeautifulSoup(html, "lxml")
    seen: dict[str, Candidate] = {}
    for anchor in soup.find_all("a", href=True):
        href = str(anchor["href"]).strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        text = " ".join(anchor.get_text(" ").split())
        url = absolute_url(href, page_url)
        is_xlsx = bool(XLSX.search(url))
        is_download = bool(FILE_DOWNLOAD.search(url))
        mentions = bool(ROSTER_WORDS.search(text) or ROSTER_WORDS.search(href))
        if not (is_xlsx or is_download or mentions):
            continue
        if url.lower().endswith((".pdf", ".doc", ".docx", ".csv")) and not is_download:
            continue
        candidate = Candidate(url=url, text=text, strong=is_xlsx or is_download)
        if url not in seen or (candidate.strong and not seen[url].strong):
            seen[url] = candidate
    return list(seen.values())
