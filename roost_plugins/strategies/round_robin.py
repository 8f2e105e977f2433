"""round-robin: rotate past the last pick, in discovery order.

The next candidate whose name sorts after the last pick comes first, wrapping
around; the last pick itself comes last. The last pick need not be a
candidate any more (avoided, unhealthy, removed): the rotation continues from
where its name would be.
"""

from __future__ import annotations

from roost_core.api import hookimpl
from roost_core.api import Candidate, PickRequest, Ranking, Scored

from ._scoring import in_discovery_order


def rotate(candidates: list[Candidate], last_name: str | None) -> list[Candidate]:
    ordered = in_discovery_order(candidates)
    if last_name is None:
        return ordered
    start = next((i for i, c in enumerate(ordered) if c.name > last_name), 0)
    return ordered[start:] + ordered[:start]


class RoundRobin:
    name = "round-robin"
    summary = "Rotate through profiles, starting after the last pick (discovery order)."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        last = request.last_pick.name if request.last_pick else None
        order = [Scored(c, None, f"rotation {i + 1}") for i, c in enumerate(rotate(candidates, last))]
        rationale = (f"round-robin: next after {last} in discovery order" if last
                     else "round-robin: no previous pick; first in discovery order")
        return Ranking(order, rationale)


@hookimpl
def roost_register_strategies():
    return RoundRobin()
