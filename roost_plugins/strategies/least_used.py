"""least-used: the lowest weekly_pct wins.

A profile without weekly data (a token lacking the ``user:profile`` scope, an
Enterprise seat) ranks after every profile with data: unknown is not the same
as unused, and ranking it first would send every pick to the one account
whose usage roost can never see move.
"""

from __future__ import annotations

from roost_core.api import hookimpl
from roost_core.api import Candidate, HealthRecord, PickRequest, Ranking

from ._scoring import order_by_metric

RATIONALE = "least-used: lowest weekly usage among healthy"


def no_weekly_note(record: HealthRecord) -> str:
    return "no weekly usage data (ranked last)" if record.weekly_pct is None else ""


def rank_least_used(candidates: list[Candidate]) -> Ranking:
    """The least-used ranking (also what ``sticky`` falls through to)."""
    order = order_by_metric(candidates, lambda r: r.weekly_pct, no_weekly_note)
    return Ranking(order, RATIONALE)


class LeastUsed:
    name = "least-used"
    summary = "Lowest weekly usage wins; profiles without usage data rank last."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        return rank_least_used(candidates)


@hookimpl
def roost_register_strategies():
    return LeastUsed()
