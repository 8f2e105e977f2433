"""Usage-body parsing: nulls, missing windows, unknown fields, ISO and epoch resets, limits[], overage."""

from __future__ import annotations

import pytest

from roost_plugins.anthropic.usage import normalise_time, parse_usage, to_epoch

MAX_BODY = {
    "five_hour": {"utilization": 37.0, "resets_at": "2026-05-04T14:00:00.412233+00:00"},
    "seven_day": {"utilization": 62.0, "resets_at": "2026-05-08T09:00:00.412251+00:00"},
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,
    "seven_day_sonnet": {"utilization": 12.0, "resets_at": "2026-05-08T09:00:00.412260+00:00"},
    "iguana_necktie": None,
    "extra_usage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1250.0, "utilization": 25.0,
                    "currency": "USD"},
}


def test_max_body_every_field():
    usage = parse_usage(MAX_BODY)
    assert (usage.session_pct, usage.weekly_pct, usage.sonnet_pct, usage.opus_pct) == (37.0, 62.0, 12.0, None)
    assert usage.session_resets_at == "2026-05-04T14:00:00.412233Z"
    assert usage.weekly_resets_at == "2026-05-08T09:00:00.412251Z"
    assert usage.overage_pct == 25.0 and usage.overage_enabled is True
    assert usage.overage == {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1250.0,
                             "utilization": 25.0, "currency": "USD"}


def test_pro_team_nulls_and_missing_windows():
    usage = parse_usage({"five_hour": None, "extra_usage": None})
    assert usage.session_pct is None and usage.weekly_pct is None and usage.session_resets_at is None
    assert usage.overage is None and usage.overage_enabled is None and usage.overage_pct is None
    assert parse_usage({}).weekly_pct is None


def test_fresh_window_has_null_reset_and_disabled_overage():
    usage = parse_usage({"five_hour": {"utilization": 0.0, "resets_at": None},
                         "seven_day": {"utilization": 8.0, "resets_at": "2026-05-10T17:00:00.000312+00:00"},
                         "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None,
                                         "utilization": None}})
    assert usage.session_pct == 0.0 and usage.session_resets_at is None
    assert usage.overage_enabled is False and usage.overage_pct is None


def test_unknown_fields_and_odd_values_are_ignored():
    body = {"five_hour": {"utilization": "lots", "resets_at": 12, "new": 1}, "seven_day": {"utilization": True},
            "tangelo": {"utilization": 99}, "spend": {"used": {"amount_minor": 3}}, "limits": "nope"}
    usage = parse_usage(body)
    assert usage.session_pct is None and usage.weekly_pct is None and usage.model_limits == []


@pytest.mark.parametrize("value,expected", [
    ("2026-05-04T14:00:00+00:00", "2026-05-04T14:00:00Z"),
    ("2026-05-04T14:00:00Z", "2026-05-04T14:00:00Z"),
    ("2026-05-04T16:00:00+02:00", "2026-05-04T14:00:00Z"),
    (1777903200, "2026-05-04T14:00:00Z"),
    (1777903200000, "2026-05-04T14:00:00Z"),
    (1777903200.5, "2026-05-04T14:00:00.500000Z"),
    ("not a time", None), (None, None), (True, None), ("", None),
])
def test_resets_at_iso_and_epoch(value, expected):
    assert normalise_time(value) == expected


def test_to_epoch_naive_is_utc():
    assert to_epoch("2026-05-04T14:00:00") == to_epoch("2026-05-04T14:00:00Z") == 1777903200


def test_limits_fill_missing_flat_windows_and_give_model_limits():
    body = {
        "five_hour": None,
        "limits": [
            {"kind": "session", "group": "session", "percent": 11, "resets_at": 1777903200, "scope": None,
             "is_active": True},
            {"kind": "weekly_all", "group": "weekly", "percent": 9, "resets_at": "2026-07-14T08:00:00Z"},
            {"kind": "weekly_scoped", "percent": 100, "resets_at": 1777903200,
             "scope": {"model": {"id": None, "display_name": "ExampleModel"}, "surface": None}, "is_active": True},
            "junk",
        ],
    }
    usage = parse_usage(body)
    assert usage.session_pct == 11.0 and usage.session_resets_at == "2026-05-04T14:00:00Z"
    assert usage.weekly_pct == 9.0 and usage.weekly_resets_at == "2026-07-14T08:00:00Z"
    assert usage.model_limits == [{"model": "ExampleModel", "id": None, "pct": 100.0,
                                   "resets_at": "2026-05-04T14:00:00Z", "active": True}]


def test_limits_win_over_flat_windows_and_flat_fills_the_rest():
    body = {"five_hour": {"utilization": 40.0, "resets_at": None},
            "seven_day": {"utilization": 62.0, "resets_at": "2026-12-10T09:00:00Z"},
            "limits": [{"kind": "session", "percent": 90, "resets_at": None, "scope": None}]}
    usage = parse_usage(body)
    assert usage.session_pct == 90.0 and usage.weekly_pct == 62.0
    assert usage.weekly_resets_at == "2026-12-10T09:00:00Z"


def test_overage_pct_from_credits_when_utilization_missing():
    usage = parse_usage({"extra_usage": {"is_enabled": True, "monthly_limit": 31000, "used_credits": 31280.0,
                                         "currency": "AUD", "disabled_reason": "out_of_credits"}})
    assert usage.overage_pct == pytest.approx(100.903, abs=0.01)
    assert usage.overage["disabled_reason"] == "out_of_credits"
    assert parse_usage({"extra_usage": {"is_enabled": True, "monthly_limit": 0, "used_credits": 5}}).overage_pct is None


