"""picks.log, streamed and filtered: what ``roost history`` and ``roost stats`` read.

Both stream the log (``picks.log.1`` then ``picks.log``) line by line and keep
only what they report: history a bounded deque of the last N lines, stats a
few counters and the exec durations. A 10 MB log is answered in a fraction
of a second (benchmarks/stats_10mb.py), so filtering happens on the split
fields before any per-event object is built; the rows history shows are then
parsed by ``parse_audit_line``, the one owner of the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from math import isfinite
from typing import Any, Iterator

from roost_core.api import AUDIT_COLUMNS, PICKS_LOG, RoostContext, plain_table, render, utc_now_iso, validate_name

COL_TS, COL_EVENT, COL_PROFILE, COL_STRATEGY = (AUDIT_COLUMNS.index(c) for c in ("ts", "event", "profile", "strategy"))
COL_RC, COL_DURATION, COL_PID = (AUDIT_COLUMNS.index(c) for c in ("rc", "duration_s", "pid"))
COL_NCOLS = len(AUDIT_COLUMNS)


@dataclass
class LogScan:
    """A filtered pass over picks.log; ``skipped`` counts lines that did not parse."""

    since: float | None = None  # epoch seconds; events before it are left out
    profile: str | None = None
    skipped: int = 0

    def fields(self, ctx: RoostContext) -> Iterator[tuple[list[str], str]]:
        """(split fields, raw line) of every well-formed line that passes the filter, oldest first.

        Well-formed means what ``parse_audit_line`` accepts: the right number
        of columns, an ISO timestamp, numeric rc/duration/pid where present (a finite duration).
        """
        for line in ctx.state.iter_lines(PICKS_LOG):
            parts = self.parse(line)
            if parts is not None:
                yield parts, line

    def parse(self, line: str) -> list[str] | None:
        """The fields of one line when it is well-formed and passes the filter, else None."""
        parts = self.well_formed(line)
        if parts is None:
            return None
        if self.profile is not None and parts[COL_PROFILE] != self.profile:
            return None
        if self.since is not None and _epoch(datetime.fromisoformat(parts[COL_TS].replace("Z", "+00:00"))) < self.since:
            return None
        return parts

    def well_formed(self, line: str) -> list[str] | None:
        """The fields of a well-formed line; a malformed one counts in ``skipped``."""
        parts = line.rstrip("\n").split("\t")
        if len(parts) != COL_NCOLS:
            self.skipped += 1
            return None
        try:
            datetime.fromisoformat(parts[COL_TS].replace("Z", "+00:00"))
            if parts[COL_RC]:
                int(parts[COL_RC])
            if parts[COL_DURATION] and not isfinite(float(parts[COL_DURATION])):
                raise ValueError("a NaN or infinite duration")  # damaged, as parse_audit_line says
            if parts[COL_PID]:
                int(parts[COL_PID])
        except ValueError:
            self.skipped += 1
            return None
        return parts


def _epoch(when: datetime) -> float:
    if when.tzinfo is None:  # audit timestamps are UTC; a naive one is read as UTC too
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def scan_for(rctx: RoostContext, since: float | None, profile: str | None) -> LogScan:
    if profile is not None:
        validate_name(profile)
    return LogScan(since=None if since is None else rctx.now() - since, profile=profile)


def filters_meta(since: float | None, profile: str | None, scan: LogScan,
                  rctx: RoostContext) -> dict[str, Any]:
    return {"since_s": since, "profile": profile, "skipped_lines": scan.skipped,
            "since_ts": None if scan.since is None else utc_now_iso(scan.since),
            "log": str(rctx.paths.state_file(PICKS_LOG))}


def show(rctx: RoostContext, view: str, data: Any, meta: dict[str, Any],
          plain: tuple[list[str], list[list[Any]]]) -> None:
    if rctx.out.json_mode:
        rctx.out.emit(data, meta)
        return
    if not render(rctx, view, data, meta):
        rctx.out.say(plain_table(*plain))
