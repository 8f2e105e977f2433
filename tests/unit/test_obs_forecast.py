"""The burn-rate forecast against synthetic series with known slopes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost_plugins.usage_log import forecast
from roost_plugins.usage_log.forecast import Point, project
from roost_plugins.usage_log.sparkline import sparkline

HOUR = 3600.0
T0 = 1_760_000_000.0
WEEK_RESET = T0 + 3 * 86400


def linear(start: float, per_hour: float, n: int, every_s: float = 600, t0: float = T0,
           resets_at: float | None = WEEK_RESET) -> list[Point]:
    return [Point(t0 + i * every_s, start + per_hour * i * every_s / HOUR, resets_at) for i in range(n)]


def test_known_slope_gives_exact_eta():
    # 10 %/h from 20 %: the last of 7 samples (one hour in) is 30 %, so 100 % is 7 h later.
    p = project(linear(20, 10, 7))
    assert p.status == forecast.PROJECTED
    assert p.slope_per_hour == pytest.approx(10)
    assert p.eta_s == pytest.approx(7 * HOUR)
    assert p.eta_at == pytest.approx(T0 + 8 * HOUR)
    assert p.label == "7h"


def test_eta_counts_from_now():
    points = linear(20, 10, 7)
    p = project(points, now=points[-1].t + 2 * HOUR)
    assert p.eta_s == pytest.approx(5 * HOUR)
    assert project(points, now=points[-1].t + 100 * HOUR).status == forecast.WINDOW_OVER


def test_reset_by_value_drop_is_never_crossed():
    # Window 1 climbs 30 %/h to 90 %, then resets; window 2 climbs 5 %/h from 2 %.
    before = linear(60, 30, 6)
    after = linear(2, 5, 5, t0=before[-1].t + 600)
    p = project(before + after)
    assert p.window_samples == 5 and p.window_start == after[0].t
    assert p.slope_per_hour == pytest.approx(5)
    assert p.eta_s == pytest.approx((100 - after[-1].value) / 5 * HOUR)


def test_reset_by_resets_at_change_without_a_drop():
    # The value keeps climbing across the boundary but resets_at jumps by a week: new window.
    old = linear(10, 10, 5, resets_at=T0 + 1 * HOUR)
    new = [Point(old[-1].t + 600 * (i + 1), 50 + 1 * i * 600 / HOUR, T0 + 7 * 86400) for i in range(4)]
    p = project(old + new)
    assert p.window_samples == 4 and p.slope_per_hour == pytest.approx(1)


def test_small_resets_at_jitter_is_the_same_window():
    points = [Point(p.t, p.value, WEEK_RESET + (i % 3)) for i, p in enumerate(linear(10, 6, 6))]
    assert project(points).window_samples == 6


def test_sample_after_the_previous_reset_time_opens_a_window():
    reset = T0 + 1800
    points = [Point(T0, 10, reset), Point(T0 + 600, 20, reset), Point(T0 + 1200, 30, reset),
              Point(T0 + 2400, 40, None), Point(T0 + 3000, 45, None)]
    assert forecast.window_starts(points) == [0, 3]


def test_flat_is_a_dash():
    p = project(linear(40, 0, 6))
    assert p.status == forecast.FLAT and p.label == "—" and p.eta_s is None
    assert p.slope_per_hour == pytest.approx(0)


def test_falling_is_a_dash_and_never_projects():
    # Every drop also starts a new window, so nothing before it is ever fitted.
    p = project(linear(80, -5, 6))
    assert p.status == forecast.FALLING and p.label == "—" and p.eta_s is None
    assert p.window_samples == 1


def test_right_after_a_reset_there_is_no_eta_until_three_new_samples():
    climb = linear(40, 30, 5)
    after = [Point(climb[-1].t + 600 * (i + 1), 2.0 + i, WEEK_RESET) for i in range(3)]
    assert project(climb + after[:1]).status == forecast.FALLING
    assert project(climb + after[:2]).status == forecast.TOO_FEW
    p = project(climb + after)
    assert p.status == forecast.PROJECTED and p.window_samples == 3
    assert p.slope_per_hour == pytest.approx(6)


def test_too_few_samples_in_the_current_window():
    assert project([]).status == forecast.TOO_FEW
    assert project(linear(10, 5, 2)).status == forecast.TOO_FEW
    # Plenty before the reset, two (rising) after: still too few.
    p = project(linear(50, 10, 10) + linear(1, 10, 2, t0=T0 + 10 * 600))
    assert p.status == forecast.TOO_FEW and p.window_samples == 2


def test_reached_and_resets_first():
    assert project(linear(80, 20, 8)).status == forecast.REACHED
    assert project(linear(80, 20, 8)).label == "reached"
    # 1 %/h with 20 % left needs 20 h, but the window resets in 2 h.
    p = project(linear(70, 1, 6, resets_at=T0 + 3 * HOUR))
    assert p.status == forecast.RESETS_FIRST and p.label == "—"


def test_unordered_input_is_sorted():
    points = linear(20, 10, 7)
    assert project(list(reversed(points))).eta_s == pytest.approx(project(points).eta_s)


@given(start=st.floats(0, 60), per_hour=st.floats(0.5, 40), n=st.integers(3, 40),
       every=st.floats(30, 1200))
def test_property_linear_series_recovers_slope(start, per_hour, n, every):
    points = linear(start, per_hour, n, every_s=every, resets_at=None)
    p = project(points)
    assert p.slope_per_hour == pytest.approx(per_hour, rel=1e-6)
    if points[-1].value < 100:
        assert p.eta_s == pytest.approx((100 - points[-1].value) / per_hour * HOUR, rel=1e-6)


def test_parse_epoch():
    assert forecast.parse_epoch("2025-01-01T00:00:00Z") == 1735689600.0
    assert forecast.parse_epoch("2025-01-01T01:00:00+01:00") == 1735689600.0
    assert forecast.parse_epoch(12.5) == 12.5
    assert forecast.parse_epoch("soon") is None and forecast.parse_epoch(None) is None


def test_sparkline():
    assert sparkline([]) == ""
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([0, 100]) == "▁█"
    line = sparkline(list(range(100)), width=8)
    assert len(line) == 8 and line[0] == "▁" and line[-1] == "█"
    assert list(line) == sorted(line)
