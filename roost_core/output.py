"""stdout is data, stderr is for people.

``Output`` writes the ``{data, meta}`` envelope (or plain lines) to stdout
and messages to stderr. It never imports rich: rich tables come from the
renderer plugins, which receive the same data the JSON mode prints.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Callable

from .errors import RoostError


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "__fspath__"):
        return os.fspath(obj)
    return str(obj)


def _no_tokens(text: str) -> str:
    """The last line of defence: a token in a message (click echoing a stray argument, a plugin's
    error) is cut to its last 4 characters before it reaches stdout or stderr."""
    if "sk-ant-" not in text:
        return text
    from .credentials import redact_token_shapes

    return redact_token_shapes(text)


def _for_people(text: str) -> str:
    """Text for a terminal: server and file strings in it lose escape sequences and control characters."""
    text = _no_tokens(text)
    if text.isascii() and all(c >= " " or c in "\n\t" for c in text) and "\x7f" not in text:
        return text
    from .textsafe import clean_text

    return clean_text(text, 0)


_INF = float("inf")


def dumps(payload: Any, ensure_ascii: bool = False) -> str:
    """The payload as one line of strict JSON: never NaN or Infinity, which strict parsers refuse.

    Readers drop non-finite numbers from files and servers; should one get
    through anyway, the payload is dumped again with null in its place (only
    then: the normal path costs one ``json.dumps``).
    """
    try:
        text = json.dumps(payload, default=_default, ensure_ascii=ensure_ascii, allow_nan=False)
    except ValueError:  # a NaN or an infinity (or a circular reference, which fails again below)
        text = json.dumps(_finite(payload, set()), default=_finite_default, ensure_ascii=ensure_ascii,
                          allow_nan=False)
    return text if text.isascii() else _escape_c1(text)


def _escape_c1(text: str) -> str:
    """C1 controls (U+0080-U+009F; U+009B is a CSI to some terminals) as \\u escapes: json escapes
    only C0, and JSON on a terminal must not steer it. They occur only inside strings, so the
    result is the same JSON."""
    import re

    return re.sub("[\x80-\x9f]", lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _finite(value: Any, path: set[int]) -> Any:
    """A copy of ``value`` with every NaN and infinity (values and keys) replaced by None."""
    if isinstance(value, float):
        return value if -_INF < value < _INF else None
    if not isinstance(value, (dict, list, tuple)) or id(value) in path:
        return value  # a cycle is left as it is: json says "Circular reference detected"
    path.add(id(value))
    try:
        if isinstance(value, dict):
            return {_finite(k, path) if isinstance(k, float) else k: _finite(v, path) for k, v in value.items()}
        return [_finite(item, path) for item in value]
    finally:
        path.discard(id(value))


def _finite_default(obj: Any) -> Any:
    return _finite(_default(obj), set())


@dataclass
class Output:
    json_mode: bool = False
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    quiet: bool = False
    # Callables adding run-wide fields to every envelope's meta (e.g. "degraded").
    meta_sources: list[Callable[[], dict[str, Any]]] = field(default_factory=list)
    warnings: int = 0  # how many warnings this run gave (the root help is remembered only without any)
    # Warnings already said on this stderr: a state file read several times in one run warns once.
    _said: set[str] = field(default_factory=set, repr=False)
    _said_to: Any = field(default=None, repr=False)

    def _meta(self, meta: dict[str, Any] | None) -> dict[str, Any]:
        merged = dict(meta or {})
        for source in self.meta_sources:
            merged.update(source())
        return merged

    def emit(self, data: Any, meta: dict[str, Any] | None = None, text: str | None = None,
             error: RoostError | None = None) -> None:
        """The command's result: the envelope in JSON mode, else ``text`` (if any) on stdout.

        ``error``: a run that produced its data and still failed (some of many
        profiles): the JSON envelope carries both (the caller says it on stderr in text mode).
        """
        if self.json_mode:
            payload: dict[str, Any] = {"data": data}
            if error is not None:
                payload["error"] = _error_body(error)
            payload["meta"] = self._meta(meta)
            self._write_json(payload)
        elif text is not None:
            text = _for_people(text)
            self._write(text if text.endswith("\n") or not text else text + "\n")
        self.stdout.flush()

    def error(self, err: RoostError, meta: dict[str, Any] | None = None) -> None:
        if self.json_mode:
            self._write_json({"error": _error_body(err), "meta": self._meta(meta)})
            self.stdout.flush()
        else:
            self.say(f"roost: error: {err.message}")

    def _write_json(self, payload: Any) -> None:
        """One JSON line; \\u escapes where stdout cannot encode a character (PYTHONIOENCODING=ascii)."""
        try:
            self.stdout.write(dumps(payload) + "\n")  # the text is encoded whole before any byte is written
        except UnicodeEncodeError:
            self.stdout.write(dumps(payload, ensure_ascii=True) + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stdout.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.stdout, "encoding", None) or "ascii"
            self.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def say(self, message: str) -> None:
        """A line for people on stderr."""
        self.stderr.write(_for_people(message).rstrip("\n") + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        self.warnings += 1
        if self.quiet:
            return
        if self._said_to is not self.stderr:  # top draws each tick's warnings from a fresh buffer
            self._said_to, self._said = self.stderr, set()
        if message not in self._said:
            self._said.add(message)
            self.say(f"roost: warning: {message}")


def _error_body(err: RoostError) -> dict[str, Any]:
    """An error as the envelope carries it: code, message, details."""
    return {"code": err.code, "message": _no_tokens(err.message), "details": err.details}
