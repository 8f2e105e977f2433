"""pick --model against limits[]-scoped limits, the unknown-model warning, the binding limit in explain rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from roost_core.pick import (Resolved, binding_text, decide, explain_rows, models_seen, recovery_time,
                             unknown_model_warning)
from roost_core.records import Health, HealthRecord, PickRequest
from roost_plugins.strategies.least_used import LeastUsed

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
FABLE_FULL = {"model": "Fable", "pct": 100.0, "resets_at": "2026-12-10T09:00:00Z", "active": True}


def opts(**kw) -> Resolved:
    base = dict(strategy="least-used", avoid=(), max_cost=None, require_ok=False, fallback=None, warn_at=None,
                stickiness_s=300.0, count=1, model=None)
    base.update(kw)
    return Resolved(**base)


def decide_for(records, **kw):
    return decide(records, opts(**kw), LeastUsed(), PickRequest("least-used", NOW))


def test_model_at_100_is_excluded_until_it_resets():
    full = HealthRecord("a", Health.OK, weekly_pct=5, model_limits=[FABLE_FULL])
    other = HealthRecord("b", Health.OK, weekly_pct=50, model_limits=[{**FABLE_FULL, "pct": 20.0, "active": False}])
    decision = decide_for([full, other], model="Fable")
    assert [s.candidate.name for s in decision.ranked] == ["b"]
    rung, reason = decision.excluded["a"]
    assert rung == "model" and "Fable weekly limit at 100%" in reason and "2026-12-10T09:00:00Z" in reason
    # Without --model the profile stays the least-used pick: a scoped limit binds only that model.
    assert [s.candidate.name for s in decide_for([full, other]).ranked] == ["a", "b"]
    reset = HealthRecord("a", Health.OK, weekly_pct=5,
                         model_limits=[{**FABLE_FULL, "resets_at": (NOW - timedelta(hours=1)).isoformat()}])
    assert [s.candidate.name for s in decide_for([reset], model="fable").ranked] == ["a"]


def test_unknown_model_warns_and_lists_models_seen():
    records = [HealthRecord("a", Health.OK, model_limits=[FABLE_FULL]),
               HealthRecord("b", Health.OK, sonnet_pct=12.0, model_limits=[{**FABLE_FULL, "model": "fable"}])]
    assert models_seen(records) == ["Fable", "sonnet"]
    warning = unknown_model_warning(records, "gpt")
    assert warning == "--model gpt: no profile reports a limit for this model (models seen: Fable, sonnet)"
    assert unknown_model_warning(records, "FABLE") is None
    assert unknown_model_warning(records, "sonnet") is None
    assert unknown_model_warning(records, None) is None
    assert "models seen: none yet" in unknown_model_warning([HealthRecord("c", Health.OK)], "opus")


def test_binding_limit_in_explain_rows():
    binding = {"kind": "weekly_scoped", "model": "Fable", "pct": 100.0, "resets_at": None}
    assert binding_text(binding) == "binding limit: weekly_scoped (Fable) 100%"
    assert binding_text({"kind": "session", "model": None, "pct": 37}) == "binding limit: session 37%"
    assert binding_text(None) is None
    records = [HealthRecord("a", Health.OK, weekly_pct=5, binding_limit=binding)]
    decision = decide_for(records)
    rows = explain_rows(records, decision, ["a"], {})
    assert "binding limit: weekly_scoped (Fable) 100%" in rows[0]["reason"]


def test_rate_limited_recovers_at_next_probe_at_not_at_the_deadline():
    record = HealthRecord("a", Health.RATE_LIMITED, checked_at="2026-12-07T12:00:00Z", retry_after_s=3600.0,
                          next_probe_at="2026-12-07T13:06:00Z")
    assert recovery_time(record) == datetime(2026, 12, 7, 13, 6, tzinfo=timezone.utc)
    assert "a" in decide_for([record]).excluded
