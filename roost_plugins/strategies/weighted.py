"""weighted: weekly_pct / (session_pct + 1), lower is better.

A busy session window divides the weekly figure down, so this prefers a
profile whose weekly budget is light relative to how hard its current session
is already being used. Missing session data counts as 0 (a window that has
not started); missing weekly data ranks last, as in least-used.
"""

from __future__ import annotations

from roost_core.api import hookimpl
from roost_core.api import Candidate, HealthRecord, PickRequest, Ranking

from ._scoring import order_by_metric
from .least_used import no_weekly_note


def weighted_score(record: HealthRecord) -> float | None:
    if record.weekly_pct is None:
        return None
    session = record.session_pct if record.session_pct is not None else 0.0
    return record.weekly_pct / (session + 1.0)


class Weighted:
    name = "weighted"
    summary = "Lowest weekly_pct / (session_pct + 1) wins."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        order = order_by_metric(candidates, weighted_score, no_weekly_note)
        return Ranking(order, "weighted: lowest weekly_pct / (session_pct + 1) among healthy")


@hookimpl
def roost_register_strategies():
    return Weighted()
