"""``roost stats``: totals per profile and event, exec duration p50/p95 and failure rate."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, chain
from math import floor
from typing import Any, Callable, Iterable

import click

from roost_core.api import RoostContext, hookimpl, json_option, pass_roost

from .filters import filter_options, say_no_events
from .scan import (
    COL_DURATION,
    COL_EVENT,
    COL_PROFILE,
    COL_RC,
    COL_STRATEGY,
    COL_TS,
    LogScan,
    filters_meta,
    scan_for,
    show,
)


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
    durations: array = field(default_factory=lambda: array("d"))  # 8 bytes a value: stats streams 100 MB logs
    first_ts: str | None = None
    last_ts: str | None = None

    def add(self, parts: list[str]) -> None:
        event = parts[COL_EVENT]
        self.by_event[event] += 1
        if self.first_ts is None:
            self.first_ts = parts[COL_TS]
        self.last_ts = parts[COL_TS]
        if event == "pick":
            self.by_strategy[parts[COL_STRATEGY]] += 1
        elif event == "exec":
            rc = parts[COL_RC]
            self.by_rc[str(int(rc)) if rc else "none"] += 1
            if rc and int(rc) != 0:
                self.failures += 1
            if parts[COL_DURATION]:
                self.durations.append(float(parts[COL_DURATION]))

    def merge(self, other: "Tally", durations: bool = True) -> None:
        self.by_event.update(other.by_event)
        self.by_strategy.update(other.by_strategy)
        self.by_rc.update(other.by_rc)
        self.failures += other.failures
        if durations:
            self.durations.extend(other.durations)
        # ISO timestamps in one format compare correctly as strings.
        self.first_ts = min(filter(None, (self.first_ts, other.first_ts)), default=None)
        self.last_ts = max(filter(None, (self.last_ts, other.last_ts)), default=None)

    def then(self, later: "Tally") -> None:
        """Fold in the tally of the lines that follow this one's in the log (the next generation)."""
        first_ts, last_ts = self.first_ts or later.first_ts, later.last_ts or self.last_ts
        self.merge(later)
        self.first_ts, self.last_ts = first_ts, last_ts

    @property
    def failure_rate(self) -> float | None:
        with_rc = sum(n for rc, n in self.by_rc.items() if rc != "none")
        return round(self.failures / with_rc, 4) if with_rc else None

    def percentiles(self) -> tuple[float | None, float | None]:
        return percentiles([self.durations])

    def row(self) -> dict[str, Any]:
        """One profile's line of the stats."""
        p50, p95 = self.percentiles()
        return {"events": sum(self.by_event.values()), "by_event": dict(sorted(self.by_event.items())),
                "picks": self.by_event.get("pick", 0), "execs": self.by_event.get("exec", 0),
                "failures": self.failures, "failure_rate": self.failure_rate, "p50_s": p50, "p95_s": p95,
                "first_ts": self.first_ts, "last_ts": self.last_ts}


BUCKETS_AT_MOST = 1 << 16


