"""``roost top``: the status table, redrawn every ``--interval`` seconds.

Each tick asks the probe engine for records exactly as ``roost status`` does
(``roost_core.probe.get_records`` in its cache-first mode), so cache TTLs,
the hourly probe budget and the network-error backoff all still apply: a
short interval redraws often but probes no more than ``status`` would.

On a terminal it is a rich Live view on the alternate screen; the first
Ctrl+C finishes the tick in progress and exits 0 with the terminal restored
(a second one stops at once). Like ``status``'s table, the view is drawn on
stderr (stdout is data only). When stderr is not a terminal it prints the
table again each tick, so it can be logged; ``--json`` prints one ``{data,
meta}`` line per tick on stdout.
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from roost_core.api import hookimpl

if TYPE_CHECKING:
    from roost_core.api import RoostContext

MIN_INTERVAL_S = 0.5
MAX_WARNINGS_SHOWN = 5


@dataclass
class Frame:
    """One tick's worth of what top shows: the status data and meta, plus warnings seen."""

    data: list[dict[str, Any]]
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@contextlib.contextmanager
def captured_warnings(ctx: "RoostContext") -> Iterator[io.StringIO]:
    """Hold stderr lines written during a tick so they are drawn in the frame, not over it."""
    buffer, original = io.StringIO(), ctx.out.stderr
    ctx.out.stderr = buffer
    try:
        yield buffer
    finally:
        ctx.out.stderr = original


class Landing:
    """Redraws the frame as each probe of the tick lands (the rows fill in; the title counts them)."""

    def __init__(self, frame: "Frame", redraw: Callable[["Frame"], None], ctx: "RoostContext | None" = None) -> None:
        self.frame, self.redraw, self.ctx = frame, redraw, ctx
        self.total = self.done = 0

    def _draw(self) -> None:
        self.frame.meta["probing"] = [self.done, self.total] if self.done < self.total else None
        self.redraw(self.frame)

    def begin(self, total: int) -> None:
        self.total, self.done = total, 0
        if total:
            self._draw()

    def landed(self, name: str, record: Any) -> None:
        self.done += 1
        if record is not None:
            self.frame.data = [record.to_dict() if r["name"] == name else r for r in self.frame.data]
            self._follow_rows()
        self._draw()

    def _follow_rows(self) -> None:
        """The summary counts the rows on screen, and the clock says when they last changed."""
        from roost_core.api import HealthRecord, summary_line, utc_now_iso

        self.frame.meta["summary"] = summary_line([HealthRecord.from_dict(r) for r in self.frame.data])
        if self.ctx is not None:
            self.frame.meta["updated_at"] = utc_now_iso(self.ctx.now())

    def end(self) -> None:
        self.frame.meta["probing"] = None


def cached_frame(ctx: "RoostContext") -> Frame:
    """What the cache says right now: no network, drawn before any probe."""
    from roost_core.api import get_records, summary_line, utc_now_iso

    with captured_warnings(ctx) as buffer:
        records = get_records(ctx, ctx.profiles(), offline=True)
    meta = {"updated_at": utc_now_iso(ctx.now()), "summary": summary_line(records), "platform_status": None}
    return Frame([r.to_dict() for r in records], meta, [w for w in buffer.getvalue().splitlines() if w])


def snapshot(ctx: "RoostContext", platform: bool, landing: Landing | None = None) -> Frame:
    """What ``roost status`` would show right now (probing only where the cache is not valid)."""
    from roost_core.api import utc_now_iso
    from roost_core.api import health_meta
    from roost_core.api import get_records, observe_probes

    with captured_warnings(ctx) as buffer:
        profiles = ctx.profiles()
        if landing is not None:
            with observe_probes(landing):
                records = get_records(ctx, profiles)
        else:
            records = get_records(ctx, profiles)
        meta = health_meta(ctx, records, profiles)
        meta["platform_status"] = _platform(ctx) if platform else None
    meta["updated_at"] = utc_now_iso(ctx.now())
    meta["summary"] = _summary(records)
    if not profiles:
        buffer.write(f"roost: warning: no profiles found in {ctx.paths.profiles_tree}\n")
    return Frame([r.to_dict() for r in records], meta, [w for w in buffer.getvalue().splitlines() if w])


def _platform(ctx: "RoostContext") -> dict[str, Any] | None:
    from roost_core.api import platform_status

    return platform_status(ctx).to_dict()


def _summary(records: list[Any]) -> str:
    from roost_core.api import summary_line

    return summary_line(records)


# Lines of the status table that are not rows: top rule, header, header rule, bottom rule.
TABLE_CHROME = 4


def current_pick(ctx: "RoostContext") -> str | None:
    try:
        name = (ctx.state.read_doc("last-pick") or {}).get("name")
    except Exception:  # a view never fails over the last pick
        return None
    return name if isinstance(name, str) else None


def fit_rows(rows: list[dict[str, Any]], room: int, pick: str | None) -> tuple[list[dict[str, Any]], int]:
    """The rows that fit in ``room`` lines, most relevant first (the current pick, then the unhealthy),
    and how many were left out (they get one ``… N more`` line, which takes a row's place)."""
    if len(rows) <= room:
        return rows, 0

    def rank(row: dict[str, Any]) -> int:
        return 0 if row["name"] == pick else 1 if row["health"] != "ok" else 2

    shown = sorted(rows, key=rank)[:max(0, room - 1)]
    return shown, len(rows) - len(shown)


