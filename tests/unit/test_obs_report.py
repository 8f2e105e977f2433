"""roost report over synthetic usage logs: figures, sparkline, projection, JSON and table."""

from __future__ import annotations

import io
import json

import pytest

from roost_core.audit import utc_now_iso
from roost_core.cli import cli
from roost_core.context import RoostContext
from roost_core.output import Output
from roost_core.plugins import PluginHost
from roost_plugins import rich_render, state_files, usage_log
from roost_plugins.usage_log import report

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z
WEEK_RESET = utc_now_iso(T0 + 3 * 86400)


def sample(t: float, profile: str = "a", **metrics) -> dict:
    line = {"ts": utc_now_iso(t), "profile": profile, "health": "ok", "session_pct": None, "weekly_pct": None,
            "sonnet_pct": None, "opus_pct": None, "overage_pct": None, "session_resets_at": None,
            "weekly_resets_at": WEEK_RESET}
    line.update(metrics)
    return line


def climbing(profile: str, start: float, per_hour: float, n: int, t0: float = T0, every: float = 600) -> list[dict]:
    return [sample(t0 + i * every, profile, weekly_pct=start + per_hour * i * every / 3600) for i in range(n)]


def test_figures_per_profile():
    records = climbing("a", 10, 6, 7) + [sample(T0, "b", weekly_pct=30.0), sample(T0 + 60, "pro")]
    rows = report.build_report(records, "weekly_pct", now=T0 + 3600)
    a, b, pro = rows
    assert (a["profile"], a["samples"], a["min"], a["max"], a["latest"]) == ("a", 7, 10.0, 16.0, 16.0)
    assert a["avg"] == pytest.approx(13.0)
    assert a["sparkline"] is None and a["projection"] is None
    assert (b["samples"], b["min"], b["latest"]) == (1, 30.0, 30.0)
    assert pro["samples"] == 0 and pro["min"] is None and pro["latest"] is None


def test_projection_and_sparkline():
    records = climbing("a", 10, 6, 7)
    (a,) = report.build_report(records, "weekly_pct", now=T0 + 3600, sparkline=True, project=True)
    assert a["sparkline"] == "▁▂▃▅▆▇█"
    p = a["projection"]
    assert p["status"] == "projected" and p["slope_per_hour"] == pytest.approx(6)
    assert p["eta_s"] == pytest.approx(14 * 3600, abs=1)  # (100 - 16) / 6 h
    assert p["label"] == "14h" and p["window_samples"] == 7 and p["window_start"] == utc_now_iso(T0)


def test_projection_ignores_samples_before_a_reset():
    before = climbing("a", 40, 30, 5)
    after = climbing("a", 1, 3, 4, t0=T0 + 3600)
    (a,) = report.build_report(before + after, "weekly_pct", now=T0 + 3600 + 1800, project=True)
    assert a["samples"] == 9 and a["max"] == pytest.approx(60)
    assert a["projection"]["window_samples"] == 4
    assert a["projection"]["slope_per_hour"] == pytest.approx(3)


def test_too_few_samples_says_so():
    (a,) = report.build_report(climbing("a", 10, 5, 2), "weekly_pct", now=T0, project=True)
    assert a["projection"]["status"] == "too_few_samples" and a["projection"]["label"] == "too few samples"


def test_metric_since_and_profile_filters():
    records = [sample(T0 + i * 600, "a", session_pct=float(i), weekly_pct=50.0) for i in range(6)]
    records += [sample(T0, "b", session_pct=99.0)]
    rows = report.build_report(records, "session_pct", now=T0 + 3000, since_s=1200)
    assert [(r["profile"], r["samples"], r["min"]) for r in rows] == [("a", 3, 3.0)]
    rows = report.build_report(records, "session_pct", now=T0 + 3000, profile="b")
    assert [(r["profile"], r["latest"]) for r in rows] == [("b", 99.0)]


@pytest.fixture
def ctx(roost_env):
    def build(json_mode: bool = False, **env) -> RoostContext:
        host = PluginHost(entries=[], plugins=[("files", state_files), ("rich", rich_render),
                                               ("report", report), ("usage-log", usage_log)])
        out = Output(json_mode=json_mode, stdout=io.StringIO(), stderr=io.StringIO())
        return RoostContext(env=roost_env.env(COLUMNS="140", **env), out=out, clock=lambda: T0 + 3600,
                            host_override=host)
    return build


def write_log(roost_env, records: list[dict]) -> None:
    roost_env.config.mkdir(parents=True, exist_ok=True)
    with open(roost_env.config / usage_log.USAGE_LOG, "a") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def invoke(c: RoostContext, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args), obj=c, standalone_mode=False)
    return code, c.out.stdout.getvalue(), c.out.stderr.getvalue()


def test_command_table_is_the_seed_table(ctx, roost_env):
    write_log(roost_env, climbing("account-a", 10, 6, 7) + [sample(T0, "account-b", weekly_pct=5.0)])
    code, out, err = invoke(ctx(), "report", "--sparkline", "--project")
    assert code == 0 and out == ""
    assert "Usage report — weekly_pct" in err
    for header in ("Profile", "Samples", "Min", "Max", "Avg", "Latest", "Trend", "ETA → 100%"):
        assert header in err
    assert "▁▂▃▅▆▇█" in err and "14h" in err and "too few samples" in err
    code, out, err = invoke(ctx(), "report")
    assert "Trend" not in err and "ETA" not in err


