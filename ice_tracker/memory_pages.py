"""Keep numpy from asking for transparent huge pages: on VMs short of free huge pages it stalls.

numpy advises the kernel to back every array of 4 MB or more with 2 MB transparent huge pages. Where
the kernel must first compact memory to find one (common on shared cloud VMs), every such page fault
stalls: on the 2-core machine the benchmarks run on, `detention` over DDP's 2.5 M stints spent 8-10 s
in the kernel with the advice and 1.6-1.9 s without (10.8-12.7 s -> 6.3-7.0 s wall; the same user
time; `NUMPY_MADVISE_HUGEPAGE=1` vs `0`, alternated). Small tables are unaffected. A user who sets
NUMPY_MADVISE_HUGEPAGE keeps their choice.
"""

from __future__ import annotations

import os
import sys

SETTING = "NUMPY_MADVISE_HUGEPAGE"


def prefer_small_pages() -> None:
    """For the command-line entry points: no huge-page advice in this process (numpy may already be
    imported) nor in the processes it starts (they read the environment when they import numpy)."""
    os.environ.setdefault(SETTING, "0")
    if os.environ[SETTING] != "0":
        return
    numpy = sys.modules.get("numpy")
    core = getattr(numpy, "_core", None) if numpy is not None else None
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)
