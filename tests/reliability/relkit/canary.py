"""Canary tokens and the leak scanner (F16, G10).

A canary is a token with a random body after the public ``sk-ant-oat01-`` /
``sk-ant-ort01-`` prefix. A leak is any 8-character slice of a body found in
text roost produced (the last 4 characters, roost's redaction, are shorter
than a slice). The public prefixes are not secret and are not scanned.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

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
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.scanned_texts += 1
        found = []
        for i in range(len(text) - SLICE + 1):
            piece = text[i:i + SLICE]
            if piece in self.slices:
                found.append(Hit(where, piece))
                break  # one hit per source is enough to fail, and keeps reports short
        self.hits += found
        return found

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
