"""ice_tracker: a daily, provenance-keeping archive of US immigration-enforcement data.

Sources: ICE's 287(g) program rosters and agreements, and the Deportation Data Project's
releases of ICE records. See README.md for the data layout and the commands.
"""

__version__ = "0.1.0"
PROJECT_NAME = "ice-tracker"
PROJECT_URL = "https://github.com/ice-tracker/ice-tracker"
USER_AGENT = f"{PROJECT_NAME}/{__version__} (+{PROJECT_URL}; public-interest data archive)"
