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
