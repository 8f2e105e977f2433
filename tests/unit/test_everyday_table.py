"""The status table's fit (80 columns, no wrapped row) and top's row budget (issue #18 points 2-3)."""

from __future__ import annotations

import io
import time
from datetime import datetime, timezone

from rich.console import Console

from roost_plugins.rich_render.status import span, status_table
from roost_plugins.rich_render.top import fit_rows

NOW = time.time()


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(NOW + seconds, timezone.utc).isoformat()


def row(name: str, health: str = "ok", **extra) -> dict:
    return {"name": name, "plan": "max", "health": health, "session_pct": 37.0, "weekly_pct": 100.0,
            "overage_enabled": True, "overage_pct": 25.0, "session_resets_at": iso(2 * 3600 + 630),
            "weekly_resets_at": iso(3 * 86400 + 4 * 3600 + 30), "source": "statusline", "checked_at": iso(-754),
            "observed_at": iso(-754), "stale": True, **extra}


def draw(records: list[dict], width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, force_terminal=False).print(status_table(records, NOW, width))
    return out.getvalue().splitlines()


def test_every_row_is_one_line_within_80_columns_even_with_long_names():
    records = [row("a-very-long-profile-name-for-the-team-account-number-%02d" % i) for i in range(5)]
    records.append(row("net", "network_error", error="network error: connection refused", valid_until=iso(45)))
    for width in (80, 99, 100, 120):
        lines = draw(records, width)
        assert all(len(line) <= width for line in lines), (width, lines)
        # Header and rules (4 boxed, 2 compact) plus exactly one line per record: nothing wrapped.
        assert len(lines) == len(records) + (4 if width >= 100 else 2), (width, lines)
        assert any("…" in line for line in lines) or width >= 120  # too-long names end in an ellipsis


def test_figures_and_the_source_age_are_never_cut_short():
    """Names, healths and resets give way first: at 80 columns with an Overage column every percentage
    and every ``statusline 12m`` is still whole."""
    records = [row("a-very-long-name-%d" % i) for i in range(8)]
    records.append(row("net", "network_error", error="network error: connection refused", valid_until=iso(45)))
    for width in (80, 100):
        text = "\n".join(draw(records, width))
        assert text.count("37%") == 9 and text.count("100%") == 9 and text.count("25%") == 9, text
        assert text.count("statusline 12m") == 9, text


def test_one_reset_format():
    assert [span(s) for s in (30, 45 * 60, 2 * 3600, 2 * 3600 + 600, 3 * 86400, 3 * 86400 + 4 * 3600)] == \
        ["30s", "45m", "2h 0m", "2h 10m", "3d 0h", "3d 4h"]


def test_top_keeps_the_current_pick_and_the_unhealthy_rows_first():
    rows = [{"name": f"p{i:02d}", "health": "ok"} for i in range(30)]
    rows[25]["health"] = "weekly_limit"
    rows[7]["health"] = "auth_dead"
    shown, hidden = fit_rows(rows, 6, pick="p29")
    assert [r["name"] for r in shown] == ["p29", "p07", "p25", "p00", "p01"] and hidden == 25
    assert fit_rows(rows, 40, pick="p29") == (rows, 0)  # everything fits: the usual order
