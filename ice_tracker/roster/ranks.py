"""Row order as sort keys that survive insertions: a row keeps its rank while the rows around it change.

A workbook's row order is stored as one rank per agreement (a short string; rows sort by it).
A new row gets a rank between its neighbours' (fractional indexing), so adding or removing a row
changes no other row's rank; when ICE re-sorts a workbook, only the rows that left the longest
run still in order get new ranks. Ranks use the digits 0-9a-z and never end in 0, so there is
always room between two of them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Sequence

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
_VALUE = {d: i for i, d in enumerate(DIGITS)}


def between(low: str, high: str | None) -> str:
    """A rank strictly between `low` ("" = before everything) and `high` (None = after everything)."""
    out, i = [], 0
    while True:
        d_low = _VALUE[low[i]] if i < len(low) else 0
        d_high = _VALUE[high[i]] if high is not None and i < len(high) else BASE
        if d_high - d_low > 1:
            out.append(DIGITS[(d_low + d_high) // 2])
            return "".join(out)
        out.append(DIGITS[d_low])
        if d_high - d_low == 1:
            high = None  # this prefix is already below `high`
        i += 1


def spread(low: str, high: str | None, count: int) -> list[str]:
    """`count` increasing ranks between `low` and `high`, by halving (lengths grow with log(count))."""
    if count <= 0:
        return []
    middle = between(low, high)
    half = (count - 1) // 2
    return spread(low, middle, half) + [middle] + spread(middle, high, count - 1 - half)


def _kept(ranks: Sequence[str | None]) -> set[int]:
    """Indices of a longest strictly increasing run of the known ranks (patience sorting)."""
    tails: list[str] = []
    tail_index: list[int] = []
    parent: dict[int, int] = {}
    for i, rank in enumerate(ranks):
        if rank is None:
            continue
        slot = bisect_left(tails, rank)
        if slot:
            parent[i] = tail_index[slot - 1]
        if slot == len(tails):
            tails.append(rank)
            tail_index.append(i)
        else:
            tails[slot], tail_index[slot] = rank, i
    kept, i = set(), tail_index[-1] if tail_index else None
    while i is not None:
        kept.add(i)
        i = parent.get(i)
    return kept


def place(keys: Sequence[Hashable], known: dict) -> list[str]:
    """Ranks for `keys` in this order, keeping every rank of `known` (key → rank) that can stay."""
    old = [known.get(key) for key in keys]
    kept = _kept(old)
    out: list[str] = [""] * len(keys)
    i = 0
    while i < len(keys):
        if i in kept:
            out[i] = old[i]  # type: ignore[assignment]
            i += 1
            continue
        j = i
        while j < len(keys) and j not in kept:
            j += 1
        low = out[i - 1] if i else ""
        high = old[j] if j < len(keys) else None
        out[i:j] = spread(low, high, j - i)
        i = j
    return out
