"""Field accuracy of the metadata table against hand labels, split by text-layer vs scanned PDFs.

Used by the bench and the labelled-fixture test. Agency names are compared on letters and digits
only (the text layer of a re-OCRed scan says "Sheriffs" where the page shows "Sheriff's").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

FIELDS = ("model", "lea_name", "lea_signed", "ice_signed")


def comparable(field: str, value: str) -> str:
    value = (value or "").strip()
    if field == "lea_name":
        return re.sub(r"[^a-z0-9]", "", value.lower())
    return value


def rows_by_file(rows: Iterable[dict[str, str]]) -> dict[str, dict[str, str]]:
    """Metadata rows keyed by every file name they were archived under."""
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        for path in filter(None, (row.get("paths") or "").split(";")):
            found[PurePosixPath(path).name] = row
    return found


def accuracy(rows: Iterable[dict[str, str]], labels: list[dict[str, str]]) -> dict[str, dict[str, object]]:
    """{group: {"n": files, field: share right, "wrong": [(file, field, got, want)]}} for
    groups text_layer, scanned and all."""
    by_file = rows_by_file(rows)
    result: dict[str, dict[str, object]] = {}
    for group in ("text_layer", "scanned", "all"):
        chosen = [lab for lab in labels if group == "all" or lab["kind"] == group]
        stats: dict[str, object] = {"n": len(chosen)}
        wrong: list[tuple[str, str, str, str]] = []
        for field in FIELDS:
            right = 0
            for lab in chosen:
                got = by_file.get(lab["file"], {}).get(field, "")
                if comparable(field, got) == comparable(field, lab[field]):
                    right += 1
                else:
                    wrong.append((lab["file"], field, got, lab[field]))
            stats[field] = right / len(chosen) if chosen else 0.0
        stats["all_fields"] = sum(float(stats[f]) for f in FIELDS) / len(FIELDS)  # type: ignore[arg-type]
        stats["wrong"] = wrong
        result[group] = stats
    return result


def format_table(result: dict[str, dict[str, object]]) -> str:
    lines = [f"{'group':<11} {'n':>3} " + " ".join(f"{f:>10}" for f in FIELDS) + f" {'mean':>7}"]
    for group, stats in result.items():
        cells = " ".join(f"{float(stats[f]):>10.0%}" for f in FIELDS)  # type: ignore[arg-type]
        lines.append(f"{group:<11} {stats['n']:>3} {cells} {float(stats['all_fields']):>7.0%}")  # type: ignore[arg-type]
    return "\n".join(lines)
