"""What a backfill has already done, so an interrupted or repeated one starts where it stopped.

A JSON file (in the cache, never committed): per capture key (`<timestamp> <url>`), its outcome
(`archived: <sha256>…` / `held: <sha256>…` / `rejected: <why>` / `none`: final answers; `failed:
<why>`: tried again next time), and for each captured page the roster links it showed. An archived
or held capture counts as done only while the archive still holds its bytes (a run killed before
its files were committed leaves a state that says more than the archive has). Losing the file
costs only requests: identity is still the sha256.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from ice_tracker.fileio import atomic_write_text

log = logging.getLogger(__name__)
FINAL = ("rejected", "none")  # answers that stay true whatever the archive holds
VERSION = 1


class BackfillState:
    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self.outcomes: dict[str, str] = {}
        self.page_links: dict[str, list[list[str]]] = {}
        if self.path and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("version") == VERSION:
                    self.outcomes = dict(data.get("outcomes", {}))
                    self.page_links = {k: list(v) for k, v in data.get("page_links", {}).items()}
            except (OSError, ValueError, AttributeError) as exc:
                log.warning("ignoring unreadable backfill state %s: %s", self.path, exc)

    def done(self, key: str, held: Callable[[str], bool]) -> bool:
        """Whether a capture needs no new request; `held(sha256)` says whether the archive has bytes."""
        word, _, detail = self.outcomes.get(key, "").partition(":")
        if word in ("archived", "held"):
            return all(held(sha) for sha in detail.split())
        return word in FINAL

    def mark(self, key: str, outcome: str) -> None:
        self.outcomes[key] = outcome
        self.save()

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(
                {"version": VERSION, "outcomes": self.outcomes, "page_links": self.page_links},
                indent=1, sort_keys=True) + "\n", durable=False)
