"""first-healthy: the first candidate in discovery order (profile name). Deterministic for tests."""

from __future__ import annotations

from roost_core.api import hookimpl
from roost_core.api import Candidate, PickRequest, Ranking, Scored

from ._scoring import in_discovery_order


class FirstHealthy:
    name = "first-healthy"
    summary = "First ok profile in discovery order (sorted by name)."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        order = [Scored(c, None, f"position {i + 1}") for i, c in enumerate(in_discovery_order(candidates))]
        return Ranking(order, "first-healthy: first ok in discovery order")


@hookimpl
def roost_register_strategies():
    return FirstHealthy()
