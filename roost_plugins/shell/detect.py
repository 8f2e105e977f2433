"""Which interactive shell roost is talking to (for ``shellinit`` and completion).

The parent process is the best witness: ``eval "$(roost shellinit)"`` runs
roost from a bash/zsh subshell, ``roost shellinit | source`` from fish, and
PowerShell runs it as a child of ``pwsh``. ``$SHELL`` is only the login
shell, so it comes second.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping

SHELLS: tuple[str, ...] = ("bash", "zsh", "fish", "pwsh")

# What printing commands assume when nothing says which shell this is (a test
# harness, cron, an IDE): bash's code is also the most widely understood.
FALLBACK_SHELL = "bash"

# Process names (``/proc/<pid>/comm``, ``$SHELL`` basenames) and what they mean.
_ALIASES: dict[str, str] = {
    "bash": "bash", "zsh": "zsh", "fish": "fish",
    "pwsh": "pwsh", "pwsh.exe": "pwsh", "powershell": "pwsh", "powershell.exe": "pwsh",
}


def normalize_shell(name: str | None) -> str | None:
    """``-bash``, ``/usr/bin/zsh``, ``pwsh.exe``, ``powershell`` -> a name in SHELLS (or None)."""
    if not name:
        return None
    base = os.path.basename(name.strip()).lstrip("-").lower()
    return _ALIASES.get(base)


def parent_process_name(ppid: int | None = None, proc: Path = Path("/proc")) -> str | None:
    """The parent's command name from ``/proc/<ppid>/comm`` (Linux; None elsewhere)."""
    pid = os.getppid() if ppid is None else ppid
    try:
        return (proc / str(pid) / "comm").read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def detect_shell(env: Mapping[str, str], parent: str | None = None) -> str | None:
    """The user's shell: the parent process if it is a shell, else ``$SHELL``."""
    found = normalize_shell(parent if parent is not None else parent_process_name())
    if found:
        return found
    if sys.platform == "win32" and not env.get("SHELL"):
        return "pwsh"
    return normalize_shell(env.get("SHELL"))


def shell_for_printing(env: Mapping[str, str], parent: str | None = None) -> tuple[str, str | None]:
    """The detected shell, else FALLBACK_SHELL with a one-line note for stderr (None when detected)."""
    found = detect_shell(env, parent)
    if found:
        return found, None
    return FALLBACK_SHELL, (f"could not detect your shell (parent process and $SHELL are not bash, zsh, "
                            f"fish or pwsh); printing {FALLBACK_SHELL} code (choose with --shell)")
