"""The six built-in strategies: pure rankings over in-memory candidates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from roost_core.records import Candidate, Health, HealthRecord, LastPick, PickRequest
from roost_plugins.strategies.first_healthy import FirstHealthy
from roost_plugins.strategies.least_used import LeastUsed
from roost_plugins.strategies.lowest_overage import LowestOverage
from roost_plugins.strategies.round_robin import RoundRobin
from roost_plugins.strategies.sticky import Sticky
from roost_plugins.strategies.weighted import Weighted

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def cands(*specs: tuple) -> list[Candidate]:
    """(name, weekly, session, overage) tuples, given in any order; index = name order."""
    names = sorted(s[0] for s in specs)
    out = []
    for name, weekly, session, overage in specs:
        record = HealthRecord(name, Health.OK, weekly_pct=weekly, session_pct=session, overage_pct=overage)
        out.append(Candidate(record, names.index(name)))
    return out


def request(last: str | None = None, ago: float = 10, stickiness: float = 300, count: int = 1) -> PickRequest:
    last_pick = LastPick(last, NOW - timedelta(seconds=ago), "sticky") if last else None
    return PickRequest("x", NOW, last_pick, stickiness, count)


def names(ranking) -> list[str]:
    return [s.candidate.name for s in ranking.order]


def test_least_used_lowest_weekly_first_and_unknown_last():
    ranking = LeastUsed().rank(cands(("a", 50, 1, None), ("b", 10, 90, None), ("c", None, None, None),
                                     ("d", 30, 0, None)), request())
    assert names(ranking) == ["b", "d", "a", "c"]
    assert ranking.order[0].score == 10
    assert ranking.order[-1].score is None and "no weekly usage data" in ranking.order[-1].note
    assert ranking.rationale == "least-used: lowest weekly usage among healthy"


def test_ties_break_by_discovery_order_whatever_the_input_order():
    given = cands(("c", 20, 0, None), ("a", 20, 0, None), ("b", 20, 0, None))
    assert names(LeastUsed().rank(given, request())) == ["a", "b", "c"]
    assert names(Weighted().rank(list(reversed(given)), request())) == ["a", "b", "c"]
    assert names(LowestOverage().rank(given, request())) == ["a", "b", "c"]


def test_weighted_formula_and_missing_session_counts_as_zero():
    ranking = Weighted().rank(cands(("a", 40, 3, None), ("b", 30, None, None), ("c", 90, 89, None)), request())
    scores = {s.candidate.name: s.score for s in ranking.order}
    assert scores == {"a": 10.0, "b": 30.0, "c": 1.0}
    assert names(ranking) == ["c", "a", "b"]


def test_lowest_overage_treats_missing_as_zero():
    ranking = LowestOverage().rank(cands(("a", 5, 0, 40.0), ("b", 90, 0, None), ("c", 5, 0, 0.5)), request())
    assert names(ranking) == ["b", "c", "a"]
    assert ranking.order[0].score == 0.0 and "counts as 0" in ranking.order[0].note


def test_first_healthy_is_discovery_order():
    assert names(FirstHealthy().rank(cands(("b", 1, 0, None), ("a", 99, 0, None)), request())) == ["a", "b"]


@pytest.mark.parametrize("last, expected", [
    (None, ["a", "b", "c"]),
    ("a", ["b", "c", "a"]),
    ("b", ["c", "a", "b"]),
    ("c", ["a", "b", "c"]),
    ("bb", ["c", "a", "b"]),  # last pick no longer a candidate: continue from where its name sorts
    ("zz", ["a", "b", "c"]),
])
def test_round_robin_rotates_past_the_last_pick(last, expected):
    given = cands(("a", 1, 0, None), ("b", 1, 0, None), ("c", 1, 0, None))
    assert names(RoundRobin().rank(given, request(last))) == expected


def test_round_robin_visits_every_profile():
    given = cands(("a", 1, 0, None), ("b", 1, 0, None), ("c", 1, 0, None))
    seen, last = [], None
    for _ in range(6):
        last = names(RoundRobin().rank(given, request(last)))[0]
        seen.append(last)
    assert seen == ["a", "b", "c", "a", "b", "c"]


def test_sticky_keeps_last_pick_inside_window():
    given = cands(("a", 10, 0, None), ("b", 80, 0, None))
    ranking = Sticky().rank(given, request("b", ago=100))
    assert names(ranking) == ["b", "a"]
    assert ranking.rationale.startswith("sticky: last pick within the 300s window")
    assert "sticky" in ranking.order[0].note


@pytest.mark.parametrize("kwargs, why", [
    ({"last": "b", "ago": 300}, "outside the 300s window"),
    ({"last": "b", "ago": -5}, "outside"),  # a pick from the future (clock skew) is not trusted
    ({"last": "b", "ago": 10, "stickiness": 0}, "disabled"),
    ({"last": "b", "ago": 10, "count": 2}, "ignored with --count > 1"),
    ({"last": "gone", "ago": 10}, "not a candidate"),
    ({}, "no previous pick"),
])
def test_sticky_falls_through_to_least_used(kwargs, why):
    given = cands(("a", 10, 0, None), ("b", 80, 0, None))
    ranking = Sticky().rank(given, request(**kwargs))
    assert names(ranking) == ["a", "b"]
    assert why in ranking.rationale and ranking.rationale.endswith("least-used: lowest weekly usage among healthy")


def test_sticky_accepts_naive_last_pick_times():
    given = cands(("a", 10, 0, None), ("b", 80, 0, None))
    req = PickRequest("sticky", NOW, LastPick("b", (NOW - timedelta(seconds=5)).replace(tzinfo=None)), 300, 1)
    assert names(Sticky().rank(given, req)) == ["b", "a"]


def test_every_builtin_is_registered_under_its_seed_name():
    from roost_core.plugins import PluginHost

    host = PluginHost()
    registry = host.registry("strategy")
    for name in ("sticky", "least-used", "round-robin", "weighted", "first-healthy", "lowest-overage"):
        assert registry[name].name == name and registry[name].summary
