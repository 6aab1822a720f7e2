"""The daily job left alone for years: one run at a time, honest exit codes, one-line errors, a record
of every run however it ended, derivations that commit all or nothing.

Everything runs the real command line (`python scraper.py`, `python -m ice_tracker`) in a subprocess
against the loopback ICE site (tests/ice_site.py); nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ice_tracker.roster.history_files import read_versions
from ice_tracker.roster.history_files import iter_history_rows
from tests.archive_checks import assert_archive_valid, manifest_rows
from tests.conftest import REPO_ROOT
from tests.ice_site import PAGE_PATH, Fault, IceSite
from tests.matching_helpers import write_tiny_csllea
from tests.roster_factory import pending_workbook, roster_workbook, simple_rows

FAST = {"ICE_TRACKER_BACKOFF": "0.01", "ICE_TRACKER_READ_TIMEOUT": "60", "ICE_TRACKER_CONNECT_TIMEOUT": "2",
        "ICE_TRACKER_RETRIES": "0"}


@pytest.fixture
def site():
    with IceSite() as running:
        running.publish_workbook(roster_workbook(simple_rows()), "participatingAgencies07182025pm.xlsx")
        running.publish_workbook(pending_workbook(), "pendingAgencies07182025pm.xlsx", form="download")
        yield running


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICE_TRACKER_") or k == "ICE_TRACKER_FIXTURES"}
    return {**env, **FAST, "PYTHONPATH": str(REPO_ROOT), "ICE_TRACKER_CACHE": str(tmp_path / "cache"),
            "XDG_CACHE_HOME": str(tmp_path / "xdg"), **extra}


def scraper(tmp_path: Path, *args: str, cwd: Path = REPO_ROOT, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "scraper.py", *args], cwd=cwd, env=env_for(tmp_path, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str]:
    _out, err = process.communicate(timeout=timeout)
    return process.returncode, err


def daily(tmp_path: Path, data: Path, site: IceSite, *extra: str, **env: str) -> tuple[int, str]:
    return finish(scraper(tmp_path, "--data-dir", str(data), "--page-url", site.url, *extra, **env))


def last_run(data: Path) -> dict:
    return json.loads((data / "data" / "last_run.json").read_text())


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if " ERROR " in line]
    assert errors, stderr


# ----- one run at a time -------------------------------------------------------------------------


def test_two_concurrent_runs_make_one_archive_and_the_second_exits_3(site: IceSite, tmp_path: Path) -> None:
    data, csllea = tmp_path / "data", write_tiny_csllea(tmp_path / "csllea.tsv")
    site.inject(PAGE_PATH, Fault("stall", seconds=6))  # the first run holds the lock while it waits
    first = scraper(tmp_path, "--data-dir", str(data), "--page-url", site.url, "--only", "287g", "--only", "derive",
                    "--csllea", str(csllea))
    wait_for(lambda: any(r[1] == "fault:stall" for r in site.state.requests))
    code, err = daily(tmp_path, data, site, "--only", "287g", "--only", "derive", "--csllea", str(csllea))
    assert code == 3, err
    [message] = [line for line in err.splitlines() if "ERROR" in line]
    assert "another run holds" in message and f"pid {first.pid}" in message and "changed nothing" in message
    assert finish(first)[0] == 0
    assert_archive_valid(data)
    rows = manifest_rows(data)
    assert len(rows) == len({(r["sha256"], r["kind"], r["state"], r["agency"]) for r in rows})
    archived = [p for area in ("sheets", "agreements") for p in (data / area).rglob("*") if p.is_file()]
    assert len(archived) == len(rows)
    history = list(iter_history_rows(data / "data"))
    assert len({r["snapshot"] for r in history}) == 1 and len(history) == len(simple_rows()) + 1
    assert not (data / ".ice_tracker.lock").exists()


def test_a_lock_left_by_a_dead_run_is_taken_over_and_logged(site: IceSite, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (data / ".ice_tracker.lock").write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(),
                                                        "started_at": "2026-01-01T00:00:00Z"}))
    code, err = daily(tmp_path, data, site, "--only", "287g")
    assert code == 0, err
    assert "stale lock" in err and f"pid {int(dead.stdout)}" in err
    assert not (data / ".ice_tracker.lock").exists()


# ----- one failure model ------------------------------------------------------------------------------


def test_a_failing_derivation_gives_exit_1_and_is_named_in_the_commit_message(site: IceSite, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, err = daily(tmp_path, data, site, "--only", "287g", "--only", "derive", "--csllea",
                      str(tmp_path / "no-such-csllea.tsv"))
    assert code == 1, err
    record = last_run(data)
    assert record["exit_code"] == 1 and record["failed"] == ["derive (matching)"]
    assert record["commit_message"].startswith("287(g): 2 new workbooks")
    assert record["commit_message"].endswith("failed: derive (matching)")
    assert "error" in record["steps"]["derive"]["matching"] and "error" not in record["steps"]["derive"]["history"]
    assert_one_line_error(err)


def test_the_readme_command_offline_in_a_fresh_clone_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True, timeout=120)
    down = f"http://127.0.0.1:{closed_port()}"
    process = subprocess.Popen([sys.executable, "scraper.py", "--page-url", f"{down}/287g", "--ddp-page", f"{down}/ddp"],
                               cwd=clone, env={**env_for(tmp_path), "PYTHONPATH": str(clone)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, err = finish(process)
    assert code == 2, err
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == "", status.stdout
    assert "Traceback" not in err and "failures.csv" not in err
    assert "nothing achieved; nothing written" in err


# ----- one-line errors ------------------------------------------------------------------------------


def test_a_data_dir_that_is_a_file_gets_one_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    code, err = finish(scraper(tmp_path, "--data-dir", str(not_a_dir), "--only", "derive"))
    assert code == 2 and not_a_dir.read_text() == "x"
    assert_one_line_error(err)
    assert "is not a folder" in err and len(err.strip().splitlines()) == 1


def make_read_only(folder: Path) -> None:
    """chmod for ordinary users; root writes anywhere, so as root the folder is made immutable instead."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    result = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"running as root and cannot make a read-only folder here (chattr: {result.stderr.strip()})")


