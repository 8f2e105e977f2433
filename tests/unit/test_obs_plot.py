"""roost report --plot: the chart geometry, the hand-written SVG and the Pillow PNG."""

from __future__ import annotations

import io
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from roost_core.audit import utc_now_iso
from roost_core.errors import NotFound, ValidationError
from roost_plugins.usage_log import plot, report
from roost_plugins.usage_log.forecast import Point

T0 = 1_777_896_000.0  # 2026-05-04T12:00:00Z
SVG = "{http://www.w3.org/2000/svg}"


def climb(start: float, n: int, t0: float = T0, every: float = 600, step: float = 2.0,
          resets_at: float | None = None) -> list[Point]:
    return [Point(t0 + i * every, start + i * step, resets_at) for i in range(n)]


def svg_tree(chart: plot.Chart) -> ET.Element:
    return ET.fromstring(plot.render_svg(chart))


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if e.get("class") == cls]


# ---------------------------------------------------------------- geometry


def test_points_are_scaled_into_the_plot_box():
    chart = plot.build_chart({"a": [Point(T0, 0.0), Point(T0 + 3600, 100.0), Point(T0 + 7200, 50.0)]}, "weekly_pct")
    box = chart.plot
    (series,) = chart.series
    # 100 -> 50 is a drop, i.e. a new window: two runs, never a slope down across a reset
    first, second = series.segments
    assert first == ((box.left, box.bottom), ((box.left + box.right) / 2, box.top))
    assert second == ((box.right, (box.top + box.bottom) / 2),)
    assert [t.label.text for t in chart.y_ticks] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    # two hours fit at most 6 ticks with a 30-minute step, aligned to the clock
    assert [t.label.text for t in chart.x_ticks] == ["05-04 12:00", "05-04 12:30", "05-04 13:00", "05-04 13:30",
                                                     "05-04 14:00"]
    assert [t.pos for t in chart.x_ticks] == pytest.approx([box.left + i * (box.right - box.left) / 4
                                                            for i in range(5)])
    assert chart.note is None and chart.drawn == 1


def test_reset_marker_sits_at_the_reset_time():
    reset = T0 + 3 * 3600
    window1 = climb(10, 18, resets_at=reset)  # 12:00 .. 14:50
    window2 = climb(1, 18, t0=reset + 600, resets_at=reset + 5 * 3600)  # 15:10 .. 18:00; its reset is later
    chart = plot.build_chart({"a": window1 + window2}, "session_pct")
    box = chart.plot
    (series,) = chart.series
    span = window2[-1].t - T0
    assert series.resets == pytest.approx(((reset - T0) / span * (box.right - box.left) + box.left,))
    assert len(series.segments) == 2 and series.samples == 36


def test_jittered_reset_times_are_one_marker_and_outside_resets_none():
    reset = T0 + 1800
    points = [Point(T0, 5.0, reset), Point(T0 + 600, 6.0, reset + 0.7), Point(T0 + 3600, 1.0, T0 + 99_999)]
    assert plot.reset_times(points, T0, T0 + 3600) == [reset]


def test_null_values_are_skipped_not_plotted_as_zero():
    records = [{"profile": "a", "ts": utc_now_iso(T0 + i * 600), "weekly_pct": v, "weekly_resets_at": None}
               for i, v in enumerate([10.0, None, 30.0, None])]
    records.append({"profile": "pro", "ts": utc_now_iso(T0), "weekly_pct": None})
    chart = plot.build_chart(report.collect(records, "weekly_pct"), "weekly_pct")
    a, pro = chart.series
    assert a.samples == 2 and len(a.segments) == 1
    assert all(y < chart.plot.bottom for _, y in a.segments[0])  # no point dropped to 0 %
    assert pro.samples == 0 and pro.segments == ()
    assert chart.drawn == 1
    assert [e.label.text for e in chart.legend] == ["a", "pro (no samples)"]


def test_several_profiles_several_series_in_name_order_and_colours():
    chart = plot.build_chart({"zed": climb(5, 3), "alpha": climb(50, 3)}, "weekly_pct")
    assert [s.profile for s in chart.series] == ["alpha", "zed"]
    assert chart.series[0].colour != chart.series[1].colour
    assert [e.colour for e in chart.legend] == [s.colour for s in chart.series]


def test_single_sample_gets_a_time_span_and_values_over_100_widen_the_axis():
    chart = plot.build_chart({"a": [Point(T0, 130.0)]}, "overage_pct")
    ((x, y),), = chart.series[0].segments
    assert x == pytest.approx((chart.plot.left + chart.plot.right) / 2)
    assert chart.y_ticks[-1].label.text == "150 %" and y > chart.plot.top


@pytest.mark.parametrize("value", [1e9, 1e308, 1.79e308])
def test_an_absurd_value_from_a_damaged_log_draws_a_few_ticks(value):
    """A 25 % step over 0..1e9 is 40 million ticks (the command never finished); the step grows by tens."""
    chart = plot.build_chart({"a": [Point(T0, 5.0), Point(T0 + 60, value)]}, "weekly_pct")
    assert 2 <= len(chart.y_ticks) <= plot.MAX_Y_TICKS + 1
    assert plot.render_svg(chart)


