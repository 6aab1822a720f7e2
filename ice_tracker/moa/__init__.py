"""Agreement PDFs → full text and one metadata row per distinct PDF (`python -m ice_tracker moa`)."""

from ice_tracker.moa.table import run_moa

__all__ = ["run_moa"]
