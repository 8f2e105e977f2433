"""roost top's pieces: the frame renderer, the loop and its Ctrl+C handling."""

from __future__ import annotations

import io
import os
import signal

import pytest

from roost_core.context import RoostContext
from roost_core.errors import ValidationError
from roost_core.output import Output
from roost_core.records import Health, HealthRecord
from roost_plugins.rich_render import top

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z


def ctx() -> RoostContext:
    return RoostContext(env={"HOME": "/nonexistent"}, out=Output(stdout=io.StringIO(), stderr=io.StringIO()),
                        clock=lambda: T0)


def frame(platform: dict | None = None, warnings: list[str] | None = None) -> top.Frame:
    records = [HealthRecord("alpha", Health.OK, plan="max", session_pct=12.0, weekly_pct=64.0),
               HealthRecord("beta", Health.AUTH_DEAD, error="401")]
    meta = {"updated_at": "2026-05-04T12:00:00.000Z", "summary": "2 profiles: 1 ok, 1 auth_dead",
            "platform_status": platform}
    return top.Frame([r.to_dict() for r in records], meta, warnings or [])


def draw(renderable) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=120, no_color=True, force_terminal=False).print(renderable)
    return buffer.getvalue()


def test_frame_shows_header_status_table_and_summary():
    text = draw(top.render_frame(frame(), ctx(), 2.0))
    assert text.startswith("roost top · every 2s · updated 12:00:00Z · Ctrl+C to quit")
    for expected in ("Profile", "Health", "alpha", "12%", "64%", "beta", "auth_dead", "2 profiles: 1 ok"):
        assert expected in text


def test_frame_shows_platform_incidents_and_warnings():
    platform = {"indicator": "minor", "description": "Partial outage", "fetched_at": "2026-05-04T12:00:00Z",
                "active_incidents": [{"name": "Elevated errors", "status": "investigating", "impact": "minor"}],
                "degraded_components": []}
    warnings = [f"roost: warning: w{i}" for i in range(8)]
    text = draw(top.render_frame(frame(platform, warnings), ctx(), 90))
    assert "every 90s" in text
    assert "Anthropic: Partial outage" in text and "Elevated errors" in text
    assert "w7" in text and "w2" not in text  # only the last few warnings


def test_loop_runs_n_ticks_and_stops_on_request():
    calls = []
    with top.StopOnInterrupt() as stop:
        assert top.run_loop(lambda: calls.append(1), 0.01, 3, stop) == 3
        stop.event.set()
        assert top.run_loop(lambda: calls.append(1), 0.01, None, stop) == 0
    assert len(calls) == 3


def test_first_ctrl_c_stops_after_the_tick_second_one_interrupts():
    previous = signal.getsignal(signal.SIGINT)
    ticks = []

    def tick():
        ticks.append(1)
        if len(ticks) == 2:
            os.kill(os.getpid(), signal.SIGINT)

    with top.StopOnInterrupt() as stop:
        assert top.run_loop(tick, 0.01, None, stop) == 2
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is previous


def test_interval_is_validated():
    with pytest.raises(ValidationError):
        top.run_top(ctx(), 0.1, 1, False)


def test_plain_mode_prints_frames_without_escape_codes(monkeypatch):
    c = ctx()
    monkeypatch.setattr(top, "snapshot", lambda ctx, platform: frame())
    top.run_top(c, 0.5, 2, False)
    out = c.out.stderr.getvalue()  # the table is for people: stderr, as status's
    assert out.count("roost top") == 2 and "\x1b[" not in out and c.out.stdout.getvalue() == ""


def test_json_mode_prints_one_envelope_per_tick(monkeypatch):
    import json

    c = ctx()
    c.out.json_mode = True
    monkeypatch.setattr(top, "snapshot", lambda ctx, platform: frame())
    top.run_top(c, 0.5, 2, False)
    lines = [json.loads(line) for line in c.out.stdout.getvalue().splitlines()]
    assert len(lines) == 2 and lines[0]["data"][0]["name"] == "alpha" and "summary" in lines[0]["meta"]


def test_landing_keeps_the_summary_and_clock_with_the_rows():
    """As probes land the rows change, and the summary under them and the header's clock follow."""
    shown = frame()
    drawn: list[tuple[str, str]] = []
    clock = ctx()
    clock.clock = lambda: T0 + 65
    landing = top.Landing(shown, lambda f: drawn.append((f.meta["summary"], f.meta["updated_at"])), clock)
    landing.begin(1)
    landing.landed("beta", HealthRecord("beta", Health.SESSION_LIMIT, session_pct=100.0))
    assert drawn[-1] == ("2 profiles: 1 ok, 1 session_limit", "2026-05-04T12:01:05.000Z")
