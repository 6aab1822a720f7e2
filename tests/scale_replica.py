"""ICE's roster at today's scale, built at run time from the fixtures (never committed).

A participating roster of N agreements (default 2,400, as in August 2026) made from the rows of the
newest fixture workbook: real states, counties, agency types, models and names, repeated copies
made unique ("… Detachment 2") with earlier signing dates; a pending roster the same way; and a
distinct PDF per agreement: one of the 17 fixture agreements with a comment line appended after
its end, so every file has its own sha256 and still opens as the same valid PDF.
`IceSite.serve_replica` serves them; `day(k)` gives the roster k days later with 20 agreements
changed (amended with a new PDF, added, removed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from tests.roster_factory import HEADER, ICE_MOA, roster_workbook

PENDING_HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
MODEL_CODES = {"Task Force Model": "TFM", "Jail Enforcement Model": "JEM", "Warrant Service Officer": "WSO"}


def fixture_rows(sheets: Path, kind: str) -> list[dict[str, str]]:
    """Rows of the newest fixture workbook of `kind` (participating | pending), values as text."""
    newest = sorted(sheets.glob(f"*/{kind}*.xlsx"))[-1]
    sheet = openpyxl.load_workbook(newest, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(v or "").strip() for v in rows[0]]
    out = []
    for values in rows[1:]:
        row = {name: (v.date().isoformat() if isinstance(v, dt.datetime) else str(v or "").strip())
               for name, v in zip(header, values) if name}
        if row.get("LAW ENFORCEMENT AGENCY"):
            out.append(row)
    return out


def unique(rows: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """`count` rows cycling through `rows`; copy k > 0 of a row is "<name> Detachment <k+1>"."""
    out = []
    for index in range(count):
        base, copy = rows[index % len(rows)], index // len(rows)
        row = dict(base)
        if copy:
            row["LAW ENFORCEMENT AGENCY"] = f"{base['LAW ENFORCEMENT AGENCY']} Detachment {copy + 1}"
        out.append(row)
    return out


def pdf_name(index: int, row: dict[str, str], generation: int = 0) -> str:
    code = MODEL_CODES.get(row.get("SUPPORT TYPE", ""), "MOA")
    state = "".join(w[0] for w in row.get("STATE", "XX").split())[:2].upper()
    suffix = f"_v{generation}" if generation else ""
    return f"Replica{index:05d}{state}_{code}_MOA{suffix}.pdf"


def replica_pdf(fixture: bytes, name: str) -> bytes:
    """The fixture PDF with a comment after its end: other sha256, same document."""
    return fixture + b"\n% scale replica " + name.encode() + b"\n%%EOF\n"


@dataclass
class Replica:
    """The agreements of one day: rows with their PDF names; `fixtures`: PDF bytes to vary."""

    rows: list[dict[str, str]]
    pending: list[dict[str, str]]
    fixtures: list[bytes]
    pdfs: dict[str, int] = field(default_factory=dict)  # pdf name → fixture index

    @classmethod
    def build(cls, fixtures_root: Path, count: int = 2400, pending: int = 120, only: set[str] | None = None) -> Replica:
        """`only`: fixture PDF names to vary (default all 17)."""
        sheets, agreements = fixtures_root / "ice287g" / "sheets", fixtures_root / "ice287g" / "agreements"
        base = [r for r in fixture_rows(sheets, "participating")]
        rows = unique(base, count)
        for index, row in enumerate(rows):
            copy = index // len(base)
            signed = dt.date.fromisoformat(row["SIGNED"]) if row.get("SIGNED", "")[:4].isdigit() else dt.date(2025, 1, 2)
            row["SIGNED"] = (signed - dt.timedelta(days=97 * copy)).isoformat()
            row["name"] = pdf_name(index, row)
        pdf_bytes = [p.read_bytes() for p in sorted(agreements.rglob("*.pdf")) if only is None or p.name in only]
        replica = cls(rows, unique(fixture_rows(sheets, "pending"), pending), pdf_bytes)
        for index, row in enumerate(rows):
            replica.pdfs[row["name"]] = index % len(pdf_bytes)
        return replica

    def pdf(self, name: str) -> bytes | None:
        index = self.pdfs.get(name)
        return None if index is None else replica_pdf(self.fixtures[index], name)

    def participating_workbook(self) -> bytes:
        rows = [{**{k: v for k, v in r.items() if k != "name"}, "MOA": "link", "moa_link": ICE_MOA + r["name"]}
                for r in self.rows]
        return roster_workbook(rows, HEADER)

    def pending_workbook(self) -> bytes:
        return roster_workbook(self.pending, PENDING_HEADER)

    def change(self, day: int, changed: int = 20) -> None:
        """Day `day`'s edits: half the `changed` agreements amended (new date, new PDF), a quarter
        added, a quarter removed (a removed agency's PDF stays served, as ICE's do)."""
        amended, added = changed // 2, changed // 4
        removed = changed - amended - added
        start = (day * changed) % max(1, len(self.rows) - changed)
        for offset in range(amended):
            row = self.rows[start + offset]
            row["SIGNED"] = (dt.date(2026, 8, 1) + dt.timedelta(days=day)).isoformat()
            row["name"] = pdf_name(start + offset, row, generation=day)
            self.pdfs[row["name"]] = (start + offset + day) % len(self.fixtures)
        del self.rows[start + amended:start + amended + removed]
        for extra in range(added):
            row = dict(self.rows[(start + extra * 7) % len(self.rows)])
            row["LAW ENFORCEMENT AGENCY"] = f"{row['LAW ENFORCEMENT AGENCY']} New Unit {day}-{extra}"
            row["SIGNED"] = (dt.date(2026, 8, 1) + dt.timedelta(days=day)).isoformat()
            row["name"] = f"Replica{day:03d}{extra:02d}NEW_{MODEL_CODES.get(row.get('SUPPORT TYPE', ''), 'MOA')}_MOA.pdf"
            self.pdfs[row["name"]] = (day + extra) % len(self.fixtures)
            self.rows.append(row)


def roster_names(day: dt.date) -> tuple[str, str]:
    """ICE's file names for the day's two rosters (the form the scraper's date parser knows)."""
    stamp = day.strftime("%m%d%Y")
    return f"participatingAgencies{stamp}am.xlsx", f"pendingAgencies{stamp}am.xlsx"
