"""The publication check: is a new roster a real publication, or a broken one to keep but not believe?

ICE has published truncated rosters (hundreds of agencies missing, back the next day). A roster is
compared with the last roster of its list that passed (row count, share of agreements missing, share
renamed, states and models present, header set) against the limits in `data/publication_checks.csv`,
each with its reason. A roster that fails is still archived and kept in the history, but marked
`suspect`: its disappearances are not removals and the counts, plots and feed ignore it. A person can
overrule the check for one roster in `overrides/roster_verdicts.csv` (verdict good or bad, with a note).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ice_tracker.config import DEFAULT_OVERRIDES_DIR
from ice_tracker.fileio import read_dict_csv
from ice_tracker.roster.model import Roster

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
LIMITS_FILE = PACKAGE_DATA / "publication_checks.csv"
VERDICTS_FILE = "roster_verdicts.csv"
GOOD, SUSPECT = "good", "suspect"
CHECK_COLUMNS = (
    "snapshot", "file", "list", "roster_date", "verdict", "decided_by", "reasons", "rows", "agreements",
    "previous_good_snapshot", "previous_good_file", "previous_good_rows", "missing", "missing_share", "renamed",
    "renamed_share", "states_lost", "models_lost", "headers_lost", "note",
)


@dataclass(frozen=True)
class CheckRules:
    """The limits (by check name) and the hand verdicts (by snapshot, file → (verdict, note))."""

    limits: dict[str, float]
    verdicts: dict[tuple[str, str], tuple[str, str]]
    fingerprint: str

    def limit(self, name: str) -> float:
        return self.limits[name]

    def __hash__(self) -> int:
        return hash(self.fingerprint)


def limit(name: str) -> float:
    """One limit of data/publication_checks.csv (for the modules that need one outside a check)."""
    return next(float(r["limit"]) for r in read_dict_csv(LIMITS_FILE, strip=True) if r["check"] == name)


def load_check_rules(overrides_dir: Path = DEFAULT_OVERRIDES_DIR) -> CheckRules:
    return _load(str(LIMITS_FILE), str(Path(overrides_dir) / VERDICTS_FILE))


@lru_cache(maxsize=4)
def _load(limits_path: str, verdicts_path: str) -> CheckRules:
    digest = hashlib.sha256()
    for path in (Path(limits_path), Path(verdicts_path)):
        digest.update(path.read_bytes() if path.is_file() else b"-")
    limits = {row["check"]: float(row["limit"]) for row in read_dict_csv(limits_path, strip=True)}
    verdicts = {}
    for line, row in enumerate(read_dict_csv(verdicts_path, strip=True), start=2):
        verdict = row.get("verdict", "").lower()
        if verdict not in ("good", "bad"):
            raise ValueError(f"{verdicts_path} line {line}: verdict must be good or bad, not {verdict!r}")
        verdicts[(row["snapshot"], row["file"])] = (GOOD if verdict == "good" else SUSPECT, row.get("note", ""))
    return CheckRules(limits, verdicts, digest.hexdigest())


@dataclass
class Profile:
    """What the check compares between two rosters of one list."""

    snapshot: str
    file: str
    roster_date: str
    rows: int
    agreements: dict[str, list[str]]  # id → [state, model]
    headers: list[str]

    @classmethod
    def of(cls, roster: Roster, headers: list[str]) -> "Profile":
        ids = {row.agreement_id: [row.state, row.support_type] for row in roster.rows}
        return cls(roster.snapshot, roster.file, roster.roster_date.isoformat() if roster.roster_date else "",
                   len(roster.rows), dict(sorted(ids.items())), sorted(headers))

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Verdict:
    verdict: str
    decided_by: str  # check / override / first_roster
    reasons: list[str] = field(default_factory=list)
    record: dict[str, object] = field(default_factory=dict)

    @property
    def good(self) -> bool:
        return self.verdict == GOOD


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _present(agreements: dict[str, list[str]], position: int) -> Counter:
    return Counter(values[position] for values in agreements.values() if values[position])


def check_roster(new: Profile, list_name: str, renamed: int, good: dict | None, rules: CheckRules,
                 moved: set[str] = frozenset()) -> Verdict:
    """Compare `new` with the list's last good roster (`good`, a Profile as JSON, None for the first).
    `moved`: agreements now on the participating list, which a pending roster rightly no longer has."""
    reasons: list[str] = []
    record: dict[str, object] = {c: "" for c in CHECK_COLUMNS}
    record.update(snapshot=new.snapshot, file=new.file, list=list_name, roster_date=new.roster_date, rows=new.rows,
                  agreements=len(new.agreements))
    if new.rows == 0:
        reasons.append("no data rows")
    if good:
        expected = {i: v for i, v in good["agreements"].items() if i not in moved or i in new.agreements}
        old_ids = set(expected)
        missing = len(old_ids - set(new.agreements))
        gone_rows = len(good["agreements"]) - len(expected)  # moved on: not a loss
        row_drop = _share(good["rows"] - gone_rows - new.rows, good["rows"] - gone_rows)
        missing_share = _share(missing, len(old_ids))
        renamed_share = _share(renamed, len(old_ids))
        now_states, now_models = _present(new.agreements, 0), _present(new.agreements, 1)
        states_lost = [s for s, n in sorted(_present(expected, 0).items())
                       if n >= rules.limit("min_state_agreements") and s not in now_states]
        models_lost = [m for m, n in sorted(_present(expected, 1).items())
                       if n >= rules.limit("min_model_agreements") and m not in now_models]
        headers_lost = [h for h in good["headers"] if h not in new.headers]
        record.update(previous_good_snapshot=good["snapshot"], previous_good_file=good["file"],
                      previous_good_rows=good["rows"], missing=missing, missing_share=f"{missing_share:.3f}",
                      renamed=renamed, renamed_share=f"{renamed_share:.3f}", states_lost=";".join(states_lost),
                      models_lost=";".join(models_lost), headers_lost=";".join(headers_lost))
        if row_drop > rules.limit("max_row_drop_share"):
            reasons.append(f"rows fell {row_drop:.0%} ({good['rows']} -> {new.rows})")
        if missing_share > rules.limit("max_missing_share"):
            reasons.append(f"{missing} of {len(old_ids)} agreements missing ({missing_share:.0%})")
        if renamed_share > rules.limit("max_renamed_share"):
            reasons.append(f"{renamed} agreements renamed ({renamed_share:.0%})")
        if states_lost:
            reasons.append(f"states gone: {', '.join(states_lost)}")
        if models_lost:
            reasons.append(f"models gone: {', '.join(models_lost)}")
        if len(headers_lost) > rules.limit("max_headers_lost"):
            reasons.append(f"columns gone: {', '.join(headers_lost)}")
    verdict, decided_by = (SUSPECT if reasons else GOOD), ("check" if good else "first_roster")
    override = rules.verdicts.get((new.snapshot, new.file))
    if override:
        verdict, decided_by = override[0], "override"
        record["note"] = override[1]
    record.update(verdict=verdict, decided_by=decided_by, reasons="; ".join(reasons))
    return Verdict(verdict, decided_by, reasons, record)
