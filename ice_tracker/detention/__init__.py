"""Detention derivations: stints, stays, daily population per facility, ADP and length of stay.

Entry point for the daily job: `run_detention(inputs, out_dir, extract_date=None, facilities=None)`.
"""

from __future__ import annotations

from typing import Any


def run_detention(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See `ice_tracker.detention.run.run_detention` (imported lazily: pandas is heavy)."""
    from ice_tracker.detention.run import run_detention as _run

    return _run(*args, **kwargs)
