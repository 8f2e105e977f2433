"""``roost history`` and ``roost stats``: read the picks.log audit trail.

Both stream the log (``picks.log.1`` then ``picks.log``) line by line and keep
only what they report: history a bounded deque of the last N lines, stats a
few counters and the exec durations. A 10 MB log is answered in a fraction
of a second (benchmarks/stats_10mb.py), so filtering happens on the split
fields before any per-event object is built; the rows history shows are then
parsed by ``roost_core.audit.parse_line`` itself, the one owner of the format.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

import click

from .. import audit
from ..names import validate_name
from .common import DURATION, complete_profiles, json_option, pass_roost

if TYPE_CHECKING:
    from ..context import RoostContext

_TS, _EVENT, _PROFILE, _STRATEGY = (audit.COLUMNS.index(c) for c in ("ts", "event", "profile", "strategy"))
_RC, _DURATION, _PID = (audit.COLUMNS.index(c) for c in ("rc", "duration_s", "pid"))
_NCOLS = len(audit.COLUMNS)


@dataclass
class LogScan:
    """A filtered pass over picks.log; ``skipped`` counts lines that did not parse."""

    since: float | None = None  # epoch seconds; events before it are left out
    profile: str | None = None
    skipped: int = 0

    def fields(self, ctx: "RoostContext") -> Iterator[tuple[list[str], str]]:
        """(split fields, raw line) of every well-formed line that passes the filter, oldest first.

        Well-formed means what ``audit.parse_line`` accepts: the right number
        of columns, an ISO timestamp, numeric rc/duration/pid where present.
        """
        for line in ctx.state.iter_lines(audit.PICKS_LOG):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != _NCOLS:
                self.skipped += 1
                continue
            try:
                when = datetime.fromisoformat(parts[_TS].replace("Z", "+00:00"))
                if parts[_RC]:
                    int(parts[_RC])
                if parts[_DURATION]:
                    float(parts[_DURATION])
                if parts[_PID]:
                    int(parts[_PID])
            except ValueError:
                self.skipped += 1
                continue
            if self.profile is not None and parts[_PROFILE] != self.profile:
                continue
            if self.since is not None and _epoch(when) < self.since:
                continue
            yield parts, line


def _epoch(when: datetime) -> float:
    if when.tzinfo is None:  # audit timestamps are UTC; a naive one is read as UTC too
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _scan_for(rctx: "RoostContext", since: float | None, profile: str | None) -> LogScan:
    if profile is not None:
        validate_name(profile)
    return LogScan(since=None if since is None else rctx.now() - since, profile=profile)


def _filters_meta(since: float | None, profile: str | None, scan: LogScan,
                  rctx: "RoostContext") -> dict[str, Any]:
    return {"since_s": since, "profile": profile, "skipped_lines": scan.skipped,
            "since_ts": None if scan.since is None else audit.utc_now_iso(scan.since),
            "log": str(rctx.paths.state_file(audit.PICKS_LOG))}


def _show(rctx: "RoostContext", view: str, data: Any, meta: dict[str, Any],
          plain: tuple[list[str], list[list[Any]]]) -> None:
    if rctx.out.json_mode:
        rctx.out.emit(data, meta)
        return
    from ..render import plain_table, render

    if not render(rctx, view, data, meta):
        rctx.out.say(plain_table(*plain))


# -- history -------------------------------------------------------------------

def history_rows(rctx: "RoostContext", scan: LogScan, tail: int) -> tuple[list[dict[str, Any]], int]:
    """The last ``tail`` matching events (oldest first) and how many matched in all."""
    last: deque[str] = deque(maxlen=tail)
    matched = 0
    for _, line in scan.fields(rctx):
        last.append(line)
        matched += 1
    events = (audit.parse_line(line) for line in last)
    return [asdict(e) for e in events if e is not None], matched


@click.command("history")
@click.option("--tail", "tail", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many of the most recent events to show.")
@click.option("--profile", metavar="NAME", shell_complete=complete_profiles,
              help="Only events of this profile.")
@click.option("--since", type=DURATION, metavar="DURATION",
              help="Only events newer than this (30m, 1h, 2d, 1w, or seconds).")
@json_option
@pass_roost
def history_cmd(rctx: "RoostContext", tail: int, profile: str | None, since: float | None) -> None:
    """Recent picks and exec runs from picks.log (oldest first, like tail)."""
    scan = _scan_for(rctx, since, profile)
    rows, matched = history_rows(rctx, scan, tail)
    meta = {"count": len(rows), "matched": matched, "tail": tail, **_filters_meta(since, profile, scan, rctx)}
    if not rows and not rctx.out.json_mode:
        rctx.out.say("No events in picks.log" + (" match the filters." if profile or since else " yet."))
        return
    headers = ["ts", "event", "profile", "strategy", "rc", "duration_s", "argv0", "note"]
    _show(rctx, "history", rows, meta, (headers, [[r[h] for h in headers] for r in rows]))


# -- stats -----------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class Tally:
    """Counters for one profile (or, merged, for all of them)."""

    by_event: Counter = field(default_factory=Counter)
    by_strategy: Counter = field(default_factory=Counter)  # pick events
    by_rc: Counter = field(default_factory=Counter)  # exec events ("none" when rc is missing)
    failures: int = 0
    durations: list[float] = field(default_factory=list)
    first_ts: str | None = None
    last_ts: str | None = None

    def add(self, parts: list[str]) -> None:
        event = parts[_EVENT]
        self.by_event[event] += 1
        if self.first_ts is None:
            self.first_ts = parts[_TS]
        self.last_ts = parts[_TS]
        if event == "pick":
            self.by_strategy[parts[_STRATEGY]] += 1
        elif event == "exec":
            rc = parts[_RC]
            self.by_rc[str(int(rc)) if rc else "none"] += 1
            if rc and int(rc) != 0:
                self.failures += 1
            if parts[_DURATION]:
                self.durations.append(float(parts[_DURATION]))

    def merge(self, other: "Tally") -> None:
        self.by_event.update(other.by_event)
        self.by_strategy.update(other.by_strategy)
        self.by_rc.update(other.by_rc)
        self.failures += other.failures
        self.durations.extend(other.durations)
        # ISO timestamps in one format compare correctly as strings.
        self.first_ts = min(filter(None, (self.first_ts, other.first_ts)), default=None)
        self.last_ts = max(filter(None, (self.last_ts, other.last_ts)), default=None)

    @property
    def failure_rate(self) -> float | None:
        with_rc = sum(n for rc, n in self.by_rc.items() if rc != "none")
        return round(self.failures / with_rc, 4) if with_rc else None

    def percentiles(self) -> tuple[float | None, float | None]:
        durations = sorted(self.durations)
        return _round(percentile(durations, 0.50)), _round(percentile(durations, 0.95))

    def row(self) -> dict[str, Any]:
        """One profile's line of the stats."""
        p50, p95 = self.percentiles()
        return {"events": sum(self.by_event.values()), "by_event": dict(sorted(self.by_event.items())),
                "picks": self.by_event.get("pick", 0), "execs": self.by_event.get("exec", 0),
                "failures": self.failures, "failure_rate": self.failure_rate, "p50_s": p50, "p95_s": p95,
                "first_ts": self.first_ts, "last_ts": self.last_ts}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def aggregate(rctx: "RoostContext", scan: LogScan) -> dict[str, Any]:
    """The stats document (shape in docs/SPEC.md, section observe)."""
    per_profile: dict[str, Tally] = {}
    for parts, _ in scan.fields(rctx):
        tally = per_profile.get(parts[_PROFILE])
        if tally is None:
            tally = per_profile[parts[_PROFILE]] = Tally()
        tally.add(parts)
    total = Tally()
    for tally in per_profile.values():
        total.merge(tally)
    names = sorted(per_profile)
    p50, p95 = total.percentiles()
    return {
        "window_start": total.first_ts, "window_end": total.last_ts,
        "events": sum(total.by_event.values()), "by_event": dict(sorted(total.by_event.items())),
        "pick": {"total": total.by_event.get("pick", 0),
                 "by_profile": {n: per_profile[n].by_event["pick"] for n in names if per_profile[n].by_event["pick"]},
                 "by_strategy": dict(sorted(total.by_strategy.items()))},
        "exec": {"total": total.by_event.get("exec", 0),
                 "by_profile": {n: per_profile[n].by_event["exec"] for n in names if per_profile[n].by_event["exec"]},
                 "by_rc": dict(sorted(total.by_rc.items())), "failures": total.failures,
                 "failure_rate": total.failure_rate, "p50_s": p50, "p95_s": p95},
        "profiles": [{"profile": n, **per_profile[n].row()} for n in names],
    }


@click.command("stats")
@click.option("--profile", metavar="NAME", shell_complete=complete_profiles,
              help="Only events of this profile.")
@click.option("--since", type=DURATION, metavar="DURATION",
              help="Only events newer than this (30m, 1h, 2d, 1w, or seconds).")
@json_option
@pass_roost
def stats_cmd(rctx: "RoostContext", profile: str | None, since: float | None) -> None:
    """Totals per profile and event, exec duration p50/p95 and failure rate, from picks.log."""
    scan = _scan_for(rctx, since, profile)
    data = aggregate(rctx, scan)
    meta = {"profiles": len(data["profiles"]), **_filters_meta(since, profile, scan, rctx)}
    if not data["events"] and not rctx.out.json_mode:
        rctx.out.say("No events in picks.log" + (" match the filters." if profile or since else " yet."))
        return
    headers = ["profile", "picks", "execs", "failures", "failure_rate", "p50_s", "p95_s"]
    rows = [[p[h] for h in headers] for p in data["profiles"]]
    _show(rctx, "stats", data, meta, (headers, rows))
