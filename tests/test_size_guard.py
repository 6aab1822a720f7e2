"""The daily commit's size guard, on a real git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ice_tracker.size_guard import main, staged_files


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_oversized_files_are_left_out_of_the_commit_and_kept_on_disk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q")
    small = tmp_path / "data" / "small.csv"
    big = tmp_path / "agreements" / "TEXAS" / "Bexar_County_Sheriff's_Office" / "big file.pdf"
    for path, size in ((small, 500), (big, 5000)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    git(tmp_path, "add", "-A")
    assert main(["--repo", str(tmp_path), "--limit-mb", str(2000 / 1024 / 1024)]) == 1
    assert staged_files(tmp_path) == ["data/small.csv"]
    assert big.read_bytes() == b"x" * 5000  # unstaged, not touched
    assert "::error::not committed: agreements/TEXAS/Bexar_County_Sheriff's_Office/big file.pdf" in capsys.readouterr().out


def test_nothing_oversized_passes(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.csv").write_text("a\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    assert main(["--repo", str(tmp_path)]) == 0
    assert staged_files(tmp_path) == ["a.csv"]
