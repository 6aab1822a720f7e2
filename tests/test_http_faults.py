"""The shared HTTP client's defences, over real HTTP against loopback servers (nothing mocked).

Cut bodies are retried within the run (resuming with Range where the server allows), every link
is parsed once so the allow-list checks the host actually connected to, and every download has a
total wall deadline however slowly a server trickles.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ice_tracker.daily import main as run_daily
from ice_tracker.fileio import read_dict_csv
from ice_tracker.http import BadUrl, DeadlineExceeded, HttpClient, HostNotAllowed
from tests.archive_checks import assert_archive_valid, manifest_rows
from tests.conftest import use_fast_network
from tests.ice_site import MOA_PREFIX, Fault, IceSite, synthetic_pdf
from tests.loopback import LoopbackSite, QuietHandler
from tests.roster_factory import pending_workbook, roster_workbook, simple_rows

ALPHA = MOA_PREFIX + "AlphaCoTX_TFM_MOA_03.07.2025.pdf"


@pytest.fixture(autouse=True)
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_network(monkeypatch)


@pytest.fixture
def small_site():
    with IceSite() as site:
        site.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
        site.publish_workbook(pending_workbook(), "pendingAgencies07182025pm.xlsx", form="download")
        site.state.synthetic_pdf_size = 200_000  # big enough to be cut mid-body
        yield site


def scrape(page_url: str, data_dir: Path, *extra: str) -> int:
    return run_daily(["--data-dir", str(data_dir), "--page-url", page_url, "--only", "287g", *extra])


def failures(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / "failures.csv"
    return read_dict_csv(path) if path.exists() else []


def alpha_archived(data_dir: Path) -> bool:
    return any("Alpha" in r["agency"] and r["kind"] == "moa" for r in manifest_rows(data_dir))


# ----- in-run retries for cut bodies -------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault("truncate"), Fault("stall_body", seconds=2.5)],
                         ids=["cut-short-then-reset", "read-timeout-mid-body"])
def test_cut_agreement_pdf_is_resumed_with_range_in_the_same_run(small_site: IceSite, tmp_path: Path, fault: Fault) -> None:
    small_site.inject(ALPHA, fault)
    assert scrape(small_site.url, tmp_path) == 0
    assert_archive_valid(tmp_path)
    assert alpha_archived(tmp_path) and failures(tmp_path) == []
    answered = [r[2] for r in small_site.requests_for(ALPHA)]
    assert answered == [0, 206]  # the cut attempt, then only the missing bytes
    [row] = [r for r in manifest_rows(tmp_path) if "Alpha" in r["agency"] and r["kind"] == "moa"]
    assert (tmp_path / row["path"]).read_bytes() == synthetic_pdf("AlphaCoTX_TFM_MOA_03.07.2025.pdf", 200_000)


def test_cut_body_restarts_when_the_server_ignores_ranges(small_site: IceSite, tmp_path: Path) -> None:
    small_site.state.ranges = False
    small_site.inject(ALPHA, Fault("truncate"))
    assert scrape(small_site.url, tmp_path) == 0
    assert alpha_archived(tmp_path) and failures(tmp_path) == []
    assert [r[2] for r in small_site.requests_for(ALPHA)] == [0, 200]


def test_cut_bodies_give_up_after_the_attempt_limit(small_site: IceSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICE_TRACKER_LIMIT_BODY_ATTEMPTS", "2")
    small_site.inject(ALPHA, Fault("truncate"), Fault("truncate"), Fault("truncate"))
    assert scrape(small_site.url, tmp_path) == 0
    assert_archive_valid(tmp_path)
    assert not alpha_archived(tmp_path)
    [failure] = failures(tmp_path)
    assert failure["url"].endswith(ALPHA) and "interrupted" in failure["error"]
    assert len(small_site.requests_for(ALPHA)) == 2
    assert not (tmp_path / ".tmp").exists() or not list((tmp_path / ".tmp").iterdir())


# ----- one URL parser: the host checked is the host connected to ---------------------------------


class _Recorder(QuietHandler):
    """The off-list server: records every request and would serve a valid PDF."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        body = synthetic_pdf("stolen")
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def elsewhere():
    handler = type("Recorder", (_Recorder,), {"hits": []})
    with LoopbackSite(handler) as site:
        site.hits = handler.hits  # type: ignore[attr-defined]
        yield site


def hostile_links(site_base: str, other_base: str) -> dict[str, str]:
    """Links that name the allowed host to one parser and the other server to another."""
    allowed = site_base.split("://", 1)[1]  # localhost:A
    other = other_base.split("://", 1)[1]  # 127.0.0.1:B
    return {
        "backslash": f"http://{other}\\@{allowed}{MOA_PREFIX}Backslash.pdf",
        "userinfo": f"http://{other}@{allowed}{MOA_PREFIX}Userinfo.pdf",
        "non-ascii": f"http://ⅼocalhost:{allowed.rsplit(':', 1)[1]}{MOA_PREFIX}Homoglyph.pdf",
    }


