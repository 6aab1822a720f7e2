"""`datapackage.json`: a Frictionless (tabular) Data Package describing every published CSV.

The descriptions live in data files (`data/resources.csv`, `data/fields.csv`) a journalist can read and
edit. Every column of every published CSV must be described there: `build_datapackage` reports a
column without a description (or a CSV without an entry) as a problem, and the tests fail on any.
`validate_resource` checks the values against the declared types and the primary key for uniqueness.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ice_tracker.fileio import sha256_file
from ice_tracker.publish.series import data_file

PACKAGE_NAME = "ice-tracker"
SKIP_DIRS = {"sheets", "agreements", "releases", "site", "plots", ".tmp", ".git", "moa_text"}
TYPES = {"string", "integer", "number", "boolean", "date", "datetime"}


@dataclass
class ResourceSpec:
    name: str
    path: str
    title: str
    description: str
    primary_key: list[str]
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # column → {type, format, description}


def dictionary() -> dict[str, ResourceSpec]:
    """The shipped resource and field descriptions, keyed by resource name (file order kept)."""
    specs: dict[str, ResourceSpec] = {}
    for row in csv.DictReader(io.StringIO(data_file("resources.csv"))):
        specs[row["name"]] = ResourceSpec(row["name"], row["path"], row["title"], row["description"],
                                          row["primary_key"].split())
    for row in csv.DictReader(io.StringIO(data_file("fields.csv"))):
        spec = specs.get(row["resource"])
        if spec is None:
            raise ValueError(f"fields.csv: unknown resource {row['resource']!r}")
        if row["type"] not in TYPES:
            raise ValueError(f"fields.csv: {row['resource']}.{row['field']}: unknown type {row['type']!r}")
        spec.fields[row["field"]] = {"type": row["type"], "format": row["format"], "description": row["description"]}
    return specs


def csv_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def published_csvs(data_dir: Path) -> list[str]:
    """CSV files a user downloads: at the root and under data/ (archives and caches left out)."""
    root = Path(data_dir)
    found = [p for p in root.glob("*.csv")]
    data = root / "data"
    if data.is_dir():
        found += [p for p in data.rglob("*.csv") if not SKIP_DIRS & set(p.relative_to(root).parts)]
    return sorted(p.relative_to(root).as_posix() for p in found if not p.name.startswith("."))


def part_of(rel: str, specs: Iterable[ResourceSpec]) -> ResourceSpec | None:
    """The spec of a resource split over several files (its path a pattern such as
    `data/roster_history/*.csv`), named and titled for the one file `rel`."""
    for spec in specs:
        if "*" in spec.path and fnmatch.fnmatchcase(rel, spec.path):
            part = PurePosixPath(rel).stem
            return replace(spec, name=f"{spec.name}_{_resource_name(part)}", path=rel, title=f"{spec.title}, {part}")
    return None


def _resource_name(rel: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "_", rel.removesuffix(".csv").lower()).strip("_")


def build_datapackage(data_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """The descriptor for the CSVs present, and problems (undocumented columns or files)."""
    data_dir = Path(data_dir)
    specs = {spec.path: spec for spec in dictionary().values()}
    resources, problems = [], []
    for rel in published_csvs(data_dir):
        path = data_dir / rel
        spec = specs.get(rel) or part_of(rel, specs.values())
        if spec is None:
            problems.append(f"{rel}: published CSV with no entry in publish/data/resources.csv")
            spec = ResourceSpec(_resource_name(rel), rel, rel, "", [])
        header = csv_header(path)
        fields = []
        for column in header:
            info = spec.fields.get(column)
            if info is None or not info["description"].strip():
                problems.append(f"{rel}: column {column!r} has no description in publish/data/fields.csv")
                info = {"type": "string", "format": "", "description": ""}
            entry = {"name": column, "type": info["type"], "description": info["description"]}
            if info["format"]:
                entry["format"] = info["format"]
            fields.append(entry)
        for column in spec.fields:
            if header and column not in header:
                problems.append(f"{rel}: documented column {column!r} is not in the file")
        schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
        key = [c for c in spec.primary_key if c in header]
        if key and len(key) == len(spec.primary_key):
            schema["primaryKey"] = key
        resources.append({
            "name": spec.name, "path": rel, "title": spec.title, "description": spec.description,
            "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "bytes": path.stat().st_size, "hash": f"sha256:{sha256_file(path)}",
            "dialect": {"delimiter": ",", "doubleQuote": True, "header": True, "lineTerminator": "\n"},
            "schema": schema,
        })
    descriptor = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "ice-tracker: ICE 287(g) agreements and ICE detention data",
        "description": "Daily archive of ICE's 287(g) rosters and agreements, matched to CSLLEA 2018, and detention "
                       "population figures derived from ICE records released to the Deportation Data Project.",
        "sources": [
            {"title": "ICE 287(g) program page", "path": "https://www.ice.gov/identify-and-arrest/287g"},
            {"title": "Census of State and Local Law Enforcement Agencies 2018 (ICPSR 38771)",
             "path": "https://www.icpsr.umich.edu/web/NACJD/studies/38771"},
            {"title": "Deportation Data Project", "path": "https://deportationdata.org/"},
            {"title": "U.S. Census Bureau, 2020 Census apportionment results (state populations)",
             "path": "https://www.census.gov/data/tables/2020/dec/2020-apportionment-data.html"},
        ],
        "resources": resources,
    }
    return descriptor, problems


def _valid(value: str, kind: str) -> bool:
    try:
        if kind == "integer":
            int(value)
        elif kind == "number":
            float(value)
        elif kind == "boolean":
            return value in ("true", "false")
        elif kind == "date":
            date.fromisoformat(value)
        elif kind == "datetime":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def validate_resource(data_dir: Path, resource: dict[str, Any], max_examples: int = 3) -> list[str]:
    """Values that do not parse as their declared type, and duplicate primary keys."""
    fields = resource["schema"]["fields"]
    key = resource["schema"].get("primaryKey", [])
    problems: list[str] = []
    bad: dict[str, list[str]] = {}
    seen: set[tuple[str, ...]] = set()
    duplicates = 0
    with open(Path(data_dir) / resource["path"], newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        checks = [(f["name"], f["type"]) for f in fields if f["type"] != "string"]
        for row in reader:
            for name, kind in checks:
                value = row[name]
                if value and not _valid(value, kind):
                    bad.setdefault(name, []).append(value)
            if key:
                ident = tuple(row[c] for c in key)
                duplicates += ident in seen
                seen.add(ident)
    for name, values in bad.items():
        kind = next(f["type"] for f in fields if f["name"] == name)
        problems.append(f"{resource['path']}: {len(values)} value(s) of {name} are not {kind}: {values[:max_examples]}")
    if duplicates:
        problems.append(f"{resource['path']}: {duplicates} duplicate primary key(s) {key}")
    return problems
