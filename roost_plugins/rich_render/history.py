"""``roost history`` and ``roost stats`` as rich tables on stderr."""

from __future__ import annotations

from typing import Any

from roost_core.api import format_duration

from .console import stderr_console


def _when(ts: str | None) -> str:
    """``2025-10-09T12:00:01.123Z`` → ``2025-10-09 12:00:01Z`` (UTC, to the second)."""
    if not ts:
        return "—"
    return ts.replace("T", " ")[:19] + "Z"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}s" if value < 60 else format_duration(value)


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def render_history(data: list[dict[str, Any]], meta: dict[str, Any], ctx: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown, matched = meta.get("count", len(data)), meta.get("matched", len(data))
    title = f"History — last {shown} of {matched} event{'s' if matched != 1 else ''}"
    table = Table(title=title, title_justify="left", box=box.SQUARE)
    for header in ("Time (UTC)", "Event", "Profile", "Strategy", "RC", "Duration", "Command", "Note"):
        table.add_column(header, overflow="fold", justify="right" if header in ("RC", "Duration") else "left")
    for row in data:
        rc = row.get("rc")
        rc_text = Text("—" if rc is None else str(rc), style="" if not rc else "red")
        table.add_row(_when(row.get("ts")), row.get("event", ""), row.get("profile", ""),
                      row.get("strategy") or "—", rc_text, _seconds(row.get("duration_s")),
                      row.get("argv0") or "", row.get("note") or "")
    stderr_console(ctx).print(table)


def render_stats(data: dict[str, Any], meta: dict[str, Any], ctx: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title="picks.log stats", title_justify="left", box=box.SQUARE, show_footer=True)
    columns = ("Profile", "Picks", "Execs", "Failures", "Fail rate", "p50", "p95", "Last event (UTC)")
    picks, execs = data["pick"], data["exec"]
    footer = ("all", str(picks["total"]), str(execs["total"]), str(execs["failures"]),
              _percent(execs["failure_rate"]), _seconds(execs["p50_s"]), _seconds(execs["p95_s"]),
              _when(data["window_end"]))
    for header, foot in zip(columns, footer):
        table.add_column(header, footer=foot, justify="left" if header in ("Profile", "Last event (UTC)") else "right")
    for row in data["profiles"]:
        failures = Text(str(row["failures"]), style="red" if row["failures"] else "")
        name = Text(row["label"], style="dim") if row.get("label") else row["profile"]  # "(none)"
        table.add_row(name, str(row["picks"]), str(row["execs"]), failures,
                      _percent(row["failure_rate"]), _seconds(row["p50_s"]),
                      _seconds(row["p95_s"]), _when(row["last_ts"]))
    console = stderr_console(ctx)
    console.print(table)
    others = {k: v for k, v in data["by_event"].items() if k not in ("pick", "exec")}
    if others:
        console.print(Text("Other events: " + ", ".join(f"{k} {v}" for k, v in others.items())))
    if meta.get("skipped_lines"):
        console.print(Text(f"{meta['skipped_lines']} unreadable line(s) in picks.log were skipped.", style="dim"))
