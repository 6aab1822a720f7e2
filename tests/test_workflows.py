"""The GitHub Actions workflows lint clean and keep the promises the README makes about them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
DAILY = REPO_ROOT / ".github" / "workflows" / "daily.yml"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_actionlint_passes() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run([actionlint, "-color=false", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path: Path) -> None:
    uses = re.findall(r"uses:\s*(\S+)", path.read_text())
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned to a SHA"


def test_daily_schedule_permissions_and_concurrency() -> None:
    flow = load(DAILY)
    [cron] = [entry["cron"] for entry in flow["on"]["schedule"]]
    assert cron.split()[0] not in ("0", "*") and int(cron.split()[0]) % 2 == 1  # an odd minute
    assert "workflow_dispatch" in flow["on"]
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"]["cancel-in-progress"] is False
    writers = {name for name, job in flow["jobs"].items() if job.get("permissions", {}).get("contents") == "write"}
    assert writers == {"archive"}
    steps = flow["jobs"]["archive"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "python scraper.py" in runs and "git commit" in runs and "commit_message" in runs
    assert any(step.get("with", {}).get("cache") == "pip" for step in steps)
    assert "keepalive" in flow["jobs"]
    assert any("exit 1" in step.get("run", "") and "exit_code" in str(step.get("if", "")) for step in steps)


def test_daily_commits_only_after_a_finished_run_and_pushes_with_bounded_retries() -> None:
    steps = {step.get("id", step.get("name")): step for step in load(DAILY)["jobs"]["archive"]["steps"]}
    commit = steps["commit"]
    condition = str(commit["if"])
    assert "always()" not in condition  # not after a kill: a cancelled job skips it
    assert "exit_code == '0'" in condition and "exit_code == '1'" in condition and "'2'" not in condition
    script = commit["run"]
    assert re.search(r"for attempt in 1 2 3 4 5; do", script) and "git pull --rebase" in script
    assert "git push" in script and "git rebase --abort" in script
    assert "commit_message" in script and "-F" in script  # the message is a file, never re-parsed by the shell
    [fail] = [s for s in steps.values() if "exit_code != '0'" in str(s.get("if", ""))]
    assert "always()" in str(fail["if"]) and "exit 1" in fail["run"]


def test_backfill_is_a_dispatch_only_workflow_that_never_overlaps_the_daily_job() -> None:
    flow = load(REPO_ROOT / ".github" / "workflows" / "backfill.yml")
    assert set(flow["on"]) == {"workflow_dispatch"}  # one-time, by hand: never scheduled
    assert set(flow["on"]["workflow_dispatch"]["inputs"]) == {"since", "until"}
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"]["group"] == load(DAILY)["concurrency"]["group"]
    steps = flow["jobs"]["backfill"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "python -m ice_tracker backfill --wayback" in runs and "git commit" in runs and "size_guard" in runs
    assert any(step.get("uses", "").startswith("actions/cache/save@") and step.get("if") == "always()" for step in steps)
    [commit] = [step for step in steps if step.get("id") == "commit"]
    assert "always()" not in str(commit["if"]) and "exit_code == '1'" in str(commit["if"])  # never after a kill
    assert "--deadline" in runs and "for attempt in 1 2 3 4 5; do" in commit["run"]
