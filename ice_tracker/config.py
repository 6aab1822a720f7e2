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
