"""Logging configuration for the command-line entry points (library code only uses `logging`)."""

from __future__ import annotations

import logging
import sys


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr with UTC-free, compact lines; repeated calls are harmless."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not any(getattr(h, "_ice_tracker", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handler._ice_tracker = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "pdfminer", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
