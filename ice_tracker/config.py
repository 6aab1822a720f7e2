"""Defaults every command shares: where data lives, where big or derived caches go."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
OVERRIDES_DIR = REPO_ROOT / "overrides"  # hand corrections, as reviewable CSVs


def default_data_dir() -> Path:
    """The data root: $ICE_TRACKER_DATA_DIR, else the repository root (what the workflow commits)."""
    return Path(os.environ.get("ICE_TRACKER_DATA_DIR", REPO_ROOT))


def default_cache_dir() -> Path:
    """Big files and parse caches that are never committed: $ICE_TRACKER_CACHE or ~/.cache/ice_tracker."""
    env = os.environ.get("ICE_TRACKER_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ice_tracker"


class SettingError(ValueError):
    """An ICE_TRACKER_* environment value or option that cannot be used; the message says which and why."""


def env_number(name: str, default: float, *, integer: bool = False, minimum: float = 0.0) -> float:
    """The number in environment variable `name` (default when unset or empty); SettingError when it is not
    a number at least `minimum` (or not a whole number where `integer`)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingError(f"{name}={raw[:40]!r} is not {kind}") from None
    if not value >= minimum:  # also refuses NaN
        raise SettingError(f"{name}={raw[:40]!r} must be at least {minimum:g}")
    return value
