"""Passive health parsers on recorded documents in the fake's format (roost_plugins.fakeserver.passive_docs)."""

from __future__ import annotations

import json

from roost_core import passive_doc
from roost_plugins.passive import doc as passive_writer
from roost_core.docstore import lock_file_name
from roost_plugins.fakeserver.passive_docs import (rate_limit_event, statusline_document, stop_failure_event,
                                                   stream_json)
from roost_plugins.passive.parsers import (parse_hook, parse_statusline, parse_stream_event, parse_stream_line,
                                           short_line)

NOW = 1_796_600_000.0


def test_statusline_document_gives_both_windows_and_ok():
    reading = parse_statusline(statusline_document(37.5, 62.0, now=NOW), NOW)
    assert reading["source"] == "statusline" and reading["observed_at"] == NOW and reading["health"] == "ok"
    assert reading["windows"]["five_hour"] == {"pct": 37.5, "resets_at": NOW + 3 * 3600, "observed_at": NOW}
    assert reading["windows"]["seven_day"]["pct"] == 62.0
    assert short_line("work", reading) == "work · 5h 37% · 7d 62%"


def test_statusline_before_the_first_response_records_nothing():
    assert parse_statusline(statusline_document(first_turn_done=False, now=NOW), NOW) is None
    assert parse_statusline({"rate_limits": {"five_hour": {"used_percentage": "x"}}}, NOW) is None
    assert parse_statusline("not a dict", NOW) is None
    assert short_line("work", None) == "work"


def test_statusline_at_the_limit_is_session_or_weekly_limit_until_reset():
    session = parse_statusline(statusline_document(100.0, 40.0, now=NOW), NOW)
    assert session["health"] == "session_limit" and session["until"] == NOW + 3 * 3600
    weekly = parse_statusline(statusline_document(20.0, 100.0, now=NOW), NOW)
    assert weekly["health"] == "weekly_limit" and weekly["until"] == NOW + 3 * 86400
    assert short_line("w", weekly) == "w · 5h 20% · 7d 100% · weekly_limit"


def test_statusline_reports_only_what_it_saw():
    reading = parse_statusline(statusline_document(12.0, None, now=NOW), NOW)
    assert set(reading["windows"]) == {"five_hour"}


def test_hook_rate_limit_plain_and_with_a_named_window():
    plain = parse_hook(stop_failure_event("rate_limit", now=NOW), NOW)
    assert plain["health"] == "rate_limited" and plain["until"] is None and plain["windows"] == {}
    session = parse_hook(stop_failure_event("rate_limit", rate_limit_type="five_hour", resets_in=600, now=NOW), NOW)
    assert session["health"] == "session_limit" and session["until"] == NOW + 600
    weekly = parse_hook(stop_failure_event("rate_limit", rate_limit_type="seven_day", resets_in=9000, now=NOW), NOW)
    assert weekly["health"] == "weekly_limit" and weekly["until"] == NOW + 9000


def test_hook_account_errors_are_auth_dead_with_the_reason():
    for error in ("authentication_failed", "oauth_org_not_allowed", "account_on_hold", "billing_error"):
        reading = parse_hook(stop_failure_event(error, now=NOW), NOW)
        assert reading["health"] == "auth_dead" and error in reading["reason"], error


def test_hook_ignores_what_it_does_not_know():
    assert parse_hook(stop_failure_event("overloaded", now=NOW), NOW) is None
    assert parse_hook({"hook_event_name": "Stop"}, NOW) is None
    assert parse_hook({"hook_event_name": "StopFailure", "error": 42}, NOW) is None
    assert parse_hook(None, NOW) is None


def test_stream_allowed_warning_reports_the_named_window_as_a_percentage():
    reading = parse_stream_event(rate_limit_event("allowed_warning", "five_hour", 0.91, now=NOW), NOW)
    assert reading["health"] == "ok" and reading["windows"] == {
        "five_hour": {"pct": 91.0, "resets_at": NOW + 3 * 3600, "observed_at": NOW}}


def test_stream_rejected_is_the_window_limit_until_reset():
    five = parse_stream_event(rate_limit_event("rejected", "five_hour", 1.0, resets_in=1200, now=NOW), NOW)
    assert five["health"] == "session_limit" and five["until"] == NOW + 1200
    weekly = parse_stream_event(rate_limit_event("rejected", "seven_day", 1.0, resets_in=9000, now=NOW), NOW)
    assert weekly["health"] == "weekly_limit" and weekly["until"] == NOW + 9000
    over = parse_stream_event(rate_limit_event("rejected", "overage", 1.0, resets_in=600, now=NOW), NOW)
    assert over["health"] == "rate_limited" and over["until"] == NOW + 600


def test_stream_rejected_on_a_model_week_is_that_model_only():
    """A rejection on seven_day_opus/sonnet blocks that model, not the account: no health of its own,
    the model's window at 100 % until its reset (pick --model skips the profile)."""
    for window, model in (("seven_day_opus", "Opus"), ("seven_day_sonnet", "Sonnet")):
        reading = parse_stream_event(rate_limit_event("rejected", window, 0.97, resets_in=86400, now=NOW), NOW)
        assert reading["health"] is None and reading["until"] == NOW + 86400, window
        assert reading["windows"][window] == {"pct": 100.0, "resets_at": NOW + 86400, "observed_at": NOW}
        assert f"{model} only" in reading["reason"] and short_line("w", reading) == "w"


