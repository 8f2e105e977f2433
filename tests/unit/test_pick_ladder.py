"""The filter ladder and failure diagnosis (pure: in-memory records, no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from roost_core.errors import ExitCode
from roost_core.pick import Resolved, decide, diagnose, explain_rows, model_usage
from roost_core.records import Health, HealthRecord, PickRequest
from roost_plugins.strategies.first_healthy import FirstHealthy
from roost_plugins.strategies.least_used import LeastUsed

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def opts(**kw) -> Resolved:
    base = dict(strategy="least-used", avoid=(), max_cost=None, require_ok=False, fallback=None, warn_at=None,
                stickiness_s=300.0, count=1, model=None)
    base.update(kw)
    return Resolved(**base)


def rec(name: str, health: str = "ok", **kw) -> HealthRecord:
    return HealthRecord(name, Health(health), **kw)


def run(records, strategy=None, **kw):
    options = opts(**kw)
    return decide(records, options, strategy or LeastUsed(), PickRequest("least-used", NOW, count=options.count))


def ranked(decision) -> list[str]:
    return [s.candidate.name for s in decision.ranked]


def iso(delta_s: float) -> str:
    return (NOW + timedelta(seconds=delta_s)).isoformat()


def test_health_filter_keeps_ok_then_uncertain_and_drops_the_rest():
    records = [rec("a", "auth_dead"), rec("b", "network_error"), rec("c", "ok", weekly_pct=50),
               rec("d", "session_limit", session_resets_at=iso(600)), rec("e", "unknown"),
               rec("f", "ok", weekly_pct=5), rec("g", "auth_expired"), rec("h", "rate_limited", retry_after_s=60,
                                                                          checked_at=iso(0))]
    decision = run(records)
    assert ranked(decision) == ["f", "c", "b", "e"]
    assert decision.excluded["a"] == ("health", "health=auth_dead")
    assert decision.excluded["d"][1].startswith("health=session_limit until ")
    assert not decision.uncertain_only


def test_only_uncertain_profiles_are_picked_as_a_last_resort():
    decision = run([rec("a", "network_error"), rec("b", "weekly_limit", weekly_resets_at=iso(3600))])
    assert ranked(decision) == ["a"] and decision.uncertain_only
    assert "no ok profile" in decision.rationale


def test_throttled_record_whose_reset_passed_is_an_uncertain_candidate():
    decision = run([rec("a", "session_limit", session_resets_at=iso(-60)), rec("b", "auth_dead")])
    assert ranked(decision) == ["a"]
    rows = explain_rows([rec("a", "session_limit", session_resets_at=iso(-60))], decision, ["a"], {})
    assert "reset time passed" in rows[0]["reason"]


def test_avoid_max_cost_require_ok_and_model_in_ladder_order():
    records = [rec("a", weekly_pct=1), rec("b", weekly_pct=2, overage_pct=80.0), rec("c", weekly_pct=3, overage_pct=79.9),
               rec("d", "network_error"), rec("e", weekly_pct=4, opus_pct=100.0), rec("f", "auth_dead", overage_pct=99.0)]
    decision = run(records, avoid=("a",), max_cost=80.0, require_ok=True, model="opus")
    assert ranked(decision) == ["c"]
    assert decision.excluded == {
        "a": ("avoid", "avoid (--avoid)"),
        "b": ("max-cost", "overage 80% >= --max-cost 80%"),
        "d": ("require-ok", "not ok: network_error (--require-ok)"),
        "e": ("model", "opus weekly limit at 100% (--model opus)"),
        "f": ("health", "health=auth_dead"),
    }


def test_max_cost_never_drops_profiles_without_overage_data():
    assert ranked(run([rec("a", weekly_pct=1)], max_cost=0.0)) == ["a"]


@pytest.mark.parametrize("model, limits, dropped", [
    ("opus", [{"model": "Claude Opus 4.7", "pct": 100}], True),
    ("Claude Opus 4.7", [{"model": "Claude Opus 4.7", "pct": 100.0}], True),
    ("OPUS", [{"model": "Opus", "pct": 99.0}], False),
    ("sonnet", [{"model": "Claude Opus 4.7", "pct": 100}], False),
    ("ExampleModel", [{"model": "ExampleModel", "pct": 100}], True),
    ("opus", [{"model": "Claude Opus 4.7", "pct": None}], False),
    ("fable", [{"model": "Fable", "pct": 100, "resets_at": "2099-01-01T00:00:00Z", "active": True}], True),
    ("fable", [{"model": "Fable", "pct": 100, "resets_at": "2000-01-01T00:00:00Z", "active": True}], False),
    ("opus", [{"model": "Opus", "percent": 100}], True),  # a record cached before 2026-12
])
def test_model_limits_from_the_limits_list(model, limits, dropped):
    record = rec("a", weekly_pct=10, session_pct=10, model_limits=limits)
    assert (ranked(run([record], model=model)) == []) is dropped


def test_model_filter_drops_even_with_room_in_all_model_windows():
    record = rec("a", weekly_pct=10, session_pct=10, sonnet_pct=100.0)
    assert model_usage(record, "sonnet") == [("sonnet", 100.0, None)]
    assert ranked(run([record, rec("b", weekly_pct=90)], model="sonnet")) == ["b"]


def diagnosis(records, **kw):
    decision = run(records, **kw)
    assert decision.ranked == []
    return diagnose(records, decision, opts(**kw), "/tree", "least-used")


@pytest.mark.parametrize("healths, code, reason", [
    ([], ExitCode.UNAVAILABLE, "no_profiles"),
    (["auth_dead", "auth_dead"], ExitCode.AUTH_REQUIRED, "all_auth_dead"),
    (["auth_expired"], ExitCode.AUTH_REQUIRED, "all_auth_expired"),
    (["auth_expired", "auth_dead"], ExitCode.AUTH_REQUIRED, "all_auth_dead"),
    (["rate_limited", "session_limit"], ExitCode.RATE_LIMITED, "all_throttled"),
    (["session_limit", "weekly_limit"], ExitCode.RATE_LIMITED, "all_throttled"),
    (["weekly_limit", "weekly_limit"], ExitCode.UNAVAILABLE, "all_weekly_limit"),
    (["auth_dead", "weekly_limit"], ExitCode.UNAVAILABLE, "all_terminal"),
    (["auth_dead", "rate_limited"], ExitCode.RATE_LIMITED, "all_throttled"),  # one recovers soon
    (["auth_expired", "weekly_limit", "auth_dead"], ExitCode.UNAVAILABLE, "all_terminal"),
])
def test_exit_codes_when_nothing_can_be_picked(healths, code, reason):
    records = [rec(f"p{i}", h, retry_after_s=60, checked_at=iso(0), weekly_resets_at=iso(7200),
                   session_resets_at=iso(600)) for i, h in enumerate(healths)]
    error = diagnosis(records)
    assert error.exit_code == code and error.details["reason"] == reason, error.message


def test_require_ok_is_forbidden_whatever_the_healths():
    error = diagnosis([rec("a", "network_error"), rec("b", "auth_dead")], require_ok=True)
    assert error.exit_code == ExitCode.FORBIDDEN and "--require-ok" in error.message


def test_earliest_recovery_is_reported_for_throttled_fleets():
    error = diagnosis([rec("a", "session_limit", session_resets_at=iso(600)),
                       rec("b", "weekly_limit", weekly_resets_at=iso(7200))])
    assert error.details["earliest_recovery_at"] == "2026-05-04T12:10:00Z"
    assert "earliest recovery 2026-05-04T12:10:00Z" in error.message


def test_user_filters_do_not_hide_the_health_diagnosis():
    # The only ok profile is avoided; the rest need a login: that is what the user must fix.
    error = diagnosis([rec("a"), rec("b", "auth_dead")], avoid=("a",))
    assert error.exit_code == ExitCode.AUTH_REQUIRED
    error = diagnosis([rec("a"), rec("b", overage_pct=100.0)], avoid=("a",), max_cost=90.0)
    assert error.exit_code == ExitCode.UNAVAILABLE and error.details["reason"] == "all_filtered"


def test_explain_rows_mark_chosen_candidate_and_excluded():
    records = [rec("account-a"), rec("account-b", weekly_pct=10.0), rec("account-c", weekly_pct=20.0)]
    decision = run(records, avoid=("account-a",))
    rows = explain_rows(records, decision, ["account-b"], {})
    assert [(r["profile"], r["status"], r["score"], r["reason"]) for r in rows] == [
        ("account-a", "excluded", None, "avoid (--avoid)"),
        ("account-b", "chosen", 10.0, ""),
        ("account-c", "candidate", 20.0, ""),
    ]
    assert rows[1]["rank"] == 1 and rows[0]["health"] == "ok"


class _Broken:
    name, summary = "broken", "raises"

    def rank(self, candidates, request):
        raise ZeroDivisionError("oops")


class _Liar:
    name, summary = "liar", "returns strangers and duplicates"

    def rank(self, candidates, request):
        from roost_core.records import Candidate, Ranking, Scored
        stranger = Candidate(HealthRecord("zz", Health.OK), 99)
        return Ranking([Scored(stranger), Scored(candidates[0]), candidates[0]], "liar")


def test_a_failing_strategy_is_a_clear_error():
    from roost_core.errors import RoostError

    with pytest.raises(RoostError, match="strategy 'broken' failed: ZeroDivisionError: oops"):
        run([rec("a")], strategy=_Broken())


def test_a_strategy_cannot_smuggle_in_profiles_or_duplicates():
    assert ranked(run([rec("a"), rec("b")], strategy=_Liar())) == ["a"]


def test_first_healthy_sees_ok_candidates_before_uncertain_ones():
    assert ranked(run([rec("a", "unknown"), rec("b")], strategy=FirstHealthy())) == ["b", "a"]
