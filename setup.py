"""Packaging hook: the wheel carries the checkout's `overrides/` as the package's default hand
corrections (`ice_tracker/default_overrides/`), which seed `<data-dir>/overrides/` of an installed copy.
Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithDefaultOverrides(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "ice_tracker" / "default_overrides"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(Path(__file__).resolve().parent.joinpath("overrides").glob("*.csv")):
            shutil.copyfile(source, target / source.name)


setup(cmdclass={"build_py": BuildWithDefaultOverrides})