def test_workbook_links_that_parsers_read_differently_are_refused(tmp_path: Path, elsewhere: LoopbackSite) -> None:
    with IceSite() as site:
        base = site.base.replace("127.0.0.1", "localhost")  # the allow-listed host is `localhost`
        links = hostile_links(base, elsewhere.base)
        rows = [{"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": f"Agency {name}", "moa_link": url}
                for name, url in links.items()]
        rows.append({"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Good Agency", "moa_link": base + MOA_PREFIX + "Good.pdf"})
        site.publish_workbook(roster_workbook(rows), "participatingAgencies07182025pm.xlsx", form="root", rewrite=False)
        assert scrape(base + "/identify-and-arrest/287g", tmp_path) == 0
    assert elsewhere.hits == []  # never connected to the other server
    assert_archive_valid(tmp_path)
    archived = {r["agency"] for r in manifest_rows(tmp_path) if r["kind"] == "moa"}
    assert archived == {"Good Agency"}
    errors = {f["agency"]: f["error"] for f in failures(tmp_path)}
    assert "backslash" in errors["Agency backslash"]
    assert "userinfo" in errors["Agency userinfo"]
    assert "non-ASCII" in errors["Agency non-ascii"]


def test_redirect_to_a_link_parsers_read_differently_is_refused(tmp_path: Path, elsewhere: LoopbackSite) -> None:
    with IceSite() as site:
        base = site.base.replace("127.0.0.1", "localhost")
        rows = [{"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Alpha", "moa_link": base + ALPHA}]
        site.publish_workbook(roster_workbook(rows), "participatingAgencies07182025pm.xlsx", form="root", rewrite=False)
        site.inject(ALPHA, Fault("redirect", location=hostile_links(base, elsewhere.base)["backslash"]))
        assert scrape(base + "/identify-and-arrest/287g", tmp_path) == 0
    assert elsewhere.hits == []
    [failure] = failures(tmp_path)
    assert "redirect refused" in failure["error"] and "backslash" in failure["error"]


def test_client_connects_to_exactly_the_checked_url(tmp_path: Path, elsewhere: LoopbackSite) -> None:
    with IceSite() as site, HttpClient(allowed_hosts=["localhost"], temp_dir=tmp_path) as client:
        base = site.base.replace("127.0.0.1", "localhost")
        for url in hostile_links(base, elsewhere.base).values():
            with pytest.raises(BadUrl):
                client.fetch(url)
        with pytest.raises(HostNotAllowed):
            client.fetch(elsewhere.base + "/x.pdf")
        result = client.fetch(base.upper().replace("HTTP://", "http://") + MOA_PREFIX + "Good.pdf#fragment")
        assert result.temp_path is not None and result.temp_path.read_bytes() == synthetic_pdf("Good.pdf")
        result.discard()
    assert elsewhere.hits == []


# ----- a wall deadline per file ------------------------------------------------------------------


class _Trickle(QuietHandler):
    """Declares 1,000 bytes, then sends one every `interval` seconds (each read well within the
    read timeout, so only a total deadline stops it)."""

    interval = 0.5

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            self.wfile.write(b"%")
            self.wfile.flush()
            for _ in range(999):
                time.sleep(self.interval)
                self.wfile.write(b"0")
                self.wfile.flush()
        except OSError:
            pass


class _TrickleHeaders(QuietHandler):
    """Sends its status line, then one header byte every 0.5 s (never finishing the headers)."""

    def do_GET(self) -> None:  # noqa: N802
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.wfile.flush()
            for _ in range(1000):
                time.sleep(0.5)
                self.wfile.write(b"a")
                self.wfile.flush()
        except OSError:
            pass


@pytest.mark.parametrize("handler", [_Trickle, _TrickleHeaders], ids=["body", "headers"])
def test_trickling_server_is_cut_at_the_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handler: type) -> None:
    monkeypatch.setenv("ICE_TRACKER_LIMIT_DOWNLOAD_SECONDS", "2")
    with LoopbackSite(handler) as slow, HttpClient(allowed_hosts=["127.0.0.1"], temp_dir=tmp_path / "t",
                                                   timeout=(2, 5), retries=2, backoff_factor=0.01) as client:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="2 s deadline"):
            client.fetch(slow.base + "/slow.pdf")
        elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 3.5, elapsed  # cut at the deadline, not when a read times out
    assert list((tmp_path / "t").iterdir()) == []  # nothing half-written left behind


def test_trickling_agreement_is_a_recorded_failure_and_the_run_goes_on(small_site: IceSite, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICE_TRACKER_LIMIT_DOWNLOAD_SECONDS", "2")
    with LoopbackSite(_Trickle) as slow:
        rows = simple_rows()
        rows[0]["moa_link"] = slow.base + "/doclib/287gMOA/Trickle.pdf"  # same host, another port: allowed
        small_site.publish_workbook(roster_workbook(rows), "participatingAgencies07182025pm.xlsx")
        started = time.monotonic()
        assert scrape(small_site.url, tmp_path) == 0
        elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed  # the trickle alone would take 500 s
    assert_archive_valid(tmp_path)
    assert not alpha_archived(tmp_path)
    assert any("Beta" in r["agency"] for r in manifest_rows(tmp_path))  # the others still archived
    [failure] = failures(tmp_path)
    assert failure["url"].endswith("Trickle.pdf") and "deadline" in failure["error"]
    summary = json.loads((tmp_path / "data" / "last_run.json").read_text())["steps"]["287g"]
    assert "deadline" in summary["failures"][0]["error"]
