"""``roost update`` through ``python -m roost_core`` run from a temp git checkout of roost.

The checkout is this source tree committed into a fresh repo with a bare
"upstream"; ``PYTHONPATH`` makes that copy the roost that runs, so update
inspects (and pulls) the temp repo, never this one. The reinstall is the
documented ``CLAUDE_LB_UPDATE_INSTALL_CMD`` override, so the test venv is
never reinstalled.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("roost_core", "roost_plugins")  # update itself is a built-in plugin
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def checkout(tmp_path, roost_env):
    """(env, installed checkout, a second clone to push upstream commits from)."""
    cfg = tmp_path / "gitconfig"
    cfg.write_text("[user]\n\tname = t\n\temail = t@example.invalid\n")
    env = roost_env.env(GIT_CONFIG_GLOBAL=str(cfg), GIT_CONFIG_NOSYSTEM="1")
    seed = tmp_path / "seed"
    for package in PACKAGES:
        shutil.copytree(REPO / package, seed / package, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "pyproject.toml", seed / "pyproject.toml")
    git(seed, "init", "-q", "-b", "main", env=env)
    git(seed, "add", "-A", env=env)
    git(seed, "commit", "-q", "-m", "seed", env=env)
    git(tmp_path, "clone", "-q", "--bare", str(seed), "upstream.git", env=env)
    git(tmp_path, "clone", "-q", "upstream.git", "installed", env=env)
    git(tmp_path, "clone", "-q", "upstream.git", "other", env=env)
    env["PYTHONPATH"] = str(tmp_path / "installed")
    return env, tmp_path / "installed", tmp_path / "other"


def push_upstream(other: Path, env: dict[str, str], n: int) -> None:
    for i in range(n):
        (other / f"CHANGE{i}").write_text(str(i))
        git(other, "add", "-A", env=env)
        git(other, "commit", "-q", "-m", f"change {i}", env=env)
    git(other, "push", "-q", env=env)


def roost(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess:
    # cwd outside this repo: "python -m" puts the cwd first on sys.path, ahead of PYTHONPATH
    return subprocess.run([sys.executable, "-m", "roost_core", *args], env={**env, **extra}, capture_output=True,
                          text=True, timeout=120, cwd=env.get("HOME") or "/")


def test_reports_behind_then_apply_pulls_and_reinstalls(checkout, tmp_path):
    env, installed, other = checkout
    push_upstream(other, env, 3)
    proc = roost(env, "update", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["meta"] == {"update_available": True}
    assert out["data"]["install"]["kind"] == "git" and out["data"]["install"]["dir"] == str(installed)
    assert (out["data"]["git"]["behind"], out["data"]["git"]["ahead"], out["data"]["git"]["fetched"]) == (3, 0, True)
    text = roost(env, "update")
    assert "3 commit(s) behind origin/main" in text.stdout and "roost update --apply" in text.stderr

    marker = tmp_path / "reinstall.txt"
    override = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' {marker} {{dir}}"
    proc = roost(env, "update", "--apply", "--json", CLAUDE_LB_UPDATE_INSTALL_CMD=override)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["meta"] == {"update_available": False} and out["data"]["git"]["behind"] == 0
    assert out["data"]["applied"]["pulled"] is True and (installed / "CHANGE2").exists()
    assert marker.read_text() == str(installed)
    assert "pull --ff-only" in proc.stderr


def test_no_pull_only_resyncs(checkout, tmp_path):
    env, installed, other = checkout
    push_upstream(other, env, 1)
    marker = tmp_path / "reinstall.txt"
    override = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(\"ok\")' {marker}"
    proc = roost(env, "update", "--apply", "--no-pull", "--json", CLAUDE_LB_UPDATE_INSTALL_CMD=override)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["data"]["applied"]["pulled"] is False and not (installed / "CHANGE0").exists()
    assert marker.read_text() == "ok"
    assert roost(env, "update", "--no-pull").returncode == 4  # only with --apply


def test_diverged_branch_is_a_conflict_and_nothing_is_reinstalled(checkout, tmp_path):
    env, installed, other = checkout
    push_upstream(other, env, 1)
    (installed / "LOCAL").write_text("x")
    git(installed, "add", "LOCAL", env=env)
    git(installed, "commit", "-q", "-m", "local", env=env)
    marker = tmp_path / "reinstall.txt"
    proc = roost(env, "update", "--apply", "--json",
                 CLAUDE_LB_UPDATE_INSTALL_CMD=f"{sys.executable} -c 'open({str(marker)!r}, \"w\")'")
    assert proc.returncode == 7, proc.stderr
    assert json.loads(proc.stdout)["error"]["code"] == "CONFLICT"
    assert not marker.exists()


def test_non_git_installs_say_what_to_run_and_exit_0(checkout, tmp_path):
    env, installed, _ = checkout
    plain = tmp_path / "plain"
    for package in PACKAGES:
        shutil.copytree(installed / package, plain / package)
    shutil.copy(installed / "pyproject.toml", plain / "pyproject.toml")
    proc = roost({**env, "PYTHONPATH": str(plain)}, "update", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["data"]["install"]["kind"] == "source" and out["meta"] == {"update_available": None}
    assert "not a git checkout" in out["data"]["advice"]
    site = tmp_path / "lib" / "site-packages"
    for package in PACKAGES:
        shutil.copytree(installed / package, site / package)
    proc = roost({**env, "PYTHONPATH": str(site)}, "update", "--apply")
    assert proc.returncode == 0, proc.stderr
    assert "not from a git checkout" in proc.stderr and "To upgrade, run:" in proc.stderr


def test_failed_fetch_says_update_available_null(checkout, tmp_path):
    env, installed, other = checkout
    push_upstream(other, env, 1)
    git(installed, "fetch", "-q", env=env)  # one commit behind, as last fetched
    git(installed, "remote", "set-url", "origin", str(tmp_path / "gone.git"), env=env)
    proc = roost(env, "update", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["meta"]["update_available"] is None and out["data"]["git"]["fetch_error"]
    assert out["data"]["git"]["behind"] == 1  # what the last fetch said, kept as a figure
    proc = roost(env, "update")
    assert "unknown, the fetch failed" in proc.stdout and "could not fetch" in proc.stderr


def test_apply_with_uv_missing_is_unavailable_with_the_command(checkout, tmp_path):
    env, installed, _ = checkout
    no_uv = {**env, "PATH": "/usr/bin:/bin", "CLAUDE_LB_UPDATE_INSTALL_CMD": "uv tool install --reinstall --editable {dir}"}
    assert shutil.which("uv", path=no_uv["PATH"]) is None
    proc = roost(no_uv, "update", "--apply", "--no-pull")
    assert proc.returncode == 9, proc.stderr
    assert f"'uv' is not on PATH; install it, then run: uv tool install --reinstall --editable {installed}" \
        in proc.stderr
    assert "Traceback" not in proc.stderr


def test_non_git_apply_does_nothing_and_advises_once(checkout, tmp_path):
    env, installed, _ = checkout
    site = tmp_path / "lib" / "site-packages"
    for package in PACKAGES:
        shutil.copytree(installed / package, site / package)
    proc = roost({**env, "PYTHONPATH": str(site)}, "update", "--apply")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("To upgrade, run:") == 1 and "nothing to apply" in proc.stderr
    proc = roost({**env, "PYTHONPATH": str(site)}, "update", "--apply", "--json")
    assert proc.returncode == 0 and proc.stderr == ""  # the advice is in data.advice only
    assert "To upgrade, run:" in json.loads(proc.stdout)["data"]["advice"]
