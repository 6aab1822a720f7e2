"""Bench: agency matching quality on the labelled set and speed on all fixture agencies.

Prints precision, recall, F1 and coverage of agency_id on tests/data/agency_labels.csv for
(1) the shipped matcher (overrides + aliases), (2) the matcher alone (no hand files) and (3) the
naive baseline the original tracker used (exact cleaned name within the state), then the time to
match every distinct agency of the 64 fixture workbooks against all 17,721 CSLLEA rows after load.

    python bench/bench_matching.py [--fixtures ../shared/fixtures] [--repeat 5]
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ice_tracker.config import DEFAULT_OVERRIDES_DIR  # noqa: E402
from ice_tracker.matching.aliases import load_aliases, load_overrides  # noqa: E402
from ice_tracker.matching.csllea import load_csllea  # noqa: E402
from ice_tracker.matching.matcher import Reference, canonical_state, match_agencies  # noqa: E402
from ice_tracker.matching.normalise import clear_caches, state_postal  # noqa: E402
from ice_tracker.matching.outputs import distinct_queries  # noqa: E402
from ice_tracker.sources.ice287g.workbook import read_roster  # noqa: E402

LABELS = REPO / "tests" / "data" / "agency_labels.csv"
NEVER_SHERIFF = {"corrections", "jail", "commission"}


def load_labels(path: Path = LABELS) -> dict[tuple[str, str], dict[str, str]]:
    """Labels keyed like the matcher's queries: (canonical state, agency as written)."""
    labels: dict[tuple[str, str], dict[str, str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (canonical_state(row["state"]), row["agency"].strip())
            if key in labels and labels[key]["agency_id"] != row["agency_id"]:
                raise SystemExit(f"conflicting labels for {key}")
            labels[key] = row
    return labels


def workbook_rows(fixtures: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted((fixtures / "ice287g" / "sheets").glob("*/*.xlsx")):
        for row in read_roster(path).rows:
            rows.append({k: "" if v is None else str(v).strip() for k, v in row.values.items()})
    return rows


def baseline_clean(name: str) -> str:
    """The original tracker's join key: upper case, punctuation out, spaces squeezed."""
    text = re.sub(r"[^A-Z0-9 ]+", "", str(name).upper().replace("\u2019", "'"))
    return re.sub(r"\s+", " ", text).strip()


def baseline(queries, frame) -> dict[tuple[str, str], str | None]:
    index: dict[tuple[str, str], list[str]] = {}
    for agency_id, state, name in zip(frame["agency_id"], frame["state"], frame["name"]):
        index.setdefault((state, baseline_clean(name)), []).append(agency_id)
    out = {}
    for q in queries:
        hits = index.get((state_postal(q.state) or "", baseline_clean(q.agency)), [])
        out[(q.state, q.agency)] = hits[0] if len(hits) == 1 else None
    return out


def score(predicted: dict[tuple[str, str], str | None], labels, frame) -> dict[str, float]:
    sheriff_ids = set(frame.loc[frame["agency_type"] == "Sheriff", "agency_id"])
    tp = fp = fn = covered = 0
    never_sheriff_violations = 0
    for key, label in labels.items():
        truth = None if label["agency_id"] == "NONE" else label["agency_id"]
        guess = predicted.get(key)
        covered += guess is not None
        if guess is not None and guess == truth:
            tp += 1
        if guess is not None and guess != truth:
            fp += 1
        if truth is not None and guess != truth:
            fn += 1
        if label["category"] in NEVER_SHERIFF and guess in sheriff_ids:
            never_sheriff_violations += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "coverage": covered / len(labels),
            "tp": tp, "fp": fp, "fn": fn, "jail_to_sheriff": never_sheriff_violations}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=REPO.parent / "shared" / "fixtures")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--errors", action="store_true", help="list every labelled disagreement")
    args = parser.parse_args()
    rda = args.fixtures / "csllea" / "ICPSR_38771" / "DS0001" / "38771-0001-Data.rda"

    started = time.perf_counter()
    frame = load_csllea(rda)
    load_seconds = time.perf_counter() - started
    queries = distinct_queries(workbook_rows(args.fixtures))
    labels = load_labels()
    overrides = load_overrides(DEFAULT_OVERRIDES_DIR / "agency_matches.csv")
    aliases = load_aliases(DEFAULT_OVERRIDES_DIR / "agency_aliases.csv")

    timings, bare_timings, base_timings = [], [], []
    for _ in range(args.repeat):
        clear_caches()  # cold: every CSLLEA and roster name is cleaned again inside the timing
        t0 = time.perf_counter()
        full = match_agencies(queries, Reference(frame), overrides, aliases)
        timings.append(time.perf_counter() - t0)
        clear_caches()
        t0 = time.perf_counter()
        bare = match_agencies(queries, Reference(frame))
        bare_timings.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        base = baseline(queries, frame)
        base_timings.append(time.perf_counter() - t0)

    runs = {
        "matcher + overrides/aliases": {(m.query.state, m.query.agency): m.agency_id for m in full},
        "matcher alone (no hand files)": {(m.query.state, m.query.agency): m.agency_id for m in bare},
        "baseline: exact cleaned name": base,
    }
    hard = {k: v for k, v in labels.items() if v["hard"] == "1"}
    print(f"CSLLEA rows {len(frame)}, loaded in {load_seconds:.2f} s; distinct roster agencies {len(queries)}; "
          f"labelled {len(labels)} ({len(hard)} hard)")
    header = (f"{'':32} {'precision':>9} {'recall':>7} {'F1':>6} {'coverage':>8} {'TP':>4} {'FP':>3} {'FN':>3} "
              f"{'jail→sheriff':>12}")
    for subset_name, subset in (("all labelled", labels), ("hard only", hard)):
        print(f"\n[{subset_name}]\n{header}")
        for name, predicted in runs.items():
            s = score(predicted, subset, frame)
            print(f"{name:32} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:6.4f} {s['coverage']:8.4f} "
                  f"{s['tp']:4d} {s['fp']:3d} {s['fn']:3d} {s['jail_to_sheriff']:12d}")
    review = sum(m.needs_review for m in full)
    print(f"\nneeds review (shipped matcher, all {len(queries)} agencies): {review}")
    print(f"\nmatch all {len(queries)} agencies × {len(frame)} CSLLEA rows, after load ({args.repeat} runs):")
    for name, values in (("matcher + hand files (incl. index build)", timings),
                         ("matcher alone (incl. index build)", bare_timings),
                         ("baseline exact-name join", base_timings)):
        print(f"  {name:42} min {min(values):.3f} s   median {statistics.median(values):.3f} s")
    if args.errors:
        print("\ndisagreements (shipped matcher):")
        by_key = {(m.query.state, m.query.agency): m for m in full}
        for key, label in sorted(labels.items()):
            m = by_key.get(key)
            got = m.agency_id if m else None
            truth = None if label["agency_id"] == "NONE" else label["agency_id"]
            if got != truth:
                print(f"  {key[0]} | {key[1]}: label {truth} ({label['csllea_name']}), got {got} "
                      f"[{m.match_method if m else '-'}; {m.review_reason if m else ''}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
