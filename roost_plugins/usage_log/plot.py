"""``roost report --plot FILE.svg|FILE.png``: the report's series as a chart.

One geometry model (``Chart``: canvas coordinates of every line, marker,
tick and label) is built from the points ``roost report`` already keeps,
then drawn by one of two dumb renderers. A series' coordinates are computed
when they are drawn, one profile at a time, and the SVG is written piece by
piece into one buffer: a 100 MB log is some 400,000 points, and a chart that
held them all as tuples took 250 MB (docs/performance.md).

* SVG is written by hand as SVG 1.1 text: no dependency, and byte-identical
  for the same input (fixed float formatting, nothing taken from the clock).
* PNG goes through Pillow, the optional extra ``roost[plot]``. PIL is
  imported only here, only for a ``.png`` target, never on report's normal path.

A profile's line is broken where ``forecast.window_starts`` sees a new window,
so a reset is never drawn as a slope down; the reported reset times of the
metric's window are dashed vertical lines in the profile's colour. Only
profile names and numbers ever reach the picture.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from roost_core.api import NotFound, ValidationError

from .forecast import RESET_SHIFT_TOLERANCE_S, Point, Samples, window_starts

FORMATS = {".svg": "svg", ".png": "png"}
FILE_MODE = 0o644  # a picture of names and percentages: nothing secret, meant to be opened and shared

WIDTH, HEIGHT = 960, 480
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 184, 40, 52
FONT_SIZE = 12
LEGEND_ROW = 20
BACKGROUND, INK, GRID = "#ffffff", "#333333", "#dddddd"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")

SINGLE_SAMPLE_PAD_S = 1800.0  # one instant has no width: show an hour around it
MAX_X_TICKS = 6
TIME_STEPS_S = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
PERCENT_STEP = 25.0
MAX_Y_TICKS = 8
DASH_ON, DASH_OFF = 4, 3  # reset markers, in pixels


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Label:
    """Text whose baseline starts, is centred or ends (``anchor``) at (x, y)."""

    x: float
    y: float
    text: str
    anchor: str = "start"  # "start" | "middle" | "end" (SVG's text-anchor words)


@dataclass(frozen=True)
class Tick:
    pos: float  # canvas x (time axis) or y (percent axis)
    label: Label


@dataclass(frozen=True)
class Series:
    """One profile's line: its canvas coordinates are computed each time they are read."""

    profile: str
    colour: str
    points: Sequence[Point] = field(repr=False)  # ordered by time
    scale: Scale = field(repr=False)

    @property
    def samples(self) -> int:
        return len(self.points)

    def runs(self) -> Iterator[tuple[tuple[float, float], ...]]:
        """(x, y) of the points, one run per usage window, oldest first."""
        points, x, y = self.points, self.scale.x, self.scale.y
        bounds = [*window_starts(points), len(points)]
        for lo, hi in zip(bounds, bounds[1:]):
            yield tuple((x(p.t), y(p.value)) for p in points[lo:hi])

    @property
    def segments(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        """Every run of ``runs()``."""
        return tuple(self.runs())

    @property
    def resets(self) -> tuple[float, ...]:
        """Canvas x of each reset time inside the time range."""
        scale = self.scale
        return tuple(scale.x(r) for r in reset_times(self.points, scale.t0, scale.t1))


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    swatch: tuple[float, float, float, float]  # x1, y1, x2, y2 of the sample line
    label: Label
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot: Box
    title: Label
    x_caption: Label
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]
    legend: tuple[LegendEntry, ...]
    note: Label | None  # "no data" when nothing was sampled

    @property
    def drawn(self) -> int:
        """How many profiles have a line in the picture."""
        return sum(1 for s in self.series if s.samples)


@dataclass(frozen=True)
class Scale:
    """Data (epoch seconds, percent) to canvas (pixels, y downwards)."""

    box: Box
    t0: float
    t1: float
    v0: float
    v1: float

    def x(self, t: float) -> float:
        return self.box.left + (t - self.t0) / (self.t1 - self.t0) * (self.box.right - self.box.left)

    def y(self, v: float) -> float:
        return self.box.bottom - (v - self.v0) / (self.v1 - self.v0) * (self.box.bottom - self.box.top)


# ---------------------------------------------------------------- target checks


