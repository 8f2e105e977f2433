"""``roost status`` / ``probe`` tables and ``roost show`` detail, drawn on stderr.

They receive exactly the data --json prints: a list of profile records (or
``{"profiles": [...]}``) with the status meta, and show's detail dict.
"""

from __future__ import annotations

from typing import Any

from roost_core.api import format_duration

from .console import health_style, stderr_console


def _epoch(iso: str | None) -> float | None:
    from roost_core.api import to_epoch

    return to_epoch(iso)


def until(iso: str | None, now: float) -> str:
    """``2h 14m`` from now (``due`` once passed, ``—`` when unknown)."""
    moment = _epoch(iso)
    if moment is None:
        return "—"
    return "due" if moment <= now else format_duration(moment - now)


def span(seconds: float) -> str:
    """One reset format for every row: ``45m``, ``2h 0m``, ``3d 4h`` (always both units from an hour up)."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m" if minutes else f"{int(seconds)}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def reset_in(iso: str | None, now: float) -> str:
    moment = _epoch(iso)
    if moment is None:
        return "—"
    return "due" if moment <= now else span(moment - now)


def pct(value: float | None) -> Any:
    from rich.text import Text

    if value is None:
        return Text("—", style="dim")
    style = "red" if value >= 100 else "yellow" if value >= 80 else ""
    return Text(f"{value:.0f}%", style=style)


def health_cell(record: dict[str, Any], now: float) -> Any:
    from rich.text import Text

    text = Text(record["health"], style=health_style(record["health"]))
    checked = _epoch(record.get("checked_at"))
    if record.get("stale") and checked is not None:
        text.append(f" (stale {format_duration(now - checked)})", style="dim")
    elif record.get("stale"):
        text.append(" (stale)", style="dim")
    return text


def resets_cell(record: dict[str, Any], now: float) -> str:
    health = record["health"]
    if health == "rate_limited" and record.get("next_probe_at"):
        return f"next probe in {until(record['next_probe_at'], now)}"
    if health == "rate_limited" and record.get("retry_after_s") is not None:
        checked = _epoch(record.get("checked_at")) or now
        return f"retry in {format_duration(max(0.0, checked + record['retry_after_s'] - now))}"
    if health == "session_limit":
        return f"session in {reset_in(record.get('session_resets_at'), now)}"
    if health == "weekly_limit":
        return f"weekly in {reset_in(record.get('weekly_resets_at'), now)}"
    if health in ("auth_dead", "auth_expired"):
        from roost_core.api import needs_login

        return "claude login" if needs_login(health, record.get("error")) else "roost refresh"
    if health == "network_error":
        return network_cell(record, now)
    session, weekly = record.get("session_resets_at"), record.get("weekly_resets_at")
    if session is None and weekly is None:
        return "—"
    return f"{reset_in(session, now)} / {reset_in(weekly, now)}"


def network_cell(record: dict[str, Any], now: float) -> str:
    """Why the probe failed and when the backoff lets roost ask again: ``timeout · retry in 45s``."""
    head, _, rest = str(record.get("error") or "network error").partition(":")
    reason = rest.strip() if head.strip() == "network error" and rest.strip() else head.strip() or "network error"
    moment = _epoch(record.get("valid_until"))
    if moment is None:
        return reason
    return f"{reason} · retry {'now' if moment <= now else 'in ' + format_duration(moment - now)}"


def overage_cell(record: dict[str, Any]) -> Any:
    from rich.text import Text

    if record.get("overage_enabled") is False:
        return Text("off", style="dim")
    return pct(record.get("overage_pct")) if record.get("overage_enabled") else Text("—", style="dim")


def records_of(data: Any) -> list[dict[str, Any]]:
    return list(data.get("profiles", [])) if isinstance(data, dict) else list(data)


# Below this many columns the table drops Plan, shortens its headers and loses its vertical rules (80 fit).
WIDE_AT = 100
NUMERIC = ("Session", "Weekly", "Overage", "5h", "7d", "Over")


def status_table(records: list[dict[str, Any]], now: float, width: int | None = None) -> Any:
    """The status table; rows never wrap (a cell too long for ``width`` ends in an ellipsis)."""
    from rich import box
    from rich.table import Table

    overage = any(r.get("overage_enabled") for r in records)
    wide = width is None or width >= WIDE_AT
    if wide:
        table = Table(box=box.SQUARE)
        headers = ("Profile", "Plan", "Health", "Session", "Weekly", *(["Overage"] if overage else []),
                   "Resets (5h / 7d)", "Source")
    else:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        headers = ("Profile", "Health", "5h", "7d", *(["Over"] if overage else []), "Resets 5h / 7d", "Source")
    rows = []
    for record in records:
        row = [record["name"], *([record.get("plan") or "—"] if wide else []), health_cell(record, now),
               pct(record.get("session_pct")), pct(record.get("weekly_pct"))]
        if overage:
            row.append(overage_cell(record))
        row.append(resets_cell(record, now))
        row.append(source_cell(record, now))
        rows.append(row)
    overhead = 3 * len(headers) + 1 if wide else 3 * (len(headers) - 1)  # borders/dividers and padding
    limits = _fitted_widths(headers, rows, None if width is None else width - overhead)
    for header, limit in zip(headers, limits):
        table.add_column(header, justify="right" if header in NUMERIC else "left", no_wrap=True,
                         overflow="ellipsis", max_width=limit)
    for row in rows:
        table.add_row(*row)
    return table


FLOOR = 6  # a shortened name or reason keeps at least this many cells


def _fitted_widths(headers: tuple[str, ...], rows: list[list[Any]], room: int | None) -> list[int | None]:
    """Max widths that fit ``room``: the widest of the names, plans, healths and resets give way
    first; figures and the source's age are never cut short. None: as wide as it needs."""
    from rich.cells import cell_len

    widths = [max([cell_len(header), *(cell_len(str(row[i])) for row in rows)]) for i, header in enumerate(headers)]
    limits: list[int | None] = [None] * len(headers)
    flexible = [i for i, header in enumerate(headers) if header not in NUMERIC and header != "Source"]
    excess = 0 if room is None else sum(widths) - room
    while excess > 0:
        widest = max(flexible, key=lambda i: widths[i])
        if widths[widest] <= FLOOR:
            break  # nothing left to give: rich shortens every column evenly
        widths[widest] -= 1
        limits[widest] = widths[widest]
        excess -= 1
    return limits


