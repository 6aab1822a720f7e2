"""Subcommands of `python -m ice_tracker`: one module each (see ice_tracker.cli)."""
