"""Tombstones: what the store remembers of a profile removed or renamed.

Kept in the ``removed`` hash (profile id -> JSON) so every machine can retire
its copy, an old local login is never imported again, and a later profile of
the same name continues the version numbers (no old mirror outranks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Tombstone:
    name: str
    v: int
    host: str
    renamed_to: str | None

    @classmethod
    def parse(cls, raw: bytes | None) -> "Tombstone | None":
        try:
            item = json.loads(raw or b"")
            return cls(str(item["name"]), int(item.get("v", 0)), str(item.get("host", "")),
                       item.get("renamed_to") or None)
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        what = f"renamed to {self.renamed_to!r}" if self.renamed_to else "removed"
        return f"{what} on {self.host or 'another machine'}"
