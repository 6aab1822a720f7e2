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