def test_no_data_is_an_empty_chart_with_a_note():
    chart = plot.build_chart({}, "weekly_pct")
    assert chart.series == () and chart.x_ticks == () and chart.drawn == 0
    assert chart.note is not None and chart.note.text == "no data"


def test_too_many_profiles_fold_into_a_more_entry():
    chart = plot.build_chart({f"p{i:02d}": climb(i, 2) for i in range(40)}, "weekly_pct")
    assert len(chart.series) == 40
    assert chart.legend[-1].label.text.startswith("+") and chart.legend[-1].label.text.endswith("more")
    assert chart.legend[-1].label.y < chart.height


# ---------------------------------------------------------------- SVG


def test_svg_has_one_path_per_profile_reset_lines_and_legend():
    reset = T0 + 3 * 3600
    series = {"a": climb(10, 18, resets_at=reset) + climb(1, 6, t0=reset + 600, resets_at=reset + 18000),
              "b": climb(40, 10, every=900), "pro": []}
    root = svg_tree(plot.build_chart(series, "session_pct"))
    groups = by_class(root, "g", "series")
    assert [g.find(SVG + "title").text for g in groups] == ["a", "b", "pro"]
    assert [len(g.findall(SVG + "path")) for g in groups] == [1, 1, 0]
    assert groups[0].find(SVG + "path").get("d").count("M ") == 2  # broken at the reset
    (marker,) = by_class(root, "line", "reset")
    assert marker.get("x1") == marker.get("x2") and marker in list(groups[0])
    assert [t.text for t in by_class(root, "text", "legend")] == ["a", "b", "pro (no samples)", "window reset"]
    assert root.find(SVG + "text").text == "Usage report: session_pct"


def test_svg_escapes_text_at_the_renderer():
    # Profile names allow only A-Za-z0-9._-, so escaping is proved on the renderer itself.
    chart = plot.build_chart({"a&b<c>": climb(1, 3)}, "weekly_pct")
    raw = plot.render_svg(chart)
    assert b"a&amp;b&lt;c&gt;" in raw and b"a&b" not in raw
    root = ET.fromstring(raw)
    assert by_class(root, "g", "series")[0].find(SVG + "title").text == "a&b<c>"


def test_svg_is_byte_identical_for_the_same_input():
    series = {"a": climb(3.333333, 7), "b": [Point(T0 + 17, 1 / 3)]}
    assert plot.render_svg(plot.build_chart(series, "weekly_pct")) == \
        plot.render_svg(plot.build_chart(dict(series), "weekly_pct"))


def test_svg_empty_chart_says_no_data():
    root = svg_tree(plot.build_chart({}, "weekly_pct"))
    assert [t.text for t in by_class(root, "text", "note")] == ["no data"]
    assert by_class(root, "g", "series") == []


# ---------------------------------------------------------------- PNG


def test_png_size_mode_and_series_colour():
    from PIL import Image  # the [test] extra installs Pillow: a missing one is a broken setup, not a skip
    chart = plot.build_chart({"a": climb(10, 20), "b": climb(60, 20, step=1.0)}, "weekly_pct")
    image = Image.open(io.BytesIO(plot.render_png(chart)))
    assert image.format == "PNG" and image.size == (plot.WIDTH, plot.HEIGHT) and image.mode == "RGB"
    colours = {colour for _, colour in image.getcolors(maxcolors=plot.WIDTH * plot.HEIGHT)}
    for series in chart.series:
        assert tuple(int(series.colour[i:i + 2], 16) for i in (1, 3, 5)) in colours
    (x, y) = chart.series[0].segments[0][5]
    assert image.getpixel((round(x), round(y))) != (255, 255, 255)


def test_png_without_pillow_is_a_validation_error_naming_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    with pytest.raises(ValidationError) as info:
        plot.check_target(tmp_path / "x.png")
    assert "roost[plot]" in info.value.message and ".svg" in info.value.message
    assert info.value.details["command"] in info.value.message  # how this roost was installed (#18)
    assert plot.check_target(tmp_path / "x.svg") == "svg"  # SVG needs nothing


# ---------------------------------------------------------------- target and writing


@pytest.mark.parametrize("name, fmt", [("a.svg", "svg"), ("b.SVG", "svg"), ("c.png", "png"), ("d.Png", "png")])
def test_format_from_suffix(name, fmt):
    assert plot.plot_format(Path(name)) == fmt


@pytest.mark.parametrize("name", ["a.jpg", "b", "c.svg.txt", ".svg"])
def test_other_suffixes_are_refused(name):
    with pytest.raises(ValidationError):
        plot.plot_format(Path(name))


def test_missing_directory_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        plot.check_target(tmp_path / "nope" / "x.svg")


def test_write_plot_is_atomic_and_reports_what_it_drew(tmp_path):
    target = tmp_path / "usage.svg"
    written = plot.write_plot(target, {"a": climb(1, 3), "pro": []}, "weekly_pct")
    assert written.to_dict() == {"path": str(target), "format": "svg", "series": 1}
    assert target.stat().st_mode & 0o777 == plot.FILE_MODE
    assert [p.name for p in tmp_path.iterdir()] == ["usage.svg"]  # no temp file left behind
    ET.fromstring(target.read_bytes())
