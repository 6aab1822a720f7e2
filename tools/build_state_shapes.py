"""Rebuild `ice_tracker/publish/data/us_states_albers.json` from the npm package us-atlas 3.0.1.

Run once by hand (`npm pack us-atlas@3.0.1 && tar xzf us-atlas-3.0.1.tgz`, then
`python tools/build_state_shapes.py package/states-albers-10m.json`). The shapes are the Census
Bureau's cartographic boundaries, pre-projected by us-atlas to Albers USA (Alaska and Hawaii as
insets) in a 975 × 610 pixel frame, so neither matplotlib nor the dashboard needs a projection
library or a map server. TopoJSON arcs are decoded to plain rings rounded to 0.1 px.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "ice_tracker" / "publish" / "data" / "us_states_albers.json"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((round(x * scale[0] + translate[0], 1), round(y * scale[1] + translate[1], 1)))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        part = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(part[1:] if points else part)
    deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    return [list(p) for p in deduped]


def main(source: str) -> None:
    topology = json.loads(Path(source).read_text())
    arcs = decode_arcs(topology)
    states = []
    for geometry in topology["objects"]["states"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        states.append({"fips": geometry["id"], "name": geometry["properties"]["name"],
                       "polygons": [[ring(r, arcs) for r in polygon] for polygon in polygons]})
    states.sort(key=lambda s: s["fips"])
    out = {
        "source": "us-atlas 3.0.1 states-albers-10m.json (npm; ISC licence, Copyright 2013-2019 Michael Bostock), "
                  "from the U.S. Census Bureau's cartographic boundary files; Albers USA, 975x610 px, y down",
        "width": 975, "height": 610, "states": states,
    }
    OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(states)} states, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
