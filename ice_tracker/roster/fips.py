"""State and county FIPS codes for roster rows, so agreements can be joined to Census data and mapped.

State codes come from the package's one state table; county codes from the `addfips` package
(Census county names, 2020; handles "County", "Parish", "St."/"Saint", independent cities). A county
the table cannot place is listed in quality.csv (`county_fips_unresolved`) for a hand fix in
`overrides/roster_fixes.csv`.
"""

from __future__ import annotations

from functools import lru_cache

import addfips

from ice_tracker.states import load_state_table

UNRESOLVED = "county_fips_unresolved"


@lru_cache(maxsize=1)
def _counties() -> addfips.AddFIPS:
    return addfips.AddFIPS()


def state_fips(state: str) -> str:
    """'FLORIDA' → '12'; '' when the state is not in the table."""
    return load_state_table().fips.get(state, "")


@lru_cache(maxsize=8192)
def county_fips(state: str, county: str) -> str:
    """('FLORIDA', 'Miami-Dade County') → '12086'; '' when there is no county or it cannot be placed."""
    code = state_fips(state)
    if not county or not code:
        return ""
    return _counties().get_county_fips(county, state=code) or ""
