"""Tokens hidden in server text: escaped, split or base64-encoded copies, found and cut.

A hostile or buggy server can echo the bearer token in forms a plain search
misses: JSON-escaped (``"\\u0073k-ant-oat01-..."``, whole again once the body
is parsed), cut into pieces by spaces or line breaks, or base64-encoded. This
module finds those forms for the tokens roost knows (and, after decoding, for
anything shaped like a token) and leaves at most the last 4 characters.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
from typing import Any, Callable

PIECE = 8  # a run of this many characters of a secret counts as a copy (the leak scan's slice)
MIN_DISTINCT = 4  # different characters a gram needs to count (random tokens always have them)
STRIDE = 4  # grams looked for first: copies of PIECE + STRIDE - 1 (11) characters or more are found
MASK = "…"
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.){0,65536}"')
_NOT_TOKEN_CHAR = re.compile(r"[^A-Za-z0-9_-]")  # one character; .sub drops every one
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]+")


def scrub_decoded(text: str, secrets: tuple[str, ...], plain: Callable[[str], str]) -> str:
    """``text`` after ``plain`` (which cuts literal copies), with the hidden forms cut too."""
    text = plain(text)
    if "\\" in text:
        text = _scrub_json_literals(text, plain)
    for secret in secrets:
        body = _secret_body(secret or "")
        if len(body) >= 2 * PIECE:
            text = _scrub_base64(text, body)
            text = _scrub_pieces(text, body)
    return text


def _secret_body(secret: str) -> str:
    """The random part of a token: ``sk-ant-oat01-`` is public and may be named in any message."""
    if secret.startswith("sk-ant-") and secret.count("-") >= 3:
        return secret.split("-", 3)[3]
    return secret


def scrub_tree(value: Any, scrub: Callable[[str], str]) -> Any:
    """A parsed document with ``scrub`` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_tree(k, scrub) if isinstance(k, str) else k: scrub_tree(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_tree(v, scrub) for v in value]
    return value


def _scrub_json_literals(text: str, plain: Callable[[str], str]) -> str:
    """Each JSON string literal with an escape in it is decoded, scrubbed, and re-encoded when it changed."""

    def one(match: re.Match) -> str:
        literal = match.group(0)
        if "\\" not in literal:
            return literal
        try:
            decoded = json.loads(literal)
        except ValueError:
            return literal
        cleaned = plain(decoded)
        return literal if cleaned == decoded else json.dumps(cleaned, ensure_ascii=False)

    return _JSON_STRING.sub(one, text)


def _base64_cores(secret: str) -> set[str]:
    """Substrings every base64/base64url encoding of a text holding ``secret`` contains, whatever its offset."""
    cores = set()
    raw = secret.encode()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        start = (offset * 4 + 2) // 3 + 1  # past the characters the unknown prefix touches
        end = len(encoded) - 4  # before the last group, which the unknown suffix touches
        core = encoded[start:end]
        if len(core) >= PIECE:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def _scrub_base64(text: str, secret: str) -> str:
    for core in _base64_cores(secret):
        if core in text:
            text = text.replace(core, MASK)
    return text


def _scrub_pieces(text: str, secret: str) -> str:
    """Runs of ``PIECE`` or more characters of ``secret``, even with separators between them, cut.

    Grams with fewer than MIN_DISTINCT different characters are ignored: a run like
    ``xxxxxxxx`` in a low-entropy secret would match padding, and says nothing.
    """
    grams = {g for g in (secret[i:i + PIECE] for i in range(len(secret) - PIECE + 1)) if len(set(g)) >= MIN_DISTINCT}
    aligned = [secret[i:i + PIECE] for i in range(0, len(secret) - PIECE + 1, STRIDE)]
    squeezed = _NOT_TOKEN_CHAR.sub("", text)
    # The common case, decided in C: a copy of PIECE + STRIDE - 1 (11) characters or more holds one
    # of these few aligned grams, so a 1 MiB body costs milliseconds, not a probe's deadline.
    if not any(g in squeezed for g in aligned if g in grams):
        return text
    spans = []
    for gram in grams:
        at = squeezed.find(gram)
        while at != -1:
            spans.append((at, at + PIECE))
            at = squeezed.find(gram, at + 1)
    merged: list[list[int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    # Map positions in the squeezed view back to the text: the view is its token-character runs.
    runs = [(m.start(), m.end()) for m in _TOKEN_RUN.finditer(text)]
    view_starts, total = [], 0
    for begin, end in runs:
        view_starts.append(total)
        total += end - begin

    def original(view_index: int) -> int:
        k = bisect.bisect_right(view_starts, view_index) - 1
        return runs[k][0] + (view_index - view_starts[k])

    out, last = [], 0
    for begin, end in merged:
        cut_from, cut_to = original(begin), original(end - 1) + 1
        out += [text[last:cut_from], MASK]
        last = cut_to
    out.append(text[last:])
    return "".join(out)
