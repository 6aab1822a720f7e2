"""One command-line entry point; each subcommand lives in its own module under `commands/`.

A command module defines `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`, and
`READS_OVERRIDES = True` when it applies hand corrections (its data dir's `overrides/` is then seeded).
Modules are discovered, so adding a capability never means editing this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from ice_tracker import __version__, commands
from ice_tracker.config import default_data_dir, overrides_for, seed_overrides
from ice_tracker.errors import run_guarded
from ice_tracker.logging_setup import configure_logging
from ice_tracker.memory_pages import tune_for_large_tables
from ice_tracker.states import use_overrides_dir


def command_modules() -> dict[str, ModuleType]:
    """Every subcommand module, keyed by its command name (module name, `_` → `-`)."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        found[info.name.replace("_", "-")] = module
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ice_tracker",
        description="Archive and derive US immigration-enforcement data (287(g), DDP releases).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail (and tracebacks)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in command_modules().items():
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        if "-v" not in command_parser._option_string_actions:
            # -v after the command too; SUPPRESS so the command's default never hides a -v given before it
            command_parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                        help="log debug detail (and tracebacks)")
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    tune_for_large_tables()
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose)
    if getattr(sys.modules[args._run.__module__], "READS_OVERRIDES", False):
        data_dir = args.data_dir or default_data_dir()
        seed_overrides(data_dir)  # hand corrections belong to the data dir
        use_overrides_dir(overrides_for(data_dir))
    return run_guarded(args._run, args)
