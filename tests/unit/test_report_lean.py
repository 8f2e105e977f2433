"""``roost report`` streams in flat memory (docs/performance.md): per profile ``array('d')`` columns
(``report.gather``, ``forecast.Samples``), never a Point object per sample. Its rows, sparklines,
projections and plots equal the full collect-and-sort path's (a list of Points per profile), an
out-of-order log, ties in time and profiles without samples included."""

from __future__ import annotations

import random
from array import array

from roost_core.audit import utc_now_iso
from roost_plugins.usage_log import forecast, plot
from roost_plugins.usage_log.forecast import Samples
from roost_plugins.usage_log.report import collect, gather, lean_rows, rows_for

T0 = 1_777_896_000
METRICS = ("weekly_pct", "session_pct", "opus_pct", "overage_pct")


def record(i: int, t: int, profile: str, value) -> dict:
    return {"ts": f"2026-05-04T12:{t // 60 % 60:02d}:{t % 60:02d}Z", "profile": profile, "weekly_pct": value,
            "session_pct": i * 1.5, "weekly_resets_at": "2026-05-10T00:00:00Z"}


def full(records, metric, since=None, profile=None, names=(), now=0.0, sparkline=False, project=False):
    series = collect(records, metric, since, profile)
    for name in names:
        series.setdefault(name, [])
    return rows_for(series, metric, now, sparkline, project)


def test_lean_rows_equal_the_full_path():
    records = [record(i, (i * 37) % 3000, f"p{i % 3}", [0.1 * i, None, True, "x", i][i % 5]) for i in range(400)]
    records += [record(500, 10, "p0", 99.9), record(501, 10, "p0", 12.25)]  # a tie in time: kept in log order
    for metric in ("weekly_pct", "session_pct", "opus_pct"):
        for since, profile in ((None, None), (T0, None), (None, "p1"), (None, "nobody")):
            names = ["p0", "p1", "p2", "quiet"] if profile is None else [profile]
            assert lean_rows(records, metric, since, profile, names) == full(records, metric, since, profile, names)
    in_order = sorted(records, key=lambda r: r["ts"])
    assert lean_rows(in_order, "weekly_pct") == full(in_order, "weekly_pct")


