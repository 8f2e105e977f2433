"""roost-strategy-reset-aware: a pick strategy that weighs headroom against time to reset.

Install it next to roost (``pip install ./examples/roost-strategy-reset-aware``)
and use ``roost pick --strategy reset-aware``. The formula is in
``formula.py``. The planning horizon is a declared setting (roost_register_settings):
``[plugins.reset-aware] horizon = "5h"`` in config.toml, per team in
``[teams.NAME.reset-aware]``, or ``CLAUDE_LB_RESET_AWARE_HORIZON``; ``roost config``
lists it.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import hookimpl
from roost_core.api import format_duration, parse_duration
from roost_core.api import ValidationError
from roost_core.api import Candidate, PickRequest, Ranking, Scored, Setting

from .formula import DEFAULT_HORIZON_S, binding_window, describe

__version__ = "0.1.0"


def horizon_from(options: dict[str, Any]) -> float:
    raw = options.get("horizon", DEFAULT_HORIZON_S)
    try:
        horizon = parse_duration(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"[plugins.reset-aware] horizon: {exc}") from None
    if horizon <= 0:
        raise ValidationError("[plugins.reset-aware] horizon must be positive")
    return horizon


class ResetAware:
    name = "reset-aware"
    summary = "Most headroom over the next few hours, counting windows that reset soon (third-party example)."

    def rank(self, candidates: list[Candidate], request: PickRequest) -> Ranking:
        horizon = horizon_from(request.options)
        scored = []
        for candidate in candidates:
            record = candidate.record
            binding = binding_window((record.session_pct, record.session_resets_at),
                                     (record.weekly_pct, record.weekly_resets_at), request.now, horizon)
            if binding is None:
                scored.append(Scored(candidate, None, "no usage data (ranked last)"))
            else:
                scored.append(Scored(candidate, round(binding.value, 2), describe(binding)))
        # Higher is better; no data last; ties by discovery order.
        scored.sort(key=lambda s: (s.score is None, -(s.score or 0.0), s.candidate.index))
        return Ranking(scored, f"reset-aware: most headroom over the next {format_duration(horizon)}, "
                               "counting windows that reset within it")


@hookimpl
def roost_register_strategies() -> ResetAware:
    return ResetAware()


@hookimpl
def roost_register_settings() -> Setting:
    return Setting(DEFAULT_HORIZON_S, name="horizon", type="duration", section="plugins.reset-aware",
                   env="CLAUDE_LB_RESET_AWARE_HORIZON", minimum=1,
                   doc="How far ahead reset-aware counts headroom (windows resetting within it reopen).")
