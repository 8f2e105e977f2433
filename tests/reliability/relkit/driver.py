"""Run roost's CLI in-process with locking switched off: the negative control.

    python driver.py --nolock <roost args...>

A race test must be able to fail. This driver replaces every lock roost
takes (the state backend's filelocks and claude's lock directories) with
no-ops *in this process only*, then runs the real CLI. The same race run
through it must produce more than one POST (or invalid_grant). roost itself
has no switch to disable locking, and never will.
"""

from __future__ import annotations

import contextlib
import sys


def switch_locking_off() -> None:
    from roost_core import claudelock
    from roost_plugins import state_files

    @contextlib.contextmanager
    def no_lock(self, name, timeout):
        yield

    state_files.FilesBackend.lock = no_lock
    claudelock.ClaudeLocks.acquire = lambda self, deadline: None
    claudelock.ClaudeLocks.release = lambda self: None


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--nolock":
        switch_locking_off()
        argv = argv[1:]
    from roost_core.cli import cli

    cli.main(args=argv, prog_name="roost")


if __name__ == "__main__":
    main(sys.argv[1:])
