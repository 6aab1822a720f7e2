"""`failures.csv`: what the job could not fetch, kept until a later run succeeds.

One row per (url, kind, state, agency). A failure is retried on every run; a success removes it.
Users read this file to know exactly what the archive is missing and since when.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ice_tracker.fileio import write_dict_csv
from ice_tracker.state_files import is_count, not_empty, read_state_csv


@dataclass
class Failure:
    url: str
    kind: str
    state: str
    agency: str
    error: str
    first_failed_at: str
    last_failed_at: str
    attempts: int

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.url, self.kind, self.state, self.agency)


FAILURE_COLUMNS = [f.name for f in fields(Failure)]


class FailureLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows: dict[tuple[str, str, str, str], Failure] = {}
        for row in read_state_csv(self.path, FAILURE_COLUMNS, self.path.parent, (not_empty("url"), is_count("attempts"))):
            failure = Failure(**{**row, "attempts": int(row.get("attempts") or 0)})  # type: ignore[arg-type]
            self.rows[failure.key] = failure
        self.recorded_this_run: list[Failure] = []
        self.resolved_this_run: list[Failure] = []

    def pending(self, kinds: tuple[str, ...]) -> list[Failure]:
        return [f for f in self.rows.values() if f.kind in kinds]

    def record(self, url: str, kind: str, error: str, when: str, state: str = "", agency: str = "") -> Failure:
        key = (url, kind, state, agency)
        failure = self.rows.get(key)
        if failure is None:
            failure = Failure(url, kind, state, agency, error, when, when, 0)
            self.rows[key] = failure
        failure.error = error
        failure.last_failed_at = when
        failure.attempts += 1
        self.recorded_this_run.append(failure)
        return failure

    def note_missing(self, url: str, kind: str, error: str, when: str, state: str = "", agency: str = "") -> bool:
        """List something the archive lacks and has never tried to fetch (an imported roster's
        links), so the next run fetches it. Counts no attempt and leaves an existing row as it is,
        so listing the same backlog twice changes nothing. Returns whether a row was added."""
        key = (url, kind, state, agency)
        if key in self.rows:
            return False
        self.rows[key] = Failure(url, kind, state, agency, error, when, when, 0)
        return True

    def resolve(self, url: str, kind: str, state: str = "", agency: str = "") -> None:
        failure = self.rows.pop((url, kind, state, agency), None)
        if failure is not None:
            self.resolved_this_run.append(failure)

    def save(self) -> None:
        ordered = sorted(self.rows.values(), key=lambda f: (f.kind, f.state, f.agency, f.url))
        if ordered or self.path.exists():
            write_dict_csv(self.path, FAILURE_COLUMNS, (asdict(f) for f in ordered))
