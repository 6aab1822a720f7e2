"""Every resource limit the daily job applies to files and servers strangers control, with its reason.

One table, so an operator sees all of them in one place and can tune any without reading code:
each limit can be overridden by the environment variable `ICE_TRACKER_LIMIT_<NAME>` (upper case).
Add a limit here (name, value, unit, reason) rather than as a constant in the module that uses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str
    reason: str


LIMITS: dict[str, Limit] = {
    # Entries are added by the modules that enforce them; keep them sorted by name.
}


class BadLimit(ValueError):
    """An ICE_TRACKER_LIMIT_* value that is not a positive number."""


def limit(name: str) -> float:
    """The limit called `name`: its environment override when set, else the table's value."""
    entry = LIMITS[name]
    raw = os.environ.get(f"ICE_TRACKER_LIMIT_{name.upper()}")
    if raw is None or raw == "":
        return entry.value
    try:
        value = float(raw)
    except ValueError:
        raise BadLimit(f"ICE_TRACKER_LIMIT_{name.upper()}={raw!r} is not a number ({entry.unit})") from None
    if value <= 0:
        raise BadLimit(f"ICE_TRACKER_LIMIT_{name.upper()}={raw!r} must be positive ({entry.unit})")
    return value
