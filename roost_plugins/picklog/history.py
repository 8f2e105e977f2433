"""``roost history``: recent picks and exec runs from picks.log (oldest first, like tail)."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from typing import Any

import click

from roost_core.api import (
    RoostContext,
    hookimpl,
    json_option,
    parse_audit_line,
    pass_roost,
)

from .filters import filter_options, say_no_events
from .scan import LogScan, filters_meta, scan_for, show

MAX_TAIL = 10_000_000  # a larger --tail is the whole log (a deque of 10**23 slots cannot be made)


def history_rows(rctx: RoostContext, scan: LogScan, tail: int) -> tuple[list[dict[str, Any]], int]:
    """The last ``tail`` matching events (oldest first) and how many matched in all."""
    last: deque[str] = deque(maxlen=min(tail, MAX_TAIL))
    matched = 0
    for _, line in scan.fields(rctx):
        last.append(line)
        matched += 1
    events = (parse_audit_line(line) for line in last)
    return [_row(e) for e in events if e is not None], matched


def _row(event: Any) -> dict[str, Any]:
    """A picks.log event as JSON: its columns, plus ``timestamp`` and ``duration`` (the same values
    under their spelled-out names)."""
    row = asdict(event)
    row["timestamp"], row["duration"] = row["ts"], row["duration_s"]
    return row


@click.command("history")
@click.option("--tail", "tail", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many of the most recent events to show.")
@filter_options
@json_option
@pass_roost
def history_cmd(rctx: RoostContext, tail: int, profile: str | None, since: float | None) -> None:
    """Recent picks and exec runs from picks.log (oldest first, like tail)."""
    scan = scan_for(rctx, since, profile)
    rows, matched = history_rows(rctx, scan, tail)
    meta = {"count": len(rows), "matched": matched, "tail": tail, **filters_meta(since, profile, scan, rctx)}
    if not rows and not rctx.out.json_mode:
        say_no_events(rctx, profile, since)
        return
    headers = ["ts", "event", "profile", "strategy", "rc", "duration_s", "argv0", "note"]
    show(rctx, "history", rows, meta, (headers, [[r[h] for h in headers] for r in rows]))


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(history_cmd)
