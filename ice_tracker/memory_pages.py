"""Process-wide memory settings for the command-line entry points, where big tables churn memory.

Two kernel costs dominated `detention` over DDP's 2.5 M stints on the 2-core machine the benchmarks
run on, both paid again for every large array:

- **Transparent huge pages.** numpy advises the kernel to back every array of 4 MB or more with 2 MB
  huge pages. Where the kernel must first compact memory to find one (common on shared cloud VMs),
  every such fault stalls: 8-10 s in the kernel with the advice, 1.6-1.9 s without (10.8-12.7 s ->
  6.3-7.0 s wall; the same user time; `NUMPY_MADVISE_HUGEPAGE=1` vs `0`, alternated).
- **Memory handed back and faulted in again.** glibc's malloc returns freed blocks above its (moving)
  mmap threshold to the kernel at once and trims the heap top, and Arrow's default pool (mimalloc)
  soon decommits the pages it freed; the next column of the same size is then mapped and zeroed afresh
  (`perf`: a quarter of the run's CPU in the kernel's `clear_page`). Keeping glibc's freed memory for
  reuse (a fixed 32 MB mmap threshold, no trimming) and giving Arrow jemalloc's pool took that run
  from 8.8-9.7 s to 6.6-7.6 s, peak memory 1,724-1,801 MB against 1,615-1,713 MB
  (`python bench/bench_detention.py --parts release --repeat 3`: its `ours-default-allocators`
  contender is the same command with ICE_TRACKER_ALLOCATOR_DEFAULTS=1; rounds in rotated order).

A user who sets `NUMPY_MADVISE_HUGEPAGE`, any of glibc's `MALLOC_*_` variables or
`ARROW_DEFAULT_MEMORY_POOL` keeps their choice; ICE_TRACKER_ALLOCATOR_DEFAULTS=1 keeps both allocators'
defaults.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import sys

SETTING = "NUMPY_MADVISE_HUGEPAGE"
MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's largest; blocks above it are still mapped and unmapped one by one
TRIM_THRESHOLD = 2**31 - 1  # mallopt's largest value (an int): in effect never trim; what a run freed it reuses
OPT_OUT = "ICE_TRACKER_ALLOCATOR_DEFAULTS"  # "1": glibc's and Arrow's defaults (the bench's comparison)
ARROW_POOL_SETTING = "ARROW_DEFAULT_MEMORY_POOL"

log = logging.getLogger(__name__)


def tune_for_large_tables() -> None:
    """What `scraper.py` and `python -m ice_tracker` call first: the settings below."""
    prefer_small_pages()
    if os.environ.get(OPT_OUT) != "1":
        keep_freed_memory()
        arrow_pool_that_keeps_pages()


def prefer_small_pages() -> None:
    """No huge-page advice in this process (numpy may already be imported) nor in the processes it
    starts (they read the environment when they import numpy)."""
    os.environ.setdefault(SETTING, "0")
    if os.environ[SETTING] != "0":
        return
    numpy = sys.modules.get("numpy")
    core = getattr(numpy, "_core", None) if numpy is not None else None
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


def keep_freed_memory() -> bool:
    """glibc only: keep freed blocks for reuse instead of returning them to the kernel. True when set;
    False on other C libraries, or when the user tuned malloc through the environment."""
    if any(name in os.environ for name in MALLOC_SETTINGS) or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not done:
        log.debug("mallopt refused the settings; glibc's defaults stay")
    return done


def arrow_pool_that_keeps_pages() -> bool:
    """Arrow's allocations from jemalloc's pool: it hands freed pages back to the kernel gradually (its
    decay), where mimalloc soon decommits them. True when chosen. Before pyarrow is imported (most
    commands never need it) this only sets ARROW_DEFAULT_MEMORY_POOL, on Linux, where pyarrow's wheels
    carry jemalloc; once imported, the pool is switched when this build has it."""
    if ARROW_POOL_SETTING in os.environ:
        return False
    pa = sys.modules.get("pyarrow")
    if pa is None:
        if not sys.platform.startswith("linux"):
            return False
        os.environ[ARROW_POOL_SETTING] = "jemalloc"  # read when Arrow first allocates; inherited by child processes
        return True
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc
        return False
    pa.set_memory_pool(pool)
    return True
