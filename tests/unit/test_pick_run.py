"""run_pick in-process: settings precedence, side effects, fallback, warnings, explain (records injected)."""

from __future__ import annotations

import io
import json

import pytest

from roost_core import audit, hookimpl, lastpick
from roost_core.context import RoostContext
from roost_core.errors import ExitCode, RoostError
from roost_core.output import Output
from roost_core.pick import PickOptions, run_pick
from roost_core.records import Health, HealthRecord

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z


class Clock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_ctx(roost_env):
    def build(*names: str, config: str | None = None, clock: Clock | None = None, json_mode: bool = False, **env):
        for name in names:
            roost_env.make_profile(name)
        if config is not None:
            roost_env.config.mkdir(parents=True, exist_ok=True)
            (roost_env.config / "config.toml").write_text(config)
        out = Output(json_mode=json_mode, stdout=io.StringIO(), stderr=io.StringIO())
        return RoostContext(env=roost_env.env(**env), out=out, clock=clock or Clock())
    return build


def fleet(**weekly) -> list[HealthRecord]:
    return [HealthRecord(name, Health.OK, weekly_pct=pct, session_pct=0.0) for name, pct in sorted(weekly.items())]


def picks_log(ctx) -> list[audit.AuditEvent]:
    return list(audit.read(ctx))


def test_pick_logs_and_updates_last_pick(make_ctx):
    ctx = make_ctx("a", "b")
    outcome = run_pick(ctx, PickOptions(strategy="least-used"), records=fleet(a=50, b=10))
    assert [r.name for r in outcome.results] == ["b"] and outcome.strategy == "least-used"
    assert outcome.rationale == "least-used: lowest weekly usage among healthy"
    events = picks_log(ctx)
    assert [(e.event, e.profile, e.strategy, e.rc) for e in events] == [("pick", "b", "least-used", None)]
    last = lastpick.read(ctx)
    assert last.name == "b" and last.strategy == "least-used" and last.at.timestamp() == T0


def test_which_has_no_side_effects_and_exec_mode_updates_only_last_pick(make_ctx):
    ctx = make_ctx("a", "b")
    run_pick(ctx, PickOptions(), side_effects=False, records=fleet(a=50, b=10))
    assert picks_log(ctx) == [] and lastpick.read(ctx) is None
    assert not (ctx.paths.config_dir / "last-pick.json").exists()
    run_pick(ctx, PickOptions(), log=False, records=fleet(a=50, b=10))
    assert picks_log(ctx) == [] and lastpick.read(ctx).name == "b"


def test_sticky_default_keeps_last_pick_then_expires(make_ctx):
    clock = Clock()
    ctx = make_ctx("a", "b", clock=clock)
    assert run_pick(ctx, PickOptions(), records=fleet(a=50, b=10)).results[0].name == "b"
    clock.now += 100
    outcome = run_pick(ctx, PickOptions(), records=fleet(a=5, b=60))
    assert outcome.results[0].name == "b" and outcome.strategy == "sticky"
    assert outcome.rationale.startswith("sticky: last pick within the 300s window")
    clock.now += 301
    assert run_pick(ctx, PickOptions(), records=fleet(a=5, b=60)).results[0].name == "a"


def test_stickiness_precedence_flag_env_config(make_ctx):
    clock = Clock()
    ctx = make_ctx("a", "b", clock=clock, config='stickiness = "10m"\n')
    run_pick(ctx, PickOptions(strategy="least-used"), records=fleet(a=50, b=10))
    clock.now += 400  # inside the config's 10 minutes, outside the 300 s default
    assert run_pick(ctx, PickOptions(), records=fleet(a=5, b=60)).results[0].name == "b"
    clock.now += 120  # last pick (b) 120 s ago: inside the config's window, outside the environment's
    env_ctx = make_ctx(clock=clock, CLAUDE_LB_STICKINESS="1m")
    assert run_pick(env_ctx, PickOptions(), side_effects=False, records=fleet(a=5, b=60)).results[0].name == "a"
    assert run_pick(ctx, PickOptions(), side_effects=False, records=fleet(a=5, b=60)).results[0].name == "b"
    assert run_pick(env_ctx, PickOptions(stickiness=600), side_effects=False,
                    records=fleet(a=5, b=60)).results[0].name == "b"
    assert run_pick(ctx, PickOptions(stickiness=0), records=fleet(a=5, b=60)).results[0].name == "a"


def test_count_logs_each_and_only_primary_sticks(make_ctx):
    ctx = make_ctx("a", "b", "c")
    outcome = run_pick(ctx, PickOptions(strategy="least-used", count=5), records=fleet(a=30, b=10, c=20))
    assert [r.name for r in outcome.results] == ["b", "c", "a"]
    assert [(e.profile, e.note) for e in picks_log(ctx)] == [("b", "rank=1/3"), ("c", "rank=2/3"), ("a", "rank=3/3")]
    assert lastpick.read(ctx).name == "b"


def test_team_overrides_config_and_flags_override_team(make_ctx):
    config = ('strategy = "first-healthy"\n[teams.ci]\nstrategy = "least-used"\navoid = ["b"]\n'
              'warn_at = 40\n')
    ctx = make_ctx("a", "b", "c", config=config, CLAUDE_LB_TEAM="ci")
    outcome = run_pick(ctx, PickOptions(), records=fleet(a=50, b=10, c=20))
    assert outcome.strategy == "least-used" and outcome.results[0].name == "c"
    outcome = run_pick(ctx, PickOptions(strategy="first-healthy", avoid=("c",)), records=fleet(a=50, b=10, c=20))
    assert outcome.results[0].name == "a"
    assert outcome.warnings == ["a is at weekly 50% (--warn-at 40%)"]
    plain = make_ctx(config=config)
    assert run_pick(plain, PickOptions(), records=fleet(a=50, b=10, c=20)).strategy == "first-healthy"


