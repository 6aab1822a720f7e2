"""One-line errors for the command line: bad input gets a sentence on stderr and exit 2, never a
traceback (the traceback is logged too under -v); Ctrl-C gets "interrupted" and 128 + the signal."""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Callable

from ice_tracker.logging_setup import log_failure, safe_text

log = logging.getLogger("ice_tracker")

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Input the command cannot use (a data dir that is a file, a bad setting); the message says which."""


def run_guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run `command(args)`, turning any exception that escapes it into one logged line and an exit code."""
    try:
        return int(command(args) or 0)
    except KeyboardInterrupt as stop:
        reason = getattr(stop, "reason", "SIGINT")
        log.error("interrupted (%s)", reason)
        return int(getattr(stop, "exit_code", 128 + signal.SIGINT))
    except (UsageError, ValueError) as exc:  # SettingError and BadLimit are ValueErrors
        log.error("%s", safe_text(str(exc), limit=500))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("traceback", exc_info=exc)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 (the last line of defence: one line, never a traceback)
        log_failure(log, "stopped (run with -v for the traceback)", exc)
        return EXIT_BAD_INPUT
