"""Leases: a running ``roost exec`` child pins its profile against refresh.

Stored in the "leases" document (leases.json for files): {"leases": {id: entry}}.
An entry expires at its TTL, or earlier when its holder is provably dead on
this host (same boot id, and the pid is gone or now belongs to another
process). The holder is the ``roost exec`` process and, once started, its
child: the lease stays live while either runs, so a SIGKILLed roost whose
child still runs keeps protecting the child until the TTL.

Malformed entries are dropped with a warning (the next write rebuilds the
file); a corrupt file is reported and rebuilt by the state backend.
"""

from __future__ import annotations

import math
import os
import socket
from dataclasses import MISSING, asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Iterable

from .errors import LeaseHeld

if TYPE_CHECKING:
    from .context import RoostContext

DOC = "leases"


def _read(path: str) -> str | None:
    try:
        with open(path, "r", encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


def boot_id() -> str | None:
    return _read("/proc/sys/kernel/random/boot_id")


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to survive pid reuse.

    None when there is no such process, or it has exited and waits to be
    reaped (a zombie: an orphan whose parent never reaps it still has a
    /proc entry, but it runs nothing).
    """
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:
        fields = stat.rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    except IndexError:
        return None


@dataclass
class Lease:
    id: str
    profile: str
    pid: int
    host: str
    boot_id: str | None
    proc_start: str | None
    acquired_at: float
    expires_at: float
    command: str = ""
    child_pid: int | None = None
    child_start: str | None = None

    @staticmethod
    def _gone(pid: int | None, start: str | None) -> bool:
        """No such process, or the pid now belongs to a process started at another time."""
        if pid is None:
            return True
        now_start = process_start(pid)
        return now_start is None or (start is not None and now_start != start)

    def holder_dead(self) -> bool:
        """True only with proof: same host and boot, and neither roost nor its child still runs."""
        if self.host != socket.gethostname() or not self.boot_id or self.boot_id != boot_id():
            return False
        return self._gone(self.pid, self.proc_start) and self._gone(self.child_pid, self.child_start)

    def live(self, now: float) -> bool:
        return now < self.expires_at and not self.holder_dead()


_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "profile": (str,), "pid": (int,), "host": (str,), "boot_id": (str, type(None)),
    "proc_start": (str, type(None)), "acquired_at": (int, float), "expires_at": (int, float),
    "command": (str,), "child_pid": (int, type(None)), "child_start": (str, type(None)),
}
_REQUIRED = {f.name for f in fields(Lease) if f.default is MISSING}


def _entry(raw: Any) -> Lease | None:
    """A Lease from one stored entry, or None when it is malformed."""
    if not isinstance(raw, dict) or not _REQUIRED <= raw.keys():
        return None
    values = {k: raw[k] for k in _TYPES if k in raw}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, _TYPES[key]):
            return None
    if not all(math.isfinite(values[k]) for k in ("acquired_at", "expires_at")):
        return None
    return Lease(**values)


def _parse(doc: dict[str, Any], warn: Any = None) -> dict[str, Lease]:
    raw = doc.get("leases")
    if raw is not None and not isinstance(raw, dict):
        raw = {}
        bad = 1
    else:
        bad = 0
    out = {}
    for key, value in (raw or {}).items():
        lease = _entry(value)
        if lease is None or lease.id != key:
            bad += 1
            continue
        out[key] = lease
    if bad and warn is not None:
        warn(f"leases.json: dropped {bad} malformed lease entr{'y' if bad == 1 else 'ies'}")
    return out


def active(ctx: "RoostContext", profile: str | None = None) -> list[Lease]:
    now = ctx.now()
    leases = [lease for lease in _parse(ctx.state.read_doc(DOC), ctx.warn).values() if lease.live(now)]
    return [lease for lease in leases if profile is None or lease.profile == profile]


def ensure_not_leased(ctx: "RoostContext", profile: str) -> None:
    ensure_none_leased(ctx, [profile])


def ensure_none_leased(ctx: "RoostContext", profiles: Iterable[str]) -> None:
    """LEASE_HELD (exit 7) if any of ``profiles`` has a live lease (one read of the document)."""
    wanted = list(profiles)
    held = [lease for lease in active(ctx) if lease.profile in wanted]
    if held:
        lease = held[0]
        raise LeaseHeld(f"profile {lease.profile!r} is leased by a running roost exec (pid {lease.pid}, "
                        f"{max(0, int(lease.expires_at - ctx.now()))}s left); retry after it exits",
                        details={"profile": lease.profile, "pid": lease.pid, "expires_at": lease.expires_at})


def acquire(ctx: "RoostContext", profile: str, ttl_s: float, command: str = "", pid: int | None = None) -> Lease:
    """Add a lease (expired entries are pruned in the same write).

    To exclude a refresh in flight, call this while holding the profile's
    refresh lock (roost_core.refresh.refresh_lock).
    """
    pid = os.getpid() if pid is None else pid
    now = ctx.now()
    lease = Lease(os.urandom(8).hex(), profile, pid, socket.gethostname(), boot_id(), process_start(pid),
                  now, now + ttl_s, command)

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        kept = {k: asdict(v) for k, v in _parse(doc, ctx.warn).items() if v.live(now)}
        kept[lease.id] = asdict(lease)
        return {"leases": kept}

    ctx.state.update_doc(DOC, edit)
    return lease


def set_child(ctx: "RoostContext", lease_id: str, child_pid: int) -> None:
    """Record the child process: the lease then lives while either roost or the child runs."""
    start = process_start(child_pid)

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        kept = {k: asdict(v) for k, v in _parse(doc, ctx.warn).items()}
        if lease_id in kept:
            kept[lease_id].update(child_pid=child_pid, child_start=start)
        return {"leases": kept}

    ctx.state.update_doc(DOC, edit)


def release(ctx: "RoostContext", lease_id: str) -> None:
    now = ctx.now()

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        kept = {k: asdict(v) for k, v in _parse(doc, ctx.warn).items() if v.live(now) and k != lease_id}
        return {"leases": kept}

    ctx.state.update_doc(DOC, edit)
