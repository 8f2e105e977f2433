"""Today's usage wire: limits[] parsing, the binding limit, 401 token_expired, the 429 schedule."""

from __future__ import annotations

import json
import statistics

import pytest

from roost_core.records import Health, ProbeOutcome
from roost_plugins.anthropic.usage import parse_usage
from roost_plugins.anthropic.taxonomy import classify_outcome

NOW = 1_796_000_000.0  # 2026-12-1x
FABLE = {"kind": "weekly_scoped", "group": "weekly", "percent": 100, "resets_at": 1796300000,
         "scope": {"model": {"id": "claude-fable-4", "display_name": "Fable"}}, "is_active": True}
SESSION = {"kind": "session", "group": "session", "percent": 37, "resets_at": "2026-12-07T14:00:00+00:00",
           "scope": None, "is_active": False}
WEEKLY = {"kind": "weekly_all", "group": "weekly", "percent": 62, "resets_at": "2026-12-10T09:00:00+00:00",
          "scope": None, "is_active": False}


def outcome(status: int, body, headers=None) -> ProbeOutcome:
    return ProbeOutcome(source="anthropic", status=status, headers=headers or {}, body=json.dumps(body).encode())


def test_limits_only_body_gives_every_figure():
    usage = parse_usage({"limits": [SESSION, WEEKLY, FABLE]})
    assert (usage.session_pct, usage.weekly_pct) == (37.0, 62.0)
    assert usage.session_resets_at == "2026-12-07T14:00:00Z" and usage.weekly_resets_at == "2026-12-10T09:00:00Z"
    assert usage.model_limits == [{"model": "Fable", "id": "claude-fable-4", "pct": 100.0,
                                   "resets_at": "2026-12-03T12:13:20Z", "active": True}]
    assert usage.binding_limit == {"kind": "weekly_scoped", "model": "Fable", "pct": 100.0,
                                   "resets_at": "2026-12-03T12:13:20Z"}


def test_weekly_scoped_never_overwrites_weekly_all_whatever_the_order():
    for order in ([FABLE, WEEKLY], [WEEKLY, FABLE]):
        assert parse_usage({"limits": order}).weekly_pct == 62.0
    # A scoped entry alone leaves weekly_pct to the flat key (never to the scoped 100 %).
    usage = parse_usage({"seven_day": {"utilization": 10.0, "resets_at": None}, "limits": [FABLE]})
    assert usage.weekly_pct == 10.0


def test_flat_keys_are_the_fallback_and_fill_what_limits_leave():
    flat = {"five_hour": {"utilization": 11.0, "resets_at": None},
            "seven_day": {"utilization": 9.0, "resets_at": None},
            "seven_day_sonnet": {"utilization": 4.0, "resets_at": None}, "seven_day_opus": None}
    usage = parse_usage(flat)
    assert (usage.session_pct, usage.weekly_pct, usage.sonnet_pct, usage.model_limits) == (11.0, 9.0, 4.0, [])
    mixed = parse_usage({**flat, "limits": [SESSION]})
    assert (mixed.session_pct, mixed.weekly_pct, mixed.sonnet_pct) == (37.0, 9.0, 4.0)


@pytest.mark.parametrize("model, field", [
    ({"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"}, "sonnet_pct"),
    ({"id": "claude-opus-4", "display_name": None}, "opus_pct"),
    ({"id": None, "display_name": "Claude Opus 4.7"}, "opus_pct"),
])
def test_sonnet_and_opus_from_limits_when_the_name_matches(model, field):
    entry = {**FABLE, "percent": 44, "scope": {"model": model}, "is_active": False}
    usage = parse_usage({"seven_day_opus": None, "seven_day_sonnet": None, "limits": [entry]})
    assert getattr(usage, field) == 44.0
    other = "opus_pct" if field == "sonnet_pct" else "sonnet_pct"
    assert getattr(usage, other) is None


@pytest.mark.parametrize("model, name, ident", [
    ({"id": "claude-opus-4.5", "display_name": "Claude Opus 4.5"}, "Claude Opus 4.5", "claude-opus-4.5"),
    ({"id": "claude-opus-4.5", "display_name": None}, "claude-opus-4.5", "claude-opus-4.5"),
    ({"id": None, "display_name": "Fable"}, "Fable", None),
    ({"id": 7, "display_name": "Fable"}, "Fable", None),  # an id that is not text is no id
])
def test_model_limits_keep_the_models_id_beside_its_name(model, name, ident):
    """scope.model.id is kept in model_limits (``id``), so --model can match it."""
    entry = {**FABLE, "scope": {"model": model}}
    (limit,) = parse_usage({"limits": [entry]}).model_limits
    assert (limit["model"], limit["id"]) == (name, ident)
    assert set(limit) == {"model", "id", "pct", "resets_at", "active"}


def test_fable_at_100_is_not_a_weekly_limit_but_named_as_binding():
    verdict = classify_outcome(outcome(200, {"limits": [SESSION, WEEKLY, FABLE]}), NOW)
    assert verdict.health is Health.OK
    assert "binding limit: weekly_scoped (Fable) at 100%" in verdict.reasons
    assert any("model-scoped limit Fable at 100%" in r for r in verdict.reasons)


def test_session_and_weekly_limits_follow_the_limits_entries():
    full_weekly = {**WEEKLY, "percent": 100, "resets_at": NOW + 3600, "is_active": True}
    verdict = classify_outcome(outcome(200, {"seven_day": {"utilization": 50.0, "resets_at": None},
                                             "limits": [SESSION, full_weekly]}), NOW)
    assert verdict.health is Health.WEEKLY_LIMIT and verdict.ttl_s == pytest.approx(3600)
    assert "binding limit: weekly_all at 100%" in verdict.reasons
    full_session = {**SESSION, "percent": 100, "resets_at": NOW + 600}
    verdict = classify_outcome(outcome(200, {"limits": [full_session, WEEKLY]}), NOW)
    assert verdict.health is Health.SESSION_LIMIT and verdict.ttl_s == pytest.approx(600)


