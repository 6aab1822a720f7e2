"""`data/changes.atom`: one Atom (RFC 4287) entry per day on which something changed.

A day's entry gathers the roster changes dated that day (agencies added, removed, renamed, moved
from pending; field changes counted), the agreement PDFs first archived that day and the Deportation
Data Project release files archived that day. Dates come from the data, never from the clock, so the
feed's bytes change only when the data does.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import PurePosixPath

import pandas as pd

from ice_tracker.publish.series import PDF_KINDS

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:ice-tracker,2025:changes"
MAX_ENTRIES = 400
ADDED = ("added", "moved_from_pending")
REMOVED = ("removed", "moved_to_participating")
LABELS = {
    "added": "added", "moved_from_pending": "moved from pending", "removed": "removed",
    "moved_to_participating": "moved to participating", "renamed": "renamed",
}


def _agency(row: pd.Series) -> str:
    model = f" ({row['support_type']})" if row.get("support_type") else ""
    return f"{row['agency']}, {row['state'].title()}{model}"


def roster_sections(changes: pd.DataFrame | None) -> dict[str, list[tuple[str, list[str]]]]:
    """Day → [(heading, lines)] from changes.csv."""
    days: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    if changes is None or changes.empty:
        return days
    for (day, list_name), group in changes[changes["roster_date"] != ""].groupby(["roster_date", "list"], sort=True):
        for change in ("added", "moved_from_pending", "removed", "moved_to_participating", "renamed"):
            rows = group[group["change"] == change]
            if rows.empty:
                continue
            if change == "renamed":
                lines = [f"{r['old']} → {r['new']}, {r['state'].title()}" for _, r in rows.iterrows()]
            else:
                lines = [_agency(r) for _, r in rows.iterrows()]
            days[day].append((f"{list_name.capitalize()} list: {len(rows)} {LABELS[change]}", lines))
        for _, r in group[group["change"] == "editorial"].iterrows():  # one batch rewrite of the sheet
            days[day].append((f"{list_name.capitalize()} list: editorial rewrite of {r['old']} ({r['field']})",
                              [r["new"], r["evidence"]]))
        changed = group[group["change"] == "changed"]
        if len(changed):
            fields = ", ".join(f"{f} ×{n}" for f, n in changed["field"].value_counts().sort_index().items())
            days[day].append((f"{list_name.capitalize()} list: {len(changed)} field change(s) ({fields})", []))
    return days


def archive_sections(manifest: pd.DataFrame | None) -> dict[str, list[tuple[str, list[str]]]]:
    """Day → [(heading, lines)] for agreement PDFs and DDP release files first archived that day."""
    days: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    if manifest is None or manifest.empty:
        return days
    first = manifest.sort_values(["fetched_at", "path"]).drop_duplicates("sha256" if "sha256" in manifest else "path")
    first = first.assign(day=first["fetched_at"].str[:10])
    for day, group in first[first["kind"].isin(PDF_KINDS)].groupby("day", sort=True):
        lines = [f"{PurePosixPath(path).name} ({agency}, {state.title()})"  # not iterrows: thousands of PDFs on day one
                 for path, agency, state in zip(group["path"], group["agency"], group["state"])]
        days[day].append((f"{len(group)} new agreement PDF(s) archived", lines))
    ddp = first[first["kind"].str.startswith("ddp") | first["path"].str.startswith("releases/ddp/")]
    for day, group in ddp.groupby("day", sort=True):
        releases = sorted({PurePosixPath(p).parts[2] if len(PurePosixPath(p).parts) > 3 else p for p in group["path"]})
        days[day].append((f"New Deportation Data Project release: {', '.join(releases)}",
                          [PurePosixPath(p).name for p in group["path"]]))
    return days


def _entry_html(sections: list[tuple[str, list[str]]]) -> str:
    parts = []
    for heading, lines in sections:
        parts.append(f"<h3>{html.escape(heading)}</h3>")
        if lines:
            parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
    return "".join(parts)


# Characters XML 1.0 forbids: one of them (a control character in an agency name) and feed readers
# reject the whole feed.
XML_INVALID = re.compile("[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def xml_text(text: str) -> str:
    return XML_INVALID.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def build_feed(changes: pd.DataFrame | None, manifest: pd.DataFrame | None) -> bytes | None:
    """The feed's bytes, or None when nothing has changed yet."""
    days: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for source in (roster_sections(changes), archive_sections(manifest)):
        for day, sections in source.items():
            days[day].extend(sections)
    if not days:
        return None
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", FEED_ID)
    _sub(feed, "title", "ice-tracker: 287(g) roster changes, new agreements and DDP releases")
    _sub(feed, "subtitle", "One entry per day on which ICE's 287(g) rosters, the archived agreements or the "
                           "Deportation Data Project's releases changed.")
    ordered = sorted(days, reverse=True)[:MAX_ENTRIES]
    _sub(feed, "updated", f"{ordered[0]}T00:00:00Z")
    author = _sub(feed, "author")
    _sub(author, "name", "ice-tracker")
    _sub(feed, "link", rel="self", href="changes.atom", type="application/atom+xml")
    _sub(feed, "link", rel="alternate", href="../site/index.html", type="text/html")
    _sub(feed, "generator", "ice-tracker")
    for day in ordered:
        sections = days[day]
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"{FEED_ID}/{day}")
        _sub(entry, "title", f"{day}: " + "; ".join(heading for heading, _ in sections)[:250])
        _sub(entry, "updated", f"{day}T00:00:00Z")
        _sub(entry, "link", rel="alternate", href="changes.csv", type="text/csv")
        _sub(entry, "summary", "; ".join(heading for heading, _ in sections))
        _sub(entry, "content", _entry_html(sections), type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
