"""The pick decision tree (``pick --explain``) as a rich table on stderr, then the rationale."""

from __future__ import annotations

from typing import Any

from roost_core.api import explain_cell

from .console import stderr_console

STATUS_STYLE = {"chosen": "bold green", "candidate": "", "excluded": "dim"}


def render_explain(data: dict[str, Any], meta: dict[str, Any], ctx: Any) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = stderr_console(ctx)
    table = Table(title=f"Pick decision (strategy={data['strategy']})", title_justify="left",
                  box=box.SQUARE, show_lines=False)
    for header in ("Profile", "Status", "Score / why"):
        table.add_column(header, overflow="fold")
    for row in data["rows"]:
        status = "◀ chosen" if row["status"] == "chosen" else row["status"]
        style = STATUS_STYLE.get(row["status"], "")
        table.add_row(Text(row["profile"], style=style), Text(status, style=style), Text(explain_cell(row)))
    console.print(table)
    console.print(Text(f"Rationale: {data['rationale']}"))
