"""The daily job: `python scraper.py --help` lists the options (see README.md)."""

from ice_tracker.daily import main

if __name__ == "__main__":
    raise SystemExit(main())
