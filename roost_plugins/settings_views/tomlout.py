"""Settings as TOML text: what ``roost config`` prints (``tomllib`` reads it back).

Only the value shapes a setting can have (strings, numbers, booleans,
lists, tables); an unset value becomes a commented line, never ``None``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else value(name)


def value(obj: Any) -> str:
    """One TOML value (inline tables for mappings); ValueError for what TOML cannot hold."""
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError("NaN and infinity are not settings")
        return repr(obj)
    if isinstance(obj, str):
        return _string(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(value(v) for v in obj) + "]"
    if isinstance(obj, dict):
        return "{ " + ", ".join(f"{key(str(k))} = {value(v)}" for k, v in obj.items()) + " }" if obj else "{}"
    return value(str(obj))


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    """A TOML basic string in ASCII (stdout may not be UTF-8): ``\\uXXXX``, or ``\\UXXXXXXXX`` past the BMP
    (TOML has no surrogate pairs). A lone surrogate (an undecodable byte of the environment) is a
    character no TOML string can hold: shown as U+FFFD."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    """Text safe in a TOML comment (no control character may end it early): ASCII, escapes elsewhere."""
    return "".join(char if 0x20 <= ord(char) < 0x7F or char == "\t" else _string(char)[1:-1] for char in text)


def _parts(section: "str | tuple[str, ...] | None") -> tuple[str, ...]:
    if section is None:
        return ()
    return tuple(section) if isinstance(section, tuple) else tuple(p for p in section.split(".") if p)


def _header(parts: tuple[str, ...]) -> str:
    return ".".join("*" if part == "*" else key(part) for part in parts)


def document(rows: Iterable[tuple["str | tuple[str, ...] | None", str, Any, str]], header: list[str]) -> str:
    """``rows`` of (section, name, value, comment) as a TOML document, top-level keys first.

    A section is a dotted string or a tuple of parts (a part may hold dots:
    ``("profiles", "a.b")`` is ``[profiles."a.b"]``). A None value is written
    commented out (``# name = (unset)``); so is a per-name setting's default
    (a ``*`` part), in the table above it: ``# [profiles.*] isolated = false``.
    """
    top: list[str] = []
    by_section: dict[tuple[str, ...], list[str]] = {}
    for section, name, val, comment in rows:
        parts = _parts(section)
        shown = "(unset)" if val is None else value(val)
        if "*" in parts:
            line = f"# [{_header(parts)}] {key(name)} = {shown}"
            parts = parts[:parts.index("*")]
        else:
            line = f"# {key(name)} = (unset)" if val is None else f"{key(name)} = {shown}"
        into = top if not parts else by_section.setdefault(parts, [])
        into.append(f"{line}  # {_comment(comment)}" if comment else line)
    out = [f"# {_comment(line)}" for line in header]
    out.extend(top)
    for parts, lines in sorted(by_section.items(), key=lambda item: (item[0] != ("endpoints",), item[0])):
        out.extend(["", f"[{_header(parts)}]", *lines])
    return "\n".join(out) + "\n"
