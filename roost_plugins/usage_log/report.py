"""``roost report``: per-profile figures of one metric from the usage log.

Reads ``usage-log.ndjson`` (see roost_plugins.usage_log) in one streaming
pass, keeping per profile only the times and values of the chosen metric
(and its window resets for ``--project``/``--plot``) as ``array('d')``
columns (``forecast.Samples``), never an object per sample. Figures: samples,
min, max, avg, latest; ``--sparkline`` adds the series as bars, ``--project``
the burn-rate ETA of the current window (forecast.py). The same rows feed
``--json`` and the rich table; ``--plot`` draws the same series into an
SVG/PNG file (plot.py). ``collect`` keeps a Point per sample: the reference
the streamed path is tested against (tests/unit/test_report_lean.py).
"""

from __future__ import annotations

from pathlib import Path
from math import isfinite
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from roost_core.api import finite_number, hookimpl

from roost_plugins import usage_log

from . import forecast
from .forecast import Point, Samples, mean, parse_epoch

if TYPE_CHECKING:
    from roost_core.api import RoostContext

METRICS = usage_log.METRICS
DEFAULT_METRIC = "weekly_pct"


def _in_window(records: Iterable[dict[str, Any]], since: float | None,
               profile: str | None) -> Iterator[tuple[str, float, dict[str, Any]]]:
    """(profile, time, record) of each timed record of ``profile`` (every one when None) since ``since``."""
    for item in records:
        name = item["profile"]
        if profile is not None and name != profile:
            continue
        t = parse_epoch(item.get("ts"))
        if t is None or (since is not None and t < since):
            continue
        yield name, t, item


def collect(records: Iterable[dict[str, Any]], metric: str, since: float | None = None,
            profile: str | None = None) -> dict[str, list[Point]]:
    """Points of ``metric`` per profile (time-ordered); a profile with only nulls gets [].
    A Point object per sample: ``gather`` is the same in flat memory."""
    reset_field = forecast.RESET_FIELD[metric]
    series: dict[str, list[Point]] = {}
    for name, t, item in _in_window(records, since, profile):
        points = series.setdefault(name, [])
        value = finite_number(item.get(metric))
        if value is not None:
            resets = parse_epoch(item.get(reset_field)) if reset_field else None
            points.append(Point(t, value, resets))
    for points in series.values():
        points.sort(key=lambda p: p.t)
    return series


def _iso(epoch: float | None) -> str | None:
    """The instant as ISO 8601; None when there is none, or none a datetime can show (past year 9999)."""
    from roost_core.api import utc_now_iso

    if epoch is None:
        return None
    try:
        return utc_now_iso(epoch)
    except (ValueError, OverflowError, OSError):
        return None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None or not isfinite(value) else round(value, digits)


def projection_dict(projection: forecast.Projection) -> dict[str, Any]:
    return {"status": projection.status, "label": projection.label,
            "eta_s": _rounded(projection.eta_s, 1),
            "eta_at": _iso(projection.eta_at),
            "slope_per_hour": _rounded(projection.slope_per_hour, 4),
            "window_samples": projection.window_samples, "window_start": _iso(projection.window_start)}


def figures(name: str, metric: str, values: Sequence[float], first_t: float | None,
            last_t: float | None) -> dict[str, Any]:
    """A row's figures from its values in time order (no sparkline, no projection)."""
    return {"profile": name, "metric": metric, "samples": len(values),
            "min": min(values, default=None), "max": max(values, default=None),
            "avg": round(mean(values), 2) if values else None,
            "latest": values[-1] if values else None,
            "first_at": _iso(first_t), "latest_at": _iso(last_t),
            "sparkline": None, "projection": None}


def gather(records: Iterable[dict[str, Any]], metric: str, since: float | None = None,
           profile: str | None = None, names: Iterable[str] = (), resets: bool = False) -> dict[str, Samples]:
    """``collect`` as ``Samples`` (two or three ``array('d')`` per profile, 16 or 24 bytes a sample, not a
    Point object), sorted by time only if the log was not. ``resets``: keep the window's reset times
    (what ``--project`` and ``--plot`` read). ``names``: profiles that get an entry even without samples."""
    reset_field = forecast.RESET_FIELD[metric] if resets else None
    series: dict[str, Samples] = {}
    for name, t, item in _in_window(records, since, profile):
        samples = series.get(name)
        if samples is None:
            samples = series[name] = Samples(keep_resets=reset_field is not None)
        value = finite_number(item.get(metric))
        if value is not None:
            samples.append(t, value, parse_epoch(item.get(reset_field)) if reset_field else None)
    for name in names:
        if name not in series:
            series[name] = Samples(keep_resets=reset_field is not None)
    for samples in series.values():
        samples.sort()  # as collect's stable sort by time
    return series


def profile_row(name: str, metric: str, points: Sequence[Point], now: float, sparkline: bool,
                project: bool) -> dict[str, Any]:
    """One row from ``points`` ordered by time (a list, or Samples)."""
    values = points.values if isinstance(points, Samples) else [p.value for p in points]
    row = figures(name, metric, values, points[0].t if points else None, points[-1].t if points else None)
    if sparkline:
        from .sparkline import sparkline as bars

        row["sparkline"] = bars(values)
    if project:
        row["projection"] = projection_dict(forecast.project(points, now=now))
    return row


