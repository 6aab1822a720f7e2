"""US state outlines (Albers USA, pre-projected; see tools/build_state_shapes.py) for the maps."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ice_tracker.publish.series import data_file


@lru_cache(maxsize=1)
def state_shapes() -> dict[str, Any]:
    """{"width", "height", "source", "states": [{"fips", "name", "polygons": [[ring, holes…], …]}]}."""
    return json.loads(data_file("us_states_albers.json"))


def label_point(polygons: list[list[list[list[float]]]]) -> tuple[float, float, float]:
    """Centre of the bounding box of a state's largest polygon, and that polygon's area (px²)."""
    def area(ring: list[list[float]]) -> float:
        return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]))) / 2

    outer = max((poly[0] for poly in polygons), key=area)
    xs, ys = [p[0] for p in outer], [p[1] for p in outer]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, area(outer)
