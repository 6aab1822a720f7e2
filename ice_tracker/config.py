"""Defaults every command shares: where data lives, where hand corrections and big or derived caches go.

The data dir is $ICE_TRACKER_DATA_DIR, else the checkout's root when running from a checkout (what
the workflow commits), else the current directory (an installed copy never writes into
site-packages). Hand corrections live in `<data-dir>/overrides/`, seeded from the package's
defaults the first time a command is given that data dir (the package's defaults are read until then); in the checkout that is the repository's `overrides/`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ice_tracker.fileio import atomic_write_bytes

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_ROOT = PACKAGE_DIR.parent  # the repository, when running from a checkout
OVERRIDES = "overrides"
# An installed wheel carries the checkout's overrides/ as package data (see setup.py).
PACKAGED_OVERRIDES = PACKAGE_DIR / "default_overrides"


def running_from_checkout() -> bool:
    return (CHECKOUT_ROOT / "scraper.py").is_file() and (CHECKOUT_ROOT / "pyproject.toml").is_file()


def default_overrides_dir() -> Path:
    """The package's default hand corrections: the checkout's overrides/, else the packaged copy."""
    checkout = CHECKOUT_ROOT / OVERRIDES
    return checkout if running_from_checkout() and checkout.is_dir() else PACKAGED_OVERRIDES


DEFAULT_OVERRIDES_DIR = default_overrides_dir()


def overrides_for(data_dir: Path) -> Path:
    """`<data_dir>/overrides` when it exists, else the package's defaults (read, never written here)."""
    target = Path(data_dir) / OVERRIDES
    return target if target.is_dir() else DEFAULT_OVERRIDES_DIR


def seed_overrides(data_dir: Path) -> Path:
    """Create `<data_dir>/overrides` from the package's defaults when it does not exist yet (the
    commands do this for the data dir they were given; library calls never write it). A data dir
    that cannot be written keeps working on the defaults (logged)."""
    target = Path(data_dir) / OVERRIDES
    if target.exists() or not Path(data_dir).is_dir() or not DEFAULT_OVERRIDES_DIR.is_dir():
        return target
    try:
        for source in sorted(DEFAULT_OVERRIDES_DIR.glob("*.csv")):
            atomic_write_bytes(target / source.name, source.read_bytes())
    except OSError as exc:
        log.warning("could not seed %s (%s); using the package's default overrides", target, exc)
        return DEFAULT_OVERRIDES_DIR
    log.info("seeded %s with the package's default overrides", target)
    return target


DATA_DIR_DEFAULT = "$ICE_TRACKER_DATA_DIR, else the checkout's root, else the current directory"


def default_data_dir() -> Path:
    """The data root: $ICE_TRACKER_DATA_DIR, else the checkout's root, else the current directory."""
    env = os.environ.get("ICE_TRACKER_DATA_DIR", "").strip()
    if env:
        return Path(env)
    return CHECKOUT_ROOT if running_from_checkout() else Path.cwd()


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
