"""``roost update``: version, how roost is installed, and for a git checkout
how far it is from its upstream; ``--apply`` pulls (fast-forward only) and
reinstalls.

The install is judged by where ``roost_core`` is imported from: a project
directory (``pyproject.toml`` beside the package dir) inside a git work tree
is a "git" install; anything under site-packages is a packaged install, for
which roost says what to run instead. ``CLAUDE_LB_UPDATE_INSTALL_CMD``
replaces the reinstall command (``{dir}`` is the checkout); tests use it so
they never reinstall the real environment.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import click

from roost_core.api import (
    Conflict,
    RoostContext,
    RoostError,
    Unavailable,
    ValidationError,
    __version__,
    hookimpl,
    json_option,
    pass_roost,
)

INSTALL_CMD_VAR = "CLAUDE_LB_UPDATE_INSTALL_CMD"
FETCH_TIMEOUT_S = 15.0
GIT_TIMEOUT_S = 10.0
PULL_TIMEOUT_S = 120.0
REINSTALL_TIMEOUT_S = 900.0
WINDOWS_CAVEAT = ("On Windows roost cannot reinstall itself while it runs: this process has its own "
                  ".pyd files memory-mapped, so the reinstall would fail with EACCES. Run it from a "
                  "shell that isn't roost (bash, cmd or PowerShell):")


@dataclass
class Install:
    """How the running roost is installed."""

    kind: str  # "git" (checkout), "source" (a project dir without git) or "package"
    tool: str  # "uv" (uv tool env), "pipx" or "pip"
    editable: bool
    dir: str | None  # the project directory roost runs from (git/source)
    python: str
    origin: str | None = None  # a packaged install's source (direct_url.json), if recorded


@dataclass
class GitState:
    root: str
    branch: str | None
    commit: str | None
    upstream: str | None
    ahead: int | None = None
    behind: int | None = None
    dirty: bool = False
    fetched: bool = False
    fetch_error: str | None = None


def _direct_url() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("roost").read_text("direct_url.json")
    except (PackageNotFoundError, OSError):
        return {}
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _tool() -> str:
    prefix = Path(sys.prefix)
    if (prefix / "uv-receipt.toml").exists():
        return "uv"
    if "pipx" in prefix.parts:
        return "pipx"
    return "pip"


def detect_install() -> Install:
    import roost_core.api as api

    package_dir = Path(api.__file__).resolve().parent  # roost_core/
    in_site = any(part in ("site-packages", "dist-packages") for part in package_dir.parts)
    project = next((d for d in (package_dir.parent, package_dir.parent.parent)
                    if (d / "pyproject.toml").is_file()), None) if not in_site else None
    direct = _direct_url()
    editable = bool(direct.get("dir_info", {}).get("editable")) or project is not None
    if project is None:
        origin = direct.get("url")
        if origin and "vcs_info" in direct:
            origin = f"git+{origin}"
        return Install("package", _tool(), editable, None, sys.executable, origin)
    kind = "git" if git_root(project) else "source"
    return Install(kind, _tool(), editable, str(project), sys.executable, direct.get("url"))


# -- git -------------------------------------------------------------------------


def _git(cwd: str | Path, *args: str, timeout: float = GIT_TIMEOUT_S) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    return subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


def _git_out(cwd: str | Path, *args: str) -> str | None:
    try:
        proc = _git(cwd, *args)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def git_root(directory: str | Path) -> str | None:
    return _git_out(directory, "rev-parse", "--show-toplevel")


def git_state(directory: str | Path, fetch: bool) -> GitState:
    root = git_root(directory) or str(directory)
    state = GitState(root, _git_out(root, "rev-parse", "--abbrev-ref", "HEAD"),
                     _git_out(root, "rev-parse", "--short", "HEAD"),
                     _git_out(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"))
    state.dirty = bool(_git_out(root, "status", "--porcelain", "--untracked-files=no"))
    if state.upstream is None:
        return state
    if fetch:
        state.fetched, state.fetch_error = _fetch(root, state.upstream)
    counts = _git_out(root, "rev-list", "--left-right", "--count", "HEAD...@{u}")
    if counts and len(counts.split()) == 2:
        state.ahead, state.behind = (int(n) for n in counts.split())
    return state


def _fetch(root: str, upstream: str) -> tuple[bool, str | None]:
    remote = _git_out(root, "config", f"branch.{_git_out(root, 'rev-parse', '--abbrev-ref', 'HEAD')}.remote")
    try:
        proc = _git(root, "fetch", "--quiet", *([remote] if remote and remote != "." else []),
                    timeout=FETCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return False, f"git fetch timed out after {FETCH_TIMEOUT_S:g}s"
    except OSError as exc:
        return False, f"git fetch failed: {exc}"
    if proc.returncode != 0:
        return False, git_failure(proc.stderr, proc.returncode)
    return True, None


def git_failure(stderr: str, returncode: int) -> str:
    """git's own reason: its first ``fatal:``/``error:`` line (the last line is often advice,
    "... and the repository exists."), else its first line, else the exit status."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (said or lines or [f"exit {returncode}"])[0]


