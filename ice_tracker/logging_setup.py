"""Logging configuration for the command-line entry points (library code only uses `logging`).

Logged text often quotes what strangers wrote (page links, workbook cells, server errors). On GitHub
Actions a log line that starts with `::` is a workflow command (`::error::`, `::add-mask::`,
`::stop-commands::`), so every record is made safe here: one line per message, no `::`.
"""

from __future__ import annotations

import logging
import re
import sys

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def safe_text(text: str, limit: int | None = None) -> str:
    """`text` on one line with no GitHub Actions workflow-command sequence (`::`), optionally cut to `limit`."""
    flat = _LINE_BREAKS.sub(" ", text)
    while "::" in flat:
        flat = flat.replace("::", ": :")
    if limit is not None and len(flat) > limit:
        flat = flat[: max(0, limit - 1)] + "…"
    return flat


class SafeTextFilter(logging.Filter):
    """Renders each record's message once, on one line and without `::`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = safe_text(record.getMessage())
        record.args = None
        return True


class SafeFormatter(logging.Formatter):
    """Tracebacks (shown with -v) keep their lines, but no line may start a workflow command."""

    def formatException(self, ei) -> str:  # noqa: N802 (logging API)
        return "\n".join(safe_text(line) for line in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 (logging API)
        return "\n".join(safe_text(line) for line in super().formatStack(stack_info).splitlines())


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr with compact, safe lines; repeated calls are harmless."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not any(getattr(h, "_ice_tracker", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handler.addFilter(SafeTextFilter())
        handler._ice_tracker = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "pdfminer", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log `what failed: Type: message` as one line (the traceback too under -v); returns the one-line reason."""
    reason = safe_text(f"{type(exc).__name__}: {exc}", limit=500)
    logger.error("%s: %s", what, reason, exc_info=exc if logger.isEnabledFor(logging.DEBUG) else None)
    return reason
