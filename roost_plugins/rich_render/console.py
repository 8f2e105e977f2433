"""The stderr console every rich view draws on (NO_COLOR and non-tty give plain output)."""

from __future__ import annotations

from typing import Any


def stderr_console(ctx: Any):
    from rich.console import Console

    stream = ctx.out.stderr
    no_color = "NO_COLOR" in ctx.env or not stream.isatty()
    width = None
    try:
        width = int(ctx.env.get("COLUMNS", "")) or None
    except ValueError:
        width = None
    return Console(file=stream, no_color=no_color, highlight=False, soft_wrap=False,
                   force_terminal=None if not no_color else False, width=width or (None if stream.isatty() else 120),
                   emoji=False, legacy_windows=False)


def health_style(health: str) -> str:
    return {"ok": "green", "rate_limited": "yellow", "session_limit": "yellow", "weekly_limit": "red",
            "auth_expired": "magenta", "auth_dead": "red bold", "network_error": "yellow",
            "unknown": "dim"}.get(health, "")