def test_command_json_and_validation(ctx, roost_env):
    write_log(roost_env, climbing("a", 10, 6, 7))
    code, out, _ = invoke(ctx(json_mode=True), "report", "--project", "--json")
    body = json.loads(out)
    assert code == 0 and body["meta"]["metric"] == "weekly_pct" and body["data"][0]["projection"]["label"] == "14h"
    assert invoke(ctx(), "report", "--metric", "nope")[0] == 4
    assert invoke(ctx(), "report", "--since", "later")[0] == 4
    assert invoke(ctx(), "report", "--profile", "a/b")[0] == 4


def test_command_empty_explains_how_to_turn_it_on(ctx):
    code, out, err = invoke(ctx(), "report")
    assert code == 0 and "roost config usage-log on" in err
    code, out, err = invoke(ctx(CLAUDE_LB_USAGE_LOG="1"), "report")
    assert code == 0 and "roost probe" in err
    code, out, _ = invoke(ctx(json_mode=True), "report", "--json")
    assert json.loads(out) == {"data": [], "meta": json.loads(out)["meta"]}
    assert json.loads(out)["meta"]["usage_log_enabled"] is False


def _strict(text: str):
    """JSON as a strict parser reads it: NaN, Infinity and -Infinity are errors."""
    def refuse(constant: str):
        raise AssertionError(f"{constant} in --json output")
    return json.loads(text, parse_constant=refuse)


def write_raw(roost_env, lines: list[str]) -> None:
    roost_env.config.mkdir(parents=True, exist_ok=True)
    (roost_env.config / usage_log.USAGE_LOG).write_text("".join(line + "\n" for line in lines))


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400]  # the last: an int no float holds


def test_non_finite_values_are_skipped_like_any_unreadable_value(ctx, roost_env):
    lines = [json.dumps(sample(T0 + i * 600, "a", weekly_pct=10.0 + i)) for i in range(4)]
    for i, bad in enumerate(NON_FINITE):
        lines.append(f'{{"ts":"{utc_now_iso(T0 + 3000 + i)}","profile":"a","weekly_pct":{bad},'
                     f'"weekly_resets_at":{bad}}}')
    lines.append('{"ts":"2026-12-08T03:05:47Z","profile":"b","weekly_pct":NaN}')  # the audit's line
    write_raw(roost_env, lines)
    for args in (["report"], ["report", "--sparkline"], ["report", "--sparkline", "--project"]):
        code, out, err = invoke(ctx(), *args)
        assert code == 0 and out == "", (args, err)
        assert "nan" not in err.lower() and "inf" not in err.lower()
        assert "no samples" in err  # b: its one value was NaN
        code, out, _ = invoke(ctx(json_mode=True), *args, "--json")
        a, b = _strict(out)["data"]
        assert code == 0 and (a["samples"], a["min"], a["max"], a["avg"], a["latest"]) == (4, 10.0, 13.0, 11.5, 13.0)
        assert b["samples"] == 0 and b["avg"] is None
    (a, _) = report.build_report([json.loads(line) for line in lines], "weekly_pct", now=T0 + 3600,
                                 sparkline=True, project=True)
    assert a["sparkline"] == "▁▃▆█" and a["projection"]["status"] == "projected"


def test_values_at_the_ends_of_the_float_range_never_overflow():
    """Finite values whose sum or spread overflows: the avg, bars and projection stay finite, or null."""
    records = [sample(T0 + i * 600, "a", weekly_pct=v)
               for i, v in enumerate([-1.7e308, -1.7e308, 1.7e308, 1.7e308, 50.0, 60.0, 70.0])]
    (a,) = report.build_report(records, "weekly_pct", now=T0 + 3600, sparkline=True, project=True)
    assert a["avg"] == 25.71 and a["sparkline"] == "▁▁██▅▅▅"
    overflowing = [sample(T0 + i * 600, "a", weekly_pct=v, weekly_resets_at=None)
                   for i, v in enumerate([-1.7e308, -1.7e308, 50.0])]  # the fit's mean is -inf
    (f,) = report.build_report(overflowing, "weekly_pct", now=T0 + 3600, project=True)
    assert f["projection"]["status"] == "flat" and f["projection"]["slope_per_hour"] is None
    far = [sample(T0 + i * 600, "a", weekly_pct=v, weekly_resets_at=None)
           for i, v in enumerate([-1e20, -1e20 + 1e6, -1e20 + 2e6])]  # 100 % in two billion years
    (r,) = report.build_report(far, "weekly_pct", now=T0 + 3600, project=True)
    assert r["projection"]["status"] == "projected" and r["projection"]["eta_at"] is None
    json.dumps([a, f, r], allow_nan=False)


def test_since_0_is_a_filter_that_matches_nothing(ctx, roost_env):
    write_log(roost_env, climbing("a", 10, 6, 3))
    on = {"CLAUDE_LB_USAGE_LOG": "1"}
    for since in ("0", "1s"):
        code, out, err = invoke(ctx(**on), "report", "--since", since)
        assert code == 0 and "No usage samples match the filters." in err and "roost probe" not in err, since
