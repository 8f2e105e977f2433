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


# -- --model NAME: the model's id, and the family's flat window ----------------------------------

OPUS_45 = {"model": "Claude Opus 4.5", "id": "claude-opus-4.5", "pct": 100.0,
           "resets_at": "2026-12-10T09:00:00Z", "active": True}


def excluded(record, model):
    decision = decide_for([record], model=model)
    return decision.excluded.get(record.name, (None, None))[0] == "model"


def test_model_id_matches_like_the_display_name():
    """A limits[] entry is matched by its id too (case-insensitively), not only by its display name."""
    record = HealthRecord("op", Health.OK, weekly_pct=5, opus_pct=100.0, model_limits=[OPUS_45])
    for name in ("claude-opus-4.5", "CLAUDE-OPUS-4.5", "Claude Opus 4.5", "claude opus 4.5", "opus"):
        assert excluded(record, name), name
        assert unknown_model_warning([record], name) is None, name
    assert "Claude Opus 4.5 weekly limit at 100% (--model claude-opus-4.5)" in \
        decide_for([record], model="claude-opus-4.5").excluded["op"][1]
    assert not excluded(record, "claude-sonnet-4.5") and not excluded(record, "fable")


def test_model_id_only_entry_and_words_of_the_id():
    """``opus`` matches an entry whose id (not its display name) says opus."""
    record = HealthRecord("a", Health.OK, model_limits=[{**OPUS_45, "model": "Fable", "id": "claude-opus-fable"}])
    assert excluded(record, "opus") and excluded(record, "claude-opus-fable") and excluded(record, "fable")
    assert not excluded(record, "sonnet")


def test_a_family_name_in_name_matches_the_flat_window():
    """The flat seven_day_opus figure (opus_pct) binds every Opus model, whatever NAME spells it."""
    flat = HealthRecord("a", Health.OK, weekly_pct=5, opus_pct=100.0)
    for name in ("opus", "Claude Opus 4.5", "claude-opus-4.5", "OPUS"):
        assert excluded(flat, name), name
        assert unknown_model_warning([flat], name) is None, name
    assert "opus weekly limit at 100% (--model Claude Opus 4.5)" in \
        decide_for([flat], model="Claude Opus 4.5").excluded["a"][1]
    assert not excluded(flat, "Claude Sonnet 4.5") and not excluded(flat, "opusx")
    sonnet = HealthRecord("b", Health.OK, sonnet_pct=100.0)
    assert excluded(sonnet, "claude-sonnet-4-5") and not excluded(sonnet, "claude-opus-4-5")
    # A limit recorded for the whole family ("Opus", as a passive reading names it) binds each Opus model.
    family = HealthRecord("c", Health.OK, model_limits=[{"model": "Opus", "pct": 100.0, "resets_at": None}])
    assert excluded(family, "claude-opus-4.5") and not excluded(family, "claude-sonnet-4.5")
    haiku = HealthRecord("d", Health.OK, model_limits=[{"model": "Haiku", "pct": 100.0, "resets_at": None}])
    assert excluded(haiku, "Claude Haiku 4.5") and not excluded(haiku, "opus")


def test_one_opus_models_limit_does_not_bind_another():
    """When limits[] lists the family's models, opus_pct is a copy of the first: the entries decide."""
    record = HealthRecord("a", Health.OK, opus_pct=100.0, model_limits=[
        {"model": "Claude Opus 4.1", "id": "claude-opus-4.1", "pct": 100.0, "resets_at": None},
        {**OPUS_45, "pct": 30.0}])
    assert not excluded(record, "claude-opus-4.5") and not excluded(record, "Claude Opus 4.5")
    assert excluded(record, "claude-opus-4.1") and excluded(record, "opus")


def test_models_seen_lists_ids_and_names():
    records = [HealthRecord("op", Health.OK, opus_pct=100.0, model_limits=[OPUS_45]),
               HealthRecord("f", Health.OK, model_limits=[FABLE_FULL])]
    assert models_seen(records) == ["Claude Opus 4.5", "claude-opus-4.5", "Fable", "opus"]
    assert unknown_model_warning(records, "gpt") == ("--model gpt: no profile reports a limit for this model "
                                                     "(models seen: Claude Opus 4.5, claude-opus-4.5, Fable, opus)")
