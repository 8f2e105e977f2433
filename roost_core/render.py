"""Route a view to a renderer plugin, with a plain-text fallback.

Commands build the same data for --json and for people; for people they ask
here for a renderer of (format, view). The core never imports rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    from .context import RoostContext


def find_renderer(ctx: "RoostContext", view: str, fmt: str = "text") -> Any | None:
    for renderer in ctx.host.registry("renderer").values():
        if fmt in renderer.formats and view in renderer.views:
            return renderer
    return None


def render(ctx: "RoostContext", view: str, data: Any, meta: dict[str, Any], fmt: str = "text") -> bool:
    """Draw ``view``; False when no renderer handles it (the caller prints plain text)."""
    renderer = find_renderer(ctx, view, fmt)
    if renderer is None:
        if fmt != "text":
            raise ValidationError(f"no renderer for --format {fmt} of {view}")
        return False
    from .textsafe import clean_tree

    # Data holds server and file strings: no escape sequence or control character reaches a terminal.
    renderer.render(view, clean_tree(data), clean_tree(meta), ctx)
    return True


def formats_for(ctx: "RoostContext", view: str) -> list[str]:
    return sorted({f for r in ctx.host.registry("renderer").values() if view in r.views for f in r.formats})


def plain_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A dependency-free aligned table (used when no renderer plugin is loaded)."""
    from .textsafe import clean_line

    cells = [[clean_line("—" if v is None else v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