def test_hook_rate_limit_on_a_model_week_is_that_model_only():
    reading = parse_hook(stop_failure_event("rate_limit", rate_limit_type="seven_day_sonnet", resets_in=7200,
                                            now=NOW), NOW)
    assert reading["health"] is None and reading["until"] == NOW + 7200
    assert reading["windows"]["seven_day_sonnet"]["pct"] == 100.0 and "Sonnet only" in reading["reason"]


def test_allowed_event_with_a_model_week_at_100_stays_ok():
    event = rate_limit_event("allowed_warning", "seven_day_opus", 1.0, now=NOW)
    reading = parse_stream_event(event, NOW)
    assert reading["health"] == "ok" and reading["windows"]["seven_day_opus"]["pct"] == 100.0


def test_stream_unified_windows_are_read():
    event = rate_limit_event("allowed", "five_hour", 0.2, unified={"five_hour": (0.2, 100), "seven_day": (0.55, 900)},
                             now=NOW)
    reading = parse_stream_event(event, NOW)
    assert reading["windows"]["seven_day"]["pct"] == 55.0 and reading["windows"]["five_hour"]["pct"] == 20.0


def test_stream_lines_other_than_rate_limit_events_give_nothing():
    lines = stream_json(rate_limit_event(now=NOW)).splitlines()
    readings = [parse_stream_line(line, NOW) for line in lines]
    assert [r is not None for r in readings] == [False, True, False, False]  # the text mentioning it is not one
    assert parse_stream_line(b'{"type": "rate_limit_event", "rate_limit_info": ', NOW) is None


def test_the_passive_document_keeps_windows_per_source():
    first = parse_stream_event(rate_limit_event("allowed", "seven_day", 0.5, now=NOW), NOW)
    second = parse_stream_event(rate_limit_event("allowed", "five_hour", 0.1, now=NOW + 5), NOW + 5)
    doc = passive_writer.with_reading({}, "work", first, 7)
    doc = passive_writer.with_reading(doc, "work", second, 7)
    stream = passive_doc.readings_of(doc, "work")["stream"]
    assert stream["windows"]["seven_day"]["observed_at"] == NOW and stream["windows"]["five_hour"]["pct"] == 10.0
    assert stream["observed_at"] == NOW + 5 and stream["cred_mtime_ns"] == 7
    assert passive_doc.readings_of(passive_doc.without_profiles(doc, ["work"]), "work") == {}
    json.dumps(doc)  # stays JSON


def test_fast_path_lock_file_is_the_files_backend_lock_of_the_document():
    assert passive_writer.LOCK_FILE == lock_file_name(f"doc:{passive_writer.DOC}")


def test_an_identical_reading_moments_later_is_a_repeat():
    first = parse_statusline(statusline_document(37.5, 62.0, now=NOW), NOW)
    doc = passive_writer.with_reading({}, "work", first, 7)
    again = parse_statusline(statusline_document(37.5, 62.0, now=NOW), NOW + 1)
    assert passive_writer.repeats(doc, "work", again, 7)
    assert not passive_writer.repeats(doc, "work", again, 8)  # the credentials changed
    later = parse_statusline(statusline_document(37.5, 62.0, now=NOW), NOW + passive_writer.REPEAT_S)
    assert not passive_writer.repeats(doc, "work", later, 7)
    moved = parse_statusline(statusline_document(38.0, 62.0, now=NOW), NOW + 1)
    assert not passive_writer.repeats(doc, "work", moved, 7)


def test_hook_reads_error_type_beside_a_short_error_and_fields_at_the_top():
    event = {"hook_event_name": "StopFailure", "error_type": "rate_limit", "error": "429",
             "error_message": "Rate limit exceeded", "rateLimitType": "five_hour", "resetsAt": NOW + 300}
    reading = parse_hook(event, NOW)
    assert reading["health"] == "session_limit" and reading["until"] == NOW + 300
    billing = {"hook_event_name": "StopFailure", "error": "402", "error_type": "billing_error"}
    assert parse_hook(billing, NOW)["health"] == "auth_dead"
    assert parse_hook({"hook_event_name": "StopFailure", "error_type": "server_error", "error": "500"}, NOW) is None


def test_hook_reset_time_as_iso_text():
    event = {"hook_event_name": "StopFailure", "error": "rate_limit",
             "error_details": {"rateLimitType": "seven_day", "resetsAt": "2026-12-10T09:00:00Z"}}
    reading = parse_hook(event, NOW)
    assert reading["health"] == "weekly_limit" and reading["until"] == 1796893200.0


def test_a_model_week_reading_adds_to_its_sources_standing_limit_and_never_clears_it():
    session = parse_stream_event(rate_limit_event("rejected", "five_hour", 1.0, resets_in=900, now=NOW), NOW)
    opus = parse_stream_event(rate_limit_event("rejected", "seven_day_opus", 1.0, resets_in=86400, now=NOW + 5),
                              NOW + 5)
    doc = passive_writer.with_reading(passive_writer.with_reading({}, "w", session, 7), "w", opus, 7)
    stream = passive_doc.readings_of(doc, "w")["stream"]
    assert stream["health"] == "session_limit" and stream["until"] == NOW + 900 and stream["observed_at"] == NOW
    assert stream["windows"]["seven_day_opus"]["pct"] == 100.0 and stream["windows"]["five_hour"]["pct"] == 100.0
    later = parse_stream_event(rate_limit_event("rejected", "seven_day_opus", 1.0, resets_in=86400, now=NOW + 901),
                               NOW + 901)
    doc = passive_writer.with_reading(doc, "w", later, 7)  # the session limit has reset: the reading replaces it
    assert passive_doc.readings_of(doc, "w")["stream"]["health"] is None
