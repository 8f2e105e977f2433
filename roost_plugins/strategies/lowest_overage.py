"""lowest-overage: the lowest monthly overage utilization wins.

No overage data (Pro/Team, or overage disabled) ranks as 0, the best, so a
plan that cannot run up a bill is preferred over a Max plan already spending.
"""

from __future__ import annotations

from roost_core.api import hookimpl
from roost_core.api import Candidate, HealthRecord, PickRequest, Ranking

from ._scoring import order_by_metric


def overage_or_zero(record: HealthRecord) -> float:
    return record.overage_pct if record.overage_pct is not None else 0.0


def _note(record: HealthRecord) -> str:
    return "no overage data (counts as 0)" if record.overage_pct is None else ""


class LowestOverage:
    name = "lowest-overage"
    summary = "Lowest monthly overage utilization wins; no overage data counts as 0."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        order = order_by_metric(candidates, overage_or_zero, _note)
        return Ranking(order, "lowest-overage: lowest monthly overage utilization (none counts as 0)")


@hookimpl
def roost_register_strategies():
    return LowestOverage()
