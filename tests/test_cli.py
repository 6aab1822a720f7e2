"""The command lines users type: scraper.py's fixed options and the package CLI."""

from __future__ import annotations

import subprocess
import sys

from ice_tracker.cli import build_parser, command_modules
from tests.conftest import REPO_ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_scraper_help_lists_the_fixed_options() -> None:
    result = run("scraper.py", "--help")
    assert result.returncode == 0
    for option in ("--data-dir", "--page-url", "--only", "--no-pdfs"):
        assert option in result.stdout
    assert "287g" in result.stdout


def test_scraper_rejects_an_unknown_step() -> None:
    result = run("scraper.py", "--only", "nonsense")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_package_cli_lists_every_command_with_help() -> None:
    result = run("-m", "ice_tracker", "--help")
    assert result.returncode == 0
    modules = command_modules()
    assert "scrape" in modules
    for name, module in modules.items():
        assert name in result.stdout
        assert module.HELP and callable(module.run) and callable(module.add_arguments)
    assert build_parser().parse_args(["scrape", "--no-pdfs"]).no_pdfs is True


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for name in command_modules():
        assert f"python -m ice_tracker {name}" in readme, f"README does not document `{name}`"