def test_401_token_expired_is_auth_expired_and_other_401s_stay_dead():
    expired = {"type": "error", "error": {"type": "authentication_error", "message": "OAuth token has expired.",
                                          "details": {"error_code": "token_expired"}}}
    verdict = classify_outcome(outcome(401, expired), NOW)
    assert verdict.health is Health.AUTH_EXPIRED and verdict.ttl_s is None
    assert "token_expired" in verdict.reasons[0]
    dead = {"type": "error", "error": {"type": "authentication_error", "message": "Invalid authentication credentials"}}
    assert classify_outcome(outcome(401, dead), NOW).health is Health.AUTH_DEAD


def test_401_saying_the_token_has_expired_without_an_error_code_is_auth_dead():
    """A 401 is auth_dead (the health table); only error.details.error_code "token_expired" says more.
    The server's message is kept as the record's error."""
    message = "OAuth token has expired. Please obtain a new token or refresh your existing token."
    said = {"type": "error", "error": {"type": "authentication_error", "message": message}, "request_id": "req_1"}
    verdict = classify_outcome(outcome(401, said), NOW)
    assert verdict.health is Health.AUTH_DEAD and verdict.ttl_s is None and verdict.error == message
    revoked = {"type": "error", "error": {"type": "authentication_error", "message": "OAuth token has been revoked"}}
    assert classify_outcome(outcome(401, revoked), NOW).health is Health.AUTH_DEAD


def test_429_schedule_is_retry_after_plus_5_to_15_percent_and_spread():
    waits = [classify_outcome(outcome(429, {"error": {"type": "rate_limit_error"}}, {"retry-after": "3600"}),
                              NOW).ttl_s for _ in range(400)]
    assert 3600 * 1.05 <= min(waits) and max(waits) <= 3600 * 1.15
    assert statistics.pstdev(waits) > 60  # blocks that end together do not retry together
    print(f"\n429 retry-after 3600: next probe {min(waits) - 3600:.0f}-{max(waits) - 3600:.0f}s after the deadline")


def test_show_and_status_draw_binding_limit_model_limits_and_next_probe():
    import io

    from roost_core.output import Output
    from roost_core.records import HealthRecord
    from roost_plugins.rich_render.status import render_show, status_table

    class Ctx:
        out = Output(stdout=io.StringIO(), stderr=io.StringIO())
        env = {"COLUMNS": "160"}

        def now(self):
            return NOW

    record = HealthRecord("a", Health.RATE_LIMITED, checked_at="2026-12-01T00:00:00Z", retry_after_s=3600.0,
                          next_probe_at="2026-12-01T01:06:00Z",
                          model_limits=[{"model": "Fable", "pct": 100.0, "resets_at": None, "active": True}],
                          binding_limit={"kind": "weekly_scoped", "model": "Fable", "pct": 100.0,
                                         "resets_at": None}).to_dict()
    ctx = Ctx()
    render_show({**record, "cache": {}, "credentials": {}, "reasons": []}, {}, ctx)
    drawn = ctx.out.stderr.getvalue()
    for text in ("Next probe", "2026-12-01T01:06:00Z", "Binding limit", "weekly_scoped (Fable) 100%", "Fable"):
        assert text in drawn, text
    from roost_plugins.rich_render.console import stderr_console

    ctx = Ctx()
    ctx.out = Output(stdout=io.StringIO(), stderr=io.StringIO())
    stderr_console(ctx).print(status_table([record], NOW))
    assert "next probe in" in ctx.out.stderr.getvalue()


def test_fake_anthropic_limits_only_mixed_and_token_expired_scenarios():
    from roost_plugins.fakeserver import Scenario, TokenBehaviour
    from roost_plugins.fakeserver.scenarios import invalid_grant_reply

    only = Scenario.limits_only(session=37, weekly=62, models={"Fable": 100}, active="Fable")
    body = json.loads(only.reply().body)
    assert set(body) == {"limits", "extra_usage"}
    kinds = [(e["kind"], e["group"], e["is_active"]) for e in body["limits"]]
    assert kinds == [("session", "session", False), ("weekly_all", "weekly", False), ("weekly_scoped", "weekly", True)]
    assert isinstance(body["limits"][2]["resets_at"], int) and isinstance(body["limits"][0]["resets_at"], str)
    assert body["limits"][2]["scope"]["model"]["display_name"] == "Fable"
    mixed = json.loads(Scenario.mixed(weekly=9, models={"Sonnet": 40}, flat_weekly=55).reply().body)
    assert mixed["seven_day"]["utilization"] == 55 and mixed["seven_day_sonnet"] is None and mixed["limits"]
    assert parse_usage(mixed).weekly_pct == 9 and parse_usage(mixed).sonnet_pct == 40
    for scenario in (only, Scenario.mixed(models={"Opus": 1}), Scenario.token_expired()):
        assert Scenario.from_dict(json.loads(json.dumps(scenario.to_dict()))) == scenario
    reply = Scenario.token_expired().reply()
    assert reply.status == 401 and json.loads(reply.body)["error"]["details"]["error_code"] == "token_expired"
    assert json.loads(invalid_grant_reply("expired").body)["error_description"] == "Refresh token expired"
    assert TokenBehaviour.from_dict(TokenBehaviour(grant_error="expired").to_dict()).grant_error == "expired"
