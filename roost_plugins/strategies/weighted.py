"""weighted: (weekly x weekly_pct) / (session x session_pct + 1), lower is better.

A busy session window divides the weekly figure down, so this prefers a
profile whose weekly budget is light relative to how hard its current session
is already being used. Missing session data counts as 0 (a window that has
not started); missing weekly data ranks last, as in least-used.

``weights`` (``[plugins.weighted] weights = {weekly = 1.0, session = 1.0}``,
per team in ``[teams.NAME.weighted]``) scales the two terms; the default
weights give the plain formula.
"""

from __future__ import annotations

import math
from typing import Any

from roost_core.api import Candidate, HealthRecord, PickRequest, Ranking, hookimpl

from ._scoring import order_by_metric
from .least_used import no_weekly_note

DEFAULT_WEIGHTS = {"weekly": 1.0, "session": 1.0}


def weighted_score(record: HealthRecord, weights: dict[str, float] = DEFAULT_WEIGHTS) -> float | None:
    if record.weekly_pct is None:
        return None
    session = record.session_pct if record.session_pct is not None else 0.0
    return weights["weekly"] * record.weekly_pct / (weights["session"] * session + 1.0)


def parse_weights(value: Any) -> dict[str, float]:
    """``{weekly = W, session = S}`` (either may be left out): finite numbers >= 0."""
    if not isinstance(value, dict):
        raise ValueError("expected a table like {weekly = 1.0, session = 1.0}")
    unknown = sorted(set(value) - set(DEFAULT_WEIGHTS))
    if unknown:
        raise ValueError(f"unknown weight(s) {', '.join(unknown)}; known: weekly, session")
    weights = dict(DEFAULT_WEIGHTS)
    for name, raw in value.items():
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0:
            raise ValueError(f"weight {name} must be a finite number >= 0, got {raw!r}")
        weights[name] = float(raw)
    return weights


class Weighted:
    name = "weighted"
    summary = "Lowest weekly_pct / (session_pct + 1) wins."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        weights = request.options.get("weights") or DEFAULT_WEIGHTS
        order = order_by_metric(candidates, lambda record: weighted_score(record, weights), no_weekly_note)
        if weights == DEFAULT_WEIGHTS:
            return Ranking(order, "weighted: lowest weekly_pct / (session_pct + 1) among healthy")
        return Ranking(order, f"weighted: lowest {weights['weekly']:g} x weekly_pct / "
                              f"({weights['session']:g} x session_pct + 1) among healthy")


@hookimpl
def roost_register_strategies():
    return Weighted()


@hookimpl
def roost_register_settings():
    from roost_core.api import Setting

    return Setting(dict(DEFAULT_WEIGHTS), parse_weights, name="weights", type="table", section="plugins.weighted",
                   doc="Weights of the weighted strategy's terms: {weekly = 1.0, session = 1.0}.")