def source_cell(record: dict[str, Any], now: float) -> str:
    """Which evidence the row stands on and its age: ``statusline 12s``, ``cache 3m``."""
    source = str(record.get("source") or "—")
    seen = _epoch(record.get("observed_at") or record.get("checked_at"))
    return f"{source} {format_duration(max(0.0, now - seen))}" if seen is not None else source


def render_status(data: Any, meta: dict[str, Any], ctx: Any) -> None:
    from roost_core.api import platform_header_line as header_line

    console = stderr_console(ctx)
    line = header_line(meta.get("platform_status"))
    if line:
        console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)
    console.print(status_table(records_of(data), ctx.now(), console.width))


def _row(grid: Any, label: str, value: Any) -> None:
    grid.add_row(label, value if value not in (None, "") else "—")


def _usage_rows(grid: Any, data: dict[str, Any], now: float) -> None:
    _row(grid, "Session (5h)", f"{_num(data.get('session_pct'))}  resets in {until(data.get('session_resets_at'), now)}")
    _row(grid, "Weekly (7d)", f"{_num(data.get('weekly_pct'))}  resets in {until(data.get('weekly_resets_at'), now)}")
    _row(grid, "Sonnet (7d)", _num(data.get("sonnet_pct")))
    _row(grid, "Opus (7d)", _num(data.get("opus_pct")))
    block = data.get("overage")
    if isinstance(block, dict):
        state = "enabled" if block.get("is_enabled") else "disabled"
        reason = f" ({block['disabled_reason']})" if block.get("disabled_reason") else ""
        spent = _spent(block)
        _row(grid, "Overage", f"{state}{reason}  {_num(data.get('overage_pct'))}" + (f"  {spent}" if spent else ""))
    else:
        _row(grid, "Overage", "no data")