def render_frame(frame: Frame, ctx: "RoostContext", interval: float, size: tuple[int, int] | None = None) -> Any:
    """The renderable for one tick: a header, the status table (shared with ``status``), the summary.

    With ``size`` (columns, lines), the header and the summary always stay on screen: rows that do not
    fit are left out, the most relevant kept, and a ``… N more`` line says how many.
    """
    from rich.console import Group
    from rich.text import Text

    from roost_core.api import clean_line, clean_tree
    from roost_core.api import platform_header_line as header_line
    from .status import records_of, status_table

    probing = frame.meta.get("probing")
    title = (f"roost top · every {interval:g}s · updated {frame.meta['updated_at'][11:19]}Z · "
             + (f"probing {probing[0]}/{probing[1]} · " if probing else "") + "Ctrl+C to quit")
    head: list[Any] = [Text(title, style="bold", no_wrap=True, overflow="ellipsis")]
    line = header_line(frame.meta.get("platform_status"))
    if line:
        head.append(Text(line, style="yellow", no_wrap=True, overflow="ellipsis"))
    tail = [Text(clean_line(frame.meta["summary"], 0), no_wrap=True, overflow="ellipsis")]
    tail += [Text(clean_line(w), style="dim", no_wrap=True, overflow="ellipsis")
             for w in frame.warnings[-MAX_WARNINGS_SHOWN:]]
    rows = records_of(clean_tree(frame.data))
    width, hidden = None, 0
    if size is not None:
        width, height = size
        room = height - len(head) - len(tail) - TABLE_CHROME
        rows, hidden = fit_rows(rows, room, current_pick(ctx))
    parts = [*head, status_table(rows, ctx.now(), width)]
    if hidden:
        parts.append(Text(f"… {hidden} more (the current pick and unhealthy profiles first)", style="dim",
                          no_wrap=True, overflow="ellipsis"))
    return Group(*parts, *tail)


class StopOnInterrupt:
    """SIGINT handling for the loop: the first Ctrl+C asks to stop after this tick, the second stops now."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __enter__(self) -> "StopOnInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when asked to stop."""
        return self.event.wait(seconds)


def run_loop(tick: Callable[[], None], interval: float, iterations: int | None, stop: StopOnInterrupt) -> int:
    """Call ``tick`` every ``interval`` seconds until stopped; returns how many ticks ran."""
    done = 0
    while not stop.event.is_set():
        tick()
        done += 1
        if iterations is not None and done >= iterations:
            break
        if stop.wait(interval):
            break
    return done


def _console(ctx: "RoostContext", terminal: bool) -> Any:
    from rich.console import Console

    if terminal:
        return Console(file=ctx.out.stderr, no_color="NO_COLOR" in ctx.env, force_terminal=True,
                       highlight=False, emoji=False)
    try:
        width = int(ctx.env.get("COLUMNS", "")) or 120
    except ValueError:
        width = 120
    return Console(file=ctx.out.stderr, no_color=True, force_terminal=False, width=width,
                   highlight=False, emoji=False)


def run_live(ctx: "RoostContext", interval: float, iterations: int | None, platform: bool) -> None:
    from rich.live import Live

    console = _console(ctx, terminal=True)
    with StopOnInterrupt() as stop, Live(console=console, screen=True, auto_refresh=False,
                                         redirect_stdout=False, redirect_stderr=False) as live:
        def draw(frame: Frame) -> None:
            size = (console.size.width, console.size.height)
            live.update(render_frame(frame, ctx, interval, size), refresh=True)

        shown = cached_frame(ctx)
        draw(shown)  # at once, from the cache: probes fill the rows in as they land

        def tick() -> None:
            nonlocal shown
            shown = snapshot(ctx, platform, Landing(shown, draw, ctx))
            draw(shown)

        run_loop(tick, interval, iterations, stop)


def run_plain(ctx: "RoostContext", interval: float, iterations: int | None, platform: bool) -> None:
    console = None if ctx.out.json_mode else _console(ctx, terminal=False)

    def tick() -> None:
        frame = snapshot(ctx, platform)
        for warning in frame.warnings:
            ctx.out.say(warning)
        if console is None:
            ctx.out.emit(frame.data, frame.meta)
        else:
            console.print(render_frame(frame, ctx, interval))
            console.print()
            console.file.flush()

    with StopOnInterrupt() as stop:
        run_loop(tick, interval, iterations, stop)


def run_top(ctx: "RoostContext", interval: float, iterations: int | None, platform: bool) -> None:
    from roost_core.api import ValidationError

    if interval < MIN_INTERVAL_S:
        raise ValidationError(f"--interval must be at least {MIN_INTERVAL_S:g} seconds")
    terminal = not ctx.out.json_mode and ctx.out.stderr.isatty()
    try:
        (run_live if terminal else run_plain)(ctx, interval, iterations, platform)
    except KeyboardInterrupt:
        pass  # a second Ctrl+C: the Live context has already restored the terminal


def build_command():
    import click

    from roost_core.api import DURATION, json_option, pass_roost

    @click.command("top")
    @click.option("--interval", type=DURATION, default=2.0, show_default=True, metavar="SECONDS",
                  help="Seconds between redraws (probes still follow cache TTLs, budget and backoff).")
    @click.option("-n", "--iterations", type=click.IntRange(min=1), default=None, metavar="N",
                  help="Stop after N redraws (default: until Ctrl+C).")
    @click.option("--no-platform-status", is_flag=True, help="Skip the status.claude.com header.")
    @json_option
    @pass_roost
    def top_cmd(rctx: "RoostContext", interval: float, iterations: int | None, no_platform_status: bool) -> None:
        """Live-refreshing status table; Ctrl+C to exit (plain repeated output when not a terminal)."""
        run_top(rctx, interval, iterations, not no_platform_status)

    return top_cmd


@hookimpl
def roost_register_commands(cli: Any) -> None:
    cli.add_command(build_command())