def plot_format(path: Path) -> str:
    """``svg`` or ``png`` from the suffix (any case); anything else is VALIDATION."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(f"cannot plot to {path}: the format comes from the suffix, use .svg or .png",
                              details={"path": str(path)})
    return fmt


def check_target(path: Path) -> str:
    """Everything that can refuse a plot before any work is done; returns the format."""
    fmt = plot_format(path)
    if not path.parent.is_dir():
        raise NotFound(f"directory {path.parent} does not exist", details={"path": str(path)})
    if fmt == "png":
        pillow()
    return fmt


def pillow() -> tuple[Any, Any, Any]:
    """(Image, ImageDraw, ImageFont), or VALIDATION saying how to get them."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        from .install_advice import detect, pillow_command

        installed = detect()
        command = pillow_command(installed)  # matches how this roost was installed (uv tool, pipx, pip)
        raise ValidationError(f"PNG plots need Pillow (the roost[plot] extra): run {command} "
                              "(or plot to a .svg file, which needs nothing)",
                              details={"extra": "plot", "install": installed.how, "command": command}) from None
    return Image, ImageDraw, ImageFont


# ---------------------------------------------------------------- geometry


def _column(points: Sequence[Point], name: str) -> Sequence[float]:
    """Each point's ``t`` or ``value``: the Samples' own array, else a list."""
    if isinstance(points, Samples):
        return points.times if name == "t" else points.values
    return [getattr(p, name) for p in points]


def _ends(series: Mapping[str, Sequence[Point]], name: str) -> tuple[list[float], list[float]]:
    """The lows and highs of ``name`` per profile with points, in the mapping's order (the first
    of equal floats wins in both, as one min/max over all the points would pick it)."""
    columns = [_column(points, name) for points in series.values() if points]
    return [min(c) for c in columns], [max(c) for c in columns]


def time_range(series: Mapping[str, Sequence[Point]]) -> tuple[float, float] | None:
    lows, highs = _ends(series, "t")
    if not lows:
        return None
    t0, t1 = min(lows), max(highs)
    return (t0 - SINGLE_SAMPLE_PAD_S, t1 + SINGLE_SAMPLE_PAD_S) if t0 == t1 else (t0, t1)


def percent_range(series: Mapping[str, Sequence[Point]]) -> tuple[float, float]:
    """0-100, widened to the next step only if a value lies outside."""
    lows, highs = _ends(series, "value")
    low = min([0.0, *lows])
    high = max([100.0, *highs])
    step = percent_step(high - low)
    rounded = math.floor(low / step) * step, math.ceil(high / step) * step
    return rounded if all(map(math.isfinite, rounded)) else (low, high)


def percent_step(span: float) -> float:
    """25 %, or a power of ten times it: a damaged log's 1e9 % draws 8 ticks, not 40 million."""
    step = PERCENT_STEP
    while span / step > MAX_Y_TICKS:
        step *= 10
    return step


def time_step(span: float) -> float:
    fits = (s for s in TIME_STEPS_S if span / s <= MAX_X_TICKS)
    return float(next(fits, math.ceil(span / MAX_X_TICKS / 86400) * 86400))


def time_label(t: float, step: float) -> str:
    moment = datetime.fromtimestamp(t, timezone.utc)
    return moment.strftime("%Y-%m-%d" if step >= 86400 else "%m-%d %H:%M")


