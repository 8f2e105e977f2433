"""``roost update`` pieces: git ahead/behind against a real bare upstream, reinstall commands, advice."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from roost_plugins import update as up
from roost_core.context import RoostContext
from roost_core.errors import Conflict
from roost_core.output import Output

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """Commits work without the user's git config (identity, signing, hooks)."""
    cfg = tmp_path / "gitconfig"
    cfg.write_text("[user]\n\tname = t\n\temail = t@example.invalid\n[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return cfg


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, name: str) -> None:
    (repo / name).write_text(name)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", name)


@pytest.fixture
def repos(tmp_path, git_env):
    """(installed clone, other clone) sharing a bare upstream."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    commit(seed, "README")
    git(tmp_path, "clone", "-q", "--bare", str(seed), "upstream.git")
    git(tmp_path, "clone", "-q", "upstream.git", "installed")
    git(tmp_path, "clone", "-q", "upstream.git", "other")
    return tmp_path / "installed", tmp_path / "other"


def test_ahead_behind_after_fetch(repos):
    installed, other = repos
    for name in ("u1", "u2", "u3"):
        commit(other, name)
    git(other, "push", "-q")
    commit(installed, "local")
    stale = up.git_state(installed, fetch=False)
    assert (stale.ahead, stale.behind, stale.fetched) == (1, 0, False)
    state = up.git_state(installed, fetch=True)
    assert (state.ahead, state.behind, state.fetched, state.fetch_error) == (1, 3, True, None)
    assert state.branch == "main" and state.upstream == "origin/main" and not state.dirty


def test_fetch_failure_is_tolerated(repos):
    installed, other = repos
    commit(other, "u1")
    git(other, "push", "-q")
    git(installed, "fetch", "-q")
    git(installed, "remote", "set-url", "origin", str(installed.parent / "gone.git"))
    state = up.git_state(installed, fetch=True)
    assert state.fetched is False and state.fetch_error
    # git's reason, not its closing advice ("... and the repository exists.")
    assert state.fetch_error.startswith("fatal:") and "repository exists" not in state.fetch_error
    assert state.behind == 1  # still compared with what was last fetched


def test_git_failure_is_its_first_fatal_line():
    advice = ("fatal: 'gone.git' does not appear to be a git repository\nfatal: Could not read from remote "
              "repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n")
    assert up.git_failure(advice, 128) == "fatal: 'gone.git' does not appear to be a git repository"
    assert up.git_failure("warning: odd\n", 1) == "warning: odd" and up.git_failure("", 2) == "exit 2"


def test_no_upstream_and_dirty(tmp_path, git_env):
    repo = tmp_path / "solo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "a")
    (repo / "a").write_text("changed")
    state = up.git_state(repo, fetch=True)
    assert state.upstream is None and state.ahead is None and state.dirty is True


def _ctx(tmp_path, **env) -> tuple[RoostContext, io.StringIO]:
    err = io.StringIO()
    return RoostContext(env={"HOME": str(tmp_path), **env}, out=Output(stdout=io.StringIO(), stderr=err)), err


def _install(directory: Path, tool: str = "pip") -> up.Install:
    return up.Install("git", tool, True, str(directory), sys.executable)


def test_apply_pulls_fast_forward_and_runs_the_reinstall_override(repos, tmp_path):
    installed, other = repos
    commit(other, "u1")
    git(other, "push", "-q")
    marker = tmp_path / "reinstalled"
    cmd = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' {marker} {{dir}}"
    rctx, err = _ctx(tmp_path, CLAUDE_LB_UPDATE_INSTALL_CMD=cmd)
    state = up.git_state(installed, fetch=True)
    applied = up.apply_update(rctx, _install(installed), state, pull=True, platform="linux")
    assert (installed / "u1").exists() and applied["commit_after"] != applied["commit_before"]
    assert marker.read_text() == str(installed) and applied["reinstall"]["ran"] is True
    assert "git" in err.getvalue() and "pull --ff-only" in err.getvalue()


def test_apply_refuses_a_diverged_branch(repos, tmp_path):
    installed, other = repos
    commit(other, "u1")
    git(other, "push", "-q")
    commit(installed, "mine")
    rctx, _ = _ctx(tmp_path, CLAUDE_LB_UPDATE_INSTALL_CMD="false")
    with pytest.raises(Conflict):
        up.apply_update(rctx, _install(installed), up.git_state(installed, fetch=True), pull=True, platform="linux")


def test_windows_prints_the_workaround_instead_of_reinstalling(repos, tmp_path):
    installed, _ = repos
    rctx, err = _ctx(tmp_path)
    applied = up.apply_update(rctx, _install(installed, "uv"), up.git_state(installed, fetch=False), pull=False,
                              platform="win32")
    assert applied["reinstall"] == {"command": f'uv tool install --reinstall --editable "{installed}"',
                                    "ran": False, "reason": "windows"}
    assert up.WINDOWS_CAVEAT in err.getvalue() and f'--editable "{installed}"' in err.getvalue()


def test_reinstall_commands():
    d = "/src/my roost"
    assert up.reinstall_command(_install(Path(d), "uv"), {}) == ["uv", "tool", "install", "--reinstall",
                                                                 "--editable", d]
    assert up.reinstall_command(_install(Path(d), "pipx"), {})[:3] == ["pipx", "install", "--force"]
    assert up.reinstall_command(_install(Path(d)), {}) == [sys.executable, "-m", "pip", "install", "-q", "-e", d]
    override = {"CLAUDE_LB_UPDATE_INSTALL_CMD": "echo 'two words' {dir}"}
    assert up.reinstall_command(_install(Path(d)), override) == ["echo", "two words", d]


def test_package_advice_names_the_tool_and_the_command():
    pip = up.package_advice(up.Install("package", "pip", False, None, "/usr/bin/python3", None))
    assert "installed with pip" in pip and "/usr/bin/python3 -m pip install --upgrade roost" in pip
    uv = up.package_advice(up.Install("package", "uv", False, None, "py", "git+https://example.invalid/roost.git"))
    assert "uv tool install --reinstall git+https://example.invalid/roost.git" in uv
    pipx = up.package_advice(up.Install("package", "pipx", False, None, "py", "file:///opt/roost"))
    assert "pipx install --force /opt/roost" in pipx
    source = up.package_advice(up.Install("source", "pip", True, "/opt/roost", "py"))
    assert "not a git checkout" in source and "-e /opt/roost" in source


def test_a_checkout_without_git_on_path_says_git_is_missing(tmp_path):
    """A .git beside the project but no git to read it: "not a git checkout" would send people astray."""
    (tmp_path / ".git").mkdir()
    advice = up.package_advice(up.Install("source", "pip", True, str(tmp_path), "py"))
    assert "git is not on PATH" in advice and "not a git checkout" not in advice


def test_this_checkout_is_detected():
    install = up.detect_install()
    assert install.kind in ("git", "source") and install.dir is not None
    assert (Path(install.dir) / "pyproject.toml").is_file() and install.python == sys.executable
    import roost_core.api as api

    assert os.path.samefile(Path(install.dir) / "roost_core", Path(api.__file__).parent)