@pytest.mark.parametrize("body", [None, [], "text", 3])
def test_not_an_object(body):
    assert parse_usage(body) is None


@pytest.mark.parametrize("extra", [
    {"is_enabled": False, "monthly_limit": 5000, "used_credits": 1250.0, "utilization": 100, "currency": "USD"},
    {"is_enabled": False, "monthly_limit": 5000, "used_credits": 5000.0, "utilization": None},
    {"is_enabled": False, "utilization": 100, "disabled_reason": "out_of_credits"},
])
def test_disabled_overage_is_no_overage_data(extra):
    """Overage switched off: no cost signal (overage_pct null), though the block and overage_enabled
    false stay visible: --max-cost never gates it and lowest-overage ranks it as 0."""
    usage = parse_usage({"extra_usage": extra})
    assert usage.overage_pct is None and usage.overage_enabled is False
    assert usage.overage == extra


@pytest.mark.parametrize("flag", ["false", "true", "", 0, 1, [], {}])
def test_is_enabled_that_is_not_a_boolean_is_no_overage_signal(flag):
    """Only a JSON true turns overage on: "false" (a string) used to read as enabled, and its 90 %
    then gated pick --max-cost. Any other non-boolean is unknown: not enabled, no overage figure."""
    extra = {"is_enabled": flag, "monthly_limit": 1000, "used_credits": 900, "utilization": 90.0}
    usage = parse_usage({"extra_usage": extra})
    assert usage.overage_enabled is False and usage.overage_pct is None
    assert usage.overage == extra  # the block as sent


def test_is_enabled_true_reads_the_figures_and_absent_or_null_keeps_reading_them():
    extra = {"monthly_limit": 1000, "used_credits": 900, "utilization": 90.0}
    on = parse_usage({"extra_usage": {**extra, "is_enabled": True}})
    assert on.overage_enabled is True and on.overage_pct == 90.0
    for body in ({"extra_usage": extra}, {"extra_usage": {**extra, "is_enabled": None}}):
        usage = parse_usage(body)
        assert usage.overage_enabled is False and usage.overage_pct == 90.0


@pytest.mark.parametrize("resets_at", [12, 1777903200, 1777903200000, 12.5, True, "soon", [], {}])
def test_a_flat_window_resets_at_that_is_not_iso_text_is_no_reset_time(resets_at):
    """A flat window's resets_at is ISO 8601 text; a number used to become 1970-01-01T00:00:12Z."""
    usage = parse_usage({"five_hour": {"utilization": 10.0, "resets_at": resets_at},
                         "seven_day": {"utilization": 20.0, "resets_at": resets_at}})
    assert usage.session_resets_at is None and usage.weekly_resets_at is None
    assert (usage.session_pct, usage.weekly_pct) == (10.0, 20.0)


def test_limits_keep_epoch_resets_and_a_negative_percent_is_no_reading():
    """limits[] documents epoch seconds (docs/wire.md): kept. A negative percent reads as unknown."""
    usage = parse_usage({"limits": [{"kind": "session", "percent": -5, "resets_at": 1777903200},
                                    {"kind": "weekly_all", "percent": 30, "resets_at": 1777903200}]})
    assert usage.session_pct is None and usage.weekly_pct == 30.0
    assert usage.weekly_resets_at == "2026-05-04T14:00:00Z"


@pytest.mark.parametrize("body,problem", [
    ({"five_hour": {"utilization": "lots", "resets_at": 12}, "seven_day": "x", "extra_usage": 5},
     "five_hour.utilization is not a number"),
    ({"five_hour": {"utilization": "100"}, "seven_day": {"utilization": "50.0"}}, "five_hour.utilization is not a number"),
    ({"five_hour": {"utilization": -5}, "seven_day": {"utilization": 20.0}}, "five_hour.utilization is negative"),
    ({"five_hour": {"utilization": 10.0}, "seven_day": "x"}, "seven_day is not an object"),
    ({"five_hour": [{"utilization": 10.0}]}, "five_hour is not an object"),
    ({"seven_day": {"utilization": True}}, "seven_day.utilization is not a number"),
    ({"seven_day_opus": {"utilization": float("inf")}}, "seven_day_opus.utilization is not a number"),
    ({"seven_day_sonnet": {"utilization": 10 ** 400}}, "seven_day_sonnet.utilization is not a number"),
    ({"seven_day_sonnet": 0}, "seven_day_sonnet is not an object"),
])
def test_malformed_names_the_field(body, problem):
    from roost_plugins.anthropic.usage import malformed

    assert malformed(body)[0] == problem


@pytest.mark.parametrize("body", [
    MAX_BODY, {}, {"five_hour": None, "extra_usage": None},
    {"five_hour": {"utilization": None, "resets_at": 12}, "seven_day": {}},
    {"five_hour": {"utilization": 0, "resets_at": None}, "seven_day": {"utilization": 250.0, "resets_at": "junk"}},
    {"tangelo": "x", "seven_day_oauth_apps": 3, "limits": "nope", "extra_usage": 5},
])
def test_well_formed_bodies_are_not_malformed(body):
    """Null/absent windows and utilisations, unknown keys, above-100 figures, odd resets_at: fine."""
    from roost_plugins.anthropic.usage import malformed

    assert malformed(body) is None
