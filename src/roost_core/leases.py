"""Leases: a running ``roost exec`` child pins its profile against refresh.

Stored in the "leases" document (leases.json for files): {"leases": {id: entry}}.
An entry expires at its TTL, or earlier when its holder is provably dead on
this host (same boot id, and the pid is gone or now belongs to another process).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

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
    """The process's start time in clock ticks since boot (Linux), to survive pid reuse."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    try:
        return stat.rsplit(")", 1)[1].split()[19]
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

    def holder_dead(self) -> bool:
        if self.host != socket.gethostname() or not self.boot_id or self.boot_id != boot_id():
            return False
        return process_start(self.pid) != self.proc_start

    def live(self, now: float) -> bool:
        return now < self.expires_at and not self.holder_dead()


def _parse(doc: dict[str, Any]) -> dict[str, Lease]:
    raw = doc.get("leases")
    out = {}
    for key, entry in (raw.items() if isinstance(raw, dict) else []):
        try:
            out[key] = Lease(**entry)
        except TypeError:
            continue
    return out


def active(ctx: "RoostContext", profile: str | None = None) -> list[Lease]:
    now = ctx.now()
    leases = [lease for lease in _parse(ctx.state.read_doc(DOC)).values() if lease.live(now)]
    return [lease for lease in leases if profile is None or lease.profile == profile]


def ensure_not_leased(ctx: "RoostContext", profile: str) -> None:
    held = active(ctx, profile)
    if held:
        lease = held[0]
        raise LeaseHeld(f"profile {profile!r} is leased by a running roost exec (pid {lease.pid}, "
                        f"{int(lease.expires_at - ctx.now())}s left); retry after it exits",
                        details={"profile": profile, "pid": lease.pid, "expires_at": lease.expires_at})


def acquire(ctx: "RoostContext", profile: str, ttl_s: float, command: str = "", pid: int | None = None) -> Lease:
    """Add a lease (expired entries are pruned in the same write)."""
    pid = os.getpid() if pid is None else pid
    now = ctx.now()
    lease = Lease(secrets.token_hex(8), profile, pid, socket.gethostname(), boot_id(), process_start(pid),
                  now, now + ttl_s, command)

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        kept = {k: asdict(v) for k, v in _parse(doc).items() if v.live(now)}
        kept[lease.id] = asdict(lease)
        return {"leases": kept}

    ctx.state.update_doc(DOC, edit)
    return lease


def release(ctx: "RoostContext", lease_id: str) -> None:
    now = ctx.now()

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        kept = {k: asdict(v) for k, v in _parse(doc).items() if v.live(now) and k != lease_id}
        return {"leases": kept}

    ctx.state.update_doc(DOC, edit)
