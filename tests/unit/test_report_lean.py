"""``roost report`` without sparkline/projection/plot streams in flat memory (docs/performance.md):
its rows equal the full collect-and-sort path's, an out-of-order log and profiles without samples included."""

from __future__ import annotations

from roost_plugins.usage_log.report import collect, lean_rows, rows_for

T0 = 1_777_896_000


def record(i: int, t: int, profile: str, value) -> dict:
    return {"ts": f"2026-05-04T12:{t // 60 % 60:02d}:{t % 60:02d}Z", "profile": profile, "weekly_pct": value,
            "session_pct": i * 1.5, "weekly_resets_at": "2026-05-10T00:00:00Z"}


def full(records, metric, since=None, profile=None, names=()):
    series = collect(records, metric, since, profile)
    for name in names:
        series.setdefault(name, [])
    return rows_for(series, metric, 0.0)


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
