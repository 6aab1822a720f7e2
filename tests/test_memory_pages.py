"""The command-line entry points keep numpy from advising transparent huge pages, unless the user chose."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from ice_tracker import memory_pages


@pytest.fixture()
def numpy_advice() -> Iterator[Callable[[], bool]]:
    get, set_ = np._core.multiarray._get_madvise_hugepage, np._core.multiarray._set_madvise_hugepage
    before = get()
    yield get
    set_(before)


def test_no_huge_page_advice_unless_the_user_set_it(monkeypatch: pytest.MonkeyPatch, numpy_advice: Callable[[], bool]) -> None:
    monkeypatch.delenv(memory_pages.SETTING, raising=False)
    np._core.multiarray._set_madvise_hugepage(True)
    memory_pages.prefer_small_pages()
    assert numpy_advice() is False
    assert os.environ[memory_pages.SETTING] == "0"  # and for the processes it starts


def test_a_users_setting_is_kept(monkeypatch: pytest.MonkeyPatch, numpy_advice: Callable[[], bool]) -> None:
    monkeypatch.setenv(memory_pages.SETTING, "1")
    np._core.multiarray._set_madvise_hugepage(True)
    memory_pages.prefer_small_pages()
    assert numpy_advice() is True


# A fresh interpreter applies the entry points' settings, frees one 20 MB block and reports how much
# of it left the process, and which pool Arrow allocates from: with glibc's defaults the block is
# mapped on its own and unmapped when freed; kept, it stays for the next column.
FREED_BLOCK_PROBE = """
import ctypes, sys
sys.path.insert(0, {root!r})
from ice_tracker import memory_pages
memory_pages.tune_for_large_tables()
import pyarrow as pa
def rss_kb():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 20 << 20
block = libc.malloc(size)
ctypes.memset(block, 1, size)  # touch every page
before = rss_kb()
libc.free(block)
print(before - rss_kb(), pa.default_memory_pool().backend_name)
"""


def _after_entry_point_settings(env: dict[str, str]) -> tuple[int, str]:
    """(kB of RSS that freeing a 20 MB block returned to the kernel, Arrow's pool) in a fresh process."""
    import subprocess
    import sys
    from pathlib import Path

    code = FREED_BLOCK_PROBE.format(root=str(Path(__file__).resolve().parents[1]))
    ours = (memory_pages.OPT_OUT, memory_pages.ARROW_POOL_SETTING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k not in ours} | env
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout.split()
    return int(out[0]), out[1]


glibc_only = pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc_only
def test_freed_memory_is_kept_for_reuse_and_arrow_uses_jemalloc() -> None:
    import pyarrow as pa

    returned_kb, pool = _after_entry_point_settings({})
    assert returned_kb < 1024  # the 20 MB block stayed for reuse
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    assert pool == "jemalloc"


@glibc_only
def test_allocator_defaults_when_asked() -> None:
    import subprocess
    import sys

    returned_kb, pool = _after_entry_point_settings({memory_pages.OPT_OUT: "1"})
    default = subprocess.run([sys.executable, "-c", "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert returned_kb > 19 * 1024  # unmapped at once, as glibc does by default
    assert pool == default  # a fresh interpreter's pool, untouched


@glibc_only
def test_a_users_allocator_settings_are_kept() -> None:
    returned_kb, pool = _after_entry_point_settings({"MALLOC_TRIM_THRESHOLD_": "131072", memory_pages.ARROW_POOL_SETTING: "system"})
    assert returned_kb > 19 * 1024
    assert pool == "system"


@glibc_only
def test_arrow_pool_is_switched_when_pyarrow_is_already_imported() -> None:
    """The path for a process that imported pyarrow before the entry point ran (the environment
    variable would come too late there)."""
    import subprocess
    import sys
    from pathlib import Path

    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    code = ("import sys; sys.path.insert(0, %r)\nimport pyarrow as pa\nfrom ice_tracker import memory_pages\n"
            "memory_pages.tune_for_large_tables()\nprint(pa.default_memory_pool().backend_name)") % str(Path(__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k not in (memory_pages.OPT_OUT, memory_pages.ARROW_POOL_SETTING)}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout.strip() == "jemalloc"