def _money(value: Any) -> str | None:
    """Minor units (cents) as the amount: 1250 -> "12.50"; None when not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        return None
    return f"{value / 100:,.2f}"


def _spent(block: dict[str, Any]) -> str:
    """``spent 12.50 of 50.00 USD`` from extra_usage's minor units; what is known of it, or ""."""
    used, limit = _money(block.get("used_credits")), _money(block.get("monthly_limit"))
    currency = f" {block['currency']}" if isinstance(block.get("currency"), str) and block["currency"] else ""
    if used is not None:
        return f"spent {used}" + (f" of {limit}" if limit is not None else "") + currency
    return f"limit {limit}{currency}" if limit is not None else ""


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:g}%"


def _model_limits(limits: list[dict[str, Any]], now: float) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title="Model-scoped limits", title_justify="left", box=box.SQUARE)
    for header in ("Model", "Used", "Resets in", "Binding"):
        table.add_column(header)
    for limit in limits:  # "percent"/"is_active": records cached before 2026-12
        active = limit.get("active", limit.get("is_active"))
        table.add_row(str(limit.get("model")), _num(limit.get("pct", limit.get("percent"))),
                      until(limit.get("resets_at"), now), "yes" if active else "")
    return table


_PROBE_SOURCES = ("probe", "cache", "local")


def _account_cell(data: dict[str, Any]) -> str | None:
    """The signed-in account (email, else its uuid) and the profiles that share its quota."""
    account = data.get("account") or {}
    who = data.get("email") or account.get("account_uuid")
    if not who:
        return None
    shared = data.get("shares_quota_with") or []
    return who + (f" (one account with {', '.join(shared)}: one quota)" if shared else "")


def render_show(data: dict[str, Any], meta: dict[str, Any], ctx: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    console, now = stderr_console(ctx), ctx.now()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    _row(grid, "Profile", data["name"])
    _row(grid, "Health", health_cell(data, now))
    _row(grid, "Error", data.get("error"))
    _row(grid, "Plan", data.get("plan"))
    _row(grid, "Account", _account_cell(data))
    _row(grid, "Token expires", f"{data.get('expires_at') or '—'} (in {until(data.get('expires_at'), now)})")
    cache = data.get("cache") or {}
    age = cache.get("age_s")
    _row(grid, "Checked", f"{data.get('checked_at') or 'never'}" + (f" ({format_duration(age)} ago, "
                                                                   f"{data.get('source')})" if age is not None else ""))
    _row(grid, "Evidence", data.get("evidence"))
    _row(grid, "Valid until", data.get("valid_until") or ("until the file changes" if data.get("checked_at") else None))
    if data.get("last_good_at"):
        _row(grid, "Figures from", f"{data['last_good_at']} (last good reading; stale)")
    if data.get("next_probe_at"):
        _row(grid, "Next probe", f"{data['next_probe_at']} (in {until(data['next_probe_at'], now)}; "
                                 "usage endpoint 429, --force overrides)")
    _usage_rows(grid, data, now)
    binding = data.get("binding_limit")
    if isinstance(binding, dict):
        model = f" ({binding['model']})" if binding.get("model") else ""
        _row(grid, "Binding limit", f"{binding.get('kind') or 'limit'}{model} {_num(binding.get('pct'))}"
                                    f"  resets in {until(binding.get('resets_at'), now)}")
    budget = cache.get("budget") or {}
    if budget:
        _row(grid, "Probe budget", f"{budget.get('used')}/{budget.get('limit')} in the last hour")
    if cache.get("backoff"):
        _row(grid, "Backoff", f"{cache['backoff']} network error(s) in a row")
    creds = data.get("credentials") or {}
    if creds.get("problem"):
        _row(grid, "Credentials", Text(creds["problem"], style="red"))
    console.print(grid)
    if data.get("model_limits"):
        console.print(_model_limits(data["model_limits"], now))
    if data.get("reasons"):
        # A passive reading decided: the cached probe's reasons are history, not why (Evidence says why).
        label = "Why: " if data.get("source") in _PROBE_SOURCES else "Last probe said: "
        console.print(Text(label + "; ".join(data["reasons"]), style="dim"))
