"""The stream tap's writes: a steady stream's repeated events are not written again (the status line's rule).

A reading that says what the stored reading of the same source said (health,
reason, figures) less than REPEAT_S after it costs no write; new figures, or
the same figures after REPEAT_S, are written; the end of the stream leaves
the newest figures in the passive document.
"""

from __future__ import annotations

import json
import time

from roost_plugins.fakeserver.passive_docs import rate_limit_event, stream_json
from roost_plugins.passive.doc import DOC, REPEAT_S
from roost_plugins.passive.recording import StreamTap
from roost_plugins.passive.stream import StreamSource


def run_stream(ctx, creds, payload: bytes) -> StreamTap:
    tap = StreamTap(ctx, "work", str(creds), [StreamSource()])
    for at in range(0, len(payload), 4096):
        tap(payload[at:at + 4096])
    tap(b"")
    return tap


def stored(ctx) -> dict:
    return ctx.state.read_doc(DOC)["profiles"]["work"]["stream"]


def test_repeated_events_are_read_but_written_once(roost_env, health_ctx):
    creds = roost_env.make_profile("work")
    ctx = health_ctx()
    same = rate_limit_event("allowed_warning", "five_hour", 0.91, now=1.8e9)
    tap = run_stream(ctx, creds, stream_json(same, same, same, same))
    assert (tap.recorded, tap.repeated) == (1, 3)
    assert stored(ctx)["windows"]["five_hour"]["pct"] == 91.0


def test_new_figures_are_written_and_the_last_ones_stay(roost_env, health_ctx):
    creds = roost_env.make_profile("work")
    ctx = health_ctx()
    events = [rate_limit_event("allowed_warning", "five_hour", u, now=1.8e9) for u in (0.91, 0.91, 0.93)]
    events.append(rate_limit_event("rejected", "five_hour", 1.0, now=1.8e9))
    tap = run_stream(ctx, creds, stream_json(*events))
    assert (tap.recorded, tap.repeated) == (3, 1)
    assert stored(ctx)["health"] != "ok" and stored(ctx)["windows"]["five_hour"]["pct"] == 100.0


def test_the_same_figures_after_the_repeat_interval_are_written_again(roost_env, health_ctx):
    creds = roost_env.make_profile("work")
    ctx = health_ctx()
    event = rate_limit_event("allowed", "five_hour", 0.4, now=1.8e9)
    run_stream(ctx, creds, stream_json(event))
    first = stored(ctx)["observed_at"]

    def older(doc):
        doc["profiles"]["work"]["stream"]["observed_at"] = first - REPEAT_S - 1
        return doc

    ctx.state.update_doc(DOC, older)
    tap = run_stream(ctx, creds, stream_json(event))
    assert (tap.recorded, tap.repeated) == (1, 0)
    assert stored(ctx)["observed_at"] >= first


def test_a_new_stream_of_the_same_figures_a_moment_later_writes_nothing(roost_env, health_ctx):
    creds = roost_env.make_profile("work")
    ctx = health_ctx()
    event = rate_limit_event("allowed", "five_hour", 0.4, now=1.8e9)
    run_stream(ctx, creds, stream_json(event))
    before = json.dumps(ctx.state.read_doc(DOC), sort_keys=True)
    time.sleep(0.01)
    tap = run_stream(ctx, creds, stream_json(event, event))
    assert (tap.recorded, tap.repeated) == (0, 2)
    assert json.dumps(ctx.state.read_doc(DOC), sort_keys=True) == before