def make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_a_read_only_data_dir_gets_one_line_and_is_left_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.csv").write_text("path\n")
    make_read_only(data)
    try:
        code, err = finish(scraper(tmp_path, "--data-dir", str(data), "--only", "derive"))
        assert code == 2, err
        assert_one_line_error(err)
        assert "cannot write to the data dir" in err and len(err.strip().splitlines()) == 1
        assert sorted(p.name for p in data.iterdir()) == ["manifest.csv"]
    finally:
        make_writable(data)


def test_a_bad_setting_gets_one_line_and_the_traceback_only_with_v(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, err = finish(scraper(tmp_path, "--data-dir", str(data), ICE_TRACKER_RETRIES="abc"))
    assert code == 2 and not data.exists()
    assert_one_line_error(err)
    assert "ICE_TRACKER_RETRIES='abc' is not a whole number" in err and len(err.strip().splitlines()) == 1
    verbose = subprocess.run([sys.executable, "-m", "ice_tracker", "-v", "scrape", "--data-dir", str(data)],
                             cwd=REPO_ROOT, env=env_for(tmp_path, ICE_TRACKER_RETRIES="abc"), capture_output=True,
                             text=True, timeout=120)
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr  # -v before the command is not lost


def test_other_commands_give_one_line_and_keep_v_before_the_command(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for verbose in ([], ["-v"]):
        result = subprocess.run([sys.executable, "-m", "ice_tracker", *verbose, "history", "--data-dir", str(not_a_dir)],
                                cwd=REPO_ROOT, env=env_for(tmp_path), capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and str(not_a_dir) in result.stderr
        assert ("Traceback" in result.stderr) == bool(verbose), result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_run_gets_one_line_and_last_run_says_why(site: IceSite, tmp_path: Path, signum: int) -> None:
    data = tmp_path / "data"
    site.inject(PAGE_PATH, Fault("stall", seconds=30))
    process = scraper(tmp_path, "--data-dir", str(data), "--page-url", site.url, "--only", "287g")
    wait_for(lambda: any(r[1] == "fault:stall" for r in site.state.requests))
    time.sleep(0.3)
    process.send_signal(signum)
    code, err = finish(process, timeout=60)
    name = signal.Signals(signum).name
    assert code == 128 + signum, err
    assert_one_line_error(err)
    assert f"interrupted by {name}" in err
    record = last_run(data)
    assert record["outcome"] == "interrupted" and record["interrupted_by"] == name and record["exit_code"] == code
    assert record["commit_message"].endswith(f"interrupted ({name})")
    assert not (data / ".ice_tracker.lock").exists()


def test_the_run_deadline_ends_the_run_cleanly_with_what_it_has(site: IceSite, tmp_path: Path) -> None:
    data = tmp_path / "data"
    site.inject(PAGE_PATH, Fault("stall", seconds=60))
    started = time.monotonic()
    code, err = daily(tmp_path, data, site, "--only", "287g", "--only", "derive", ICE_TRACKER_RUN_DEADLINE="0.05")
    assert code == 1, err
    assert time.monotonic() - started < 40
    record = last_run(data)
    assert record["deadline_reached"] is True and record["outcome"] == "deadline reached"
    assert record["deadline_minutes"] == 0.05 and record["failed"] == ["287g", "derive"]
    assert "deadline reached" in record["commit_message"]
    assert_one_line_error(err)


# ----- derivations: all or nothing, in the cache dir they are given -------------------------------


def outputs(data: Path) -> dict[str, bytes]:
    skip = {"sheets", "agreements", ".tmp", ".ice_tracker.lock"}  # a killed run leaves its lock: the next takes it over
    return {p.relative_to(data).as_posix(): p.read_bytes() for p in sorted(data.rglob("*"))
            if p.is_file() and not skip & set(p.relative_to(data).parts) and p.name != "last_run.json"}


def test_a_kill_during_derive_leaves_the_previous_complete_set(site: IceSite, tmp_path: Path) -> None:
    data, csllea = tmp_path / "data", write_tiny_csllea(tmp_path / "csllea.tsv")
    assert daily(tmp_path, data, site, "--only", "287g", "--only", "derive", "--csllea", str(csllea))[0] == 0
    rows = simple_rows()[:3]  # a newer roster: every derived table changes
    site.publish_workbook(roster_workbook(rows), "participatingAgencies07252025pm.xlsx")
    assert daily(tmp_path, data, site, "--only", "287g", "--no-pdfs")[0] == 0
    previous = outputs(data)
    assert "data/changes.csv" in previous and "agreements.csv" in previous
    started = time.time()
    process = scraper(tmp_path, "--data-dir", str(data), "--only", "derive", "--csllea", str(csllea))
    history = [data / ".tmp" / "derive" / "view" / "data" / "roster_history", data / "data" / "roster_history"]
    wait_for(lambda: any(p.stat().st_mtime > started for folder in history if folder.is_dir()
                         for p in folder.glob("*.csv")) or process.poll() is not None)
    process.kill()
    process.wait(30)
    assert outputs(data) == previous  # byte for byte: nothing of the cut run is visible
    assert daily(tmp_path, data, site, "--only", "derive", "--csllea", str(csllea))[0] == 0
    complete = outputs(data)
    assert complete != previous and not (data / ".tmp").exists()
    in_force = read_versions(data / "data", in_force=True)  # the agreements on the newest rosters
    assert set(in_force["agency"]) >= {r["LAW ENFORCEMENT AGENCY"] for r in rows}


def test_derivations_use_the_cache_dir_they_are_given(site: IceSite, tmp_path: Path) -> None:
    data, cache, csllea = tmp_path / "data", tmp_path / "given-cache", write_tiny_csllea(tmp_path / "csllea.tsv")
    code, err = daily(tmp_path, data, site, "--only", "287g", "--only", "derive", "--cache-dir", str(cache),
                      "--csllea", str(csllea))
    assert code == 0, err
    assert (cache / "roster").is_dir()
    assert not (tmp_path / "cache").exists()  # $ICE_TRACKER_CACHE, the default the option replaces
    assert not (tmp_path / "xdg" / "ice_tracker").exists()  # nor ~/.cache (matplotlib may keep its font list there)


# ----- CI on GitHub's runners --------------------------------------------------------------------------


def test_ci_uses_sudo_for_apt_only_when_not_root(tmp_path: Path) -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"(\S+) apt-get (?:update|install)", script)
    assert commands and set(commands) == {"as_root"}
    [helper] = [line for line in script.splitlines() if line.startswith("as_root()")]
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sudo").write_text("#!/bin/sh\necho sudo \"$@\"\n")
    (fake / "id").write_text("#!/bin/sh\necho ${FAKE_UID}\n")
    for tool in fake.iterdir():
        tool.chmod(0o755)
    for uid, expected in (("0", "apt-get check"), ("1001", "sudo echo apt-get check")):
        result = subprocess.run(["bash", "-c", f"{helper}\nas_root echo apt-get check"], capture_output=True, text=True,
                                env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "FAKE_UID": uid})
        assert result.stdout.strip() == expected, (uid, result.stdout, result.stderr)
    test_command = "pip install -q -r requirements-dev.txt && python -m pytest -q"
    assert script.rstrip().endswith(test_command) and test_command in (REPO_ROOT / "README.md").read_text()


# ----- text strangers wrote never reaches the Actions log or the commit message as commands -----------


def test_the_log_filter_keeps_each_message_on_one_line_without_workflow_commands() -> None:
    import io
    import logging

    from ice_tracker.logging_setup import SafeFormatter, SafeTextFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(levelname)s %(message)s"))
    handler.addFilter(SafeTextFilter())
    logger = logging.getLogger("tests.hostile")
    logger.addHandler(handler)
    try:
        logger.warning("agency %s", "Alpha\n::error::owned\r\n::add-mask::x\u2028::stop-commands::t")
        try:
            raise ValueError("cell\n::error file=x::owned")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("WARNING agency Alpha") and "::" not in stream.getvalue()
    assert not any(line.lstrip().startswith("::") for line in lines)


def test_page_text_reaches_neither_the_log_as_commands_nor_the_commit_message(tmp_path: Path) -> None:
    from tests.ddp_files import stints_parquet
    from tests.ddp_site import DdpSite

    with DdpSite() as ddp:
        ddp.state.sentence = ("The most recent release of data covers ICE enforcement actions through March 10, 2026."
                              " ::error::owned fixes #1 ::add-mask::secret")
        ddp.add_processed("Detention stints", "detention-stints-latest.parquet", stints_parquet())
        data = tmp_path / "data"
        code, err = finish(scraper(tmp_path, "--data-dir", str(data), "--only", "releases", "--ddp-page", ddp.raw_url,
                                   "--ddp-page", ddp.processed_url))
    assert code == 0, err
    assert "owned" in err and "::" not in err  # logged, but defused
    message = last_run(data)["commit_message"]
    assert message.startswith("DDP: new release through 2026-03-10") and "#" not in message and "owned" not in message


def test_a_swap_cut_short_is_finished_by_the_next_run(tmp_path: Path) -> None:
    from ice_tracker.fileio import atomic_write_text
    from ice_tracker.staging import COMPLETE, _derived_files, finish_interrupted_swap, open_staging

    data = tmp_path / "data"
    (data / "data" / "roster_history").mkdir(parents=True)
    (data / "data" / "changes.csv").write_text("old\n")
    (data / "data" / "roster_history" / "2025-06.csv").write_text("old month\n")
    (data / "agreements.csv").write_text("old\n")
    (data / "manifest.csv").write_text("archive\n")
    view = open_staging(data)
    assert (view / "manifest.csv").is_symlink() and not (view / "data").is_symlink()
    (view / "data" / "changes.csv").write_text("new\n")
    (view / "agreements.csv").write_text("new\n")
    (view / "data" / "roster_history" / "2025-06.csv").unlink()  # the derivation dropped a vanished month
    (view / "data" / "roster_history" / "2025-07.csv").write_text("new month\n")
    # the state a kill leaves halfway through the move: marker written, one file already moved
    atomic_write_text(view.parent / COMPLETE, "".join(f"{rel}\n" for rel in sorted(_derived_files(view))))
    os.replace(view / "agreements.csv", data / "agreements.csv")
    finish_interrupted_swap(data)
    assert (data / "data" / "changes.csv").read_text() == "new\n" and (data / "agreements.csv").read_text() == "new\n"
    assert sorted(p.name for p in (data / "data" / "roster_history").iterdir()) == ["2025-07.csv"]
    assert (data / "manifest.csv").read_text() == "archive\n" and not (data / ".tmp").exists()
