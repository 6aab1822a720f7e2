"""Rebuild agreements.csv: every roster row joined to its CSLLEA 2018 agency (see `python -m ice_tracker match -h`)."""

import sys

from ice_tracker.cli import main

if __name__ == "__main__":
    sys.exit(main(["match", *sys.argv[1:]]))
