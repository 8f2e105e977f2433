"""picks.log's summary index, so a repeat ``roost stats`` reads only the lines added since.

``picks.log.index.json`` beside the log keeps, for each generation file
(``picks.log.1``, ``picks.log``): its identity (device, inode), the byte
offset read up to (always just after a newline: a line still being written
is left for the next run), its first bytes, the malformed-line count and
the per-profile tallies. A run reopens each file, continues from the stored
offset when it is the same file (same dev/ino, not shorter than the offset,
same first bytes, a newline right before the offset) and reads it from the
start otherwise: a rotation renames picks.log to picks.log.1 (same inode,
found under its new name; the old .1 is dropped), a truncated or rewritten
log is read again. The answer equals a full read (tests/unit/test_stats_index.py).

The index is a cache: unreadable, corrupt or from another version, it is
rebuilt; a failed write only costs the next run a full read. Files are read
in binary 1 MiB chunks cut at the last newline, decoded like the text reader
(UTF-8, bad bytes replaced, CR and CRLF read as line breaks), so memory stays
flat on a large log.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost_core.api import PICKS_LOG, RoostContext, atomic_write

from .scan import COL_PROFILE, LogScan

if TYPE_CHECKING:
    from .stats import Tally

VERSION = 3  # 3: NaN and infinite durations are malformed lines (an index of 2 may hold them)
HEAD_BYTES = 64
CHUNK = 1 << 20
SUFFIX = ".index.json"


@dataclass
class Generation:
    """What the index knows of one generation file."""

    dev: int
    ino: int
    offset: int = 0
    head: bytes = b""
    skipped: int = 0
    profiles: dict[str, "Tally"] = field(default_factory=dict)


def index_path(log: Path) -> Path:
    return log.with_name(log.name + SUFFIX)


def indexed_tallies(rctx: RoostContext) -> tuple[dict[str, "Tally"], int] | None:
    """Per-profile tallies of every well-formed line (oldest generation first) and the
    malformed-line count; None when the log is not a local file (a shared backend)."""
    from .stats import Tally

    log = rctx.state.log_path(PICKS_LOG)
    if log is None:
        return None
    stored = _load(index_path(log))
    generations, changed = [], False
    for candidate in (log.with_name(log.name + ".1"), log):
        read = _read(rctx, candidate, stored)
        if read is not None:
            generations.append(read[0])
            changed = changed or read[1]
    if changed or len(generations) != len(stored):
        _save(index_path(log), generations)
    merged: dict[str, Tally] = {}
    for generation in generations:
        for name, tally in generation.profiles.items():
            if name in merged:
                merged[name].then(tally)
            else:
                merged[name] = tally
    return merged, sum(g.skipped for g in generations)


def _read(rctx: RoostContext, path: Path, stored: list[Generation]) -> tuple[Generation, bool] | None:
    """(the generation, whether anything new was read); None when the file is absent or unreadable."""
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            head = handle.read(HEAD_BYTES)
            generation = _continue(handle, st, head, stored) or Generation(st.st_dev, st.st_ino)
            start = generation.offset
            handle.seek(start)
            _consume(handle, generation)
            generation.head = head[:min(HEAD_BYTES, generation.offset)]
            return generation, generation.offset != start or not start
    except FileNotFoundError:
        return None
    except OSError as exc:  # as the text reader does: skip it and say so
        rctx.warn(f"{path.name} is unreadable ({exc.strerror}); skipping it")
        return None


def _continue(handle: Any, st: os.stat_result, head: bytes, stored: list[Generation]) -> Generation | None:
    """The stored generation of this very file, when what it read is still there unchanged."""
    for generation in stored:
        if (generation.dev, generation.ino) != (st.st_dev, st.st_ino):
            continue
        if st.st_size < generation.offset or not head.startswith(generation.head):
            return None  # truncated or rewritten
        if generation.offset:
            handle.seek(generation.offset - 1)
            if handle.read(1) != b"\n":
                return None
        return generation
    return None


def _consume(handle: Any, generation: Generation) -> None:
    """Tally the complete lines from the handle's position on; advance the offset past them."""
    scan, carry = LogScan(), b""
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            break
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if cut:
            _tally(data[:cut].decode("utf-8", errors="replace"), generation, scan)
            generation.offset += cut
    generation.skipped += scan.skipped


def _tally(text: str, generation: Generation, scan: LogScan) -> None:
    from .stats import Tally

    if "\r" in text:  # the text reader's universal newlines
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    lines.pop()  # text ends with a newline: the last piece is empty
    profiles = generation.profiles
    for line in lines:
        parts = scan.well_formed(line)
        if parts is None:
            continue
        tally = profiles.get(parts[COL_PROFILE])
        if tally is None:
            tally = profiles[parts[COL_PROFILE]] = Tally()
        tally.add(parts)


# -- the file ------------------------------------------------------------------

def _load(path: Path) -> list[Generation]:
    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read())
        if doc.get("version") != VERSION or doc.get("byteorder") != sys.byteorder:
            return []
        return [_generation(item) for item in doc["generations"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zlib.error):
        return []  # a cache: absent or unusable means a full read


def _generation(item: dict[str, Any]) -> Generation:
    from .stats import Tally

    profiles = {}
    for name, t in item["profiles"].items():
        durations = array("d")
        durations.frombytes(zlib.decompress(base64.b64decode(t["durations"])))
        profiles[str(name)] = Tally(_counts(t["by_event"]), _counts(t["by_strategy"]), _counts(t["by_rc"]),
                                    int(t["failures"]), durations, _stamp(t["first_ts"]), _stamp(t["last_ts"]))
    return Generation(int(item["dev"]), int(item["ino"]), int(item["offset"]), bytes.fromhex(item["head"]),
                      int(item["skipped"]), profiles)


def _counts(raw: Any) -> Counter:
    """A stored counter, or TypeError (the index is unusable: a full read) when a count is no integer."""
    if not isinstance(raw, dict) or not all(type(n) is int for n in raw.values()):
        raise TypeError("not a counter")
    return Counter(raw)


def _stamp(raw: Any) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise TypeError("not a timestamp")
    return raw


def _packed(durations: array) -> str:
    """The durations' doubles, deflated (exec times repeat a lot) and base64'd: small to keep and load."""
    return base64.b64encode(zlib.compress(durations.tobytes(), 1)).decode("ascii")


def _save(path: Path, generations: list[Generation]) -> None:
    doc = {"version": VERSION, "byteorder": sys.byteorder, "generations": [
        {"dev": g.dev, "ino": g.ino, "offset": g.offset, "head": g.head.hex(), "skipped": g.skipped,
         "profiles": {name: {"by_event": t.by_event, "by_strategy": t.by_strategy, "by_rc": t.by_rc,
                             "failures": t.failures, "first_ts": t.first_ts, "last_ts": t.last_ts,
                             "durations": _packed(t.durations)}
                      for name, t in g.profiles.items()}}
        for g in generations]}
    try:
        atomic_write(path, json.dumps(doc, separators=(",", ":")).encode(), 0o600)
    except OSError:
        pass  # a cache: the next run reads the log again
