"""``roost completion [SHELL] [--install]``: print or install the completion script.

The root flags ``roost --show-completion`` / ``--install-completion`` run this
command for the detected shell. bash, zsh and fish get click's own scripts;
PowerShell gets the script of the core's ``PowerShellComplete`` protocol class.

Installing writes the script to roost's config dir (fish: its completions
dir, which fish autoloads) and appends one guarded source line to the
shell's rc file, once.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import click
from click.shell_completion import get_completion_class

from roost_core.api import (
    COMPLETE_VAR,
    RoostContext,
    RoostError,
    ValidationError,
    atomic_write,
    hookimpl,
    json_option,
    register_completion_shells,
)

from .detect import SHELLS, detect_shell, normalize_shell, shell_for_printing

RC_MARKER = "# roost shell completion (roost --install-completion)"


def _click_shell_name(shell: str) -> str:
    return "powershell" if shell == "pwsh" else shell


def completion_script(cli: click.Command, shell: str, prog_name: str = "roost") -> str:
    """The completion script for ``shell`` (one of SHELLS)."""
    register_completion_shells()
    cls = get_completion_class(_click_shell_name(shell))
    if cls is None:
        raise ValidationError(f"no completion support for {shell!r}")
    return cls(cli, {}, prog_name, COMPLETE_VAR).source()


@dataclass(frozen=True)
class InstallPlan:
    """Where the script goes and which rc file sources it (None: the shell autoloads it)."""

    shell: str
    script_path: Path
    rc_file: Path | None
    rc_line: str | None


def _quote_posix(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _xdg_config_home(env: Mapping[str, str], home: Path) -> Path:
    xdg = env.get("XDG_CONFIG_HOME", "")
    return Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"


def install_plan(shell: str, env: Mapping[str, str], home: Path, config_dir: Path) -> InstallPlan:
    if shell == "fish":
        target = _xdg_config_home(env, home) / "fish" / "completions" / "roost.fish"
        return InstallPlan(shell, target, None, None)
    if shell == "bash":
        script = config_dir / "completion.bash"
        line = f"[ -f {_quote_posix(script)} ] && . {_quote_posix(script)}"
        return InstallPlan(shell, script, home / ".bashrc", line)
    if shell == "zsh":
        script = config_dir / "completion.zsh"
        zdot = env.get("ZDOTDIR", "")
        rc = (Path(zdot) if zdot and os.path.isabs(zdot) else home) / ".zshrc"
        line = (f"[ -f {_quote_posix(script)} ] && {{ (( $+functions[compdef] )) || "
                f"{{ autoload -Uz compinit && compinit; }}; . {_quote_posix(script)}; }}")
        return InstallPlan(shell, script, rc, line)
    if shell == "pwsh":
        script = config_dir / "completion.ps1"
        if sys.platform == "win32":
            profile = home / "Documents" / "PowerShell" / "Microsoft.PowerShell_profile.ps1"
        else:
            profile = _xdg_config_home(env, home) / "powershell" / "Microsoft.PowerShell_profile.ps1"
        quoted = "'" + str(script).replace("'", "''") + "'"
        return InstallPlan(shell, script, profile, f"if (Test-Path {quoted}) {{ . {quoted} }}")
    raise ValidationError(f"no completion support for {shell!r}")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"), 0o644)


def _append_rc_line(rc_file: Path, line: str) -> bool:
    """Append the marker and ``line`` unless already there; True when the file changed."""
    try:
        current = rc_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    if line in current:
        return False
    rc_file.parent.mkdir(parents=True, exist_ok=True)
    lead = "\n" if current and not current.endswith("\n") else ""
    with open(rc_file, "a", encoding="utf-8") as handle:  # append: never rewrite the user's rc
        handle.write(f"{lead}\n{RC_MARKER}\n{line}\n")
    return True


def _shell_or_fail(rctx: RoostContext, shell: str | None) -> str:
    """For installing: the named or detected shell, never a guess (a guess would edit the wrong rc file)."""
    chosen = normalize_shell(shell) if shell else detect_shell(rctx.env)
    if chosen is None:
        raise ValidationError("cannot detect your shell (parent process and $SHELL are not bash, zsh, "
                              f"fish or pwsh); run 'roost completion SHELL --install' with one of "
                              f"{', '.join(SHELLS)}", details={"shells": list(SHELLS)})
    return chosen


def _shell_to_print(rctx: RoostContext, shell: str | None) -> str:
    """For printing: the named or detected shell, else bash with a note on stderr (stdout stays the script)."""
    if shell:
        return _shell_or_fail(rctx, shell)
    chosen, note = shell_for_printing(rctx.env)
    if note:
        rctx.out.say(f"roost: note: {note}")
    return chosen


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def show_completion(ctx: click.Context, shell: str | None = None) -> None:
    """Print the completion script for ``shell`` (default: the detected one) on stdout."""
    rctx = ctx.ensure_object(RoostContext)
    shell = _shell_to_print(rctx, shell)
    script = completion_script(ctx.find_root().command, shell)
    rctx.out.emit({"shell": shell, "script": script}, {}, text=script)


def install_completion(ctx: click.Context, shell: str | None = None) -> None:
    """Write the script and source it from the shell's rc file (once)."""
    rctx = ctx.ensure_object(RoostContext)
    shell = _shell_or_fail(rctx, shell)
    plan = install_plan(shell, rctx.env, _home(rctx.env), rctx.paths.config_dir)
    script = completion_script(ctx.find_root().command, shell)
    try:
        _write_text(plan.script_path, script)
        changed = _append_rc_line(plan.rc_file, plan.rc_line) if plan.rc_file and plan.rc_line else False
    except OSError as exc:
        raise RoostError(f"cannot install {shell} completion: {exc.strerror or exc} "
                         f"({exc.filename or plan.script_path})") from None
    data = {"shell": shell, "script_path": str(plan.script_path),
            "rc_file": str(plan.rc_file) if plan.rc_file else None, "rc_changed": changed}
    rctx.out.emit(data, {}, text=None)
    if plan.rc_file is None:
        rctx.out.say(f"Installed {shell} completion at {plan.script_path} (fish loads it automatically). "
                     "Open a new shell to use it.")
    else:
        how = "added a line to" if changed else "already sourced from"
        load = f". {plan.rc_file}" if shell == "pwsh" else f"source {plan.rc_file}"  # pwsh has no source
        rctx.out.say(f"Installed {shell} completion at {plan.script_path}; {how} {plan.rc_file}. "
                     f"Open a new shell (or run `{load}`) to use it.")


@click.command("completion")
@click.argument("shell", required=False, type=click.Choice([*SHELLS, "powershell"], case_sensitive=False))
@click.option("--install", is_flag=True, help="Write the script and source it from the shell's rc file (once).")
@json_option
@click.pass_context
def completion_cmd(ctx: click.Context, shell: str | None, install: bool) -> None:
    """Print (or --install) the shell completion script; SHELL defaults to the detected one.

    \b
    Same as `roost --show-completion` / `roost --install-completion`.
    bash, zsh, fish and pwsh complete commands, flags, profile and strategy names.
    Undetectable shell: printing falls back to bash (a note on stderr);
    --install refuses (exit 4) rather than edit the wrong rc file; name SHELL.
    """
    (install_completion if install else show_completion)(ctx, shell)


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(completion_cmd)