def lean_rows(records: Iterable[dict[str, Any]], metric: str, since: float | None = None,
              profile: str | None = None, names: Iterable[str] = (), *, now: float = 0.0, sparkline: bool = False,
              project: bool = False) -> list[dict[str, Any]]:
    """``rows_for(collect(...))`` in flat memory (``gather``); ``names``: profiles that get a row even
    without samples."""
    return rows_for(gather(records, metric, since, profile, names, resets=project), metric, now, sparkline, project)


def build_report(records: Iterable[dict[str, Any]], metric: str, now: float, *, since_s: float | None = None,
                 profile: str | None = None, sparkline: bool = False, project: bool = False) -> list[dict[str, Any]]:
    since = None if since_s is None else now - since_s
    return lean_rows(records, metric, since, profile, now=now, sparkline=sparkline, project=project)


def rows_for(series: Mapping[str, Sequence[Point]], metric: str, now: float, sparkline: bool = False,
             project: bool = False) -> list[dict[str, Any]]:
    return [profile_row(name, metric, series[name], now, sparkline, project) for name in sorted(series)]


def _empty_hint(ctx: "RoostContext", enabled: bool, filtered: bool) -> str:
    if not enabled:
        return ("No usage samples. The usage log is off: turn it on with 'roost config usage-log on' "
                "(or CLAUDE_LB_USAGE_LOG=1), then every successful probe adds a sample.")
    return "No usage samples" + (" match the filters." if filtered else " yet: run 'roost probe' to record some.")


def draw(rctx: "RoostContext", path: Path, series: Mapping[str, Sequence[Point]], metric: str) -> dict[str, Any]:
    """Write the plot; its meta. PIL is imported only in here, and only for a .png."""
    from .plot import write_plot

    written = write_plot(path, series, metric)
    if not written.series:
        rctx.out.warn(f"no usage samples to plot: {path} is an empty chart")
    rctx.out.say(f"Plot written to {path}")
    return written.to_dict()


def run_report(rctx: "RoostContext", metric: str, since: float | None, profile: str | None,
               sparkline: bool, project: bool, plot_path: Path | None = None) -> None:
    from roost_core.api import validate_name

    if profile is not None:
        validate_name(profile)
    if plot_path is not None:
        from .plot import check_target

        check_target(plot_path)  # a bad suffix, a missing directory or no Pillow: refused before any work
    now = rctx.now()
    start = None if since is None else now - since
    # A profile without samples still gets its row: "no samples".
    names = [profile] if profile is not None else [p.name for p in rctx.profiles()]
    # Streamed into flat columns per profile; the resets only when the projection or the plot reads them.
    series = gather(usage_log.read(rctx), metric, start, profile, names, resets=project or plot_path is not None)
    rows = rows_for(series, metric, now, sparkline, project)
    plot_meta = None if plot_path is None else draw(rctx, plot_path, series, metric)
    log_state = usage_log.state(rctx)
    meta = {"metric": metric, "count": len(rows), "since_s": since, "profile": profile,
            "sparkline": sparkline, "project": project, "usage_log_enabled": log_state.enabled,
            "log": usage_log.location(rctx), "plot": plot_meta}
    if rctx.out.json_mode:
        rctx.out.emit(rows, meta)
        return
    from roost_core.api import plain_table, render

    if rows and not render(rctx, "report", rows, meta):
        headers = ["profile", "samples", "min", "max", "avg", "latest"]
        rctx.out.say(plain_table(headers, [[r[h] if r["samples"] or h in ("profile", "samples") else "no samples"
                                            if h == "min" else None for h in headers] for r in rows]))
    if not any(r["samples"] for r in rows):
        rctx.out.say(_empty_hint(rctx, log_state.enabled, since is not None or profile is not None))


def build_command():
    import click

    from roost_core.api import DURATION, complete_profiles, json_option, pass_roost

    @click.command("report")
    @click.option("--metric", type=click.Choice(METRICS), default=DEFAULT_METRIC, show_default=True,
                  help="Which usage figure to aggregate.")
    @click.option("--since", type=DURATION, metavar="DURATION",
                  help="Only samples newer than this (30m, 1h, 2d, 1w, or seconds).")
    @click.option("--profile", metavar="NAME", shell_complete=complete_profiles, help="Only this profile.")
    @click.option("--sparkline", is_flag=True, help="Add a Unicode sparkline of the series.")
    @click.option("--project", is_flag=True,
                  help="Linear burn-rate fit over the current window: ETA to 100%.")
    @click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
                  metavar="FILE.svg|FILE.png",
                  help="Also draw the series per profile, resets marked (.png needs roost[plot]).")
    @json_option
    @pass_roost
    def report_cmd(rctx: "RoostContext", metric: str, since: float | None, profile: str | None,
                   sparkline: bool, project: bool, plot_path: Path | None) -> None:
        """Per-profile min/max/avg/latest of a usage metric from the opt-in usage log."""
        run_report(rctx, metric, since, profile, sparkline, project,
                   None if plot_path is None else plot_path.expanduser())

    return report_cmd


@hookimpl
def roost_register_commands(cli: Any) -> None:
    cli.add_command(build_command())
