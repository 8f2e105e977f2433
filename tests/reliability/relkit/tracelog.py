"""Reading kill-point traces: events, lock hold intervals, overlap checks (F2, G8).

Trace lines come from ``killpoints/sitecustomize.py``:
``<monotonic>\\t<pid>\\t<event>\\t<detail>``. Helper processes of the tests
(a fake claude holding a lock) append the same format with ``record()``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Event:
    t: float
    pid: int
    event: str
    detail: str


@dataclass(frozen=True)
class Hold:
    lock: str
    pid: int
    start: float
    end: float

    def overlaps(self, other: "Hold") -> bool:
        return self.start < other.end and other.start < self.end


def read(path: Path) -> list[Event]:
    events = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        parts = line.split("\t", 3)
        if len(parts) != 4:
            continue
        try:
            events.append(Event(float(parts[0]), int(parts[1]), parts[2], parts[3]))
        except ValueError:
            continue
    return sorted(events, key=lambda e: e.t)


def record(path: Path, event: str, detail: str) -> None:
    """Append one event the way the kill-point module does (for helper processes)."""
    line = f"{time.monotonic():.6f}\t{os.getpid()}\t{event}\t{detail}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def holds(events: list[Event], end_of_time: float | None = None) -> list[Hold]:
    """Hold intervals per (lock, pid): filelock acquire/release and lock-dir mkdir/rmdir.

    A hold never released (the holder was killed) ends at ``end_of_time``.
    """
    opened: dict[tuple[str, int], float] = {}
    out: list[Hold] = []
    starts = {"lock_acq", "mkdir_lock"}
    ends = {"lock_rel", "rmdir_lock"}
    for e in events:
        key = (_lock_key(e.detail), e.pid)
        if e.event in starts:
            opened[key] = e.t
        elif e.event in ends and key in opened:
            out.append(Hold(key[0], e.pid, opened.pop(key), e.t))
    last = end_of_time if end_of_time is not None else (events[-1].t if events else 0.0)
    out += [Hold(lock, pid, t, last) for (lock, pid), t in opened.items()]
    return out


def _lock_key(detail: str) -> str:
    return os.path.realpath(detail.strip())


def overlaps(hold_list: list[Hold]) -> list[tuple[Hold, Hold]]:
    """Pairs of different processes holding the same lock at the same time."""
    by_lock: dict[str, list[Hold]] = {}
    for hold in hold_list:
        by_lock.setdefault(hold.lock, []).append(hold)
    bad = []
    for group in by_lock.values():
        group.sort(key=lambda h: h.start)
        for i, first in enumerate(group):
            for second in group[i + 1:]:
                if second.start >= first.end:
                    break
                if second.pid != first.pid:
                    bad.append((first, second))
    return bad


def of(events: list[Event], name: str) -> list[Event]:
    return [e for e in events if e.event == name]
