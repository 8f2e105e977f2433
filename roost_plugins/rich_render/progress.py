"""The ``progress`` view: a transient spinner and bar on stderr ("probing 12/50").

Drawn only on a terminal (the caller checks); NO_COLOR keeps the text and
the bar (drawn in characters alone) and drops the colour. ``render_progress`` returns a handle the probe engine
updates as probes land and stops when the batch ends (the line is erased).
"""

from __future__ import annotations

from typing import Any


BAR_WIDTH = 24


def track(done: int, total: int) -> str:
    """The bar as characters alone (NO_COLOR): ``━━━━────``."""
    filled = BAR_WIDTH * done // total if total else 0
    return "━" * filled + "─" * (BAR_WIDTH - filled)


class LiveProgress:
    def __init__(self, state: dict[str, Any], ctx: Any) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        no_color = "NO_COLOR" in ctx.env
        console = Console(file=ctx.out.stderr, no_color=no_color, force_terminal=True, highlight=False, emoji=False)
        # Without colour rich draws only the done part of its bar: the track is a colour. Draw both.
        bar = TextColumn("{task.fields[track]}") if no_color else BarColumn(bar_width=BAR_WIDTH)
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description} {task.completed}/{task.total}"),
                                  bar, TimeElapsedColumn(), console=console, transient=True,
                                  redirect_stdout=False, redirect_stderr=False, refresh_per_second=10)
        self._task = self._progress.add_task(state["label"], total=state["total"], completed=state["done"],
                                             track=track(state["done"], state["total"]))
        self._progress.start()

    def update(self, state: dict[str, Any]) -> None:
        self._progress.update(self._task, completed=state["done"], total=state["total"],
                              track=track(state["done"], state["total"]))

    def stop(self) -> None:
        self._progress.stop()


def render_progress(state: dict[str, Any], meta: dict[str, Any], ctx: Any) -> LiveProgress:
    return LiveProgress(state, ctx)