def test_unknown_strategy_lists_every_available_name(make_ctx):
    ctx = make_ctx("a")
    with pytest.raises(RoostError) as info:
        run_pick(ctx, PickOptions(strategy="nope"), records=fleet(a=1))
    assert info.value.exit_code == ExitCode.VALIDATION
    for name in ("sticky", "least-used", "round-robin", "weighted", "first-healthy", "lowest-overage"):
        assert name in info.value.message and name in info.value.details["available"]


def test_failure_is_logged_with_its_exit_code_and_explained(make_ctx):
    ctx = make_ctx("a", "b")
    records = [HealthRecord("a", Health.AUTH_DEAD), HealthRecord("b", Health.AUTH_EXPIRED)]
    with pytest.raises(RoostError) as info:
        run_pick(ctx, PickOptions(explain=True), records=records)
    assert info.value.exit_code == ExitCode.AUTH_REQUIRED
    assert [r["status"] for r in info.value.details["explain"]] == ["excluded", "excluded"]
    assert "Pick decision (strategy=sticky)" in ctx.out.stderr.getvalue()
    [event] = picks_log(ctx)
    assert (event.profile, event.rc, event.note) == ("", 2, "AUTH_REQUIRED")
    assert lastpick.read(ctx) is None


def test_fallback_is_honoured_with_a_warning(make_ctx):
    ctx = make_ctx("a", "b")
    records = [HealthRecord("a", Health.RATE_LIMITED, retry_after_s=60, checked_at="2026-05-04T12:00:00Z"),
               HealthRecord("b", Health.AUTH_DEAD)]
    outcome = run_pick(ctx, PickOptions(fallback="b", explain=True), records=records)
    assert outcome.fallback_used and [(r.name, r.health) for r in outcome.results] == [("b", Health.AUTH_DEAD)]
    assert outcome.rationale.startswith("fallback: every usable profile is throttled")
    assert "using --fallback b" in ctx.out.stderr.getvalue()
    row_b = outcome.explain[1]
    assert row_b["status"] == "chosen" and row_b["reason"].startswith("fallback (--fallback)")
    assert [(e.profile, e.note) for e in picks_log(ctx)] == [("b", "fallback")]


@pytest.mark.parametrize("fallback, avoid, warning", [
    ("typo", (), "--fallback typo ignored: no such profile"),
    ("b", ("b",), "--fallback b ignored: it is also in --avoid"),
])
def test_unusable_fallback_lets_the_original_failure_through(make_ctx, fallback, avoid, warning):
    ctx = make_ctx("a", "b")
    records = [HealthRecord("a", Health.WEEKLY_LIMIT), HealthRecord("b", Health.WEEKLY_LIMIT)]
    with pytest.raises(RoostError) as info:
        run_pick(ctx, PickOptions(fallback=fallback, avoid=avoid), records=records)
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert warning in ctx.out.stderr.getvalue()


def test_bad_names_in_avoid_or_fallback_are_validation(make_ctx):
    ctx = make_ctx("a")
    for options in (PickOptions(avoid=("../x",)), PickOptions(fallback="a/b"), PickOptions(count=0),
                    PickOptions(model="  ")):
        with pytest.raises(RoostError) as info:
            run_pick(ctx, options, records=fleet(a=1))
        assert info.value.exit_code == ExitCode.VALIDATION
    assert picks_log(ctx) == []


def test_unknown_avoid_name_warns(make_ctx):
    ctx = make_ctx("a")
    outcome = run_pick(ctx, PickOptions(avoid=("ghost",)), records=fleet(a=1))
    assert outcome.results[0].name == "a" and outcome.warnings == ["--avoid ghost: no such profile"]


def test_warn_at_checks_session_and_weekly(make_ctx):
    ctx = make_ctx("a")
    records = [HealthRecord("a", Health.OK, session_pct=85.0, weekly_pct=80.0)]
    outcome = run_pick(ctx, PickOptions(warn_at=80), records=records)
    assert outcome.warnings == ["a is at session 85% and weekly 80% (--warn-at 80%)"]
    assert run_pick(ctx, PickOptions(warn_at=90), records=records).warnings == []


def test_strategy_receives_its_plugin_config(make_ctx):
    seen = {}

    class Spy:
        name, summary = "spy", "records its request"

        def rank(self, candidates, request):
            from roost_core.records import Ranking, Scored
            seen.update(request.options, model=request.model)
            return Ranking([Scored(c) for c in candidates], "spy")

    class SpyPlugin:
        @hookimpl
        def roost_register_strategies(self):
            return Spy()

    ctx = make_ctx("a", config='[plugins.spy]\nhorizon = "2h"\n')
    ctx.host.register(SpyPlugin(), "spy")
    run_pick(ctx, PickOptions(strategy="spy", model="opus"), records=fleet(a=1))
    assert seen == {"horizon": "2h", "model": "opus"}


def test_last_pick_json_is_the_documented_shape(make_ctx):
    ctx = make_ctx("a")
    run_pick(ctx, PickOptions(), records=fleet(a=1))
    doc = json.loads((ctx.paths.config_dir / "last-pick.json").read_text())
    assert doc == {"name": "a", "at": "2026-05-04T12:00:00+00:00", "strategy": "sticky"}
