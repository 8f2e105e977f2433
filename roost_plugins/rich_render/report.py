"""``roost report``'s table: "Usage report — <metric>" on stderr."""

from __future__ import annotations

from typing import Any

from .console import stderr_console


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _eta(row: dict[str, Any]) -> Any:
    from rich.text import Text

    projection = row["projection"] or {}
    label = projection.get("label", "—")
    style = {"reached": "red", "too_few_samples": "dim"}.get(projection.get("status", ""), "")
    return Text(label, style=style)


def render_report(data: list[dict[str, Any]], meta: dict[str, Any], ctx: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Usage report — {meta['metric']}", title_justify="left", box=box.SQUARE)
    table.add_column("Profile")
    for header in ("Samples", "Min", "Max", "Avg", "Latest"):
        table.add_column(header, justify="right")
    if meta.get("sparkline"):
        table.add_column("Trend", no_wrap=True)
    if meta.get("project"):
        table.add_column("ETA → 100%", justify="right", no_wrap=True)
    for row in data:
        cells: list[Any] = [row["profile"], str(row["samples"])]
        if row["samples"]:
            cells += [_pct(row["min"]), _pct(row["max"]), _pct(row["avg"]), _pct(row["latest"])]
        else:
            cells += [Text("no samples", style="dim"), "—", "—", "—"]
        if meta.get("sparkline"):
            cells.append(row["sparkline"] or "—")
        if meta.get("project"):
            cells.append(_eta(row))
        table.add_row(*cells)
    stderr_console(ctx).print(table)
