"""Shell completion: ``roost --show-completion`` / ``--install-completion``.

bash, zsh and fish use click's own completion scripts and protocol
(``_ROOST_COMPLETE={shell}_complete``). PowerShell gets a script written
here and a matching ``ShellComplete`` class registered as ``powershell``
and ``pwsh``: the script hands roost the command line up to the cursor in
``COMP_WORDS`` and reads back one ``type<TAB>value<TAB>help`` line per
completion.

Installing writes the script to roost's config dir (fish: its completions
dir, which fish autoloads) and appends one guarded source line to the
shell's rc file, once.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click
from click.shell_completion import ShellComplete, add_completion_class, get_completion_class, split_arg_string

from ..context import RoostContext
from ..errors import RoostError, ValidationError
from ..shells import SHELLS, detect_shell

COMPLETE_VAR = "_ROOST_COMPLETE"
RC_MARKER = "# roost shell completion (roost --install-completion)"

_POWERSHELL_SOURCE = r"""# roost completion for PowerShell (roost --show-completion)
Register-ArgumentCompleter -Native -CommandName %(prog_name)s, '%(prog_name)s.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $line = $commandAst.Extent.Text
    $upTo = $cursorPosition - $commandAst.Extent.StartOffset
    if ($upTo -ge 0 -and $upTo -lt $line.Length) { $line = $line.Substring(0, $upTo) }
    $names = '%(complete_var)s', 'COMP_WORDS', 'COMP_CWORD'
    $saved = @{}
    foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    try {
        $env:%(complete_var)s = 'powershell_complete'
        $env:COMP_WORDS = $line
        $env:COMP_CWORD = $wordToComplete
        $response = & (Get-Command -Name %(prog_name)s -CommandType Application | Select-Object -First 1).Source 2>$null
    } finally {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
    foreach ($item in @($response)) {
        $type, $value, $help = "$item" -split "`t", 3
        if ($type -ne 'plain' -or -not $value) { continue }
        if (-not $help) { $help = $value }
        [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $help)
    }
}
"""


class PowerShellComplete(ShellComplete):
    """PowerShell (pwsh 7+, Windows PowerShell 5.1) completion for roost's script above.

    ``COMP_WORDS`` is the command line up to the cursor; a line ending in
    whitespace completes a new, empty word, otherwise its last word.
    """

    name = "powershell"
    source_template = _POWERSHELL_SOURCE

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_WORDS", "")
        args = split_arg_string(line)[1:]
        if line and not line[-1].isspace() and args:
            return args[:-1], args[-1]
        return args, ""

    def format_completion(self, item: Any) -> str:
        help_ = " ".join((item.help or "").split())
        return f"{item.type}\t{item.value}\t{help_}"


def register_shells() -> None:
    """Make ``powershell_complete`` / ``pwsh_complete`` known to click (idempotent)."""
    for name in ("powershell", "pwsh"):
        add_completion_class(PowerShellComplete, name)


def _click_shell_name(shell: str) -> str:
    return "powershell" if shell == "pwsh" else shell


def completion_script(cli: click.Command, shell: str, prog_name: str = "roost") -> str:
    """The completion script for ``shell`` (one of SHELLS)."""
    register_shells()
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
    from ..atomic import atomic_write

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


def _shell_or_fail(rctx: RoostContext) -> str:
    shell = detect_shell(rctx.env)
    if shell is None:
        raise ValidationError("cannot detect your shell (parent process and $SHELL are not bash, zsh, "
                              f"fish or pwsh); supported: {', '.join(SHELLS)}",
                              details={"shells": list(SHELLS)})
    return shell


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def show_completion(ctx: click.Context) -> None:
    """Print the completion script for the detected shell on stdout."""
    rctx = ctx.ensure_object(RoostContext)
    shell = _shell_or_fail(rctx)
    script = completion_script(ctx.find_root().command, shell)
    rctx.out.emit({"shell": shell, "script": script}, {}, text=script)


def install_completion(ctx: click.Context) -> None:
    """Write the script and source it from the shell's rc file (once)."""
    rctx = ctx.ensure_object(RoostContext)
    shell = _shell_or_fail(rctx)
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
        rctx.out.say(f"Installed {shell} completion at {plan.script_path}; {how} {plan.rc_file}. "
                     f"Open a new shell (or source {plan.rc_file}) to use it.")
