"""A rate_limit StopFailure borrows the window and reset of the failed turn's transcript row."""

from __future__ import annotations

import json

from roost_plugins.fakeserver.passive_docs import stop_failure_event
from roost_plugins.passive.hook import HookSource
from roost_plugins.passive.transcript import last_quota, with_transcript_quota

NOW = 1_796_600_000.0


def transcript(tmp_path, *rows):
    path = tmp_path / "session.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def failed_turn(kind="seven_day", resets=NOW + 7200):
    return {"type": "assistant", "isApiErrorMessage": True, "error": "rate_limit",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "limit reached"}]},
            "quotaLimits": {"rateLimitType": kind, "resetsAt": resets}}


def test_the_window_comes_from_the_last_rows_of_the_transcript(tmp_path):
    event = {**stop_failure_event("rate_limit", now=NOW),
             "transcript_path": transcript(tmp_path, {"type": "user", "message": "hi"}, failed_turn())}
    reading = HookSource().read("hook", event, NOW)
    assert reading["health"] == "weekly_limit" and reading["until"] == NOW + 7200


def test_the_event_own_window_wins_and_nothing_else_is_read(tmp_path):
    path = transcript(tmp_path, failed_turn("seven_day"))
    named = {**stop_failure_event("rate_limit", rate_limit_type="five_hour", resets_in=60, now=NOW),
             "transcript_path": path}
    assert with_transcript_quota(named) is named
    auth = {**stop_failure_event("billing_error", now=NOW), "transcript_path": path}
    assert with_transcript_quota(auth) is auth


def test_an_old_row_or_a_missing_or_garbage_transcript_changes_nothing(tmp_path):
    older = transcript(tmp_path, failed_turn(), *({"type": "user", "n": i} for i in range(5)))
    assert last_quota(older) is None  # a limit of an earlier turn is not this failure's
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\xff\x00{not json\n")
    for path in (str(garbage), str(tmp_path / "missing.jsonl"), ""):
        event = {**stop_failure_event("rate_limit", now=NOW), "transcript_path": path}
        assert HookSource().read("hook", event, NOW)["health"] == "rate_limited"
