"""``roost doctor`` as a rich table on stderr: one row per finding, worst first in colour."""

from __future__ import annotations

from typing import Any

from .console import stderr_console

BADGES = {"ok": ("✓ ok", "green"), "warn": ("! warn", "yellow"), "fail": ("✗ FAIL", "bold red"),
          "skip": ("- skip", "dim")}


def render_doctor(data: list[dict[str, Any]], meta: dict[str, Any], ctx: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = stderr_console(ctx)
    table = Table(title="roost doctor", title_justify="left", box=box.SQUARE)
    table.add_column("Result", no_wrap=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Finding", overflow="fold")
    for row in data:
        badge, style = BADGES.get(row["level"], (row["level"], ""))
        table.add_row(Text(badge, style=style), Text(row["name"]), Text(row["message"]))
    console.print(table)
    skipped = "network checks skipped (--skip-network)" if meta.get("skip_network") else ""
    if not ctx.out.stdout.isatty():  # stdout carries the summary line: one rendering of it, not two
        if skipped:
            console.print(Text(skipped[0].upper() + skipped[1:]))
        return
    console.print(Text(f"{meta.get('ok', 0)} ok, {meta.get('warn', 0)} warn, {meta.get('fail', 0)} fail, "
                       f"{meta.get('skip', 0)} skipped" + (f"; {skipped}" if skipped else "")))
