"""The local pending journal: a rotated credential that is not yet in the store.

Written (sealed, 0600, fsync'd) before the compare-and-set is sent, removed
once the store answered "committed" or "already committed". A crash or a
store outage between Anthropic's answer and the commit therefore loses
nothing: the next roost run on this machine re-sends the same commit, with
the same rotation id and anchored on the version that was spent, before it
takes any refresh lock. A journal whose commit the store refuses (the record
moved past the spent version) is set aside as ``*.conflict`` and reported,
never retried or deleted.

An entry the store acknowledged but no replica confirmed within
``wait_timeout`` (``WAIT``) stays too, marked ``unreplicated``: a failover
could still lose it, so every run re-sends it (the same commit answers
"already committed", or commits it again on a primary that lost it) until a
replica confirms it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from roost_core.api import atomic_write, ensure_private_dir

from .keys import short_hash

SUFFIX = ".journal"


@dataclass
class JournalEntry:
    profile: str
    rotation_id: str
    expected_v: int
    expected_fp: str
    new_v: int
    new_fp: str
    blob: str  # Fernet-sealed new credentials (the same blob the commit stores)
    expires_at_ms: int
    fence: int
    host: str
    unreplicated: bool = False  # committed on the primary, not yet confirmed by a replica

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> "JournalEntry":
        data = json.loads(raw)
        optional = {"unreplicated"}
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data or k not in optional})


class Journal:
    def __init__(self, directory: Path):
        self.directory = directory

    def path_for(self, entry: JournalEntry) -> Path:
        return self.directory / f"{short_hash(entry.profile)}.{entry.rotation_id}{SUFFIX}"

    def write(self, entry: JournalEntry) -> Path:
        ensure_private_dir(self.directory)
        path = self.path_for(entry)
        atomic_write(path, entry.to_json(), 0o600)
        return path

    def remove(self, entry: JournalEntry) -> None:
        try:
            os.unlink(self.path_for(entry))
        except FileNotFoundError:
            pass

    def set_aside(self, entry: JournalEntry) -> Path:
        path = self.path_for(entry)
        aside = path.with_name(path.name + ".conflict")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            pass
        return aside

    def entries(self, profile: str | None = None) -> Iterator[tuple[Path, JournalEntry | None]]:
        """Pending entries, oldest first; an unreadable file yields (path, None)."""
        try:
            paths = sorted((p for p in self.directory.iterdir() if p.name.endswith(SUFFIX)),
                           key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        prefix = f"{short_hash(profile)}." if profile is not None else ""
        for path in paths:
            if not path.name.startswith(prefix):
                continue
            try:
                yield path, JournalEntry.from_json(path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError):
                yield path, None

    def pending(self, profile: str) -> bool:
        return any(True for _ in self.entries(profile))

    def unreplicated(self) -> list[JournalEntry]:
        """Rotations the store holds but no replica confirmed yet (for status and doctor)."""
        return [entry for _, entry in self.entries() if entry is not None and entry.unreplicated]

    def conflicts(self) -> list[Path]:
        try:
            return sorted(p for p in self.directory.iterdir() if p.name.endswith(".conflict"))
        except OSError:
            return []