def percentiles(parts: Iterable[array]) -> tuple[float | None, float | None]:
    """p50 and p95 (rounded) of the durations in ``parts``, exactly as ``percentile`` over them sorted.

    Exec durations repeat (milliseconds of similar runs), so when there are few distinct values
    the ranks are read off their counts: a 100 MB log does not become a list of a million floats.
    """
    parts = list(parts)
    n = sum(len(part) for part in parts)
    counts = _value_counts(parts, limit=max(4096, n // 8))
    if counts is None and n <= BUCKETS_AT_MOST:  # mostly distinct, and few: sorting them is cheapest
        ordered = sorted(chain.from_iterable(parts))
        return _round(percentile(ordered, 0.50)), _round(percentile(ordered, 0.95))
    if counts is None:  # mostly distinct and many: select the ranks, never a list of them all
        ranked = _ranked(parts, n)
        return _round(_percentile_at(ranked, n, 0.50)), _round(_percentile_at(ranked, n, 0.95))
    keys = sorted(counts)
    cumulative, running = [], 0
    for key in keys:
        running += counts[key]
        cumulative.append(running)

    def at(rank: int) -> float:  # the value at this index of the sorted list
        return keys[bisect_right(cumulative, rank)]

    return _round(_percentile_at(at, n, 0.50)), _round(_percentile_at(at, n, 0.95))


def _ranked(parts: list[array], n: int) -> Callable[[int], float]:
    """``at(rank)``: the value at that index of the sorted durations, found in two passes over them.

    Sorting a million distinct durations builds a million float objects (35 MB). Instead: count
    them per bucket of 2**shift milliseconds (the shift grows until the buckets are few), find the
    bucket holding the rank, then count only that bucket's exact values. Buckets are in value
    order, so the answer is the sorted list's, exactly.
    """
    shift = 10
    while True:
        buckets = Counter(floor(v * 1000) >> shift for part in parts for v in part)
        if len(buckets) <= BUCKETS_AT_MOST:
            break
        shift += 6
    order = sorted(buckets)
    cumulative = list(accumulate(buckets[b] for b in order))
    found: dict[int, float] = {}

    def at(rank: int) -> float:
        if rank not in found:
            i = bisect_right(cumulative, rank)
            bucket, below = order[i], cumulative[i - 1] if i else 0
            inside = Counter(v for part in parts for v in part if floor(v * 1000) >> shift == bucket)
            values = sorted(inside)
            found[rank] = values[bisect_right(list(accumulate(inside[v] for v in values)), rank - below)]
        return found[rank]

    return at


def _value_counts(parts: list[array], limit: int) -> Counter | None:
    counts: Counter = Counter()
    for part in parts:
        for start in range(0, len(part), 1 << 16):
            counts.update(part[start:start + (1 << 16)])
            if len(counts) > limit:
                return None
    return None if any(key != key for key in counts) else counts


def _percentile_at(at: Callable[[int], float], n: int, q: float) -> float | None:
    """``percentile`` with the sorted list read through ``at`` (same arithmetic, same result)."""
    if not n:
        return None
    position = (n - 1) * q
    low = int(position)
    high = min(low + 1, n - 1)
    return at(low) + (at(high) - at(low)) * (position - low)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def tallies(rctx: RoostContext, scan: LogScan) -> dict[str, Tally]:
    """Per-profile tallies of the lines ``scan`` passes: through the summary index when it
    can answer (a local log, no ``--since``), else in one streaming pass."""
    if scan.since is None:
        from .index import indexed_tallies

        indexed = indexed_tallies(rctx)
        if indexed is not None:
            every, scan.skipped = indexed
            return every if scan.profile is None else {n: t for n, t in every.items() if n == scan.profile}
    per_profile: dict[str, Tally] = {}
    for parts, _ in scan.fields(rctx):
        tally = per_profile.get(parts[COL_PROFILE])
        if tally is None:
            tally = per_profile[parts[COL_PROFILE]] = Tally()
        tally.add(parts)
    return per_profile


def aggregate(rctx: RoostContext, scan: LogScan) -> dict[str, Any]:
    """The stats document (shape in docs/observability.md)."""
    per_profile = tallies(rctx, scan)
    total = Tally()
    for tally in per_profile.values():
        total.merge(tally, durations=False)  # a second copy of every duration is memory stats does not need
    names = sorted(per_profile)
    p50, p95 = percentiles(t.durations for t in per_profile.values())
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


NONE_LABEL = "(none)"


def unattributed_last(data: dict[str, Any]) -> dict[str, Any]:
    """Picks that found nothing and commands that never started have no profile: they are one
    row labelled ``(none)`` (``profile`` null), last, with no rate of their own, and they stay
    out of the per-profile counts. The totals still include them."""
    for event in ("pick", "exec"):
        data[event]["by_profile"].pop("", None)
    named = [r for r in data["profiles"] if r["profile"] != ""]
    none = [r for r in data["profiles"] if r["profile"] == ""]
    for row in none:
        row.update(profile=None, label=NONE_LABEL, failure_rate=None)
    data["profiles"] = named + none
    return data


@click.command("stats")
@filter_options
@json_option
@pass_roost
def stats_cmd(rctx: RoostContext, profile: str | None, since: float | None) -> None:
    """Totals per profile and event, exec duration p50/p95 and failure rate, from picks.log."""
    scan = scan_for(rctx, since, profile)
    data = unattributed_last(aggregate(rctx, scan))
    meta = {"profiles": len(data["profiles"]), **filters_meta(since, profile, scan, rctx)}
    if not data["events"] and not rctx.out.json_mode:
        say_no_events(rctx, profile, since)
        return
    headers = ["profile", "picks", "execs", "failures", "failure_rate", "p50_s", "p95_s"]
    rows = [[p.get("label") or p[h] if h == "profile" else p[h] for h in headers] for p in data["profiles"]]
    show(rctx, "stats", data, meta, (headers, rows))


@hookimpl
def roost_register_commands(cli: click.Group) -> None:
    cli.add_command(stats_cmd)
