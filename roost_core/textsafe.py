"""One sanitiser for text roost did not write itself (servers, files, plugins).

Applied where text is drawn for people (Output's text and stderr lines, every
renderer's data, the status header), never to ``--json`` output, which keeps
the data as received (JSON escapes it). It removes terminal escape sequences
(CSI, OSC such as a window-title change, DCS/PM/APC/SOS strings, two-byte ESC
forms, and their 8-bit C1 spellings), the remaining C0/C1 control characters
and the bidi overrides that reorder what a reader sees, then bounds the length
with an ellipsis.
"""

from __future__ import annotations

import re
from typing import Any

ELLIPSIS = "…"
LINE_LIMIT = 200  # one field on one line (a name, a description, a message)
TEXT_LIMIT = 4096  # one field drawn on its own, possibly on several lines (a body, a reason)

_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI ... final byte (clear screen, cursor moves, colours)
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC/DCS/SOS/PM/APC strings
    r"|\x1b[ -/]*[0-~]?"  # other ESC forms (ESC c reset, ESC ( B charset, a lone ESC)
)
_KEEP_LAYOUT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACING = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def bound(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was cut."""
    if limit <= 0 or len(text) <= limit:
        return text
    return text[:limit - 1] + ELLIPSIS


def clean_line(value: Any, limit: int = LINE_LIMIT) -> str:
    """One line safe for a terminal: no escapes, controls or line breaks, at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    text = _SEQUENCES.sub("", bound(text, limit * 4) if limit > 0 else text)
    return bound(_ONE_LINE.sub("", text.translate(_SPACING)), limit)


def clean_text(value: Any, limit: int = TEXT_LIMIT) -> str:
    """Like ``clean_line`` but keeps newlines and tabs (a body, a table, a multi-line message)."""
    text = value if isinstance(value, str) else str(value)
    text = _SEQUENCES.sub("", bound(text, limit * 4) if limit > 0 else text)
    return bound(_KEEP_LAYOUT.sub("", text.replace("\r\n", "\n")), limit)


def clean_tree(value: Any, limit: int = TEXT_LIMIT) -> Any:
    """``value`` with every string in it (dict keys too) passed through ``clean_text``; for renderers."""
    if isinstance(value, str):
        return clean_text(value, limit) if _needs_cleaning(value, limit) else value
    if isinstance(value, dict):
        return {clean_tree(k, limit) if isinstance(k, str) else k: clean_tree(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_tree(v, limit) for v in value) if isinstance(value, list) else tuple(
            clean_tree(v, limit) for v in value)
    return value


def _needs_cleaning(text: str, limit: int) -> bool:
    return len(text) > limit or _KEEP_LAYOUT.search(text) is not None or "\x1b" in text
