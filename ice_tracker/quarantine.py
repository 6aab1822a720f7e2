"""`data/quarantine.csv`: files a parser could not survive, never parsed again under the same rules.

A workbook that aborts the reader, blows its memory limit, hangs, or is over a size limit is kept
exactly where it is (the archive never deletes), listed here keyed by its sha256 and the version of
the rules that judged it (parser code and limits), and recorded in `failures.csv` (kind
`quarantined`). Every later run skips it at no cost; a change to the parser or a limit gives it a
new rules version, and so one more try.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ice_tracker.failures import FailureLog
from ice_tracker.fileio import write_dict_csv
from ice_tracker.limits import LIMITS, limit
from ice_tracker.state_files import is_sha256, read_state_csv, real_data_dir

log = logging.getLogger(__name__)

QUARANTINE_FILE = "data/quarantine.csv"
FAILURE_KIND = "quarantined"


@dataclass
class Quarantined:
    sha256: str
    rules: str  # which parser code and limits judged the file
    kind: str  # what it was read as: roster workbook, DDP detentions, …
    path: str  # where it is archived (relative to the data dir), or its URL when it never was
    reason: str
    quarantined_at: str


QUARANTINE_COLUMNS = [f.name for f in fields(Quarantined)]


def rules_version(code: str) -> str:
    """`code` (a fingerprint of the parsing modules) together with every limit's current value."""
    values = json.dumps({name: limit(name) for name in sorted(LIMITS)})
    return hashlib.sha256(f"{code}\n{values}".encode()).hexdigest()[:16]


class Quarantine:
    """The quarantine list of one data dir."""

    def __init__(self, data_dir: Path):
        self.data_dir = real_data_dir(data_dir)  # a state file, never part of a derive's staged outputs
        self.path = self.data_dir / QUARANTINE_FILE
        self.rows: dict[tuple[str, str], Quarantined] = {}
        for row in read_state_csv(self.path, QUARANTINE_COLUMNS, self.data_dir, (is_sha256("sha256"),)):
            entry = Quarantined(**row)
            self.rows[(entry.sha256, entry.rules)] = entry

    def holds(self, sha256: str, rules: str) -> Quarantined | None:
        return self.rows.get((sha256, rules))

    def add(self, sha256: str, rules: str, kind: str, path: str, reason: str, when: str,
            failures: FailureLog | None = None, record: bool = True) -> Quarantined:
        """List a file and (`record`) its failure: in `failures`, the caller's open log, which the
        caller saves; else straight in failures.csv."""
        entry = self.rows.get((sha256, rules))
        if entry is None:
            entry = self.rows[(sha256, rules)] = Quarantined(sha256, rules, kind, path, reason, when)
            log.error("quarantined %s (%s): %s", path, kind, reason)
        self.save()
        if not record:
            return entry
        log_file = failures or FailureLog(self.data_dir / "failures.csv")
        log_file.record(path, FAILURE_KIND, reason, when, agency=kind)
        if failures is None:
            log_file.save()
        return entry

    def save(self) -> None:
        ordered = sorted(self.rows.values(), key=lambda q: (q.path, q.sha256, q.rules))
        write_dict_csv(self.path, QUARANTINE_COLUMNS, (asdict(q) for q in ordered))
