"""The package works once installed: a wheel built from pyproject.toml, installed into a fresh venv,
runs `ice-tracker --help`, `history` and `publish` on a small archive outside the checkout, with
`<data-dir>/overrides/` seeded from the package's defaults and a hand correction applied."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv
from ice_tracker.roster.history_files import read_current
from tests.conftest import REPO_ROOT, use_fast_network
from tests.ice_site import IceSite
from tests.roster_factory import pending_workbook, roster_workbook, simple_rows

pytestmark = pytest.mark.slow
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "requirements.txt", "ice_tracker", "overrides")


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `ice-tracker` script of a fresh venv holding only the wheel (dependencies from the system)."""
    if not shutil.which("pip") and not (Path(sys.executable).parent / "pip").exists():
        pytest.skip("pip is not available")
    for needed in ("setuptools", "wheel"):
        try:
            __import__(needed)
        except ImportError:
            pytest.skip(f"`{needed}` is needed to build a wheel offline (requirements-dev.txt)")
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"  # a copy, so building writes nothing into the checkout
    source.mkdir()
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(REPO_ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(root / "dist"), str(source)], root, env)
    [built] = list((root / "dist").glob("ice_tracker-*.whl"))
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")], root, env)
    _run([str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(built)], root, env)
    return root / "venv" / "bin" / "ice-tracker"


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small archive (two workbooks) built by the daily job from the loopback ICE site."""
    use_fast_network(monkeypatch)
    rows = simple_rows()
    rows[0]["COUNTY"] = "Alfa Cnty"  # a typo the hand correction below fixes
    data_dir = tmp_path / "archive"
    with IceSite() as site:
        site.publish_workbook(roster_workbook(rows), "participatingAgencies07182025pm.xlsx")
        site.publish_workbook(pending_workbook(), "pendingAgencies07182025pm.xlsx", form="download")
        assert run_daily(["--data-dir", str(data_dir), "--page-url", site.url, "--only", "287g", "--no-pdfs"]) == 0
    return data_dir


def test_installed_wheel_runs_outside_the_checkout_with_overrides(installed: Path, archive: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ICE_TRACKER_DATA_DIR")}
    env["ICE_TRACKER_CACHE"] = str(tmp_path / "cache")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    package = Path(_run([str(installed.parent / "python"), "-c", "import ice_tracker; print(ice_tracker.__file__)"],
                        elsewhere, env).stdout.strip()).parent
    assert REPO_ROOT not in package.parents  # the installed copy, not the checkout
    package_files = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)

    assert "history" in _run([str(installed), "--help"], elsewhere, env).stdout

    # No --data-dir: the current directory is the data dir; overrides/ is seeded from the package.
    _run([str(installed), "history"], archive, env)
    seeded = archive / "overrides"
    assert sorted(p.name for p in seeded.iterdir()) == sorted(p.name for p in (REPO_ROOT / "overrides").glob("*.csv"))
    assert (seeded / "states.csv").read_bytes() == (REPO_ROOT / "overrides" / "states.csv").read_bytes()
    current = {r["agency"]: r for r in read_current(archive / "data", tmp_path / "read-cache").to_dict("records")}
    assert current["Alpha County Sheriff's Office"]["county"] == "Alfa Cnty"

    with open(seeded / "roster_fixes.csv", "a", encoding="utf-8") as handle:
        handle.write("county,Alfa Cnty,Alpha County,TEXAS,,test correction\n")
    _run([str(installed), "history", "--data-dir", str(archive)], elsewhere, env)
    current = {r["agency"]: r for r in read_current(archive / "data", tmp_path / "read-cache").to_dict("records")}
    assert current["Alpha County Sheriff's Office"]["county"] == "Alpha County"

    _run([str(installed), "publish", "--data-dir", str(archive)], elsewhere, env)
    page = (archive / "site" / "index.html").read_text(encoding="utf-8")
    assert "<html" in page.lower() and (archive / "datapackage.json").is_file()
    assert list(elsewhere.iterdir()) == []  # nothing written where the commands ran
    assert sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts) == package_files  # nor into site-packages
