"""Rich renderers for every human view (tables on stderr).

One module per view; ``VIEWS`` maps a view name to ``module:function`` and is
imported only when that view is drawn, so rich is never imported on the hot
path. A view function has the signature ``render(data, meta, ctx)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from roost_core.api import hookimpl

VIEWS: dict[str, str] = {
    "status": "roost_plugins.rich_render.status:render_status",
    "show": "roost_plugins.rich_render.status:render_show",
    "probe": "roost_plugins.rich_render.status:render_status",
    "explain": "roost_plugins.rich_render.explain:render_explain",
    "trace": "roost_plugins.rich_render.trace:render_trace",
    "report": "roost_plugins.rich_render.report:render_report",
    "history": "roost_plugins.rich_render.history:render_history",
    "stats": "roost_plugins.rich_render.history:render_stats",
    "doctor": "roost_plugins.rich_render.doctor:render_doctor",
    "progress": "roost_plugins.rich_render.progress:render_progress",
}


class RichRenderer:
    name = "rich"
    formats = frozenset({"text"})
    views = frozenset(VIEWS)

    def render(self, view: str, data: Any, meta: dict[str, Any], ctx: Any) -> Any:
        module, _, func = VIEWS[view].partition(":")
        return getattr(importlib.import_module(module), func)(data, meta, ctx)  # progress: a live handle


@hookimpl
def roost_register_renderers():
    return RichRenderer()
