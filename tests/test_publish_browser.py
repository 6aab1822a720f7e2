"""The dashboard in headless Chromium (Debian `chromium`, driven by playwright with executable_path)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ice_tracker.publish.run import run_publish
from tests.conftest import REPO_ROOT
from tests.publish_factory import write_roster_inputs, write_small_detention

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = REPO_ROOT / "docs" / "dashboard.png"  # README's picture: refreshed with UPDATE_SCREENSHOT=1


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")
    data_dir = tmp_path_factory.mktemp("site")
    write_roster_inputs(data_dir)
    write_small_detention(data_dir)
    run_publish(data_dir)
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except sync_api.Error as exc:  # e.g. Ubuntu's chromium-browser, a stub that wants snap
            pytest.skip(f"{CHROMIUM} is not a working Chromium here: {str(exc).splitlines()[0][:200]}")
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto((data_dir / "site" / "index.html").as_uri())
        tab.wait_for_function("document.querySelector('#agreements-chart .main-svg') !== null")
        yield tab, errors, data_dir
        browser.close()


def chart_y(tab, chart: str) -> list:
    return tab.evaluate(f"Array.from(document.getElementById('{chart}').data).map(t => Array.from(t.y))")


def test_page_loads_from_file_without_console_errors(page) -> None:
    tab, errors, _ = page
    assert errors == []
    assert tab.title()


def test_state_drop_down_changes_the_plotted_data(page) -> None:
    tab, _, _ = page
    before = chart_y(tab, "agreements-chart")
    tab.select_option("#agreements-state", "TEXAS")
    after = chart_y(tab, "agreements-chart")
    assert after != before and sum(map(sum, after)) < sum(map(sum, before))
    tab.select_option("#agreements-state", "ALL")


def test_table_search_filters_rows(page) -> None:
    tab, _, _ = page
    rows = lambda: tab.locator("#agreements-table tbody tr").count()  # noqa: E731
    total = rows()
    tab.fill("#table-search", "Harris")
    assert 0 < rows() < total
    tab.fill("#table-search", "")
    assert rows() == total


def test_every_download_link_resolves_and_screenshot(page, tmp_path: Path) -> None:
    tab, _, data_dir = page
    site = data_dir / "site"
    hrefs = tab.evaluate("Array.from(document.querySelectorAll('#downloads a')).map(a => a.getAttribute('href'))")
    assert hrefs
    for href in hrefs:
        assert (site / href).resolve().is_file(), href
    # a test run leaves the checkout alone unless asked to refresh the README's screenshot
    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / "dashboard.png"
    target.parent.mkdir(exist_ok=True)
    tab.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
