"""Shared test fixtures.

Real files come from `../shared/fixtures` (beside the checkout, as in CI) or from the folder named by
$ICE_TRACKER_FIXTURES. They are never copied into the repository: where they are absent, the tests
that need them skip with a clear reason and the rest run on small files the tests build themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = Path(os.environ.get("ICE_TRACKER_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))


def shared_fixture_path(*parts: str) -> Path:
    """Path inside the shared fixtures; skips the calling test when it is not there."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real fixture {path} not available (needs ../shared/fixtures beside the checkout)")
    return path


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    return shared_fixture_path()


def use_fast_network(monkeypatch: pytest.MonkeyPatch, read_timeout: float = 1.0) -> None:
    """Short timeouts and backoff for loopback-site tests, so fault scenarios take seconds, not minutes."""
    monkeypatch.setenv("ICE_TRACKER_BACKOFF", "0.01")
    monkeypatch.setenv("ICE_TRACKER_READ_TIMEOUT", str(read_timeout))
    monkeypatch.setenv("ICE_TRACKER_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("ICE_TRACKER_RETRIES", "2")


@pytest.fixture(params=["compiled scan", "fastexcel"])
def xlsx_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read .xlsx detention windows both ways: through the compiled scan (forced, whatever the workbook's
    size: test workbooks are far below the size where it is used) and through fastexcel (its fallback,
    and the reader of small workbooks)."""
    monkeypatch.setenv("ICE_TRACKER_LIMIT_XLSX_SCAN_MIN_BYTES", "1" if request.param == "compiled scan" else str(1 << 40))
    return request.param
