"""Run roost's CLI in-process with locking switched off: the negative control.

    python driver.py --nolock <roost args...>
    python driver.py --nonatomic <roost args...>

A race test must be able to fail. This driver replaces every lock roost
takes (the state backend's filelocks and claude's lock directories) with
no-ops *in this process only*, then runs the real CLI. The same race run
through it must produce more than one POST (or invalid_grant). roost itself
has no switch to disable locking, and never will.

``--crash-child-wait`` makes exec's child wait raise (G7: the lease must
still be released); ``--crash-refresher`` makes the refresher plugin raise
with the token in its locals (G10). ``--nonatomic`` is the control for races whose guarantee comes from
atomicity rather than locks (G2): state files are rewritten in place in two
writes, and log records are appended in two writes.
"""

from __future__ import annotations

import contextlib
import sys


def switch_locking_off() -> None:
    from roost_plugins.state_files import FilesBackend, claudelock

    @contextlib.contextmanager
    def no_lock(self, name, timeout):
        yield

    FilesBackend.lock = no_lock
    claudelock.ClaudeLocks.acquire = lambda self, deadline: None
    claudelock.ClaudeLocks.release = lambda self: None


def switch_atomicity_off() -> None:
    import os
    import time

    from roost_core import atomic, docstore
    from roost_plugins.state_files import FilesBackend, backend

    def in_place(path, data, mode=0o600, *, only_if=None):
        if only_if is not None and not only_if():
            return False
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(fd, data[: len(data) // 2])
            time.sleep(0.002)
            os.write(fd, data[len(data) // 2:])
        finally:
            os.close(fd)
        return True

    for module in (atomic, docstore, backend):
        module.atomic_write = in_place

    def append_in_two(self, log, line, max_bytes=None):
        fd = os.open(self.config_dir / log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            record = (line + "\n").encode()
            os.write(fd, record[:10])
            time.sleep(0.002)
            os.write(fd, record[10:])
        finally:
            os.close(fd)

    FilesBackend.append_line = append_in_two


def crash_child_wait() -> None:
    """Fault injection for G7: an exception inside roost while exec's child would run."""
    from roost_plugins.dispatch import childproc

    def run(self):
        raise RuntimeError("injected fault while waiting for the child")

    childproc.ChildRun.run = run


def crash_refresher() -> None:
    """Fault injection for G10: the refresher plugin dies with the token in its frame's locals."""
    from roost_plugins.anthropic import refresh

    def refresh_that_crashes(self, refresh_token, ctx):
        secret_copy = refresh_token  # noqa: F841 - a local a show_locals traceback would print
        raise RuntimeError("injected crash inside the refresher plugin")

    refresh.AnthropicRefresher.refresh = refresh_that_crashes


SWITCHES = {"--nolock": switch_locking_off, "--nonatomic": switch_atomicity_off,
            "--crash-child-wait": crash_child_wait, "--crash-refresher": crash_refresher}


def main(argv: list[str]) -> None:
    while argv and argv[0] in SWITCHES:
        SWITCHES[argv.pop(0)]()
    from roost_core.cli import cli

    cli.main(args=argv, prog_name="roost")


if __name__ == "__main__":
    main(sys.argv[1:])
