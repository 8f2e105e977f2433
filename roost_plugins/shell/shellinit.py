"""``roost shellinit``: a ``claude`` shell function that runs claude through ``roost exec``.

The function resolves the real claude binary with the shell's own "files
only" lookup (``type -P`` in bash, ``whence -p`` in zsh, ``command -s`` in
fish, ``Get-Command -CommandType Application`` in PowerShell), so it can
never call itself, and hands the absolute path to ``roost exec``, which
spawns it with the arguments untouched (``"$@"``, ``$argv``, ``@args``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import click

from roost_core.api import RoostContext, ValidationError, hookimpl, json_option, pass_roost

from .detect import SHELLS, normalize_shell, shell_for_printing

HEADER = ("roost shellinit ({shell}): every `claude` runs as `roost exec --auto-refresh -- claude ...`,\n"
          "except signing in and out (`claude auth login|logout`, `claude setup-token`, `claude login|logout`),\n"
          "which act on the account you name, never a picked one.\n"
          "Bypass once with `{bypass}`; remove the shellinit line from your shell rc to revert.")

_POSIX_BODY = """\
{comment}
function claude {{
    local __roost_claude
    __roost_claude="$({lookup} claude)" || __roost_claude=""
    if [ -z "$__roost_claude" ]; then
        printf '%s\\n' "claude: command not found (wrapper from roost shellinit)" >&2
        return 127
    fi
    case "${{1-}}" in
        login|logout|setup-token) command "$__roost_claude" "$@"; return ;;
        auth) case "${{2-}}" in login|logout) command "$__roost_claude" "$@"; return ;; esac ;;
    esac
    command {roost} exec --auto-refresh -- "$__roost_claude" "$@"
}}
"""

_FISH_BODY = """\
{comment}
function claude --description 'claude through roost exec --auto-refresh (roost shellinit)'
    set -l __roost_claude (command -s claude)
    if test -z "$__roost_claude"
        echo "claude: command not found (wrapper from roost shellinit)" >&2
        return 127
    end
    if contains -- "$argv[1]" login logout setup-token; or begin; test "$argv[1]" = auth; and contains -- "$argv[2]" login logout; end
        command $__roost_claude[1] $argv
        return $status
    end
    command {roost} exec --auto-refresh -- $__roost_claude[1] $argv
end
"""

_PWSH_BODY = """\
{comment}
function claude {{
    $__roostClaude = Get-Command -Name claude -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if (-not $__roostClaude) {{
        Write-Error 'claude: command not found (wrapper from roost shellinit)'
        $global:LASTEXITCODE = 127
        return
    }}
    $__roostSignIn = ($args.Count -gt 0 -and @('login', 'logout', 'setup-token') -contains $args[0]) -or
        ($args.Count -gt 1 -and $args[0] -eq 'auth' -and @('login', 'logout') -contains $args[1])
    if ($__roostSignIn) {{
        & $__roostClaude.Source @args
        return
    }}
    $__roostExe = {roost}
    & $__roostExe exec --auto-refresh '--' $__roostClaude.Source @args  # a bare -- would be eaten by PowerShell
}}
"""


def this_roost() -> str:
    """The roost the wrapper should run: this one if its path is known, else ``roost`` from PATH."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("roost", "roost.exe") and argv0.is_file():
        return os.path.abspath(argv0)
    return shutil.which("roost") or "roost"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pwsh_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment(shell: str) -> str:
    bypass = {"bash": "command claude ...", "zsh": "command claude ...", "fish": "command claude ...",
              "pwsh": "& (Get-Command claude -CommandType Application) ..."}[shell]
    return "\n".join("# " + line for line in HEADER.format(shell=shell, bypass=bypass).splitlines())


def wrapper_script(shell: str, roost: str) -> str:
    """The shell code defining ``claude`` for ``shell`` (one of SHELLS)."""
    if shell not in SHELLS:
        raise ValidationError(f"unsupported shell {shell!r}; choose one of {', '.join(SHELLS)}")
    comment = _comment(shell)
    if shell in ("bash", "zsh"):
        lookup = "type -P" if shell == "bash" else "whence -p"
        return _POSIX_BODY.format(comment=comment, lookup=lookup, roost=shlex.quote(roost))
    if shell == "fish":
        return _FISH_BODY.format(comment=comment, roost=_fish_quote(roost))
    if shell == "pwsh":
        if "/" in roost or "\\" in roost:  # a path (Windows or POSIX), used as is
            exe = _pwsh_quote(roost)
        else:  # a bare name: the application, never a function of the same name
            exe = f"(Get-Command -Name {_pwsh_quote(roost)} -CommandType Application | Select-Object -First 1).Source"
        return _PWSH_BODY.format(comment=comment, roost=exe)
    raise AssertionError(shell)


@click.command("shellinit")
@click.option("--shell", "shell", type=click.Choice([*SHELLS, "powershell"], case_sensitive=False),
              help="Shell to emit code for (default: detected from the parent process, then $SHELL; "
                   "bash, with a note on stderr, when neither is a known shell).")
@click.option("--roost-path", "roost_path", metavar="PATH",
              help="roost executable the wrapper runs (default: this roost, else `roost` on PATH).")
@json_option
@pass_roost
def shellinit_cmd(rctx: RoostContext, shell: str | None, roost_path: str | None) -> None:
    """Print a `claude` shell function that runs claude through `roost exec --auto-refresh`.

    \b
    bash/zsh:   eval "$(roost shellinit)"
    fish:       roost shellinit | source
    PowerShell: roost shellinit | Out-String | Invoke-Expression
    """
    chosen, note = (normalize_shell(shell), None) if shell else shell_for_printing(rctx.env)
    if chosen is None:  # click's Choice already refuses anything else; kept for direct callers
        raise ValidationError(f"unsupported shell {shell!r}; choose one of {', '.join(SHELLS)}",
                              details={"shells": list(SHELLS)})
    if note:
        rctx.out.say(f"roost: note: {note}")
    roost = roost_path or this_roost()
    script = wrapper_script(chosen, roost)
    rctx.out.emit({"shell": chosen, "roost": roost, "script": script},
                  {"detected": shell is None and note is None, "fallback": note is not None}, text=script)


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(shellinit_cmd)
