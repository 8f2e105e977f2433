"""sticky (the default): keep returning the last pick inside the stickiness window.

Cache locality: Claude's prompt cache is per account, so a burst of calls
should land on one profile. Outside the window, with ``--count`` > 1, with a
window of 0, or when the last pick is not a candidate (avoided, unhealthy,
gone), it is exactly least-used.
"""

from __future__ import annotations

from roost_core.api import hookimpl
from roost_core.api import Candidate, PickRequest, Ranking, Scored

from ._scoring import seconds_since
from .least_used import rank_least_used


def _why_not_sticky(candidates: list[Candidate], request: PickRequest) -> str | None:
    """None when the sticky shortcut applies, else a short reason it does not."""
    window = request.stickiness_s
    if request.count > 1:
        return "ignored with --count > 1"
    if window <= 0:
        return "disabled (stickiness 0)"
    last = request.last_pick
    if last is None:
        return "no previous pick"
    age = seconds_since(last.at, request.now)
    if not 0 <= age < window:
        return f"last pick {last.name} is outside the {window:g}s window"
    if all(c.name != last.name for c in candidates):
        return f"last pick {last.name} is not a candidate"
    return None


class Sticky:
    name = "sticky"
    summary = "Stick to the last pick inside the stickiness window (default 300 s), else least-used."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        fallthrough = rank_least_used(candidates)
        reason = _why_not_sticky(candidates, request)
        if reason is not None:
            return Ranking(fallthrough.order, f"sticky: {reason}; {fallthrough.rationale}")
        last = request.last_pick
        assert last is not None
        age = seconds_since(last.at, request.now)
        head = [s for s in fallthrough.order if s.candidate.name == last.name]
        rest = [s for s in fallthrough.order if s.candidate.name != last.name]
        kept = Scored(head[0].candidate, head[0].score, f"sticky (last pick {age:.0f}s ago)")
        return Ranking([kept, *rest],
                       f"sticky: last pick within the {request.stickiness_s:g}s window ({age:.0f}s ago)")


@hookimpl
def roost_register_strategies():
    return Sticky()