# -- advice and reinstall ----------------------------------------------------------


def reinstall_command(install: Install, env: Mapping[str, str]) -> list[str]:
    """What re-syncs an editable checkout: the override, uv, pipx or pip."""
    directory = install.dir or "."
    override = env.get(INSTALL_CMD_VAR, "").strip()
    if override:
        return [arg.replace("{dir}", directory) for arg in shlex.split(override)]
    if install.tool == "uv":
        return ["uv", "tool", "install", "--reinstall", "--editable", directory]
    if install.tool == "pipx":
        return ["pipx", "install", "--force", "--editable", directory]
    return [install.python, "-m", "pip", "install", "-q", "-e", directory]


def package_advice(install: Install) -> str:
    """What to run to upgrade a non-git install."""
    spec = install.origin or "roost"
    if spec.startswith("file://"):
        spec = spec[len("file://"):]
    if install.kind == "source" and install.dir and os.path.exists(os.path.join(install.dir, ".git")):
        return (f"roost runs from the git checkout {install.dir}, but git is not on PATH: install git "
                f"(or add it to PATH) and run roost update again")
    if install.kind == "source":
        how = f"from the directory {install.dir}, which is not a git checkout"
        cmd = shlex.join(reinstall_command(install, {}))
        return f"roost runs {how}: replace its files with a newer release, then run: {cmd}"
    cmd = {"uv": f"uv tool install --reinstall {shlex.quote(spec)}",
           "pipx": f"pipx install --force {shlex.quote(spec)}",
           "pip": f"{shlex.quote(install.python)} -m pip install --upgrade {shlex.quote(spec)}"}[install.tool]
    where = {"uv": "as a uv tool", "pipx": "with pipx", "pip": f"with pip into {sys.prefix}"}[install.tool]
    clone = ("For updates with `roost update --apply`, install from a clone instead: "
             "git clone <repo> && uv tool install --editable <clone>")
    return f"roost is installed {where} (not from a git checkout). To upgrade, run: {cmd}. {clone}"


def _relay(rctx: RoostContext, proc: subprocess.CompletedProcess) -> None:
    for stream in (proc.stdout, proc.stderr):
        if stream and stream.strip():
            rctx.out.say(stream.rstrip("\n"))


def _pull(rctx: RoostContext, state: GitState) -> None:
    if state.upstream is None:
        raise Unavailable(f"branch {state.branch!r} in {state.root} has no upstream to pull from; set one with "
                          "`git branch --set-upstream-to=<remote>/<branch>` or use --no-pull")
    rctx.out.say(f"$ git -C {shlex.quote(state.root)} pull --ff-only")
    try:
        proc = _git(state.root, "pull", "--ff-only", timeout=PULL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"git pull timed out after {PULL_TIMEOUT_S:g}s") from None
    _relay(rctx, proc)
    if proc.returncode != 0:
        text = (proc.stderr + proc.stdout).lower()
        if "fast-forward" in text or "diverg" in text or "overwritten" in text or "conflict" in text:
            raise Conflict(f"git pull --ff-only refused in {state.root}: your branch has local changes or "
                           "commits that upstream lacks; resolve them with git, then rerun",
                           details={"git_exit": proc.returncode})
        raise Unavailable(f"git pull failed in {state.root} (exit {proc.returncode})",
                          details={"git_exit": proc.returncode})


