"""Deportation Data Project (DDP) releases: watch the pages, archive what is new, hand on detentions.

Entry point: `ice_tracker.sources.ddp.watch.watch_releases(...)`; the daily job's `releases` step.
"""

RAW_PAGE_URL = "https://deportationdata.org/data/ice.html"
PROCESSED_PAGE_URL = "https://deportationdata.org/data/processed/ice.html"
DEFAULT_PAGES = (RAW_PAGE_URL, PROCESSED_PAGE_URL)
# Every host a DDP page or its downloads redirect through (subdomains included).
ALLOWED_HOSTS = ("deportationdata.org", "box.com", "boxcloud.com", "githubusercontent.com")
