"""stream-json under ``roost exec``: the passive plugin's tap on the child's stdout (roost_exec_stdout).

Light on purpose: ``roost exec`` imports it before every child (a
``tap.passive`` entry point). It answers only when the child was asked for
``--output-format stream-json`` and roost's stdout is not a terminal; the tap
then records each ``rate_limit_event`` line's reading (docs/passive-health.md).
"""

from __future__ import annotations

import os
from typing import Any

from roost_core.api import hookimpl


@hookimpl
def roost_exec_stdout(profile: Any, argv: list[str], ctx: Any) -> Any:
    try:
        tty = os.isatty(1)
    except OSError:
        tty = False
    if not wants_stream_tap(argv, tty):
        return None
    from .recording import stream_tap

    return stream_tap(ctx, profile)


def wants_stream_tap(argv: list[str], stdout_is_tty: bool) -> bool:
    """``--output-format stream-json`` in the child's argv and roost's stdout not a terminal."""
    if stdout_is_tty:
        return False
    for i, arg in enumerate(argv[1:], start=1):
        if arg == "--output-format=stream-json":
            return True
        if arg == "--output-format" and i + 1 < len(argv) and argv[i + 1] == "stream-json":
            return True
    return False
