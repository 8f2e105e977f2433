"""The third-party reset-aware strategy (examples/roost-strategy-reset-aware): the documented worked cases."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from roost_core.errors import ExitCode, RoostError
from roost_core.records import Candidate, Health, HealthRecord, PickRequest

SRC = Path(__file__).resolve().parents[2] / "examples" / "roost-strategy-reset-aware" / "src"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
H = 5 * 3600.0


@pytest.fixture(scope="module")
def pkg():
    sys.path.insert(0, str(SRC))
    try:
        import roost_strategy_reset_aware
        yield roost_strategy_reset_aware
    finally:
        sys.path.remove(str(SRC))


def iso(seconds: float | None) -> str | None:
    return None if seconds is None else (NOW + timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize("used, reset_in, value", [
    (20, 20 * 60, 98.67),     # 80 % left, resets in 20 min
    (90, 20 * 60, 94.0),      # 10 % left, resets in 20 min: 70 points less headroom, 4.7 less value
    (20, 280 * 60, 81.33),    # 80 % left, resets in 4 h 40 min
    (98, 30 * 60, 90.2),      # 2 % left, reopens in 30 min
    (70, 6 * 86400, 30.0),    # stays tight past the horizon: just its headroom
    (30, 2 * 3600, 88.0),
    (70, None, 30.0),         # unknown reset: no credit
    (70, -60, 100.0),         # reset already due
    (130, 3600, 80.0),        # over 100 % used: no headroom, only the refill counts
])
def test_window_values(pkg, used, reset_in, value):
    from roost_strategy_reset_aware.formula import window_value

    assert round(window_value("weekly", used, iso(reset_in), NOW, H).value, 2) == value


def cand(name, index, session=None, session_reset=None, weekly=None, weekly_reset=None):
    record = HealthRecord(name, Health.OK, session_pct=session, session_resets_at=iso(session_reset),
                          weekly_pct=weekly, weekly_resets_at=iso(weekly_reset))
    return Candidate(record, index)


def rank(pkg, candidates, **options):
    return pkg.ResetAware().rank(candidates, PickRequest("reset-aware", NOW, options=options))


def test_reopening_soon_beats_tight_all_week(pkg):
    a = cand("a", 0, session=30, session_reset=2 * 3600, weekly=98, weekly_reset=30 * 60)
    b = cand("b", 1, session=0, weekly=70, weekly_reset=6 * 86400)
    p = cand("p", 2)  # Pro/Team-style: no usage data
    ranking = rank(pkg, [p, b, a])
    assert [(s.candidate.name, s.score) for s in ranking.order] == [("a", 88.0), ("b", 30.0), ("p", None)]
    assert ranking.order[0].note == "binding: session 70% left, resets in 2h"
    assert ranking.order[1].note == "binding: weekly 30% left, resets in 6d"
    assert ranking.order[2].note == "no usage data (ranked last)"
    assert ranking.rationale.startswith("reset-aware: most headroom over the next 5h")
    # least-used would have chosen b: this strategy really differs.
    from roost_plugins.strategies.least_used import LeastUsed
    assert LeastUsed().rank([a, b], PickRequest("least-used", NOW)).order[0].candidate.name == "b"


def test_headroom_that_resets_soon_barely_matters(pkg):
    lots = cand("a", 0, session=20, session_reset=20 * 60, weekly=10, weekly_reset=None)
    little = cand("b", 1, session=90, session_reset=20 * 60, weekly=10, weekly_reset=None)
    scores = {s.candidate.name: s.score for s in rank(pkg, [lots, little]).order}
    assert scores == {"a": 90.0, "b": 90.0}  # the weekly window binds both; the session refills anyway


def test_horizon_comes_from_plugin_config(pkg):
    a = cand("a", 0, weekly=98, weekly_reset=30 * 60)
    b = cand("b", 1, weekly=50, weekly_reset=6 * 86400)
    assert rank(pkg, [a, b]).order[0].candidate.name == "a"            # 5 h: a reopens within it
    short = rank(pkg, [a, b], horizon="15m")
    assert short.order[0].candidate.name == "b" and "next 15m" in short.rationale  # a does not reopen in 15 min


def test_ties_break_by_discovery_order(pkg):
    ranking = rank(pkg, [cand("b", 1, weekly=10), cand("a", 0, weekly=10)])
    assert [s.candidate.name for s in ranking.order] == ["a", "b"]


@pytest.mark.parametrize("horizon", ["soon", 0, "-5m"])
def test_bad_horizon_is_validation(pkg, horizon):
    with pytest.raises(RoostError) as info:
        rank(pkg, [cand("a", 0, weekly=1)], horizon=horizon)
    assert info.value.exit_code == ExitCode.VALIDATION


def test_registers_through_the_strategy_hook(pkg):
    strategy = pkg.roost_register_strategies()
    assert strategy.name == "reset-aware" and strategy.summary
