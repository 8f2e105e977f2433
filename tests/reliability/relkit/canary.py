"""Canary tokens and the leak scanner (F16, G10).

A canary is a token with a random body after the public ``sk-ant-oat01-`` /
``sk-ant-ort01-`` prefix. A leak is any 8-character slice of a body found in
text roost produced (the last 4 characters, roost's redaction, are shorter
than a slice). The public prefixes are not secret and are not scanned.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

SLICE = 8
PREFIXES = ("sk-ant-oat01-", "sk-ant-ort01-")
MAX_SCAN_BYTES = 4 << 20


def new_token(kind: str) -> str:
    prefix = PREFIXES[0] if kind == "access" else PREFIXES[1]
    return prefix + secrets.token_urlsafe(30)


def secret_body(token: str) -> str:
    for prefix in PREFIXES:
        if token.startswith(prefix):
            return token[len(prefix):]
    return token


@dataclass
class Hit:
    where: str
    slice: str

    def __str__(self) -> str:
        return f"{self.where}: …{self.slice}…"


@dataclass
class Scanner:
    """Collects secrets and scans text, files and trees for slices of them."""

    slices: set[str] = field(default_factory=set)
    scanned_texts: int = 0
    scanned_files: int = 0
    hits: list[Hit] = field(default_factory=list)

    def add(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            body = secret_body(token)
            self.slices.update(body[i:i + SLICE] for i in range(len(body) - SLICE + 1))

    def scan_text(self, text: str | bytes, where: str) -> list[Hit]:
        """Slices of a secret in ``text`` as written, or once decoded (JSON/unicode escapes,
        split into short pieces, base64 / base64url): one hit per source at most."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.scanned_texts += 1
        found = []
        for form, variant in encoded_forms(text):
            piece = self._first_slice(variant)
            if piece is not None:
                found.append(Hit(where if form == "plain" else f"{where} ({form})", piece))
                break  # one hit per source is enough to fail, and keeps reports short
        self.hits += found
        return found

    def _first_slice(self, text: str) -> str | None:
        for i in range(len(text) - SLICE + 1):
            piece = text[i:i + SLICE]
            if piece in self.slices:
                return piece
        return None

    def scan_file(self, path: Path) -> list[Hit]:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_SCAN_BYTES)
        except OSError:
            return []
        self.scanned_files += 1
        self.scanned_texts -= 1
        return self.scan_text(data, str(path))

    def scan_tree(self, root: Path, skip: Callable[[Path], bool] = lambda p: False) -> list[Hit]:
        found: list[Hit] = []
        for dirpath, dirnames, filenames in os.walk(root):
            for name in filenames:
                path = Path(dirpath) / name
                if path.is_symlink() or skip(path):
                    continue
                found += self.scan_file(path)
        return found


def is_credentials_copy(path: Path) -> bool:
    """Files that legitimately hold whole tokens: a credentials file, its temp and pending files."""
    return path.name.startswith(".credentials.json") or ".credentials.json." in path.name


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\/")
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_-]+")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
SPLIT_SCAN_LIMIT = 1 << 20  # the split form is checked in texts up to 1 MiB


def encoded_forms(text: str) -> Iterator[tuple[str, str]]:
    """``text`` and the decodings a leak could hide behind.

    * ``escaped``: JSON ``\\u0073`` / ``\\x73`` escapes decoded (a server echoing the token escaped);
    * ``split``: every character outside the token alphabet dropped, so a token cut into
      pieces shorter than a slice (``"sk-a" + "nt-o"...``, one per line) is whole again;
    * ``base64``: every base64 / base64url run decoded, at each of its 4 alignments.
    """
    yield "plain", text
    if "\\u" in text or "\\x" in text or "\\/" in text:
        # Backslashes left over (an escape escaped again, as JSON output of a raw body does) are dropped.
        yield "escaped", _UNICODE_ESCAPE.sub(_unescape, text).replace("\\", "")
    if len(text) <= SPLIT_SCAN_LIMIT:
        joined = _NOT_TOKEN.sub("", text)
        if joined != text:
            yield "split", joined
    decoded = []
    for run in _BASE64_RUN.findall(text):
        body = run.rstrip("=").replace("-", "+").replace("_", "/")
        for start in range(4):
            chunk = body[start:]
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            try:
                decoded.append(base64.b64decode(chunk, validate=True).decode("latin-1"))
            except ValueError:
                continue
    if decoded:
        yield "base64", "\n".join(decoded)


def _unescape(match: re.Match) -> str:
    code = match.group(1) or match.group(2)
    return chr(int(code, 16)) if code else "/"