def test_lean_rows_skip_non_finite_values_like_the_full_path():
    bad = [float("nan"), float("inf"), -float("inf"), 10 ** 400]  # NaN, Infinity, 1e400 and a huge int, as json reads them
    records = [record(i, i * 60, "p0", [bad[i // 2 % 4], float(i)][i % 2]) for i in range(16)]
    rows = lean_rows(records, "weekly_pct", names=["p0"])
    assert rows == full(records, "weekly_pct", names=["p0"])
    assert (rows[0]["samples"], rows[0]["min"], rows[0]["max"], rows[0]["avg"]) == (8, 1.0, 15.0, 8.0)


# ---------------------------------------------------------------- --sparkline, --project, --plot


def usage_log(rng_seed: int, shuffle: bool) -> list[dict]:
    """Three profiles' climbs through resets (by a drop, a moved reset, a sample past its reset), jitter on
    the reset, nulls and junk values, samples at the same instant; shuffled in part when ``shuffle``."""
    rnd = random.Random(rng_seed)
    lines = []
    for p, every in (("a", 300), ("b", 600), ("c", 900)):
        t, value, reset = T0, 0.0, T0 + 5 * 3600
        for _ in range(150):
            t += rnd.choice((0, every, every, 2 * every))
            if t >= reset or rnd.random() < 0.02:  # the window resets; once in a while by a drop alone
                reset, value = (t + 5 * 3600 if t >= reset else reset), 0.0
            value += rnd.choice((0.0, 0.5, 1.0, 3.0))
            junk = rnd.random()
            reading = None if junk < 0.06 else "x" if junk < 0.08 else float("nan") if junk < 0.09 else value
            jittered = reset + rnd.random() * 3 if rnd.random() > 0.05 else None
            lines.append({"ts": utc_now_iso(t), "profile": p, "health": "ok", "session_pct": reading,
                          "weekly_pct": None if reading is None else reading if junk < 0.09 else value / 4,
                          "opus_pct": reading, "overage_pct": rnd.choice((None, 2.0, 120.0, -0.0, 0.0)),
                          "session_resets_at": None if jittered is None else utc_now_iso(jittered),
                          "weekly_resets_at": utc_now_iso(T0 + 86400 * (1 + (t - T0) // 86400))})
    if shuffle:
        head = lines[:200]
        rnd.shuffle(head)
        lines[:200] = head
    return lines


def statuses(rows: list[dict]) -> set[str]:
    return {r["projection"]["status"] for r in rows if r["projection"]}


def test_sparkline_and_projection_equal_the_full_path():
    seen: set[str] = set()
    for seed in range(6):
        for shuffle in (False, True):
            records = usage_log(seed, shuffle)
            last = max(forecast.parse_epoch(r["ts"]) for r in records)
            for metric in METRICS:
                for now in (last, last + 1800, last + 6 * 3600):  # a projection, and a window that is over
                    for since, profile, names in ((None, None, ("a", "b", "c", "quiet")), (last - 4 * 3600, None, ()),
                                                  (None, "b", ("b",))):
                        for sparkline, project in ((True, False), (False, True), (True, True)):
                            lean = lean_rows(records, metric, since, profile, names, now=now,
                                             sparkline=sparkline, project=project)
                            assert lean == full(records, metric, since, profile, names, now, sparkline, project), \
                                (seed, shuffle, metric, now, since, profile, sparkline, project)
                            seen |= statuses(lean)
    # the comparison covered every way a projection ends
    assert seen >= {forecast.PROJECTED, forecast.REACHED, forecast.FALLING, forecast.FLAT, forecast.RESETS_FIRST,
                    forecast.WINDOW_OVER, forecast.TOO_FEW}, seen


def test_plot_from_the_streamed_columns_is_the_same_file():
    for seed in range(3):
        records = usage_log(seed, shuffle=True)
        for metric in METRICS:
            points = collect(records, metric)
            points["quiet"] = []
            columns = gather(records, metric, names=["quiet"], resets=True)
            assert plot.render_svg(plot.build_chart(columns, metric)) == \
                plot.render_svg(plot.build_chart(points, metric)), (seed, metric)
    assert plot.render_png(plot.build_chart(columns, metric)) == plot.render_png(plot.build_chart(points, metric))


def test_samples_keep_flat_columns_and_read_as_points():
    records = usage_log(1, shuffle=True)
    samples = gather(records, "session_pct", resets=True)["a"]
    points = collect(records, "session_pct")["a"]
    assert all(isinstance(column, array) for column in (samples.times, samples.values, samples.resets))
    assert list(samples) == points and [samples[i] for i in range(-3, 3)] == points[-3:] + points[:3]
    assert list(samples[10:20]) == points[10:20] and isinstance(samples[10:20], Samples)
    assert forecast.window_starts(samples) == forecast.window_starts(points)
    assert list(forecast.current_window(samples)) == forecast.current_window(points)
    assert plot.reset_times(samples, T0, T0 + 10 ** 6) == plot.reset_times(points, T0, T0 + 10 ** 6)
    # without the resets column (the figures and the sparkline do not read it) every reset is None
    bare = gather(records, "session_pct")["a"]
    assert bare.resets is None and list(bare) == [forecast.Point(p.t, p.value) for p in points]


def test_the_current_window_is_found_from_the_end():
    rnd = random.Random(3)
    for _ in range(200):
        points = [forecast.Point(float(i), rnd.choice((1.0, 2.0, 3.0)), rnd.choice((None, 50.0, 5000.0)))
                  for i in range(rnd.randrange(0, 12))]
        starts = forecast.window_starts(points)
        assert forecast.last_window_start(points) == (starts[-1] if starts else 0)
        assert forecast.current_window(points) == (points[starts[-1]:] if starts else [])