def x_ticks(scale: Scale) -> tuple[Tick, ...]:
    step = time_step(scale.t1 - scale.t0)
    first = math.ceil(scale.t0 / step) * step
    count = int((scale.t1 - first) // step) + 1
    below = scale.box.bottom + FONT_SIZE + 6
    return tuple(Tick(scale.x(t), Label(scale.x(t), below, time_label(t, step), "middle"))
                 for t in (first + i * step for i in range(max(0, count))))


def y_ticks(scale: Scale) -> tuple[Tick, ...]:
    step = percent_step(scale.v1 - scale.v0)
    values = [scale.v0 + i * step for i in range(int(round((scale.v1 - scale.v0) / step)) + 1)]
    return tuple(Tick(scale.y(v), Label(scale.box.left - 6, scale.y(v) + FONT_SIZE / 3, f"{v:g} %", "end"))
                 for v in values)


def reset_times(points: Sequence[Point], t0: float, t1: float) -> list[float]:
    """Distinct reported resets inside [t0, t1]; the API's jitter on one reset is merged."""
    kept: list[float] = []
    if isinstance(points, Samples):
        reported = set() if points.resets is None else {r for r in points.resets if r == r}  # NaN: none known
    else:
        reported = {p.resets_at for p in points if p.resets_at is not None}
    for reset in sorted(reported):
        if not kept or reset - kept[-1] > RESET_SHIFT_TOLERANCE_S:
            kept.append(reset)
    return [r for r in kept if t0 <= r <= t1]


def series_for(profile: str, colour: str, points: Sequence[Point], scale: Scale) -> Series:
    """``points`` as Samples are already ordered (``Samples.sort``); a list is sorted here."""
    ordered = points if isinstance(points, Samples) else sorted(points, key=lambda p: p.t)
    return Series(profile, colour, ordered, scale)


def legend_for(series: Sequence[Series], box: Box) -> tuple[LegendEntry, ...]:
    rows = [(s.colour, s.profile if s.samples else f"{s.profile} (no samples)", False) for s in series]
    if any(s.resets for s in series):
        rows.append((INK, "window reset", True))
    fit = max(1, int((box.bottom - box.top) // LEGEND_ROW))
    if len(rows) > fit:
        rows = rows[:fit - 1] + [(BACKGROUND, f"+{len(rows) - fit + 1} more", False)]
    left = box.right + 16
    entries = []
    for i, (colour, text, dashed) in enumerate(rows):
        y = box.top + 8 + i * LEGEND_ROW
        entries.append(LegendEntry(colour, (left, y, left + 20, y), Label(left + 26, y + FONT_SIZE / 3, text), dashed))
    return tuple(entries)


def build_chart(series: Mapping[str, Sequence[Point]], metric: str,
                width: int = WIDTH, height: int = HEIGHT) -> Chart:
    """The whole picture, in canvas coordinates, for both renderers."""
    box = Box(MARGIN_LEFT, MARGIN_TOP, width - MARGIN_RIGHT, height - MARGIN_BOTTOM)
    title = Label(box.left, MARGIN_TOP - 14, f"Usage report: {metric}")
    caption = Label((box.left + box.right) / 2, height - 10, "time (UTC)", "middle")
    span = time_range(series)
    scale = Scale(box, *(span or (0.0, 1.0)), *percent_range(series))
    drawn = tuple(series_for(name, PALETTE[i % len(PALETTE)], series[name], scale)
                  for i, name in enumerate(sorted(series)))
    note = None if span else Label((box.left + box.right) / 2, (box.top + box.bottom) / 2, "no data", "middle")
    return Chart(width, height, box, title, caption, x_ticks(scale) if span else (), y_ticks(scale),
                 drawn, legend_for(drawn, box), note)


# ---------------------------------------------------------------- SVG


SVG_DASH = f'stroke-dasharray="{DASH_ON} {DASH_OFF}"'


def escape(text: str) -> str:
    """``xml.sax.saxutils.escape``: &, < and > as entities. Not imported from there: xml.sax pulls in
    urllib.request and with it ssl, some 8 MB of a plot's peak memory."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _n(value: float) -> str:
    """Fixed formatting, so the same chart is always the same bytes."""
    return f"{value:.1f}"


def _svg_text(label: Label, extra: str = "") -> str:
    return (f'<text x="{_n(label.x)}" y="{_n(label.y)}" text-anchor="{label.anchor}"{extra}>'
            f"{escape(label.text)}</text>")


def _svg_line(x1: float, y1: float, x2: float, y2: float, attrs: str) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" {attrs}/>'


def _svg_series(s: Series, box: Box) -> Iterator[str]:
    """The series' lines of SVG text, the path's in pieces (one per window), each line ending in a newline."""
    yield f'<g class="series" stroke="{s.colour}" fill="none" stroke-width="2"><title>{escape(s.profile)}</title>\n'
    single: list[tuple[float, float]] = []
    path = False  # one path for every run of two or more points, none if there is no such run
    for run in s.runs():
        if len(run) == 1:
            single += run
            continue
        yield ' M ' if path else '<path d="M '
        path = True
        yield " L ".join(f"{_n(x)} {_n(y)}" for x, y in run)
    if path:
        yield '"/>\n'
    for x, y in single:
        yield f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="{s.colour}"/>\n'
    for x in s.resets:
        yield _svg_line(x, box.top, x, box.bottom, f'class="reset" stroke-width="1" {SVG_DASH}') + "\n"
    yield "</g>\n"


def _svg_lines(chart: Chart) -> Iterator[str]:
    """The document's text in pieces; joined, every line ends in a newline."""
    box = chart.plot
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{chart.width}" '
             f'height="{chart.height}" viewBox="0 0 {chart.width} {chart.height}" '
             f'font-family="sans-serif" font-size="{FONT_SIZE}" fill="{INK}">',
             f'<rect width="{chart.width}" height="{chart.height}" fill="{BACKGROUND}"/>',
             _svg_text(chart.title, ' font-weight="bold"')]
    for tick in chart.y_ticks:
        parts += [_svg_line(box.left, tick.pos, box.right, tick.pos, f'class="grid" stroke="{GRID}"'),
                  _svg_text(tick.label)]
    for tick in chart.x_ticks:
        parts += [_svg_line(tick.pos, box.bottom, tick.pos, box.bottom + 4, f'stroke="{INK}"'),
                  _svg_text(tick.label)]
    parts += [f'<rect class="frame" x="{_n(box.left)}" y="{_n(box.top)}" width="{_n(box.right - box.left)}" '
              f'height="{_n(box.bottom - box.top)}" fill="none" stroke="{INK}"/>', _svg_text(chart.x_caption)]
    yield from (part + "\n" for part in parts)
    for s in chart.series:
        yield from _svg_series(s, box)
    parts = [_svg_text(chart.note, ' class="note"')] if chart.note else []
    for entry in chart.legend:
        dash = f" {SVG_DASH}" if entry.dashed else ""
        parts += [_svg_line(*entry.swatch, f'class="swatch" stroke="{entry.colour}" stroke-width="2"{dash}'),
                  _svg_text(entry.label, ' class="legend"')]
    parts.append("</svg>")
    yield from (part + "\n" for part in parts)


def render_svg(chart: Chart) -> bytes:
    """The SVG file's bytes, written piece by piece into one buffer (no list of every line, no second copy)."""
    out = io.BytesIO()
    for piece in _svg_lines(chart):
        out.write(piece.encode("utf-8"))
    return out.getvalue()


# ---------------------------------------------------------------- PNG


def _png_text(draw: Any, font: Any, label: Label) -> None:
    # Measured by hand (the baseline is the bottom of "A"), so a bitmap font, which has no
    # anchors, lines up like a TrueType one.
    left, _, right, _ = draw.textbbox((0, 0), label.text, font=font)
    baseline = draw.textbbox((0, 0), "A", font=font)[3]
    shift = {"start": 0.0, "middle": (right - left) / 2, "end": float(right - left)}[label.anchor]
    draw.text((label.x - shift - left, label.y - baseline), label.text, fill=INK, font=font)


def _png_dashed(draw: Any, x1: float, y1: float, x2: float, y2: float, colour: str, width: int = 1) -> None:
    """Pillow has no dash pattern: DASH_ON px drawn, DASH_OFF px skipped, along the line."""
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    start = 0.0
    while start < length:
        a, b = start / length, min(start + DASH_ON, length) / length
        draw.line([(x1 + (x2 - x1) * a, y1 + (y2 - y1) * a), (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b)],
                  fill=colour, width=width)
        start += DASH_ON + DASH_OFF


def render_png(chart: Chart) -> bytes:
    Image, ImageDraw, ImageFont = pillow()
    image = Image.new("RGB", (chart.width, chart.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE)
    box = chart.plot
    _png_text(draw, font, chart.title)
    for tick in chart.y_ticks:
        draw.line([(box.left, tick.pos), (box.right, tick.pos)], fill=GRID)
        _png_text(draw, font, tick.label)
    for tick in chart.x_ticks:
        draw.line([(tick.pos, box.bottom), (tick.pos, box.bottom + 4)], fill=INK)
        _png_text(draw, font, tick.label)
    draw.rectangle([box.left, box.top, box.right, box.bottom], outline=INK)
    _png_text(draw, font, chart.x_caption)
    for s in chart.series:
        for x in s.resets:
            _png_dashed(draw, x, box.top, x, box.bottom, s.colour)
        for run in s.runs():
            if len(run) > 1:
                draw.line(list(run), fill=s.colour, width=2, joint="curve")
            else:
                (x, y), = run
                draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=s.colour)
    if chart.note:
        _png_text(draw, font, chart.note)
    for entry in chart.legend:
        if entry.dashed:
            _png_dashed(draw, *entry.swatch, entry.colour, width=2)
        else:
            draw.line([entry.swatch[:2], entry.swatch[2:]], fill=entry.colour, width=2)
        _png_text(draw, font, entry.label)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------- entry point

RENDERERS = {"svg": render_svg, "png": render_png}


@dataclass(frozen=True)
class PlotWritten:
    path: Path
    format: str
    series: int  # profiles drawn as a line

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "series": self.series}


def write_plot(path: Path, series: Mapping[str, Sequence[Point]], metric: str) -> PlotWritten:
    """Draw ``series`` (profile → time-ordered points of ``metric``) into ``path``, atomically."""
    from roost_core.api import write_user_file

    fmt = check_target(path)
    chart = build_chart(series, metric)
    write_user_file(path, RENDERERS[fmt](chart), FILE_MODE)
    return PlotWritten(path, fmt, chart.drawn)