def _reinstall(rctx: RoostContext, install: Install, platform: str) -> dict[str, Any]:
    cmd = reinstall_command(install, rctx.env)
    shown = shlex.join(cmd)
    if platform == "win32" and not rctx.env.get(INSTALL_CMD_VAR):
        windows_cmd = f'uv tool install --reinstall --editable "{install.dir}"' if install.tool == "uv" else shown
        rctx.out.say(f"{WINDOWS_CAVEAT}\n    {windows_cmd}")
        return {"command": windows_cmd, "ran": False, "reason": "windows"}
    if shutil.which(cmd[0]) is None and not os.path.isabs(cmd[0]):
        # A missing tool is UNAVAILABLE (9), not a roost bug: say what to run once it is there.
        raise Unavailable(f"cannot reinstall: {cmd[0]!r} is not on PATH; install it, then run: {shown}",
                          details={"command": cmd, "missing": cmd[0]})
    rctx.out.say(f"$ {shown}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=REINSTALL_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RoostError(f"reinstall failed: {exc}; run by hand: {shown}") from None
    _relay(rctx, proc)
    if proc.returncode != 0:
        raise RoostError(f"reinstall failed (exit {proc.returncode}): {shown}",
                         details={"command": cmd, "exit": proc.returncode})
    return {"command": shown, "ran": True, "exit": 0}


def apply_update(rctx: RoostContext, install: Install, state: GitState, pull: bool,
                 platform: str = sys.platform) -> dict[str, Any]:
    before = state.commit
    if pull:
        _pull(rctx, state)
    after = _git_out(state.root, "rev-parse", "--short", "HEAD")
    reinstall = _reinstall(rctx, install, platform)
    return {"pulled": pull, "commit_before": before, "commit_after": after, "reinstall": reinstall}


# -- the command -------------------------------------------------------------------


def _summary(install: Install, state: GitState | None) -> tuple[str, bool | None]:
    head = f"roost {__version__}"
    if state is None:
        return f"{head} ({install.kind} install via {install.tool})", None
    where = f"git {state.commit or '?'} on {state.branch or '?'}"
    if state.upstream is None or state.behind is None:
        return f"{head} ({where}): no upstream branch to compare with", None
    if state.fetch_error:  # the last fetch's figures may be old: whether an update exists is unknown
        return f"{head} ({where}): unknown, the fetch failed ({state.behind} behind {state.upstream} " \
               "as last fetched)", None
    if state.behind:
        ahead = f", {state.ahead} ahead" if state.ahead else ""
        return f"{head} ({where}): {state.behind} commit(s) behind {state.upstream}{ahead}: update available", True
    ahead = f" ({state.ahead} local commit(s) ahead)" if state.ahead else ""
    return f"{head} ({where}): up to date with {state.upstream}{ahead}", False


@click.command("update")
@click.option("--apply", "apply_", is_flag=True, help="git pull --ff-only, then reinstall (editable).")
@click.option("--no-pull", is_flag=True, help="With --apply: skip the pull, only re-sync the install.")
@click.option("--no-fetch", is_flag=True, help="Compare with the upstream as last fetched (offline).")
@json_option
@pass_roost
def update_cmd(rctx: RoostContext, apply_: bool, no_pull: bool, no_fetch: bool) -> None:
    """Version and git-upstream ahead/behind; --apply pulls and reinstalls."""
    if no_pull and not apply_:
        raise ValidationError("--no-pull only makes sense with --apply")
    install = detect_install()
    if install.kind != "git":
        _report_package(rctx, install, apply_)
        return
    state = git_state(install.dir or ".", fetch=not no_fetch and not (apply_ and not no_pull))
    if state.fetch_error:
        rctx.warn(f"could not fetch {state.upstream}: {state.fetch_error}; comparing with what was last fetched")
    if apply_:
        from roost_core.api import current_platform  # the platform setting: the Windows caveat is testable anywhere

        applied = apply_update(rctx, install, state, pull=not no_pull, platform=current_platform(rctx))
    else:
        applied = None
    if applied is not None:
        state = git_state(state.root, fetch=False)
    summary, available = _summary(install, state)
    advice = "run `roost update --apply` to pull and reinstall" if available else None
    rctx.out.emit({"version": __version__, "install": asdict(install), "git": asdict(state), "advice": advice,
                   "applied": applied}, {"update_available": available}, text=summary)
    if advice and not rctx.out.json_mode:
        rctx.out.say(advice)


def _report_package(rctx: RoostContext, install: Install, apply_: bool) -> None:
    """A non-git install: roost cannot update it, the advice says how to."""
    advice = package_advice(install)
    summary, available = _summary(install, None)
    rctx.out.emit({"version": __version__, "install": asdict(install), "git": None, "advice": advice,
                   "applied": None}, {"update_available": available}, text=summary)
    if not rctx.out.json_mode:  # --json carries it in data.advice: said once either way
        rctx.out.say(("nothing to apply: " if apply_ else "") + advice)


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(update_cmd)
