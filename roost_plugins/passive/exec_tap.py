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
    from roost_core.api import passive_stream_tap, passive_wants_stream_tap

    try:
        tty = os.isatty(1)
    except OSError:
        tty = False
    return passive_stream_tap(ctx, profile) if passive_wants_stream_tap(argv, tty) else None
