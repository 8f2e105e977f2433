"""The ``roost`` executable's entry point: a plugin's fast command, else the click CLI.

A command run after every claude turn (the passive plugin's ``roost
statusline`` and ``roost hook``) cannot pay for click and pluggy. A plugin
names such a command in the ``roost.fast`` entry-point group
(``statusline = "module:function"``); the launcher reads that table straight
from the metadata (roost_core.entrypoints, one pass that also serves the
plugin host later in this process) and calls ``function(args)`` before click,
pluggy or the rest of roost_core is imported. It returns the exit status, or
None to hand the call to the full CLI. docs/PLUGINS.md, "Fast commands".
"""

import sys

FAST_GROUP = "roost.fast"


def main() -> None:
    _open_closed_std_fds()
    argv = sys.argv
    if len(argv) > 1 and argv[1][:1].isalpha():
        command = _fast_command(argv[1])
        if command is not None:
            code = command(argv[2:])
            if code is not None:
                sys.exit(code)
    from .cli import main as cli_main

    cli_main()


def _open_closed_std_fds() -> None:
    """A closed stdin, stdout or stderr (``2>&-``) becomes /dev/null, as print() and click treat it.

    Python leaves sys.stdout/sys.stderr None for a closed descriptor, so the
    first write was an AttributeError (exit 1 instead of the command's own
    code); and a file roost opens could otherwise take descriptor 1 or 2.
    """
    import os

    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False))


def _fast_command(name: str):
    """The ``roost.fast`` function registered for ``name``, or None (the full CLI then)."""
    from . import COMMANDS_GROUP, ENTRY_POINT_GROUP
    from .entrypoints import groups

    # One pass over the metadata serves this process: the plugin host and the command index reuse it.
    found = groups((FAST_GROUP, ENTRY_POINT_GROUP, COMMANDS_GROUP), keep=True)[FAST_GROUP]
    for entry in found:
        if entry.name == name:
            try:
                return entry.load()
            except Exception:  # a broken fast command: the full CLI says what is wrong
                return None
    return None


def run_cli(args: list[str]) -> object:
    """The full CLI on ``args``, returning instead of exiting (a fast command's own fallback)."""
    from .cli import cli

    return cli.main(args, prog_name="roost", standalone_mode=False)
