"""Helpers the built-in strategies share: ordering by a metric, and clock arithmetic.

Ties always break by discovery order (``Candidate.index``, i.e. profile name),
so the same inputs give the same ranking on every machine.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from roost_core.api import Candidate, HealthRecord, Scored

Metric = Callable[[HealthRecord], "float | None"]
Note = Callable[[HealthRecord], str]


def order_by_metric(candidates: list[Candidate], metric: Metric, note: Note | None = None) -> list[Scored]:
    """Lowest metric first; ``None`` (no data) after every known value; ties by discovery order."""
    scored = [Scored(c, metric(c.record), note(c.record) if note else "") for c in candidates]
    scored.sort(key=lambda s: (s.score is None, s.score if s.score is not None else 0.0, s.candidate.index))
    return scored


def in_discovery_order(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: c.index)


def aware(moment: datetime) -> datetime:
    """Naive datetimes are read as UTC (last-pick.json written by older tools)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def seconds_since(earlier: datetime, now: datetime) -> float:
    return (aware(now) - aware(earlier)).total_seconds()
