"""`data/feeds/<ST>.atom`: one Atom feed per state, one entry per checked change to an agreement there.

A reporter follows one state, not the nation. Every entry is a row of data/changes.csv (so it comes
from rosters that passed the publication check, and a removal only after two good rosters): the
agency, the program model, the roster date, a link to the archived roster workbook and to the
agreement PDF (on ice.gov and, when archived, the copy here). Editorial batch rewrites are national
and stay in data/changes.atom. Dates come from the data, never the clock, so the bytes change only
when the data does.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from ice_tracker.fileio import atomic_write_bytes
from ice_tracker.publish.atom import ATOM_NS, MAX_ENTRIES, _sub
from ice_tracker.publish.series import archived_pdfs
from ice_tracker.publish.site import web_link
from ice_tracker.states import load_state_table

FEEDS_DIR = "data/feeds"
FEED_KINDS = {
    "added": "added to the {list} list", "moved_from_pending": "moved from pending to participating",
    "removed": "removed from the {list} list", "moved_to_participating": "moved from pending to participating",
    "renamed": "renamed", "changed": "{field} changed",
}


def _entries(changes: pd.DataFrame, moa_by_id: dict[str, str], pdfs: tuple[dict, dict]) -> dict[str, list[dict]]:
    """Postal code → entries (dicts of the entry's parts), newest first."""
    table = load_state_table()
    by_url, by_agency = pdfs
    found: dict[str, list[dict]] = {}
    rows = changes[changes["change"].isin(list(FEED_KINDS)) & (changes["roster_date"] != "")]
    for r in rows.to_dict("records"):
        code = table.codes.get(r["state"])
        if not code:
            continue
        what = FEED_KINDS[r["change"]].format(list=r["list"], field=r.get("field", ""))
        if r["change"] == "moved_to_participating" and r["list"] == "pending":
            continue  # the participating side announces the same move
        moa = web_link(moa_by_id.get(r["agreement_id"], ""))
        archived = by_url.get(moa) or next(iter(by_agency.get((r["state"], " ".join(r["agency"].split())), [])), "")
        detail = f"{r['old']} → {r['new']}" if r["change"] in ("renamed", "changed") else ""
        found.setdefault(code, []).append({
            "id": f"tag:ice-tracker,2025:feeds/{code}/{r['roster_date']}/{r['list']}/{r['change']}/{r['agreement_id']}"
                  f"/{r.get('field', '')}",
            "date": r["roster_date"], "title": f"{r['agency']} ({r['support_type'] or 'model not given'}): {what}",
            "agency": r["agency"], "model": r["support_type"], "what": what, "detail": detail,
            "roster": f"../../sheets/{r['snapshot']}/{r['file']}", "roster_name": r["file"],
            "moa": moa, "archived": f"../../{archived}" if archived else "",
            "rename_of": r.get("possible_rename_of", ""),
        })
    for entries in found.values():
        entries.sort(key=lambda e: (e["date"], e["id"]), reverse=True)
    return found


def _content(e: dict) -> str:
    parts = [f"<p>{html.escape(e['agency'])}: {html.escape(e['what'])} on the roster dated {e['date']}.</p>",
             f"<p>Program model: {html.escape(e['model'] or 'not given')}</p>"]
    if e["detail"]:
        parts.append(f"<p>{html.escape(e['detail'])}</p>")
    if e["rename_of"]:
        parts.append(f"<p>May continue agreement {html.escape(e['rename_of'])} (evidence too weak to call it a rename).</p>")
    links = [f'<a href="{html.escape(e["roster"])}">roster {html.escape(e["roster_name"])}</a>']
    if e["moa"]:
        links.append(f'<a href="{html.escape(e["moa"])}">agreement PDF on ice.gov</a>')
    if e["archived"]:
        links.append(f'<a href="{html.escape(e["archived"])}">archived copy</a>')
    return "".join(parts) + "<p>" + " · ".join(links) + "</p>"


def build_state_feeds(changes: pd.DataFrame | None, agreements: pd.DataFrame | None,
                      manifest: pd.DataFrame | None) -> dict[str, bytes]:
    """Postal code → the state's feed bytes (only states with at least one change)."""
    if changes is None or changes.empty:
        return {}
    moa_by_id: dict[str, str] = {}
    if agreements is not None and {"agreement_id", "moa_url"} <= set(agreements.columns):
        moa_by_id = dict(zip(agreements["agreement_id"], agreements["moa_url"]))
    feeds = {}
    ET.register_namespace("", ATOM_NS)
    for code, entries in sorted(_entries(changes, moa_by_id, archived_pdfs(manifest)).items()):
        entries = entries[:MAX_ENTRIES]
        feed = ET.Element(f"{{{ATOM_NS}}}feed")
        _sub(feed, "id", f"tag:ice-tracker,2025:feeds/{code}")
        _sub(feed, "title", f"ice-tracker: 287(g) agreement changes in {code}")
        _sub(feed, "subtitle", "One entry per checked change to a 287(g) agreement in this state: additions, "
                               "removals (missing from two good rosters), renames, moves and field changes.")
        _sub(feed, "updated", f"{entries[0]['date']}T00:00:00Z")
        _sub(_sub(feed, "author"), "name", "ice-tracker")
        _sub(feed, "link", rel="self", href=f"{code}.atom", type="application/atom+xml")
        _sub(feed, "generator", "ice-tracker")
        for e in entries:
            entry = _sub(feed, "entry")
            _sub(entry, "id", e["id"])
            _sub(entry, "title", f"{e['date']}: {e['title']}"[:250])
            _sub(entry, "updated", f"{e['date']}T00:00:00Z")
            _sub(entry, "link", rel="alternate", href=e["roster"])
            if e["moa"]:
                _sub(entry, "link", rel="related", href=e["moa"], type="application/pdf")
            _sub(entry, "summary", f"{e['agency']} ({e['model'] or 'model not given'}): {e['what']}, {e['date']}")
            _sub(entry, "content", _content(e), type="html")
        ET.indent(feed)
        feeds[code] = ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
    return feeds


def write_state_feeds(feeds: dict[str, bytes], data_dir: Path) -> list[str]:
    """Write every feed, remove feeds of states that no longer have one; returns the paths changed."""
    folder = Path(data_dir) / FEEDS_DIR
    changed = [f"{FEEDS_DIR}/{code}.atom" for code, body in feeds.items()
               if atomic_write_bytes(folder / f"{code}.atom", body)]
    for stale in sorted(folder.glob("*.atom")) if folder.is_dir() else []:
        if stale.stem not in feeds:
            stale.unlink()
            changed.append(f"{FEEDS_DIR}/{stale.name}")
    return changed
