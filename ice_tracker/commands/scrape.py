"""`python -m ice_tracker scrape`: the daily job, exactly as `python scraper.py`."""

from __future__ import annotations

import argparse

from ice_tracker import daily

HELP = "run the daily job (same options as `python scraper.py`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    daily.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return daily.run(args)
