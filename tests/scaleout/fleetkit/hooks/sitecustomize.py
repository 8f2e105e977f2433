"""Test-only stop points for the roost processes of the scale-out suite (never shipped).

The suite puts this directory on PYTHONPATH of a "machine"'s roost processes.
Without the variables below it does nothing.

ROOST_SCALEOUT_STOP_AT=POINT
    Stop this process the first time it reaches POINT:
      grant    a refresh lock was just granted
      spend    begin_spend just recorded the spend intent (the POST is next)
      journal  the rotated credentials were just journalled (the POST is done,
               the commit to the store is next)
ROOST_SCALEOUT_STOP_SIGNAL=STOP|KILL
    SIGSTOP (default: the test sends SIGCONT later) or SIGKILL.
ROOST_SCALEOUT_MARK=PATH
    Append "POINT PID" to PATH just before stopping, so the test knows.
ROOST_SCALEOUT_HOSTNAME=NAME
    What socket.gethostname() answers: machines on one box look like
    different hosts to the "same host, dead pid" rules.

The variables are removed from os.environ, so children (roost exec) are untouched.
"""

from __future__ import annotations

import os
import signal
import socket


def _install() -> None:
    point = os.environ.pop("ROOST_SCALEOUT_STOP_AT", "")
    how = os.environ.pop("ROOST_SCALEOUT_STOP_SIGNAL", "STOP")
    mark = os.environ.pop("ROOST_SCALEOUT_MARK", "")
    hostname = os.environ.pop("ROOST_SCALEOUT_HOSTNAME", "")
    if hostname:
        socket.gethostname = lambda: hostname  # type: ignore[assignment]
    if not point:
        return
    fired = []

    def hit(name: str) -> None:
        if name != point or fired:
            return
        fired.append(name)
        if mark:
            fd = os.open(mark, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{name} {os.getpid()}\n".encode())
            os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL if how == "KILL" else signal.SIGSTOP)

    from roost_redis import backend, journal

    acquire, begin, write = backend.RedisBackend._acquire, backend.RedisBackend.begin_spend, journal.Journal.write

    def _acquire(self, name, timeout):
        held = acquire(self, name, timeout)
        if held.profile is not None:
            hit("grant")
        return held

    def begin_spend(self, profile):
        begin(self, profile)
        hit("spend")

    def write_journal(self, entry):
        path = write(self, entry)
        hit("journal")
        return path

    backend.RedisBackend._acquire = _acquire
    backend.RedisBackend.begin_spend = begin_spend
    journal.Journal.write = write_journal


_install()
