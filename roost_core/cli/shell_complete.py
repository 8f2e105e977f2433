"""Shell completion protocol: what a shell and roost say to each other on <TAB>.

bash, zsh and fish use click's own protocol (``_ROOST_COMPLETE={shell}_complete``).
PowerShell gets ``PowerShellComplete``, registered as ``powershell`` and ``pwsh``:
its script (the class's ``source_template``) hands roost the command line up to
the cursor in ``COMP_WORDS`` and reads back one ``type<TAB>value<TAB>help`` line
per completion. The protocol is core (every <TAB> goes through the root group);
printing and installing the scripts is the ``completion`` plugin's job.
"""

from __future__ import annotations

import os
from typing import Any

from click.shell_completion import ShellComplete, add_completion_class, split_arg_string

COMPLETE_VAR = "_ROOST_COMPLETE"

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
