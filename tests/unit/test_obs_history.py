"""history and stats over synthetic picks.log files written through roost_core.audit."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost_core import audit
from roost_core.cli import cli
from roost_plugins.picklog.scan import LogScan
from roost_plugins.picklog.stats import percentile
from roost_core.context import RoostContext
from roost_core.output import Output
from roost_core.records import AuditEvent

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z


@pytest.fixture
def ctx(roost_env):
    def build(now: float = T0 + 3600, json_mode: bool = False) -> RoostContext:
        out = Output(json_mode=json_mode, stdout=io.StringIO(), stderr=io.StringIO())
        return RoostContext(env=roost_env.env(), out=out, clock=lambda: now)
    return build


def event(i: int, *, kind: str = "pick", profile: str = "a", rc: int | None = None,
          duration: float | None = None, at: float | None = None) -> AuditEvent:
    return AuditEvent(ts=audit.utc_now_iso(T0 + i if at is None else at), event=kind, profile=profile,
                      strategy="least-used", rc=rc, duration_s=duration, argv0="claude", pid=100 + i, note="")


def write(ctx: RoostContext, events: list[AuditEvent]) -> None:
    for e in events:
        audit.append(ctx, e)


def invoke(ctx: RoostContext, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args), obj=ctx, standalone_mode=False)
    return code, ctx.out.stdout.getvalue(), ctx.out.stderr.getvalue()


def run_json(ctx_factory, *args: str, now: float = T0 + 3600) -> tuple[int, dict]:
    c = ctx_factory(now=now, json_mode=True)
    code, out, _ = invoke(c, *args, "--json")
    return code, json.loads(out)


def test_history_last_20_oldest_first_with_every_field(ctx):
    write(ctx(), [event(i, profile="a" if i % 2 else "b") for i in range(30)])
    code, body = run_json(ctx, "history")
    assert code == 0
    rows = body["data"]
    assert len(rows) == 20 and [r["pid"] for r in rows] == [100 + i for i in range(10, 30)]
    assert set(rows[0]) == {"ts", "event", "profile", "strategy", "rc", "duration_s", "argv0", "pid", "note",
                            "timestamp", "duration"}
    assert body["meta"]["count"] == 20 and body["meta"]["matched"] == 30 and body["meta"]["tail"] == 20


def test_history_tail_profile_since(ctx):
    write(ctx(), [event(i * 60, profile="a" if i % 2 else "b") for i in range(10)])  # one a minute
    assert [r["pid"] for r in run_json(ctx, "history", "--tail", "3")[1]["data"]] == [520, 580, 640]
    rows = run_json(ctx, "history", "--profile", "a")[1]["data"]
    assert {r["profile"] for r in rows} == {"a"} and len(rows) == 5
    # now = T0 + 600: the last 3 minutes hold events at 420, 480, 540.
    rows = run_json(ctx, "history", "--since", "3m", now=T0 + 600)[1]["data"]
    assert [r["pid"] for r in rows] == [520, 580, 640]
    assert run_json(ctx, "history", "--since", "180", now=T0 + 600)[1]["data"] == rows
    assert run_json(ctx, "history", "--profile", "nobody")[1]["data"] == []


def test_history_reads_both_generations_and_skips_torn_lines(ctx, roost_env):
    c = ctx()
    roost_env.config.mkdir(parents=True, exist_ok=True)
    old = [audit.format_event(event(i)) for i in range(3)]
    new = [audit.format_event(event(i)) for i in range(3, 5)]
    (roost_env.config / "picks.log.1").write_text("\n".join(old) + "\nnot\ta\tvalid line\n")
    (roost_env.config / "picks.log").write_text("\n".join(new) + "\n" + new[0][:20])  # torn tail
    code, body = run_json(ctx, "history")
    assert [r["pid"] for r in body["data"]] == [100, 101, 102, 103, 104]
    assert body["meta"]["skipped_lines"] == 1


def test_history_text_is_a_table_on_stderr(ctx):
    write(ctx(), [event(1, kind="exec", rc=3, duration=1.5)])
    code, out, err = invoke(ctx(), "history")
    assert code == 0 and out == ""
    assert "History" in err and "exec" in err and "1.5s" in err


def test_history_empty_and_bad_flags(ctx):
    code, out, err = invoke(ctx(), "history")
    assert code == 0 and out == "" and "No events" in err
    assert run_json(ctx, "history")[1]["data"] == []
    assert invoke(ctx(), "history", "--tail", "0")[0] == 4
    assert invoke(ctx(), "history", "--since", "soon")[0] == 4
    assert invoke(ctx(), "history", "--profile", "../x")[0] == 4


def test_stats_totals_percentiles_and_failure_rate(ctx):
    events = [event(0), event(1), event(2, profile="b")]
    durations = [1.0, 2.0, 3.0, 4.0, 10.0]
    events += [event(10 + i, kind="exec", rc=0 if i < 4 else 124, duration=d) for i, d in enumerate(durations)]
    events += [event(20, kind="exec", profile="b", rc=2, duration=8.0)]
    write(ctx(), events)
    code, body = run_json(ctx, "stats")
    data = body["data"]
    assert code == 0
    assert data["events"] == 9 and data["by_event"] == {"exec": 6, "pick": 3}
    assert data["pick"] == {"total": 3, "by_profile": {"a": 2, "b": 1}, "by_strategy": {"least-used": 3}}
    ex = data["exec"]
    assert ex["total"] == 6 and ex["by_profile"] == {"a": 5, "b": 1} and ex["by_rc"] == {"0": 4, "124": 1, "2": 1}
    assert ex["failures"] == 2 and ex["failure_rate"] == pytest.approx(2 / 6, abs=1e-4)
    assert ex["p50_s"] == pytest.approx(3.5)
    a, b = data["profiles"]
    assert a["profile"] == "a" and a["execs"] == 5 and a["failures"] == 1 and a["p50_s"] == 3.0
    assert a["p95_s"] == pytest.approx(8.8)  # 4 + 0.8 * (10 - 4)
    assert b["picks"] == 1 and b["failure_rate"] == 1.0
    assert data["window_start"] == audit.utc_now_iso(T0) and data["window_end"] == audit.utc_now_iso(T0 + 20)
    only_b = run_json(ctx, "stats", "--profile", "b")[1]["data"]
    assert only_b["events"] == 2 and [p["profile"] for p in only_b["profiles"]] == ["b"]
    recent = run_json(ctx, "stats", "--since", "10s", now=T0 + 20)[1]["data"]
    assert recent["events"] == 6 and recent["pick"]["total"] == 0


def test_stats_text_and_empty(ctx):
    code, out, err = invoke(ctx(), "stats")
    assert code == 0 and "No events" in err
    empty = run_json(ctx, "stats")[1]["data"]
    assert empty["events"] == 0 and empty["exec"]["failure_rate"] is None and empty["profiles"] == []
    assert empty["window_start"] is None and empty["exec"]["p50_s"] is None
    write(ctx(), [event(1, kind="exec", rc=1, duration=2.0)])
    code, out, err = invoke(ctx(), "stats")
    assert code == 0 and out == "" and "picks.log stats" in err and "100.0%" in err


def test_percentile():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5


_FIELD = st.text(alphabet="0123456789abcZ:.-T\t ", max_size=6)


@given(st.lists(_FIELD, min_size=8, max_size=10), st.booleans())
def test_scan_accepts_exactly_what_audit_parses(parts, keep_ts):
    if keep_ts:
        parts[0] = audit.utc_now_iso(T0)
    line = "\t".join(parts) + "\n"

    class Backend:
        def iter_lines(self, log):
            yield line

    class Ctx:
        state = Backend()

    accepted = list(LogScan().fields(Ctx()))
    assert bool(accepted) == (audit.parse_line(line) is not None)


def _strict(text: str) -> dict:
    """JSON as a strict parser reads it: NaN, Infinity and -Infinity are errors."""
    def refuse(constant: str):
        raise AssertionError(f"{constant} in --json output")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("bad", ["NaN", "nan", "inf", "-Infinity", "1e400"])
def test_a_non_finite_duration_is_a_damaged_line(ctx, roost_env, bad):
    good = [event(i, kind="exec", rc=0, duration=2.0) for i in range(3)]
    damaged = audit.format_event(event(9, kind="exec", rc=0, duration=1.0)).split("\t")
    damaged[audit.COLUMNS.index("duration_s")] = bad
    roost_env.config.mkdir(parents=True, exist_ok=True)
    (roost_env.config / "picks.log").write_text(
        "".join(audit.format_event(e) + "\n" for e in good) + "\t".join(damaged) + "\n")
    assert audit.parse_line("\t".join(damaged)) is None  # the one owner of the format agrees
    for args in (["history"], ["stats"], ["stats", "--since", "1d"]):  # stats: through its index, and not
        c = ctx(json_mode=True)
        code, out, _ = invoke(c, *args, "--json")
        body = _strict(out)
        assert code == 0 and body["meta"]["skipped_lines"] == 1, args
    assert [r["duration_s"] for r in _strict(invoke(ctx(json_mode=True), "history", "--json")[1])["data"]] == [2.0] * 3
    stats = _strict(invoke(ctx(json_mode=True), "stats", "--json")[1])["data"]
    assert stats["exec"]["total"] == 3 and stats["exec"]["p50_s"] == 2.0 and stats["exec"]["p95_s"] == 2.0
    code, out, err = invoke(ctx(), "stats")
    assert code == 0 and "nan" not in err.lower() and "inf" not in err.lower()


@pytest.mark.parametrize("command", ["history", "stats"])
def test_since_0_is_a_filter_that_matches_nothing(ctx, command):
    write(ctx(), [event(i) for i in range(3)])
    for since in ("0", "0s", "1s"):
        code, out, err = invoke(ctx(now=T0 + 3600), command, "--since", since)
        assert code == 0 and out == "" and err.strip() == "No events in picks.log match the filters.", since
    code, _, err = invoke(ctx(), command)
    assert code == 0 and "No events" not in err
    code, _, err = invoke(ctx(), command, "--since", "0", "--profile", "nobody")
    assert "match the filters" in err
